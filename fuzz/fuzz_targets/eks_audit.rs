//! An EKS audit log object, gzip or plain, in any shape `eks::read_object` reads (audit events
//! one per line or in an array, CloudWatch Logs subscription payloads one per line or
//! concatenated): every name, path, user agent and request body in it is the API client's choice.
#![no_main]

use libfuzzer_sys::fuzz_target;
use triage_logs::eks::read_object;

fuzz_target!(|data: &[u8]| {
    // A small cap, so that compressed inputs exercise the bound too.
    let _ = read_object(data, 1 << 20);
});
