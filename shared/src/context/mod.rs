//! Context for triage: what CloudTrail and VPC Flow Logs say about the principals,
//! IPs and instances of a finding, parsed and compacted by the ingest functions.

pub mod cloudtrail;
pub mod flowlogs;
pub mod objects;
