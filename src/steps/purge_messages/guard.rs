//! `max_delete`: how many records a purge may delete in all, checked when it
//! is planned and again against the logs as they are when it is applied.

use crate::step::StepError;

/// Refuses a purge that would delete more than `max_delete` records.
pub fn check_delete(max_delete: Option<u64>, topic: &str, deleted: i64) -> Result<(), StepError> {
    match max_delete {
        Some(limit) if deleted.unsigned_abs() > limit => Err(StepError::Refused(format!(
            "the purge of topic {topic:?} would delete {deleted} record(s), above max_delete {limit}; nothing was deleted"
        ))),
        _ => Ok(()),
    }
}
