//! A purge in a rollback: nothing can bring deleted records back, so the
//! rollback plan says what each purge of the run deleted, or may have.

use crate::step::StepStatus;

use super::apply::PurgeApplied;

/// The note a rollback plan carries for purge step `id`, if it deleted or may have deleted records.
pub fn note(id: &str, status: StepStatus, applied: Option<&PurgeApplied>, planned_topic: &str) -> Option<String> {
    match applied {
        Some(purge) => {
            let deleted: i64 = purge.results.iter().map(|r| r.deleted).sum();
            (deleted > 0).then(|| {
                format!("step `{id}` deleted {deleted} record(s) from topic {}: purges cannot be undone", purge.topic)
            })
        }
        None if matches!(status, StepStatus::Running | StepStatus::Interrupted) => Some(format!(
            "step `{id}` may have deleted records from topic {planned_topic} before the run stopped: purges cannot be undone"
        )),
        None => None,
    }
}
