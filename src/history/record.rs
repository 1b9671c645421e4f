//! What history keeps of a run (SPEC §5), as stored and as `ebb show --output
//! json` prints it (`ebb.run/v1`: fields may be added, never renamed): who
//! started it and how, the plan it made or applied, and what the apply did
//! step by step, including the offsets a rollback restores.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::engine::{Applied, AppliedStep, Mode, Plan, PlanStatus, RunInfo, RunStatus, Trigger};
use crate::step::{Drift, StepStatus};
use crate::steps::AppliedDetail;

pub const RUN_FORMAT: &str = "ebb.run/v1";

/// One run, planned or applied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// `ebb.run/v1`: the schema version of this record.
    pub format: String,
    pub id: String,
    pub runbook: String,
    pub runbook_sha256: String,
    pub cluster: String,
    pub trigger: Trigger,
    /// The schedule slot a `schedule` run was for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slot: Option<DateTime<Utc>>,
    /// The run a `rollback` run undoes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback_of: Option<String>,
    /// The run that made the plan, when an apply was given a saved plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_id: Option<String>,
    pub params: Map<String, Value>,
    /// Who asked for the run through the daemon's API: the token's `name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    pub mode: Mode,
    pub status: RunState,
    pub started_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
    /// Why the run was refused, failed or interrupted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The plan this run made (mode `plan`) or applied (mode `apply`), as `ebb.plan/v1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<Plan>,
    /// What the apply did; absent for plans and for applies that stopped before changing anything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apply: Option<ApplyRecord>,
    /// Under the two-person rule: who planned, approved or rejected, and the run that applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<super::approval_record::ApprovalRecord>,
}

/// A run's status (SPEC §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunState {
    Running,
    Succeeded,
    Failed,
    Refused,
    /// Its process stopped before the run finished (found when the store was next opened).
    Interrupted,
    /// Not confirmed at the prompt (or no terminal to ask on, without
    /// `--yes`): its plan is kept, nothing was changed.
    Declined,
    /// A plan of a runbook under `approval:`, waiting for its approvers.
    Pending,
    /// A pending plan its approvers approved; the run in `approval.applied_in` applied it.
    Approved,
    /// A pending plan an approver rejected: nothing was changed.
    Rejected,
    /// A pending plan not approved in time: nothing was changed.
    Expired,
}

impl RunState {
    pub const ALL: [RunState; 10] = [
        RunState::Running,
        RunState::Succeeded,
        RunState::Failed,
        RunState::Refused,
        RunState::Interrupted,
        RunState::Declined,
        RunState::Pending,
        RunState::Approved,
        RunState::Rejected,
        RunState::Expired,
    ];

    pub fn name(self) -> &'static str {
        match self {
            RunState::Running => "running",
            RunState::Succeeded => "succeeded",
            RunState::Failed => "failed",
            RunState::Refused => "refused",
            RunState::Interrupted => "interrupted",
            RunState::Declined => "declined",
            RunState::Pending => "pending",
            RunState::Approved => "approved",
            RunState::Rejected => "rejected",
            RunState::Expired => "expired",
        }
    }

    pub fn parse(text: &str) -> Option<RunState> {
        RunState::ALL.into_iter().find(|s| s.name() == text)
    }
}

impl From<RunStatus> for RunState {
    fn from(status: RunStatus) -> Self {
        match status {
            RunStatus::Succeeded => RunState::Succeeded,
            RunStatus::Failed => RunState::Failed,
            RunStatus::Refused => RunState::Refused,
        }
    }
}

impl From<PlanStatus> for RunState {
    fn from(status: PlanStatus) -> Self {
        match status {
            PlanStatus::Planned => RunState::Succeeded,
            PlanStatus::Failed => RunState::Failed,
            PlanStatus::Refused => RunState::Refused,
        }
    }
}

/// The apply part of a run: drift found, and each step reached, in order. A
/// step still going has status `running`; its reset snapshot is stored before
/// the first commit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApplyRecord {
    pub forced: bool,
    pub drift: Vec<Drift>,
    pub steps: Vec<AppliedStep>,
}

