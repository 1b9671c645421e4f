//! Applying a plan: check drift, then apply each step in order through its
//! kind (`steps::apply`), saving the run through the journal before each
//! mutating step, when its kind reports progress (a reset's snapshot), and
//! after it. The first refused or failed step ends the run.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::provider::Provider;
use crate::step::{Drift, JournalError, StepStatus};
use crate::steps::purge_messages::PurgeApplied;
use crate::steps::reset_offsets::ResetApplied;
use crate::steps::{self, AppliedDetail, ApplyContext};

use super::context::RunInfo;
use super::plan::{Plan, PlanStatus};

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Succeeded,
    Failed,
    Refused,
}

/// The record of an applied plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Applied {
    pub run_id: String,
    /// The run that made the plan.
    pub plan_run_id: String,
    pub runbook: String,
    pub runbook_sha256: String,
    pub cluster: String,
    pub params: Map<String, Value>,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub status: RunStatus,
    /// Why the run was refused or failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// `--force` was given.
    pub forced: bool,
    /// Drift found before applying (overridden when `forced`).
    pub drift: Vec<Drift>,
    pub steps: Vec<AppliedStep>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppliedStep {
    pub id: String,
    pub kind: String,
    pub status: StepStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// What a mutating step did, under its kind's key (`reset`, `purge`).
    #[serde(flatten, default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<AppliedDetail>,
    /// When the apply began and ended this step (absent from records written
    /// before steps were timed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
}

impl AppliedStep {
    /// What a reset step did, if this is one that got as far as its snapshot.
    pub fn reset(&self) -> Option<&ResetApplied> {
        match &self.detail {
            Some(AppliedDetail::Reset(reset)) => Some(reset),
            _ => None,
        }
    }

    /// The snapshot a step took of a group's committed offsets before changing
    /// them (a reset or a deletion of offsets): the group and its entries.
    pub fn offsets_snapshot(&self) -> Option<(&str, &[crate::steps::reset_offsets::SnapshotEntry])> {
        match &self.detail {
            Some(AppliedDetail::Reset(reset)) => Some((&reset.group, &reset.snapshot)),
            Some(AppliedDetail::DeleteOffsets(deleted)) => Some((&deleted.group, &deleted.snapshot)),
            _ => None,
        }
    }

    /// What a purge step did, if this is one that sent anything.
    pub fn purge(&self) -> Option<&PurgeApplied> {
        match &self.detail {
            Some(AppliedDetail::Purge(purge)) => Some(purge),
            _ => None,
        }
    }
}

/// Where an apply saves its progress (SPEC §5): called when each mutating
/// step starts (so before the first change), again when a reset's snapshot is
/// taken and before it commits, and after every mutating step. An error stops
/// the run before its next change.
pub trait Journal: Sync {
    fn save(&self, applied: &Applied) -> Result<(), JournalError>;
}

impl<F: Fn(&Applied) -> Result<(), JournalError> + Sync> Journal for F {
    fn save(&self, applied: &Applied) -> Result<(), JournalError> {
        self(applied)
    }
}

/// A journal that keeps nothing.
pub fn no_journal(_: &Applied) -> Result<(), JournalError> {
    Ok(())
}

impl Applied {
    /// The record of an apply of `plan` by `run` that has not started.
    pub fn new(plan: &Plan, run: &RunInfo, force: bool) -> Self {
        Applied {
            run_id: run.id.clone(),
            plan_run_id: plan.run_id.clone(),
            runbook: plan.runbook.clone(),
            runbook_sha256: plan.runbook_sha256.clone(),
            cluster: plan.cluster.clone(),
            params: plan.params.clone(),
            started_at: run.started_at,
            finished_at: run.started_at,
            status: RunStatus::Succeeded,
            reason: None,
            forced: force,
            drift: Vec::new(),
            steps: Vec::new(),
        }
    }

    /// Ends the record with `status`.
    pub fn finish(mut self, status: RunStatus, reason: Option<String>) -> Self {
        self.status = status;
        self.reason = reason;
        self.finished_at = Utc::now();
        self
    }
}

/// Applies `plan`. `sha256_now` is the runbook file's fingerprint now (`None`: gone).
pub async fn apply<P: Provider>(
    plan: &Plan,
    provider: &P,
    sha256_now: Option<&str>,
    run: &RunInfo,
    force: bool,
    journal: &dyn Journal,
) -> Applied {
    let mut applied = Applied::new(plan, run, force);
    match plan.status {
        PlanStatus::Planned => {}
        PlanStatus::Refused => {
            return applied.finish(RunStatus::Refused, Some("the plan was refused: there is nothing to apply".into()));
        }
        PlanStatus::Failed => {
            return applied.finish(RunStatus::Failed, Some("the plan failed: there is nothing to apply".into()));
        }
    }
    match super::drift::find(plan, provider, sha256_now).await {
        Ok(found) => applied.drift = found,
        Err(e) => {
            return applied.finish(RunStatus::Failed, Some(format!("cannot check the plan for drift: {e}")));
        }
    }
    if !applied.drift.is_empty() && !force {
        let list: Vec<String> = applied.drift.iter().map(|d| format!("  - {d}")).collect();
        let reason = format!(
            "the plan is stale; nothing was changed:\n{}\nmake a new plan, or pass --force to apply this one anyway",
            list.join("\n")
        );
        return applied.finish(RunStatus::Refused, Some(reason));
    }
    for step in &plan.steps {
        let record = AppliedStep {
            id: step.id.clone(),
            kind: step.detail.kind().to_owned(),
            status: step.status,
            reason: None,
            detail: None,
            started_at: Some(Utc::now()),
            finished_at: None,
        };
        // The run so far with this step in progress (and what it has done, once it says).
        let running = AppliedStep { status: StepStatus::Running, ..record.clone() };
        let journal_running = |done: Option<&AppliedDetail>| {
            let mut going = applied.clone();
            going.steps.push(AppliedStep { detail: done.cloned(), ..running.clone() });
            journal.save(&going)
        };
        let mutating = step.detail.is_mutating() && step.status == StepStatus::Planned;
        if mutating && let Err(e) = journal_running(None) {
            return applied.finish(RunStatus::Failed, Some(e.to_string()));
        }
        let progress = |done: &AppliedDetail| journal_running(Some(done));
        let context = ApplyContext {
            runbook: &plan.runbook,
            run_id: &run.id,
            progress: &progress,
            messenger: run.notifier.as_deref(),
        };
        let (record, stop) = settle(record, steps::apply(step, provider, &context).await);
        let reason = record.reason.clone().map(|r| format!("step `{}`: {r}", record.id));
        applied.steps.push(record);
        if let Some(status) = stop {
            return applied.finish(status, reason);
        }
        if mutating && let Err(e) = journal.save(&applied) {
            return applied.finish(RunStatus::Failed, Some(e.to_string()));
        }
    }
    applied.finish(RunStatus::Succeeded, None)
}

/// The step's record once applied, and how the run ends if this step ends it.
fn settle(mut record: AppliedStep, done: steps::StepApplied) -> (AppliedStep, Option<RunStatus>) {
    record.status = done.status;
    record.reason = done.reason;
    record.detail = done.detail;
    record.finished_at = Some(Utc::now());
    let stop = match record.status {
        StepStatus::Refused => Some(RunStatus::Refused),
        StepStatus::Failed if !done.tolerated => Some(RunStatus::Failed),
        _ => None,
    };
    (record, stop)
}
