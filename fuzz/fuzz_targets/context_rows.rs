//! The `rows` blobs of context items read back from DynamoDB (raw deflate of tab-separated
//! lines, or JSON lines for notable events and Kubernetes aggregates): the triage function
//! decodes them for every finding, and their text derives from attacker-influenced log fields
//! (a Kubernetes client chooses its user agent, object names and impersonated user).
#![no_main]

use libfuzzer_sys::fuzz_target;
use triage_aws::context_items::{
    decode_activity_rows, decode_baseline_rows, decode_flow_rows, decode_kube_callers,
    decode_kube_rows, decode_notable_rows, decode_resolver_rows,
};

fuzz_target!(|data: &[u8]| {
    let _ = decode_flow_rows(data);
    let _ = decode_activity_rows(data);
    let _ = decode_baseline_rows(data);
    let _ = decode_notable_rows(data);
    let _ = decode_resolver_rows(data);
    let _ = decode_kube_rows(data);
    let _ = decode_kube_callers(
        data,
        |_, user| user.len() % 2 == 0,
        |cluster, _| cluster.is_empty(),
    );
});
