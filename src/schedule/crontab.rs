//! Standard crontab syntax, translated for the `cron` crate.
//!
//! Operators write POSIX crontab: 5 fields (minute hour day-of-month month
//! day-of-week) or 6 with leading seconds, day-of-week 0–7 with 0 and 7 both
//! Sunday, names (`MON`, `JAN`), lists, ranges, steps, and `@hourly` … `@yearly`.
//! The `cron` crate reads 6–7 fields, numbers Sunday as 1, and ANDs day-of-month
//! with day-of-week. So each field is parsed here into the exact set of values
//! it allows (which also gives precise errors), and handed to `cron` as a plain
//! list. When both day fields are restricted, POSIX fires on either: that
//! becomes two `cron` schedules whose next times are merged. As in Vixie cron, a
//! day field counts as unrestricted when it starts with `*` (so `*/2` is too).

use std::collections::BTreeSet;
use std::str::FromStr;

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid cron {expression:?}: {reason}")]
pub struct CronError {
    pub expression: String,
    pub reason: String,
}

/// A parsed crontab expression.
#[derive(Debug, Clone)]
pub struct Crontab {
    expression: String,
    /// One schedule, or two whose union is the POSIX day-of-month OR day-of-week rule.
    schedules: Vec<cron::Schedule>,
}

#[derive(Clone, Copy)]
struct Field {
    name: &'static str,
    min: u32,
    max: u32,
    names: &'static [&'static str],
}

