//! How a plan is shown to a person: the width values are cut to and the
//! time zone times are written in (`--tz`, default UTC).

use chrono::{DateTime, SecondsFormat};
use chrono_tz::Tz;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ViewSettings {
    /// Columns a table line may take.
    pub width: usize,
    pub zone: Tz,
    /// Whether the plan's outcome may be coloured (a terminal, no `NO_COLOR`).
    pub colour: bool,
    /// Whether kept messages show their headers (the console does; a terminal has no room).
    pub headers: bool,
}

impl Default for ViewSettings {
    fn default() -> Self {
        ViewSettings { width: 160, zone: chrono_tz::UTC, colour: false, headers: false }
    }
}

impl ViewSettings {
    /// A record's timestamp (epoch milliseconds) as RFC 3339 in this zone.
    pub fn time(&self, epoch_ms: i64) -> String {
        match DateTime::from_timestamp_millis(epoch_ms) {
            Some(at) => at.with_timezone(&self.zone).to_rfc3339_opts(SecondsFormat::Millis, true),
            None => epoch_ms.to_string(),
        }
    }
}

/// `text` for one table cell: control characters escaped, cut to `most`
/// characters with `…` when longer.
pub fn cell(text: &str, most: usize) -> String {
    let escaped = crate::shown::terminal_safe(text).replace('\n', "\\n");
    if escaped.chars().count() <= most {
        return escaped;
    }
    let mut cut: String = escaped.chars().take(most.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_escaped_and_cut_and_times_follow_the_zone() {
        assert_eq!(cell("a\u{1b}[31mb\nc", 100), "a\\u{1b}[31mb\\nc");
        assert_eq!(cell("abcdef", 4), "abc…");
        let tokyo = ViewSettings { zone: "Asia/Tokyo".parse().unwrap(), ..ViewSettings::default() };
        assert_eq!(tokyo.time(0), "1970-01-01T09:00:00.000+09:00");
        assert_eq!(ViewSettings::default().time(0), "1970-01-01T00:00:00.000Z");
    }
}
