//! A CloudTrail S3 object as the ingest function reads it: `read_cloudtrail` with the
//! function's limits (load, gunzip, parse, aggregate, lay out the DynamoDB items).
#![no_main]

use libfuzzer_sys::fuzz_target;
use triage_aws::context_items::ObjectId;
use triage_aws::ingest::{CloudTrailLimits, read_cloudtrail};

fuzz_target!(|data: &[u8]| {
    let id = ObjectId::of("s3://fuzz/AWSLogs/cloudtrail.json.gz#etag");
    let _ = read_cloudtrail(data, &CloudTrailLimits::FUNCTION, &id, 1_780_000_000);
});
