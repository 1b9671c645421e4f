//! A crontab read in an IANA time zone, and what daylight saving time does to it.
//!
//! Slots are wall-clock times in the runbook's zone. A wall-clock time that a
//! spring-forward change skips (02:30 in Berlin on the last Sunday of March)
//! fires once, at the instant of the change; several skipped slots fire once
//! between them. A wall-clock time that a fall-back change repeats (01:30 in
//! New York on the first Sunday of November) fires once, at its first
//! occurrence. This is what Vixie cron and systemd timers do, and what an
//! operator who wrote `30 2 * * *` means: run every day, exactly once.

use chrono::offset::LocalResult;
use chrono::{DateTime, Duration, NaiveDateTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

use super::Crontab;

/// How far past a skipped wall-clock time the end of the gap is looked for.
/// Real gaps are an hour, rarely two; a day covers zones that skipped a date.
const LONGEST_GAP: Duration = Duration::hours(48);

#[derive(Debug, Clone)]
pub struct ZonedCron {
    crontab: Crontab,
    zone: Tz,
}

impl ZonedCron {
    pub fn new(crontab: Crontab, zone: Tz) -> Self {
        ZonedCron { crontab, zone }
    }

    pub fn zone(&self) -> Tz {
        self.zone
    }

    pub fn expression(&self) -> &str {
        self.crontab.expression()
    }

    /// The first fire instant strictly after `after`.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let mut wall = after.with_timezone(&self.zone).naive_local();
        // Each pass moves `wall` forward to a later slot, so this ends; the
        // bound only guards against a zone table with a pathological history.
        for _ in 0..10_000 {
            wall = self.crontab.next_wall_clock(wall)?;
            let instant = self.instant_of(wall)?;
            // A slot whose instant is not after `after` has fired already: the
            // first occurrence of a repeated hour, or a skipped time that fired
            // at the change.
            if instant > after {
                return Some(instant);
            }
        }
        None
    }

    /// The next `n` fire instants after `after`.
    pub fn upcoming(&self, after: DateTime<Utc>, n: usize) -> Vec<DateTime<Utc>> {
        let mut times = Vec::with_capacity(n);
        let mut cursor = after;
        while times.len() < n {
            let Some(next) = self.next_after(cursor) else { break };
            times.push(next);
            cursor = next;
        }
        times
    }

    /// The instant a wall-clock slot fires at: itself; the first of two when
    /// the clock repeats it; the end of the gap when the clock skips it.
    fn instant_of(&self, wall: NaiveDateTime) -> Option<DateTime<Utc>> {
        match self.zone.from_local_datetime(&wall) {
            LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
            LocalResult::Ambiguous(first, _) => Some(first.with_timezone(&Utc)),
            LocalResult::None => self.end_of_gap(wall),
        }
    }

    /// The instant a gap that swallowed `wall` ends: the first wall-clock
    /// minute after it that exists. Zones change on whole minutes.
    fn end_of_gap(&self, wall: NaiveDateTime) -> Option<DateTime<Utc>> {
        let start = wall.with_second(0)?.with_nanosecond(0)?;
        let mut minute = start + Duration::minutes(1);
        while minute - start <= LONGEST_GAP {
            match self.zone.from_local_datetime(&minute) {
                LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => return Some(t.with_timezone(&Utc)),
                LocalResult::None => minute += Duration::minutes(1),
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    fn zoned(expr: &str, zone: &str) -> ZonedCron {
        ZonedCron::new(Crontab::parse(expr).unwrap(), zone.parse().unwrap())
    }

    /// The next `n` fire instants, written in the zone's local time with offset.
    fn fires(expr: &str, zone: &str, after: &str, n: usize) -> Vec<String> {
        let cron = zoned(expr, zone);
        cron.upcoming(at(after), n).iter().map(|t| t.with_timezone(&cron.zone()).to_rfc3339()).collect()
    }

    /// Table of expressions, zones and the fire times that must follow.
    #[test]
    fn next_fire_times() {
        let table: &[(&str, &str, &str, &[&str])] = &[
            // Plain zones: the local wall clock decides.
            (
                "0 3 * * *",
                "Europe/Berlin",
                "2026-11-21T00:00:00Z",
                &["2026-11-21T03:00:00+01:00", "2026-11-22T03:00:00+01:00"],
            ),
            (
                "0 9 * * MON-FRI",
                "America/New_York",
                "2026-11-20T15:00:00Z",
                &["2026-11-23T09:00:00-05:00", "2026-11-24T09:00:00-05:00"],
            ),
            (
                "0 0 1 * MON",
                "UTC",
                "2026-11-21T00:00:00Z",
                &["2026-11-23T00:00:00+00:00", "2026-11-30T00:00:00+00:00", "2026-12-01T00:00:00+00:00"],
            ),
            ("0 12 * * 0", "UTC", "2026-11-21T00:00:00Z", &["2026-11-22T12:00:00+00:00", "2026-11-29T12:00:00+00:00"]),
            ("0 12 * * 7", "UTC", "2026-11-21T00:00:00Z", &["2026-11-22T12:00:00+00:00", "2026-11-29T12:00:00+00:00"]),
            ("@daily", "Asia/Kolkata", "2026-11-21T00:00:00Z", &["2026-11-22T00:00:00+05:30"]),
            ("@monthly", "UTC", "2026-11-21T00:00:00Z", &["2026-12-01T00:00:00+00:00", "2027-01-01T00:00:00+00:00"]),
            (
                "30 */6 * * *",
                "UTC",
                "2026-11-21T00:00:00Z",
                &["2026-11-21T00:30:00+00:00", "2026-11-21T06:30:00+00:00"],
            ),
            (
                "*/20 * * * * *",
                "UTC",
                "2026-11-21T00:00:05Z",
                &["2026-11-21T00:00:20+00:00", "2026-11-21T00:00:40+00:00"],
            ),
            // Berlin springs forward on 2026-03-29: 02:00 CET becomes 03:00 CEST.
            // 02:30 does not exist that day: it fires once, at the change.
            (
                "30 2 * * *",
                "Europe/Berlin",
                "2026-03-28T12:00:00Z",
                &["2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00"],
            ),
            // Every 15 minutes: 02:00–02:45 collapse into one fire at the change (which is 03:00).
            (
                "*/15 * * * *",
                "Europe/Berlin",
                "2026-03-29T00:40:00Z",
                &["2026-03-29T01:45:00+01:00", "2026-03-29T03:00:00+02:00", "2026-03-29T03:15:00+02:00"],
            ),
            // Berlin falls back on 2026-10-25: 03:00 CEST becomes 02:00 CET; 02:30 comes twice and fires once.
            (
                "30 2 * * *",
                "Europe/Berlin",
                "2026-10-24T12:00:00Z",
                &["2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"],
            ),
            (
                "0 * * * *",
                "Europe/Berlin",
                "2026-10-24T23:30:00Z",
                &["2026-10-25T02:00:00+02:00", "2026-10-25T03:00:00+01:00"],
            ),
            // New York springs forward on 2026-03-08 (02:00 EST → 03:00 EDT) and falls back on 2026-11-01 (02:00 EDT → 01:00 EST).
            (
                "30 2 * * *",
                "America/New_York",
                "2026-03-07T12:00:00Z",
                &["2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00"],
            ),
            (
                "30 1 * * *",
                "America/New_York",
                "2026-10-31T12:00:00Z",
                &["2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"],
            ),
            (
                "*/30 * * * *",
                "America/New_York",
                "2026-11-01T04:40:00Z",
                &["2026-11-01T01:00:00-04:00", "2026-11-01T01:30:00-04:00", "2026-11-01T02:00:00-05:00"],
            ),
        ];
        for (expr, zone, after, expected) in table {
            assert_eq!(fires(expr, zone, after, expected.len()), *expected, "{expr} in {zone} after {after}");
        }
    }

    #[test]
    fn starting_inside_a_repeated_hour_does_not_fire_its_slots_again() {
        // 01:20 EST, the second 01:20 of the night: 01:30 fired at its first occurrence.
        assert_eq!(fires("*/30 * * * *", "America/New_York", "2026-11-01T06:20:00Z", 1), ["2026-11-01T02:00:00-05:00"]);
    }

    #[test]
    fn a_skipped_slot_after_the_change_has_already_fired() {
        // Just after Berlin's change at 01:00 UTC: 02:30 local fired at the change.
        assert_eq!(fires("30 2 * * *", "Europe/Berlin", "2026-03-29T01:00:00Z", 1), ["2026-03-30T02:30:00+02:00"]);
    }
}
