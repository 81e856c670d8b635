//! Reading the logs that give a finding its context (CloudTrail, VPC Flow Logs) and compacting
//! them into the aggregates the ingest functions store: bytes in, values out, no AWS SDK.
//! Storing them is the `triage-aws` crate's business; what a call or a flow means is the
//! domain's ([`triage_domain::activity`], [`triage_domain::traffic`]).

pub mod bucketed;
pub mod cloudtrail;
pub mod decompress;
pub mod eks;
pub mod flowlogs;
pub mod json_object;
pub mod resolver;
#[cfg(any(test, feature = "test-support"))]
pub mod test_support;