const SECOND: Field = Field { name: "second", min: 0, max: 59, names: &[] };
const MINUTE: Field = Field { name: "minute", min: 0, max: 59, names: &[] };
const HOUR: Field = Field { name: "hour", min: 0, max: 23, names: &[] };
const DAY_OF_MONTH: Field = Field { name: "day-of-month", min: 1, max: 31, names: &[] };
const MONTH: Field = Field {
    name: "month",
    min: 1,
    max: 12,
    names: &["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"],
};
const DAY_OF_WEEK: Field =
    Field { name: "day-of-week", min: 0, max: 7, names: &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"] };

impl Crontab {
    pub fn parse(expression: &str) -> Result<Self, CronError> {
        let err = |reason: String| CronError { expression: expression.to_owned(), reason };
        let text = expression.trim();
        let expanded = match text {
            "@yearly" | "@annually" => "0 0 1 1 *",
            "@monthly" => "0 0 1 * *",
            "@weekly" => "0 0 * * 0",
            "@daily" | "@midnight" => "0 0 * * *",
            "@hourly" => "0 * * * *",
            other if other.starts_with('@') => {
                return Err(err(format!(
                    "unknown shortcut {other} (use @hourly, @daily, @weekly, @monthly or @yearly)"
                )));
            }
            other => other,
        };
        let fields: Vec<&str> = expanded.split_whitespace().collect();
        let (second, rest) = match fields.len() {
            5 => ("0", &fields[..]),
            6 => (fields[0], &fields[1..]),
            n => {
                return Err(err(format!(
                    "it has {n} fields; write 5 (minute hour day-of-month month day-of-week) or 6 with leading seconds"
                )));
            }
        };
        let second = values(second, SECOND).map_err(&err)?;
        let minute = values(rest[0], MINUTE).map_err(&err)?;
        let hour = values(rest[1], HOUR).map_err(&err)?;
        let day_of_month = values(rest[2], DAY_OF_MONTH).map_err(&err)?;
        let month = values(rest[3], MONTH).map_err(&err)?;
        // 7 is Sunday too; the cron crate counts Sunday as 1.
        let day_of_week: BTreeSet<u32> =
            values(rest[4], DAY_OF_WEEK).map_err(&err)?.into_iter().map(|d| d % 7 + 1).collect();
        let dom_restricted = !rest[2].starts_with('*');
        let dow_restricted = !rest[4].starts_with('*');

        let all_days_of_week: BTreeSet<u32> = (1..=7).collect();
        let all_days_of_month: BTreeSet<u32> = (1..=31).collect();
        let day_pairs = if dom_restricted && dow_restricted {
            vec![(day_of_month, all_days_of_week), (all_days_of_month, day_of_week)]
        } else {
            vec![(day_of_month, day_of_week)]
        };
        let schedules = day_pairs
            .into_iter()
            .map(|(dom, dow)| {
                let text = [&second, &minute, &hour, &dom, &month, &dow].map(list).join(" ");
                cron::Schedule::from_str(&text).map_err(|e| err(format!("{e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if schedules.iter().all(|s| s.upcoming(chrono::Utc).next().is_none()) {
            return Err(err("it never fires (no such date)".to_owned()));
        }
        Ok(Crontab { expression: expression.to_owned(), schedules })
    }

    pub fn expression(&self) -> &str {
        &self.expression
    }

    /// The first wall-clock time strictly after `after` that the expression
    /// matches, with no time zone involved (see [`super::ZonedCron`] for DST).
    pub fn next_wall_clock(&self, after: NaiveDateTime) -> Option<NaiveDateTime> {
        let after = Utc.from_utc_datetime(&after);
        self.schedules.iter().filter_map(|s| s.after(&after).next()).min().map(|t| t.naive_utc())
    }

    /// The first fire time strictly after `after`, in `after`'s time zone.
    pub fn next_after<Z: TimeZone>(&self, after: &DateTime<Z>) -> Option<DateTime<Z>> {
        self.schedules.iter().filter_map(|s| s.after(after).next()).min()
    }

    /// The next `n` fire times after `after`.
    pub fn upcoming<Z: TimeZone>(&self, after: &DateTime<Z>, n: usize) -> Vec<DateTime<Z>> {
        let mut times = Vec::with_capacity(n);
        let mut cursor = after.clone();
        while times.len() < n {
            let Some(next) = self.next_after(&cursor) else { break };
            cursor = next.clone();
            times.push(next);
        }
        times
    }
}

fn list(values: &BTreeSet<u32>) -> String {
    values.iter().map(u32::to_string).collect::<Vec<_>>().join(",")
}

/// The set of values one field allows: `*`, `5`, `1-5`, `*/15`, `10-50/10`, `MON-FRI`, lists of these.
fn values(text: &str, field: Field) -> Result<BTreeSet<u32>, String> {
    let mut set = BTreeSet::new();
    for part in text.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((range, step)) => {
                let step: u32 = step
                    .parse()
                    .ok()
                    .filter(|s| *s > 0)
                    .ok_or_else(|| format!("{} step {step:?} is not a whole number above 0", field.name))?;
                (range, step)
            }
            None => (part, 1),
        };
        let (low, high) = if range == "*" {
            (field.min, if field.name == DAY_OF_WEEK.name { 6 } else { field.max })
        } else if let Some((low, high)) = range.split_once('-') {
            let (low, high) = (value(low, field)?, value(high, field)?);
            if low > high {
                return Err(format!("{} range {range} runs backwards", field.name));
            }
            (low, high)
        } else {
            let single = value(range, field)?;
            // `5/15` means from 5 to the end, stepping by 15.
            (single, if part.contains('/') { field.max } else { single })
        };
        set.extend((low..=high).step_by(step as usize));
    }
    Ok(set)
}

fn value(text: &str, field: Field) -> Result<u32, String> {
    if let Some(index) = field.names.iter().position(|n| n.eq_ignore_ascii_case(text)) {
        return Ok(field.min + index as u32);
    }
    let number: u32 = text.parse().map_err(|_| {
        let names = if field.names.is_empty() {
            String::new()
        } else {
            format!(" or a name ({}–{})", field.names[0], field.names[field.names.len() - 1])
        };
        if text.is_empty() {
            format!("{} has an empty value", field.name)
        } else {
            format!("{} value {text:?} is not a number{names}", field.name)
        }
    })?;
    if number < field.min || number > field.max {
        return Err(format!("{} value {number} is outside {}–{}", field.name, field.min, field.max));
    }
    Ok(number)
}

#[cfg(test)]
mod tests {
    use chrono::{Datelike, Utc};
    use chrono_tz::Tz;

    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    fn next(expr: &str, after: &str) -> String {
        Crontab::parse(expr).unwrap().next_after(&at(after)).unwrap().to_rfc3339()
    }

    #[test]
    fn five_fields_fire_at_second_zero() {
        assert_eq!(next("*/15 * * * *", "2026-11-21T03:07:10Z"), "2026-11-21T03:15:00+00:00");
        assert_eq!(next("30 2 * * *", "2026-11-21T03:00:00Z"), "2026-11-22T02:30:00+00:00");
    }

    #[test]
    fn six_fields_lead_with_seconds() {
        assert_eq!(next("*/20 * * * * *", "2026-11-21T03:00:05Z"), "2026-11-21T03:00:20+00:00");
    }

    #[test]
    fn sunday_is_zero_and_seven_and_names_work() {
        // 2026-11-21 is a Saturday.
        for expr in ["0 9 * * 0", "0 9 * * 7", "0 9 * * SUN", "0 9 * * sun"] {
            assert_eq!(next(expr, "2026-11-21T12:00:00Z"), "2026-11-22T09:00:00+00:00", "{expr}");
        }
        assert_eq!(next("0 9 * * MON-FRI", "2026-11-21T12:00:00Z"), "2026-11-23T09:00:00+00:00");
        assert_eq!(next("0 9 * * 1-5", "2026-11-21T12:00:00Z"), "2026-11-23T09:00:00+00:00");
        // A range across the week's end: Friday to Sunday.
        assert_eq!(next("0 9 * * 5-7", "2026-11-21T12:00:00Z"), "2026-11-22T09:00:00+00:00");
        assert_eq!(next("0 0 1 JAN-MAR *", "2026-11-21T12:00:00Z"), "2027-01-01T00:00:00+00:00");
    }

    #[test]
    fn restricted_day_fields_are_ored_as_posix_says() {
        // The 1st of the month OR any Monday: the next is Monday the 23rd, then Dec 1 (a Tuesday).
        let tab = Crontab::parse("0 0 1 * MON").unwrap();
        let times: Vec<String> = tab.upcoming(&at("2026-11-21T00:00:00Z"), 3).iter().map(|t| t.to_rfc3339()).collect();
        assert_eq!(times, ["2026-11-23T00:00:00+00:00", "2026-11-30T00:00:00+00:00", "2026-12-01T00:00:00+00:00"]);
        // With day-of-week starred the day-of-month alone decides.
        assert_eq!(next("0 0 1 * *", "2026-11-21T00:00:00Z"), "2026-12-01T00:00:00+00:00");
        // `*/2` counts as unrestricted (Vixie cron): odd days of month AND Mondays.
        let every_other_monday = Crontab::parse("0 0 */2 * 1").unwrap();
        for t in every_other_monday.upcoming(&at("2026-11-21T00:00:00Z"), 4) {
            assert_eq!(t.weekday(), chrono::Weekday::Mon);
            assert_eq!(t.day() % 2, 1, "{t}");
        }
    }

    #[test]
    fn shortcuts_expand() {
        assert_eq!(next("@hourly", "2026-11-21T03:07:00Z"), "2026-11-21T04:00:00+00:00");
        assert_eq!(next("@daily", "2026-11-21T03:07:00Z"), "2026-11-22T00:00:00+00:00");
        assert_eq!(next("@weekly", "2026-11-21T03:07:00Z"), "2026-11-22T00:00:00+00:00");
        assert_eq!(next("@monthly", "2026-11-21T03:07:00Z"), "2026-12-01T00:00:00+00:00");
        assert_eq!(next("@yearly", "2026-11-21T03:07:00Z"), "2027-01-01T00:00:00+00:00");
    }

    #[test]
    fn lists_ranges_and_steps() {
        assert_eq!(next("5,35 * * * *", "2026-11-21T03:06:00Z"), "2026-11-21T03:35:00+00:00");
        assert_eq!(next("10-50/20 * * * *", "2026-11-21T03:31:00Z"), "2026-11-21T03:50:00+00:00");
        assert_eq!(next("15/30 * * * *", "2026-11-21T03:16:00Z"), "2026-11-21T03:45:00+00:00");
    }

    #[test]
    fn the_time_zone_is_the_callers() {
        let tab = Crontab::parse("0 3 * * *").unwrap();
        let berlin = at("2026-11-21T00:00:00Z").with_timezone(&Tz::Europe__Berlin);
        assert_eq!(tab.next_after(&berlin).unwrap().with_timezone(&Utc).to_rfc3339(), "2026-11-21T02:00:00+00:00");
    }

    #[test]
    fn errors_name_the_field_and_value() {
        let cases = [
            ("* * * *", "it has 4 fields"),
            ("* * * * * * *", "it has 7 fields"),
            ("61 * * * *", "minute value 61 is outside 0–59"),
            ("* 24 * * *", "hour value 24 is outside 0–23"),
            ("* * 0 * *", "day-of-month value 0 is outside 1–31"),
            ("* * * 13 *", "month value 13 is outside 1–12"),
            ("* * * * 8", "day-of-week value 8 is outside 0–7"),
            ("* * * * FUN", "day-of-week value \"FUN\" is not a number or a name (SUN–SAT)"),
            ("*/0 * * * *", "minute step \"0\" is not a whole number above 0"),
            ("5-1 * * * *", "minute range 5-1 runs backwards"),
            ("@fortnightly", "unknown shortcut @fortnightly"),
            ("1,,2 * * * *", "minute has an empty value"),
            ("0 0 31 2 *", "it never fires"),
        ];
        for (expr, expected) in cases {
            let err = Crontab::parse(expr).unwrap_err().to_string();
            assert!(err.contains(expected), "{expr}: {err}");
        }
    }
}
