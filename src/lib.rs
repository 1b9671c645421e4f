//! ebb runs declarative YAML runbooks for Apache Kafka maintenance: query
//! messages, compute and reset consumer-group offsets, purge what every group
//! has consumed — planned first, applied on demand or on a schedule, and kept in
//! a history from which resets can be rolled back.
//!
//! The flow follows the data: `config` (ebb.yaml) names clusters; `provider`
//! talks to them; `cli` is the operator's entry point.

pub mod audit;
mod bounded_read;
pub mod cli;
pub mod config;
pub mod coordination;
pub mod daemon;
pub mod engine;
pub mod exit;
pub mod history;
pub mod kafka_names;
pub mod notify;
#[doc(hidden)]
pub mod percent_encoding;
pub mod provider;
pub mod record_filter;
mod retry;
pub mod runbook;
pub mod runs;
pub mod schedule;
mod shown;
pub mod step;
pub mod step_support;
pub mod steps;
mod text_table;
pub mod time;
pub mod view_document;

pub use cli::Error;
