//! Points in time as runbooks and `--set` write them: RFC 3339
//! (`2026-11-21T03:00:00Z`, any offset, optional fractional seconds), epoch
//! milliseconds (`1763694000000`), or relative to the run's start (`now`, `-2h`,
//! `-7d`, `-PT30M`). Relative times resolve against one instant per run, so
//! every step of a run sees the same "now".

use std::fmt;

use chrono::{DateTime, Utc};

use super::duration::parse_duration;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid time {}: {reason} (write RFC 3339 like 2026-11-21T03:00:00Z, epoch milliseconds, now, or -2h)", crate::shown::quoted(.input))]
pub struct TimeError {
    pub input: String,
    pub reason: String,
}

/// A point in time before it is pinned to a run's start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimeSpec {
    /// An absolute instant.
    At(DateTime<Utc>),
    /// `now` minus this much (zero for `now`).
    Ago(std::time::Duration),
}

impl TimeSpec {
    pub fn parse(input: &str) -> Result<Self, TimeError> {
        let text = input.trim();
        let err = |reason: String| TimeError { input: input.to_owned(), reason };
        if text.is_empty() {
            return Err(err("it is empty".to_owned()));
        }
        if text.eq_ignore_ascii_case("now") {
            return Ok(TimeSpec::Ago(std::time::Duration::ZERO));
        }
        if let Some(ago) = text.strip_prefix('-') {
            return parse_duration(ago).map(TimeSpec::Ago).map_err(|e| err(format!("{} after '-'", e.reason)));
        }
        if text.bytes().all(|b| b.is_ascii_digit()) {
            let millis: i64 = text.parse().map_err(|_| err("epoch milliseconds out of range".to_owned()))?;
            return Self::from_epoch_millis(millis).ok_or_else(|| err("epoch milliseconds out of range".to_owned()));
        }
        DateTime::parse_from_rfc3339(text)
            .map(|t| TimeSpec::At(t.with_timezone(&Utc)))
            .map_err(|e| err(format!("not RFC 3339 ({e})")))
    }

    pub fn from_epoch_millis(millis: i64) -> Option<Self> {
        DateTime::from_timestamp_millis(millis).map(TimeSpec::At)
    }

    /// The instant this names for a run that started at `now`.
    pub fn resolve(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            TimeSpec::At(t) => *t,
            TimeSpec::Ago(d) => now - chrono::Duration::from_std(*d).unwrap_or(chrono::Duration::MAX),
        }
    }
}

impl fmt::Display for TimeSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TimeSpec::At(t) => write!(f, "{}", t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)),
            TimeSpec::Ago(d) if d.is_zero() => f.write_str("now"),
            TimeSpec::Ago(d) => write!(f, "-{}s", d.as_secs()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-21T03:00:00Z").unwrap().with_timezone(&Utc)
    }

    #[test]
    fn every_written_form_resolves() {
        let cases = [
            ("2026-11-21T01:00:00Z", "2026-11-21T01:00:00+00:00"),
            ("2026-11-21T02:00:00.250+01:00", "2026-11-21T01:00:00.250+00:00"),
            ("1763686800000", "2025-11-21T01:00:00+00:00"),
            ("now", "2026-11-21T03:00:00+00:00"),
            ("-2h", "2026-11-21T01:00:00+00:00"),
            ("-7d", "2026-11-14T03:00:00+00:00"),
            ("-PT30M", "2026-11-21T02:30:00+00:00"),
        ];
        for (input, expected) in cases {
            let at = TimeSpec::parse(input).unwrap_or_else(|e| panic!("{input}: {e}")).resolve(now());
            assert_eq!(at.to_rfc3339(), expected, "{input}");
        }
    }

    #[test]
    fn bad_times_say_what_is_wrong() {
        for input in ["", "yesterday", "2026-13-01T00:00:00Z", "2026-11-21 03:00", "-2x", "+2h"] {
            let err = TimeSpec::parse(input).unwrap_err().to_string();
            assert!(err.contains("invalid time"), "{input}: {err}");
        }
    }
}
