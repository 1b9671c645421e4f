//! Applying a plan: check drift, then for each planned reset pass the gate,
//! record the rollback snapshot, re-check the guards against the offsets as
//! they are, commit only what differs, read it back and verify, and report per
//! partition. The first refused or failed step ends the run.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::provider::{Provider, TopicPartition};
use crate::time::HumanDuration;

use super::context::RunInfo;
use super::drift::{self, Drift};
use super::gate;
use super::guards::{self, Movement};
use super::plan::{Plan, PlanStatus, ResetPlan, StepDetail, StepStatus};
use super::purge_apply::{PurgeApplied, apply_purge};
use super::step_error::StepError;
use crate::notify::Notification;

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Succeeded,
    Failed,
    Refused,
}

impl RunStatus {
    /// SPEC §4: 0 success, 1 error, 3 refused.
    pub fn exit_code(self) -> u8 {
        match self {
            RunStatus::Succeeded => 0,
            RunStatus::Failed => 1,
            RunStatus::Refused => 3,
        }
    }
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reset: Option<ResetApplied>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purge: Option<PurgeApplied>,
    /// When the apply began and ended this step (absent from records written
    /// before steps were timed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
}

/// What a reset did: the snapshot taken before any commit, and each partition's fate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResetApplied {
    pub group: String,
    /// The group's committed offsets on every partition in scope, before the
    /// commit: what a rollback restores.
    pub snapshot: Vec<SnapshotEntry>,
    pub results: Vec<PartitionResult>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotEntry {
    pub topic: String,
    pub partition: i32,
    /// `None`: the group had no committed offset there.
    pub offset: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionResult {
    pub topic: String,
    pub partition: i32,
    pub before: Option<i64>,
    pub target: i64,
    /// Read back after the commit; `None` when it could not be read.
    pub after: Option<i64>,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Committed and read back equal to the target.
    Committed,
    /// Already at the target when applied: nothing was sent.
    Unchanged,
    /// Not at the target after the commit.
    NotCommitted,
    /// Not known: the offsets could not be read back after the commit (whose
    /// answer, if it came, said it was applied, or was lost).
    Unverified,
}

/// Where an apply saves its progress (SPEC §5): called when each mutating
/// step starts (so before the first change), again when a reset's snapshot is
/// taken and before it commits, and after every mutating step. An error stops
/// the run before its next change.
pub type Journal<'a> = &'a (dyn Fn(&Applied) -> Result<(), String> + Sync);

/// A journal that keeps nothing.
pub fn no_journal(_: &Applied) -> Result<(), String> {
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
    journal: Journal<'_>,
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
    match drift::find(plan, provider, sha256_now).await {
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
    let unrecorded = |e: String| format!("cannot record the run in history, so it stops before changing more: {e}");
    for step in &plan.steps {
        let mut record = AppliedStep {
            id: step.id.clone(),
            kind: step.detail.kind().to_owned(),
            status: step.status,
            reason: None,
            reset: None,
            purge: None,
            started_at: Some(Utc::now()),
            finished_at: None,
        };
        // The run so far with this step in progress (and its snapshot, once taken).
        let journal_running = |snapshot: Option<&ResetApplied>| {
            let mut going = applied.clone();
            going.steps.push(AppliedStep { status: StepStatus::Running, reset: snapshot.cloned(), ..record.clone() });
            journal(&going).map_err(unrecorded)
        };
        let mutating = matches!(step.detail, StepDetail::ResetOffsets(_) | StepDetail::PurgeMessages(_));
        if mutating
            && step.status == StepStatus::Planned
            && let Err(reason) = journal_running(None)
        {
            return applied.finish(RunStatus::Failed, Some(reason));
        }
        match (&step.detail, step.status) {
            (StepDetail::ResetOffsets(reset), StepStatus::Planned) => {
                let snapshot_taken = |taken: &ResetApplied| journal_running(Some(taken));
                let work = apply_reset(reset, provider, &snapshot_taken);
                let (result, applied) = within_timeout(step.timeout.as_ref(), work).await;
                record.reset = applied;
                record.settle(result);
            }
            (StepDetail::PurgeMessages(purge), StepStatus::Planned) => {
                let (result, applied) = within_timeout(step.timeout.as_ref(), apply_purge(purge, provider)).await;
                record.purge = applied;
                record.settle(result);
            }
            (StepDetail::Notify { to, message }, StepStatus::Planned) => {
                let note = Notification {
                    runbook: plan.runbook.clone(),
                    run_id: run.id.clone(),
                    status: "running".to_owned(),
                    summary: format!("step {}", step.id),
                    message: message.clone().unwrap_or_default(),
                    event: "step".to_owned(),
                };
                (record.status, record.reason) = deliver(run, to, &note).await;
            }
            _ => record.reason = step.reason.clone(),
        }
        // A notification that could not be delivered is recorded; it does not stop the run.
        let notify = matches!(step.detail, StepDetail::Notify { .. });
        let stop = match record.status {
            StepStatus::Refused => Some(RunStatus::Refused),
            StepStatus::Failed if !notify => Some(RunStatus::Failed),
            _ => None,
        };
        let reason = record.reason.clone().map(|r| format!("step `{}`: {r}", record.id));
        record.finished_at = Some(Utc::now());
        applied.steps.push(record);
        if let Some(status) = stop {
            return applied.finish(status, reason);
        }
        if mutating && let Err(e) = journal(&applied) {
            return applied.finish(RunStatus::Failed, Some(unrecorded(e)));
        }
    }
    applied.finish(RunStatus::Succeeded, None)
}

/// Sends a `notify` step's message: `applied` when delivered, `failed` (with
/// why) when not, `skipped` when this run has no way to send.
async fn deliver(run: &RunInfo, to: &str, note: &Notification) -> (StepStatus, Option<String>) {
    let Some(notifier) = &run.notifier else {
        return (StepStatus::Skipped, Some("this run has no notifier to deliver with".to_owned()));
    };
    let delivery = notifier.send(to, note).await;
    if delivery.delivered {
        (StepStatus::Applied, Some(format!("delivered to {to} (attempt {})", delivery.attempts)))
    } else {
        let why = delivery.error.unwrap_or_default();
        (StepStatus::Failed, Some(format!("not delivered to {to} after {} attempt(s): {why}", delivery.attempts)))
    }
}

impl AppliedStep {
    fn settle(&mut self, result: Result<(), StepError>) {
        match result {
            Ok(()) => self.status = StepStatus::Applied,
            Err(e) => {
                self.status = if e.is_refusal() { StepStatus::Refused } else { StepStatus::Failed };
                self.reason = Some(e.to_string());
            }
        }
    }
}

/// A mutating step under its `timeout`, run once: its record is lost if it times out.
async fn within_timeout<T>(
    timeout: Option<&HumanDuration>,
    work: impl Future<Output = (Result<(), StepError>, Option<T>)>,
) -> (Result<(), StepError>, Option<T>) {
    match timeout {
        Some(limit) => tokio::time::timeout(limit.duration, work)
            .await
            .unwrap_or_else(|_| (Err(StepError::Timeout(limit.text.clone())), None)),
        None => work.await,
    }
}

/// One reset: gate, snapshot (saved through `snapshot_taken` before anything
/// is committed), guards, commit, read back. The snapshot is kept whatever
/// happens after it is taken.
async fn apply_reset<P: Provider>(
    reset: &ResetPlan,
    provider: &P,
    snapshot_taken: &(dyn Fn(&ResetApplied) -> Result<(), String> + Sync),
) -> (Result<(), StepError>, Option<ResetApplied>) {
    // Nothing to commit needs no gate: an active group is left alone either way.
    if !reset.changes.is_empty() {
        let wait = reset.wait_for_inactive.as_ref().map(|w| w.duration);
        if let Err(e) = gate::wait_until_inactive(provider, &reset.group, wait).await {
            return (Err(e), None);
        }
    }
    let topics = reset.topics();
    let before = match drift::committed(provider, &reset.group, &topics).await {
        Ok(before) => before,
        Err(e) => return (Err(e.into()), None),
    };
    let snapshot: Vec<SnapshotEntry> = reset
        .scope()
        .into_iter()
        .map(|tp| SnapshotEntry { offset: before.get(&tp).copied(), topic: tp.topic, partition: tp.partition })
        .collect();
    let mut record = ResetApplied { group: reset.group.clone(), snapshot, results: Vec::new() };
    if let Err(e) = snapshot_taken(&record) {
        return (Err(StepError::Invalid(e)), Some(record));
    }
    let planned: Vec<(TopicPartition, i64)> =
        reset.changes.iter().map(|c| (c.planned.topic_partition(), c.planned.target)).collect();
    // A plan is checked against history before it is applied; this holds even so.
    if let Some((tp, target)) = planned.iter().find(|(_, target)| *target < 0) {
        let refusal = format!(
            "group {:?}: the plan's target for {}:{} is {target}, and an offset is never negative; nothing was committed",
            reset.group, tp.topic, tp.partition
        );
        return (Err(StepError::Refused(refusal)), Some(record));
    }
    let movement = Movement::of(planned.iter().map(|(tp, target)| (before.get(tp).copied(), *target)));
    if let Err(refusal) = guards::check(&reset.guards, &reset.group, movement) {
        return (Err(refusal), Some(record));
    }
    let to_commit: Vec<(TopicPartition, i64)> =
        planned.iter().filter(|(tp, target)| before.get(tp) != Some(target)).cloned().collect();
    let committed = provider.commit_offsets(&reset.group, &to_commit).await;
    let after = drift::committed(provider, &reset.group, &topics).await;
    for (tp, target) in planned {
        let was = before.get(&tp).copied();
        let now = after.as_ref().ok().and_then(|a| a.get(&tp).copied());
        let outcome = match (&committed, &after) {
            _ if was == Some(target) => Outcome::Unchanged,
            (_, Ok(_)) if now == Some(target) => Outcome::Committed,
            // Without a read-back nobody knows: a commit whose answer was lost may have been applied.
            (_, Err(_)) => Outcome::Unverified,
            _ => Outcome::NotCommitted,
        };
        record.results.push(PartitionResult {
            topic: tp.topic,
            partition: tp.partition,
            before: was,
            target,
            after: if outcome == Outcome::Unchanged { was } else { now },
            outcome,
        });
    }
    let list = |wanted: Outcome| {
        let names: Vec<String> = record
            .results
            .iter()
            .filter(|r| r.outcome == wanted)
            .map(|r| format!("{}:{}", r.topic, r.partition))
            .collect();
        if names.is_empty() { "none".to_owned() } else { names.join(", ") }
    };
    let incomplete = record.results.iter().any(|r| matches!(r.outcome, Outcome::NotCommitted | Outcome::Unverified));
    let result = match (committed, after) {
        // The read-back is the proof: every target is committed, whatever became of the commit's answer.
        (Err(e), Ok(_)) if !incomplete => {
            tracing::warn!(group = %reset.group, error = %e, "the commit's answer was an error, but every target reads back as committed");
            Ok(())
        }
        (Err(e), _) => Err(format!("the commit failed: {e}")),
        (Ok(()), Err(e)) => Err(format!("the commit was sent but could not be read back: {e}")),
        (Ok(()), Ok(_)) if incomplete => Err("the offsets read back differ from the targets".to_owned()),
        (Ok(()), Ok(_)) => Ok(()),
    };
    let result = result.map_err(|why| {
        StepError::Invalid(format!(
            "group {:?}: {why}. Committed: {}. Not committed: {}. Unverified: {}. The snapshot of the offsets before the commit is in the run record.",
            reset.group,
            list(Outcome::Committed),
            list(Outcome::NotCommitted),
            list(Outcome::Unverified),
        ))
    });
    (result, Some(record))
}
