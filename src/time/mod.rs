//! Time words ebb accepts everywhere: durations (`90s`, `2h`, `PT2H`) and points
//! in time (RFC 3339, epoch milliseconds, `now`, `-2h`).

mod duration;
mod point;

pub use duration::{DurationError, HumanDuration, parse_duration};
pub use point::{TimeError, TimeSpec};
