//! CloudTrail records: tolerant model and aggregation (work in progress, issue 3).
