//! Schedules: standard crontab expressions read in a runbook's IANA time zone
//! (with what daylight saving time does to them), deterministic jitter, and
//! the scheduler that turns slots into fires, misses and skips.

mod crontab;
mod in_words;
mod jitter;
mod policies;
mod scheduler;
mod timezone;
mod timing;
mod zoned;

pub use crontab::{CronError, Crontab};
pub use in_words::in_words;
pub use jitter::jitter_delay;
pub use policies::{MissedPolicy, OverlapPolicy, ScheduleMode};
pub use scheduler::{Event, ON_TIME, Scheduler, SkipReason};
pub use timezone::{TimezoneError, parse_timezone};
pub use timing::{DEFAULT_MAX_CATCHUP, Timing};
pub use zoned::ZonedCron;
