//! Domain model and logic of the GuardDuty triage responder.
//!
//! The pipeline reads in one direction: event in -> [`finding`] (parse) -> [`dedupe`] ->
//! [`classify`] -> [`notice`] (render) -> publish. Pure steps take and return plain values; the
//! AWS adapters in [`aws`] sit behind the traits in [`dedupe::store`] and [`publish`].

pub mod aws;
pub mod behaviour;
pub mod classify;
pub mod config;
pub mod context;
pub mod dedupe;
pub mod enrich;
pub mod finding;
pub mod notice;
pub mod pipeline;
pub mod publish;
pub mod scope;
pub mod text;
