//! A run from its plan to its record: a plan that stops, or has nothing to
//! change, or is all the run was asked for, is recorded as it is; otherwise it
//! is applied under its locks and recorded as it goes.

use crate::engine::{Mode, Plan, PlanStatus, RunInfo};
use crate::history::{RunRecord, RunState, Store, StoreError};
use crate::provider::Provider;

use super::locks::RunLocks;
use super::recorded_apply::apply_recorded;

/// Whether `plan`, made by `run`, goes on to an apply.
pub fn goes_on_to_apply(plan: &Plan, run: &RunInfo) -> bool {
    run.mode == Mode::Apply && plan.status == PlanStatus::Planned && plan.has_changes()
}

/// A run that ended without applying anything, and the error that kept it
/// out of history, if one did. Nothing changed, so a store that cannot be
/// written is the caller's warning, not the run's failure.
pub struct Unapplied {
    pub record: RunRecord,
    pub unsaved: Option<StoreError>,
}

/// Records `plan` as run `run`'s whole record: a plan only, a plan that
/// stopped, or one with nothing to change.
pub fn record_unapplied(store: &dyn Store, run: &RunInfo, plan: &Plan) -> Unapplied {
    save(store, RunRecord::planned(run, plan))
}

/// Why a plan shown to a person was not applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decline {
    /// They answered something other than `yes`.
    AtPrompt,
    /// Nobody could be asked: no terminal, and no `--yes`.
    NoTerminal,
}

/// Records run `run` as declined: its plan kept, nothing changed.
pub fn record_declined(store: &dyn Store, run: &RunInfo, plan: &Plan, why: Decline) -> Unapplied {
    let why = match why {
        Decline::AtPrompt => "not confirmed",
        Decline::NoTerminal => "not confirmed: stdin is not a terminal and --yes was not given",
    };
    let mut record = RunRecord::start(run, plan);
    record.finish(RunState::Declined, Some(format!("{why}: nothing was changed")));
    save(store, record)
}

fn save(store: &dyn Store, record: RunRecord) -> Unapplied {
    let unsaved = store.save(&record).err();
    Unapplied { record, unsaved }
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
        let unapplied = record_unapplied(store, run, plan);
        if let Some(e) = &unapplied.unsaved {
            tracing::error!(run_id = %run.id, error = %e, "run is not in history");
        }
        return unapplied.record;
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
