//! `ebb rollback RUN` (SPEC §5): a plan that puts every group a run reset back
//! where the run's snapshot found it, applied like any plan. Only partitions
//! the run set out to change are restored (the others have moved on with their
//! consumers since); a partition with no commit before the run is left as it
//! is; purges cannot be undone, and the plan says so.

use std::collections::{BTreeMap, HashMap};

use super::record::{RunRecord, RunState};
use crate::Error;
use crate::engine::apply::Outcome;
use crate::engine::plan::PLAN_FORMAT;
use crate::engine::{
    AppliedStep, Mode, Plan, PlanStatus, PlannedStep, ResetApplied, ResetPlan, RunInfo, StepDetail, StepStatus,
    Unchanged,
};
use crate::provider::{Provider, TopicPartition};
use crate::steps::compute_offsets::PartitionTarget;

/// The rollback plan of `record`, read against the cluster as it is now.
pub async fn plan_rollback<P: Provider>(record: &RunRecord, provider: &P, run: &RunInfo) -> Result<Plan, Error> {
    let nothing = |why: String| Error::Usage(format!("nothing to roll back: run {} {why}", record.id));
    match (record.status, record.mode) {
        (RunState::Running, _) => {
            return Err(nothing(
                "is still running; wait for it to finish (or, if its process is gone, for the next ebb command to \
                 mark it interrupted)"
                    .to_owned(),
            ));
        }
        (_, Mode::Plan) => return Err(nothing("was a plan only and changed nothing".to_owned())),
        _ => {}
    }
    let mut steps = Vec::new();
    for (step, reset) in record.resets().filter(|(s, _)| s.status != StepStatus::Refused) {
        let restore = restore_points(record, step, reset);
        if restore.is_empty() {
            continue;
        }
        steps.push(plan_restore(provider, step, reset, &restore).await?);
    }
    let notes = purge_notes(record);
    if steps.is_empty() && notes.is_empty() {
        return Err(nothing("committed no offsets".to_owned()));
    }
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
        notes,
    })
}

/// Partition → (offset before the run, offset the run left if known).
type RestorePoints = BTreeMap<TopicPartition, (Option<i64>, Option<i64>)>;

/// The partitions a reset set out to change, with their snapshot offsets:
/// those its results say it touched, or, when it stopped before reporting
/// (interrupted), every change its plan listed.
fn restore_points(record: &RunRecord, step: &AppliedStep, reset: &ResetApplied) -> RestorePoints {
    let snapshot: HashMap<TopicPartition, Option<i64>> =
        reset.snapshot.iter().map(|s| (TopicPartition::new(s.topic.clone(), s.partition), s.offset)).collect();
    let before = |tp: &TopicPartition| snapshot.get(tp).copied().flatten();
    if !reset.results.is_empty() {
        return reset
            .results
            .iter()
            .filter(|r| r.outcome != Outcome::Unchanged)
            .map(|r| {
                let tp = TopicPartition::new(r.topic.clone(), r.partition);
                let left = r.after;
                (tp.clone(), (before(&tp).or(r.before), left))
            })
            .collect();
    }
    let planned = record.plan.iter().flat_map(|p| &p.steps).find(|s| s.id == step.id);
    let Some(StepDetail::ResetOffsets(plan)) = planned.map(|s| &s.detail) else { return RestorePoints::new() };
    plan.changes
        .iter()
        .map(|c| {
            let tp = c.planned.topic_partition();
            (tp.clone(), (before(&tp), None))
        })
        .collect()
}

async fn plan_restore<P: Provider>(
    provider: &P,
    step: &AppliedStep,
    reset: &ResetApplied,
    restore: &RestorePoints,
) -> Result<PlannedStep, Error> {
    let partitions: Vec<TopicPartition> = restore.keys().cloned().collect();
    let mut topics: Vec<String> = partitions.iter().map(|tp| tp.topic.clone()).collect();
    topics.dedup();
    let now = crate::engine::drift::committed(provider, &reset.group, &topics).await?;
    let marks: HashMap<TopicPartition, (i64, i64)> = provider
        .watermarks(&partitions)
        .await?
        .into_iter()
        .map(|w| (TopicPartition::new(w.topic, w.partition), (w.log_start, w.log_end)))
        .collect();
    let mut targets = Vec::new();
    let mut without_commit = Vec::new();
    let (mut skip, mut rewind) = (0, 0);
    for (tp, (before, left)) in restore {
        let current = now.get(tp).copied();
        let Some(target) = *before else {
            without_commit.push(Unchanged {
                topic: tp.topic.clone(),
                partition: tp.partition,
                current,
                note: Some(
                    "had no committed offset before the run; left as it is (kafka-consumer-groups --delete-offsets \
                     removes a commit)"
                        .to_owned(),
                ),
            });
            continue;
        };
        let (log_start, log_end) = marks.get(tp).copied().unwrap_or((0, 0));
        let mut notes = Vec::new();
        if let (Some(left), Some(current)) = (left, current)
            && *left != current
        {
            notes.push(format!("moved since the run, which left it at {left}"));
        }
        if target < log_start {
            notes.push(format!("below log start {log_start}: consumers will follow auto.offset.reset"));
        }
        if let Some(current) = current {
            let delta = target - current;
            if delta > 0 { skip += delta } else { rewind -= delta }
        }
        targets.push(PartitionTarget {
            topic: tp.topic.clone(),
            partition: tp.partition,
            current,
            target,
            log_start,
            log_end,
            lag_before: current.map(|c| (log_end - c).max(0)),
            lag_after: (log_end - target).max(0),
            note: (!notes.is_empty()).then(|| notes.join("; ")),
        });
    }
    let mut plan = ResetPlan::new(&reset.group, &targets, skip, rewind);
    plan.unchanged.extend(without_commit);
    let described = provider.describe_group(&reset.group).await?;
    plan.group_state = Some(described.state.to_string());
    let warnings = crate::engine::gate_plan_warning(&described, None).into_iter().collect();
    Ok(PlannedStep {
        id: step.id.clone(),
        status: StepStatus::Planned,
        detail: StepDetail::ResetOffsets(Box::new(plan)),
        reason: None,
        warnings,
        timeout: None,
        retries: None,
    })
}

/// What the run purged, said plainly: it cannot be undone.
fn purge_notes(record: &RunRecord) -> Vec<String> {
    let planned_topic = |id: &str| {
        record.plan.iter().flat_map(|p| &p.steps).find(|s| s.id == id).and_then(|s| match &s.detail {
            StepDetail::PurgeMessages(purge) => Some(purge.topic.clone()),
            _ => None,
        })
    };
    let mut notes = Vec::new();
    for step in record.apply.iter().flat_map(|a| &a.steps).filter(|s| s.kind == "purge_messages") {
        let topic = planned_topic(&step.id).unwrap_or_default();
        match &step.purge {
            Some(purge) => {
                let deleted: i64 = purge.results.iter().map(|r| r.deleted).sum();
                if deleted > 0 {
                    notes.push(format!(
                        "step `{}` deleted {deleted} record(s) from topic {}: purges cannot be undone",
                        step.id, purge.topic
                    ));
                }
            }
            None if matches!(step.status, StepStatus::Running | StepStatus::Interrupted) => notes.push(format!(
                "step `{}` may have deleted records from topic {topic} before the run stopped: purges cannot be undone",
                step.id
            )),
            None => {}
        }
    }
    notes
}
