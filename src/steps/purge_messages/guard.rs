//! The limits a purge stays within: `max_delete` (records in all) and
//! `max_delete_percent` (of each partition's records), checked when it is
//! planned and again against the logs as they are when it is applied; and,
//! for a time cut-off, `strict_time` over the timestamps around each cut.

use chrono::{DateTime, SecondsFormat, Utc};

use crate::step::StepError;

use super::purge_plan::{PurgeChange, PurgePlan};

/// Refuses a purge that would delete more than `max_delete` records.
pub fn check_delete(max_delete: Option<u64>, topic: &str, deleted: i64) -> Result<(), StepError> {
    match max_delete {
        Some(limit) if deleted.unsigned_abs() > limit => Err(StepError::Refused(format!(
            "the purge of topic {topic:?} would delete {deleted} record(s), above max_delete {limit}; nothing was deleted"
        ))),
        _ => Ok(()),
    }
}

/// What one partition would lose: how many of how many records.
#[derive(Debug, Clone, Copy)]
pub struct Share {
    pub partition: i32,
    pub deleted: i64,
    pub records: i64,
}

impl Share {
    pub fn of(change: &PurgeChange) -> Share {
        Share { partition: change.partition, deleted: change.deleted, records: change.log_end - change.log_start }
    }
}

/// Refuses a purge that would delete more than `limit` percent of any
/// partition's records, naming every partition above it.
pub fn check_percent(limit: Option<u64>, topic: &str, shares: impl Iterator<Item = Share>) -> Result<(), StepError> {
    let Some(limit) = limit else { return Ok(()) };
    let over: Vec<String> = shares
        .filter(|s| s.records > 0 && s.deleted > 0 && (s.deleted as i128) * 100 > (limit as i128) * (s.records as i128))
        .map(|s| format!("{}:{} ({} of {} records, {:.1}%)", topic, s.partition, s.deleted, s.records, percent(s)))
        .collect();
    if over.is_empty() {
        return Ok(());
    }
    Err(StepError::Refused(format!(
        "the purge would delete more than max_delete_percent {limit}% of the records of {}; nothing was deleted",
        over.join(", ")
    )))
}

fn percent(share: Share) -> f64 {
    share.deleted as f64 * 100.0 / share.records as f64
}

/// Each partition whose timestamps are out of order around its cut, as a sentence.
pub fn time_order_problems(purge: &PurgePlan) -> Vec<String> {
    let Some(cut_off) = purge.cut_off_ms else { return Vec::new() };
    let mut rows: Vec<&PurgeChange> = purge.rows().collect();
    rows.sort_by_key(|r| r.partition);
    let mut problems = Vec::new();
    for row in rows {
        let Some(order) = &row.time_order else { continue };
        let at = |partition: i32| format!("{}:{partition}", purge.topic);
        if order.newer_below > 0 {
            problems.push(format!(
                "{}: {} of the last {} record(s) below the cut are newer than the cut-off {} (the newest {}) and \
                 would be deleted: producers out of time order or with wrong clocks",
                at(row.partition),
                order.newer_below,
                order.checked_below,
                time(cut_off),
                order.newest_below.map_or_else(|| "-".to_owned(), time),
            ));
        }
        if order.older_above > 0 {
            problems.push(format!(
                "{}: {} of the first {} record(s) from the cut on are older than the cut-off {} (the oldest {}) and \
                 are kept: a newer record comes before them, and the purge stops at the first record at or after \
                 the cut-off",
                at(row.partition),
                order.older_above,
                order.checked_above,
                time(cut_off),
                order.oldest_above.map_or_else(|| "-".to_owned(), time),
            ));
        }
    }
    problems
}

/// With `strict_time`, refuses a purge whose timestamps are out of order around a cut.
pub fn check_time_order(strict: bool, topic: &str, problems: &[String]) -> Result<(), StepError> {
    if !strict || problems.is_empty() {
        return Ok(());
    }
    Err(StepError::Refused(format!(
        "strict_time: the timestamps of topic {topic:?} are out of order around the cut, so the cut-off does not \
         split old from new; nothing was deleted. {}",
        problems.join(". ")
    )))
}

/// Epoch milliseconds as RFC 3339 in UTC.
pub fn time(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .map_or_else(|| ms.to_string(), |t| t.to_rfc3339_opts(SecondsFormat::Millis, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partition_above_the_percentage_is_refused_by_name() {
        let shares = [
            Share { partition: 0, deleted: 50, records: 100 },
            Share { partition: 1, deleted: 51, records: 100 },
            Share { partition: 2, deleted: 0, records: 0 },
        ];
        assert!(check_percent(Some(51), "orders", shares.iter().copied()).is_ok());
        let refused = check_percent(Some(50), "orders", shares.iter().copied()).unwrap_err().to_string();
        assert!(refused.contains("orders:1 (51 of 100 records, 51.0%)"), "{refused}");
        assert!(!refused.contains("orders:0"), "exactly the limit passes: {refused}");
    }
}
