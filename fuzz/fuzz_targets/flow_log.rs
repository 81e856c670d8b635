//! A VPC Flow Log object (header and lines, gzip or plain). The first byte picks the entry
//! point and how the reader hands out the bytes (short reads exercise line and gzip-member
//! boundaries); the rest is the object.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::io::{BufReader, Read};
use triage_aws::context_items::ObjectId;
use triage_logs::flowlogs::{HeaderPolicy, IngestOptions, ingest_gzip};
use triage_aws::ingest::read_flow_log;

/// Returns at most `chunk` bytes per read.
struct Chunked<'a> {
    data: &'a [u8],
    chunk: usize,
}

impl Read for Chunked<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.chunk.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, object)) = data.split_first() else {
        return;
    };
    let chunk = match mode >> 1 {
        0 => usize::MAX,
        n => usize::from(n),
    };
    let input = Chunked {
        data: object,
        chunk,
    };
    if mode & 1 == 0 {
        let id = ObjectId::of("s3://fuzz/AWSLogs/vpcflowlogs.log.gz#etag");
        let _ = read_flow_log(input, &id, 1_780_000_000);
    } else {
        // The backfill's reading of hand-made files: no header required.
        let options = IngestOptions {
            header: HeaderPolicy::DefaultV2IfMissing,
            ..IngestOptions::default()
        };
        let _ = ingest_gzip(BufReader::with_capacity(64, input), &options);
    }
});
