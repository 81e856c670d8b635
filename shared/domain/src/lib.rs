//! What the GuardDuty triage responder decides, with no AWS SDK and no Lambda runtime.
//!
//! The pipeline reads in one direction: event in -> [`finding`] (parse) -> [`dedupe`] ->
//! [`enrich`] -> [`classify`] -> [`notice`] (render) -> publish. Pure steps take and return plain
//! values; the AWS adapters (the `triage-aws` crate) sit behind the traits in
//! [`dedupe::store`], [`enrich::ContextSource`] and [`publish`]. [`activity`], [`traffic`] and
//! [`kube`] are the vocabulary the log readers (the `triage-logs` crate) write and enrichment
//! reads.

pub mod activity;
pub mod behaviour;
pub mod classify;
pub mod config;
pub mod dedupe;
pub mod dns;
pub mod enrich;
pub mod finding;
pub mod kube;
pub mod lenient;
pub mod notice;
pub mod pipeline;
pub mod publish;
pub mod scope;
pub mod text;
pub mod traffic;