/// One line of `ebb history`: enough to list and filter without reading the
/// whole record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    pub id: String,
    pub runbook: String,
    pub cluster: String,
    pub trigger: Trigger,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback_of: Option<String>,
    pub mode: Mode,
    pub status: RunState,
    pub started_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
    /// Partitions the plan changes (mode `plan`) or that the apply planned to change.
    pub changes: usize,
    /// The first line of the reason, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The groups whose offsets this run snapshotted before resetting them
    /// (what a rollback of it restores); absent in summaries written before
    /// it was kept, where the record says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reset_groups: Option<Vec<String>>,
    /// The groups the run's steps read or changed (absent in summaries
    /// written before it was kept).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// The topics the run's steps read or changed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub topics: Vec<String>,
}

impl RunRecord {
    /// A run about to plan or apply `plan`, not finished yet.
    pub fn start(run: &RunInfo, plan: &Plan) -> Self {
        RunRecord {
            plan_id: (plan.run_id != run.id).then(|| plan.run_id.clone()),
            params: plan.params.clone(),
            plan: Some(plan.clone()),
            ..RunRecord::fired(run, &plan.runbook, &plan.runbook_sha256, &plan.cluster)
        }
    }

    /// A run of `runbook` on `cluster` that has started but not yet planned:
    /// what a coordinated deployment records as it fires a schedule slot.
    pub fn fired(run: &RunInfo, runbook: &str, runbook_sha256: &str, cluster: &str) -> Self {
        RunRecord {
            format: RUN_FORMAT.to_owned(),
            id: run.id.clone(),
            runbook: runbook.to_owned(),
            runbook_sha256: runbook_sha256.to_owned(),
            cluster: cluster.to_owned(),
            trigger: run.trigger,
            slot: run.slot,
            rollback_of: run.rollback_of.clone(),
            plan_id: None,
            params: Map::new(),
            actor: run.actor.clone(),
            mode: run.mode,
            status: RunState::Running,
            started_at: run.started_at,
            finished_at: None,
            reason: None,
            plan: None,
            apply: None,
            approval: None,
        }
    }

    /// A finished plan-only run.
    pub fn planned(run: &RunInfo, plan: &Plan) -> Self {
        let mut record = RunRecord::start(run, plan);
        record.finish(plan.status.into(), plan_reason(plan));
        record
    }

    /// Takes in what an apply did so far (or in the end); an apply that
    /// stopped before its drift check (a held lock) leaves no `apply`.
    pub fn absorb(&mut self, applied: &Applied) {
        if applied.steps.is_empty() && applied.drift.is_empty() && !applied.forced {
            self.apply = None;
            return;
        }
        self.apply =
            Some(ApplyRecord { forced: applied.forced, drift: applied.drift.clone(), steps: applied.steps.clone() });
    }

    pub fn finish(&mut self, status: RunState, reason: Option<String>) {
        self.status = status;
        self.reason = reason;
        self.finished_at = Some(Utc::now());
    }

    /// Marks a run whose process died while it ran.
    pub fn interrupt(&mut self, found_at: DateTime<Utc>) {
        if let Some(apply) = &mut self.apply {
            for step in apply.steps.iter_mut().filter(|s| s.status == StepStatus::Running) {
                step.status = StepStatus::Interrupted;
            }
        }
        self.status = RunState::Interrupted;
        let found = found_at.to_rfc3339_opts(SecondsFormat::Secs, true);
        self.reason = Some(if self.may_have_changed() {
            format!(
                "the process running it stopped before it finished (found {found}); steps it finished, and the \
                 snapshots taken, are kept"
            )
        } else {
            format!("the process running it stopped before it changed anything (found {found}); nothing was changed")
        });
        self.finished_at = Some(found_at);
    }

