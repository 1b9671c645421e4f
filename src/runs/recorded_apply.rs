//! An apply as history sees it (SPEC §5): take the locks of everything the
//! plan changes (or refuse, naming the holder's run), mark the run alive,
//! persist it as `running` before the first change and after every mutating
//! step, and save how it ended.

use crate::engine::{Applied, Journal, Plan, RunInfo, RunStatus};
use crate::history::{RunRecord, Store, StoreError, Target};
use crate::provider::Provider;
use crate::step::{JournalError, StepStatus};

use super::locks::RunLocks;

/// What a recorded apply ended with: the apply, and the error that kept its
/// final state out of history, if one did (the changes were made either way).
pub struct RecordedApply {
    pub applied: Applied,
    pub unsaved: Option<StoreError>,
}

/// The groups and topics `plan` changes, as each planned step's kind names them.
pub fn targets(plan: &Plan) -> Vec<Target> {
    let mut targets = Vec::new();
    for step in plan.steps.iter().filter(|s| s.status == StepStatus::Planned) {
        let touches = step.detail.touches();
        targets.extend(touches.groups.into_iter().map(Target::Group));
        targets.extend(touches.topics.into_iter().map(Target::Topic));
    }
    targets
}

/// The journal of one run: each save is the run's record as it stands.
struct StoreJournal<'a> {
    base: &'a RunRecord,
    store: &'a dyn Store,
}

impl Journal for StoreJournal<'_> {
    fn save(&self, applied: &Applied) -> Result<(), JournalError> {
        let mut record = self.base.clone();
        record.absorb(applied);
        self.store.save(&record).map_err(|e| JournalError(Box::new(e)))
    }
}

/// Applies `plan` as run `run`, recorded in `store`, holding locks in `locks`.
pub async fn apply_recorded<P: Provider>(
    plan: &Plan,
    provider: &P,
    sha256_now: Option<&str>,
    run: &RunInfo,
    force: bool,
    store: &dyn Store,
    locks: &dyn RunLocks,
) -> Result<RecordedApply, StoreError> {
    let base = RunRecord::start(run, plan);
    let io = |e: std::io::Error| StoreError::Io(format!("{}: {e}", locks.describe()));
    let held = match locks.acquire(&plan.cluster, &targets(plan), &run.id).map_err(io)? {
        Ok(held) => held,
        Err(busy) => {
            let applied = Applied::new(plan, run, force).finish(RunStatus::Refused, Some(busy.to_string()));
            return Ok(finish(base, applied, store));
        }
    };
    let alive = locks.hold_run(&run.id).map_err(io)?;
    let journal = StoreJournal { base: &base, store };
    let applied = crate::engine::apply(plan, provider, sha256_now, run, force, &journal).await;
    let outcome = finish(base, applied, store);
    drop(alive);
    drop(held);
    Ok(outcome)
}

fn finish(mut record: RunRecord, applied: Applied, store: &dyn Store) -> RecordedApply {
    record.absorb(&applied);
    record.finish(applied.status.into(), applied.reason.clone());
    let unsaved = store.save(&record).err();
    RecordedApply { applied, unsaved }
}
