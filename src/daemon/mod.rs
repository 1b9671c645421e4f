//! `ebb daemon` (SPEC §6): runbooks on their schedules, reloaded when their
//! files change, and an authenticated HTTP (or HTTPS) API for runbooks, runs, plans and
//! rollbacks, with Prometheus metrics and a graceful stop.

mod actions;
mod api;
mod api_error;
mod auth;
mod body_read;
mod console;
mod coordinated;
mod deployment_locks;
mod forward;
mod http_server;
mod metrics;
pub mod openapi;
mod path_segment;
pub mod request_body;
mod runbook_set;
mod runner;
mod schedule_loop;
mod serve_error;
mod server;
mod state;
mod tls;

pub use api::BODY_LIMIT;
pub use serve_error::ServeError;
pub use server::{DEFAULT_GRACE, DaemonOptions, RELOAD_EVERY, serve};
