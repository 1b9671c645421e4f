//! Crash recovery (SPEC §5): a record left `running` by a process that is gone
//! becomes `interrupted`, keeping the steps it finished and the snapshots it
//! took, so `ebb rollback` can undo what it did.

use chrono::Utc;

use super::record::RunState;
use super::run_locks::LockDir;
use super::store::{RunQuery, Store, StoreError};

/// Marks every `running` run whose process no longer holds its lock; returns their ids.
pub fn mark_interrupted(store: &dyn Store, locks: &LockDir) -> Result<Vec<String>, StoreError> {
    let running =
        store.list(&RunQuery { status: Some(RunState::Running), oldest_first: true, ..RunQuery::default() })?;
    let mut marked = Vec::new();
    for summary in running {
        if locks.is_alive(&summary.id) {
            continue;
        }
        let Some(mut record) = store.get(&summary.id)? else { continue };
        record.interrupt(Utc::now());
        store.save(&record)?;
        tracing::warn!(run = %record.id, runbook = %record.runbook, "a run was interrupted; it is marked so in history");
        marked.push(record.id);
    }
    Ok(marked)
}
