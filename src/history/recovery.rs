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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::AppliedStep;
    use crate::history::SledStore;
    use crate::history::record::{ApplyRecord, sample};
    use crate::step::StepStatus;
    use crate::steps::AppliedDetail;
    use crate::steps::reset_offsets::ResetApplied;

    /// A run left `running` in its reset step, with the snapshot it took, if any.
    fn dead_in_reset(reset: Option<ResetApplied>) -> crate::history::RunRecord {
        let mut dead = sample("a", RunState::Running, 1_763_686_800_000);
        dead.apply = Some(ApplyRecord {
            forced: false,
            drift: vec![],
            steps: vec![AppliedStep {
                id: "reset".into(),
                kind: "reset_offsets".into(),
                status: StepStatus::Running,
                reason: None,
                detail: reset.map(AppliedDetail::Reset),
                started_at: None,
                finished_at: None,
            }],
        });
        dead
    }

    #[test]
    fn a_running_run_without_its_process_becomes_interrupted_and_a_live_one_stays() {
        let store = SledStore::temporary().unwrap();
        let locks = LockDir::new(tempfile::tempdir().unwrap().keep());
        let dead = dead_in_reset(None);
        let live = sample("a", RunState::Running, 1_763_686_800_001);
        store.save(&dead).unwrap();
        store.save(&live).unwrap();
        let _alive = locks.hold_run(&live.id).unwrap();

        assert_eq!(mark_interrupted(&store, &locks).unwrap(), std::slice::from_ref(&dead.id));
        let dead = store.get(&dead.id).unwrap().unwrap();
        assert_eq!(dead.status, RunState::Interrupted);
        // Its reset step had not taken its snapshot: nothing can have been committed.
        assert!(dead.reason.as_deref().unwrap().contains("stopped before it changed anything"), "{dead:?}");
        assert_eq!(dead.summary().changes, 0, "an apply that changed nothing shows no changes");
        assert!(dead.finished_at.is_some());
        assert_eq!(dead.apply.unwrap().steps[0].status, StepStatus::Interrupted);
        assert_eq!(store.get(&live.id).unwrap().unwrap().status, RunState::Running);
    }

    #[test]
    fn a_run_interrupted_past_its_snapshot_may_have_changed_offsets() {
        let store = SledStore::temporary().unwrap();
        let locks = LockDir::new(tempfile::tempdir().unwrap().keep());
        let reset = ResetApplied { group: "g".into(), snapshot: vec![], results: vec![] };
        let dead = dead_in_reset(Some(reset));
        store.save(&dead).unwrap();
        mark_interrupted(&store, &locks).unwrap();
        let dead = store.get(&dead.id).unwrap().unwrap();
        assert!(dead.reason.as_deref().unwrap().contains("stopped before it finished"), "{dead:?}");
    }
}
