//! Schedules: standard crontab expressions read in a runbook's IANA time zone.
//! The daemon's firing policy (missed slots, overlap, jitter) builds on this.

mod crontab;
mod timezone;

pub use crontab::{CronError, Crontab};
pub use timezone::{TimezoneError, parse_timezone};
