//! `ebb rollback RUN` (SPEC §5): a plan that puts every group a run reset or
//! whose offsets it deleted back where the run's snapshot found it, applied
//! like any plan. Each is undone by its kind (`steps/reset_offsets/rollback.rs`,
//! `steps/delete_offsets/rollback.rs`); purges cannot be undone, and the plan
//! says so.

use crate::engine::plan::PLAN_FORMAT;
use crate::engine::{Mode, Plan, PlanStatus, RunInfo};
use crate::history::{RunRecord, RunState};
use crate::provider::{Provider, ProviderError};
use crate::step::StepStatus;
use crate::steps::delete_offsets::rollback as deletion_rollback;
use crate::steps::purge_messages::rollback as purge_rollback;
use crate::steps::reset_offsets::rollback::{plan_restore, restore_points};
use crate::steps::{AppliedDetail, StepDetail};

/// Why a run has no rollback plan.
#[derive(Debug, thiserror::Error)]
pub enum RollbackError {
    #[error("nothing to roll back: run {run} {why}")]
    Nothing { run: String, why: &'static str },
    #[error(transparent)]
    Provider(#[from] ProviderError),
}

/// The rollback plan of `record`, read against the cluster as it is now.
pub async fn plan_rollback<P: Provider>(
    record: &RunRecord,
    provider: &P,
    run: &RunInfo,
) -> Result<Plan, RollbackError> {
    let nothing = |why| RollbackError::Nothing { run: record.id.clone(), why };
    match (record.status, record.mode) {
        (RunState::Running, _) => {
            return Err(nothing(
                "is still running; wait for it to finish (or, if its process is gone, for the next ebb command to \
                 mark it interrupted)",
            ));
        }
        (_, Mode::Plan) => return Err(nothing("was a plan only and changed nothing")),
        _ => {}
    }
    let planned = |id: &str| record.plan.iter().flat_map(|p| &p.steps).find(|s| s.id == id).map(|s| &s.detail);
    let mut steps = Vec::new();
    // Last step first: a later step's change is undone before an earlier one's.
    for step in record.apply.iter().flat_map(|a| &a.steps).rev().filter(|s| s.status != StepStatus::Refused) {
        let (group, restore) = match (&step.detail, planned(&step.id)) {
            (Some(AppliedDetail::Reset(reset)), plan) => {
                let plan = match plan {
                    Some(StepDetail::ResetOffsets(plan)) => Some(plan.as_ref()),
                    _ => None,
                };
                (&reset.group, restore_points(reset, plan))
            }
            (Some(AppliedDetail::DeleteOffsets(deleted)), plan) => {
                let plan = match plan {
                    Some(StepDetail::DeleteOffsets(plan)) => Some(plan.as_ref()),
                    _ => None,
                };
                (&deleted.group, deletion_rollback::restore_points(deleted, plan))
            }
            _ => continue,
        };
        if restore.is_empty() {
            continue;
        }
        steps.extend(plan_restore(provider, &step.id, group, &restore).await?);
    }
    let mut notes = Vec::new();
    for step in record.apply.iter().flat_map(|a| &a.steps).filter(|s| s.kind == "purge_messages") {
        let topic = match planned(&step.id) {
            Some(StepDetail::PurgeMessages(purge)) => purge.topic.as_str(),
            _ => "",
        };
        notes.extend(purge_rollback::note(&step.id, step.status, step.purge(), topic));
    }
    if steps.is_empty() && notes.is_empty() {
        return Err(nothing("committed no offsets"));
    }
    unique_ids(&mut steps);
    Ok(Plan {
        format: PLAN_FORMAT.to_owned(),
        run_id: run.id.clone(),
        runbook: record.runbook.clone(),
        runbook_sha256: record.runbook_sha256.clone(),
        runbook_path: String::new(),
        cluster: record.cluster.clone(),
        params: record.params.clone(),
        created_at: run.started_at,
        status: PlanStatus::Planned,
        steps,
        rollback_of: Some(record.id.clone()),
        command_line: None,
        notes,
        approval: record.plan.as_ref().and_then(|p| p.approval.clone()),
    })
}

/// Gives each step an id of its own: a restore's `<step>-uncommit` may be
/// the id of another step the runbook wrote, or of a step undone twice.
fn unique_ids(steps: &mut [crate::steps::PlannedStep]) {
    let mut seen = std::collections::BTreeSet::new();
    for step in steps.iter_mut() {
        let mut id = step.id.clone();
        let mut n = 2;
        while !seen.insert(id.clone()) {
            id = format!("{}-{n}", step.id);
            n += 1;
        }
        step.id = id;
    }
}
