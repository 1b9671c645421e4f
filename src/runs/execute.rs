//! A run from its plan to its record: a plan that stops, or has nothing to
//! change, or is all the run was asked for, is recorded as it is; otherwise it
//! is applied under its locks and recorded as it goes.

use crate::engine::{Mode, Plan, PlanStatus, RunInfo};
use crate::history::{RunRecord, RunState, Store};
use crate::provider::Provider;

use super::locks::RunLocks;
use super::recorded_apply::apply_recorded;

/// Whether `plan`, made by `run`, goes on to an apply.
pub fn goes_on_to_apply(plan: &Plan, run: &RunInfo) -> bool {
    run.mode == Mode::Apply && plan.status == PlanStatus::Planned && plan.has_changes()
}

/// Records `plan` as run `run`'s whole record: nothing was applied.
pub fn record_unapplied(store: &dyn Store, run: &RunInfo, plan: &Plan) -> RunRecord {
    let record = RunRecord::planned(run, plan);
    if let Err(e) = store.save(&record) {
        tracing::error!(run_id = %run.id, error = %e, "run is not in history");
    }
    record
}

/// Applies `plan` if the run goes on to apply, and returns the run's record.
pub async fn finish_run<P: Provider>(
    plan: &Plan,
    sha256_now: Option<&str>,
    provider: &P,
    run: &RunInfo,
    store: &dyn Store,
    locks: &dyn RunLocks,
) -> RunRecord {
    if !goes_on_to_apply(plan, run) {
        return record_unapplied(store, run, plan);
    }
    match apply_recorded(plan, provider, sha256_now, run, false, store, locks).await {
        Ok(recorded) => {
            if let Some(e) = &recorded.unsaved {
                tracing::error!(run_id = %run.id, error = %e, "run is not in history as it ended");
            }
            store.get(&run.id).ok().flatten().unwrap_or_else(|| {
                let mut record = RunRecord::start(run, plan);
                record.absorb(&recorded.applied);
                record.finish(recorded.applied.status.into(), recorded.applied.reason.clone());
                record
            })
        }
        Err(e) => {
            let mut record = RunRecord::start(run, plan);
            record.finish(RunState::Failed, Some(format!("cannot take the run's locks: {e}")));
            let _ = store.save(&record);
            record
        }
    }
}
