//! An apply as history sees it (SPEC §5): take the locks of everything the
//! plan changes (or refuse, naming the holder's run), mark the run alive,
//! persist it as `running` before the first change and after every mutating
//! step, and save how it ended.

use super::record::RunRecord;
use super::run_locks::{LockDir, Target};
use super::store::{Store, StoreError};
use crate::engine::{Applied, Plan, RunInfo, RunStatus, StepDetail, StepStatus};
use crate::provider::Provider;

/// What a recorded apply ended with: the apply, and the error that kept its
/// final state out of history, if one did (the changes were made either way).
pub struct RecordedApply {
    pub applied: Applied,
    pub unsaved: Option<StoreError>,
}

/// The groups and topics `plan` changes: a reset's group; a purge's topic and
/// the groups whose commits cap it (a reset of one of them mid-purge could
/// leave it behind the new log start).
pub fn targets(plan: &Plan) -> Vec<Target> {
    let mut targets = Vec::new();
    for step in plan.steps.iter().filter(|s| s.status == StepStatus::Planned) {
        match &step.detail {
            StepDetail::ResetOffsets(reset) => targets.push(Target::Group(reset.group.clone())),
            StepDetail::PurgeMessages(purge) => {
                targets.push(Target::Topic(purge.topic.clone()));
                targets.extend(purge.protected_by.iter().cloned().map(Target::Group));
            }
            _ => {}
        }
    }
    targets
}

/// Applies `plan` as run `run`, recorded in `store`, holding locks in `locks`.
pub async fn apply_recorded<P: Provider>(
    plan: &Plan,
    provider: &P,
    sha256_now: Option<&str>,
    run: &RunInfo,
    force: bool,
    store: &dyn Store,
    locks: &LockDir,
) -> Result<RecordedApply, StoreError> {
    let base = RunRecord::start(run, plan);
    let io = |e: std::io::Error| StoreError::Io(format!("run locks in {}: {e}", locks.path().display()));
    let held = match locks.acquire(&plan.cluster, &targets(plan), &run.id).map_err(io)? {
        Ok(held) => held,
        Err(busy) => {
            let applied = Applied::new(plan, run, force).finish(RunStatus::Refused, Some(busy.to_string()));
            return Ok(finish(base, applied, store));
        }
    };
    let alive = locks.hold_run(&run.id).map_err(io)?;
    let journal = |applied: &Applied| {
        let mut record = base.clone();
        record.absorb(applied);
        store.save(&record).map_err(|e| e.to_string())
    };
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
