//! Time words ebb accepts everywhere: durations (`90s`, `2h`, `PT2H`) and, later,
//! points in time.

mod duration;

pub use duration::{DurationError, HumanDuration, parse_duration};
