//! A Route 53 Resolver query log object, gzip or plain, in any shape `resolver::read_object`
//! reads (one entry per line, a JSON array, a single entry): its names, addresses and codes are
//! whatever the queried domains and their authoritative servers chose.
#![no_main]

use libfuzzer_sys::fuzz_target;
use triage_logs::resolver::read_object;

fuzz_target!(|data: &[u8]| {
    // A small cap, so that compressed inputs exercise the bound too.
    let _ = read_object(data, 1 << 20);
});