    /// Partitions the plan changes.
    /// The changes the run planned; none for an apply cut short before it could make one.
    pub fn change_count(&self) -> usize {
        if self.mode == Mode::Apply && self.status == RunState::Interrupted && !self.may_have_changed() {
            return 0;
        }
        self.plan.as_ref().map_or(0, Plan::change_count)
    }

    /// Whether the apply got as far as a change: a step that ended after
    /// changing, a reset past its snapshot (taken just before the commit), or
    /// a purge that began (its DeleteRecords may have gone out).
    pub fn may_have_changed(&self) -> bool {
        let Some(apply) = &self.apply else { return false };
        apply.steps.iter().any(|step| match step.status {
            StepStatus::Running | StepStatus::Interrupted => {
                step.offsets_snapshot().is_some() || step.kind == "purge_messages"
            }
            _ => {
                step.reset().is_some_and(|r| !r.results.is_empty())
                    || step.purge().is_some()
                    || matches!(&step.detail, Some(AppliedDetail::DeleteOffsets(d)) if !d.results.is_empty())
            }
        })
    }

    pub fn summary(&self) -> RunSummary {
        RunSummary {
            id: self.id.clone(),
            runbook: self.runbook.clone(),
            cluster: self.cluster.clone(),
            trigger: self.trigger,
            rollback_of: self.rollback_of.clone(),
            mode: self.mode,
            status: self.status,
            started_at: self.started_at,
            finished_at: self.finished_at,
            changes: self.change_count(),
            reason: self.reason.as_ref().and_then(|r| r.lines().next()).map(str::to_owned),
            reset_groups: Some(self.reset_groups()),
            groups: self.named(|names| names.groups),
            topics: self.named(|names| names.topics),
        }
    }

    /// The groups or topics (as `pick` chooses) the plan's steps name, once each.
    fn named(&self, pick: impl Fn(crate::steps::Touches) -> Vec<String>) -> Vec<String> {
        let mut names: Vec<String> =
            self.plan.iter().flat_map(|p| &p.steps).flat_map(|step| pick(step.detail.names())).collect();
        names.sort();
        names.dedup();
        names
    }

    /// The groups this run snapshotted before resetting or deleting their offsets, once each.
    pub fn reset_groups(&self) -> Vec<String> {
        let mut groups: Vec<String> = self
            .apply
            .iter()
            .flat_map(|a| &a.steps)
            .filter_map(|s| s.offsets_snapshot().map(|(group, _)| group.to_owned()))
            .collect();
        groups.sort();
        groups.dedup();
        groups
    }

    /// Every reset this run applied or began, with the snapshot taken before it committed.
    pub fn resets(&self) -> impl Iterator<Item = (&AppliedStep, &crate::steps::reset_offsets::ResetApplied)> {
        self.apply.iter().flat_map(|a| &a.steps).filter_map(|s| s.reset().map(|r| (s, r)))
    }
}

/// The reason a plan stopped, from its last step.
fn plan_reason(plan: &Plan) -> Option<String> {
    if plan.status == PlanStatus::Planned {
        return None;
    }
    plan.steps.last().map(|s| format!("step `{}`: {}", s.id, s.reason.as_deref().unwrap_or("stopped")))
}

/// Records for the store's tests: a finished apply of `runbook` started at `millis`.
#[cfg(test)]
pub fn sample(runbook: &str, status: RunState, millis: i64) -> RunRecord {
    let started_at = DateTime::from_timestamp_millis(millis).expect("a time");
    RunRecord {
        format: RUN_FORMAT.to_owned(),
        id: crate::engine::new_run_id(millis),
        runbook: runbook.to_owned(),
        runbook_sha256: "ab".repeat(32),
        cluster: "local".to_owned(),
        trigger: Trigger::Cli,
        slot: None,
        rollback_of: None,
        plan_id: None,
        params: Map::new(),
        actor: None,
        mode: Mode::Apply,
        status,
        started_at,
        finished_at: (status != RunState::Running).then_some(started_at),
        reason: None,
        plan: None,
        apply: None,
        approval: None,
    }
}
