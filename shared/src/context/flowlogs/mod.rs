//! VPC Flow Log records: streaming parser and aggregation (work in progress, issue 3).
