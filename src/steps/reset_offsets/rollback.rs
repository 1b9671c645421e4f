//! A reset undone (SPEC §5): each partition the reset set out to change goes
//! back where its snapshot found it, planned against the cluster as it is
//! now. Only partitions the run set out to change are restored (the others
//! have moved on with their consumers since); a partition with no commit
//! before the run has the commit the run made deleted
//! (`steps/delete_offsets/rollback.rs`), so the group is as it was.

use std::collections::{BTreeMap, HashMap};

use crate::provider::{Provider, ProviderError, TopicPartition};
use crate::step::StepStatus;
use crate::steps::compute_offsets::PartitionTarget;
use crate::steps::{PlannedStep, StepDetail};

use super::apply::{Outcome, ResetApplied, SnapshotEntry};
use super::reset_plan::ResetPlan;

/// Partition → (offset before the run, offset the run left if known).
pub type RestorePoints = BTreeMap<TopicPartition, (Option<i64>, Option<i64>)>;

/// The partitions a reset set out to change, with their snapshot offsets:
/// those its results say it touched, or, when it stopped before reporting
/// (interrupted), every change its plan listed.
pub fn restore_points(reset: &ResetApplied, planned: Option<&ResetPlan>) -> RestorePoints {
    let snapshot = committed_in(&reset.snapshot);
    let before = |tp: &TopicPartition| snapshot.get(tp).copied();
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
    let Some(plan) = planned else { return RestorePoints::new() };
    plan.changes
        .iter()
        .map(|c| {
            let tp = c.planned.topic_partition();
            (tp.clone(), (before(&tp), None))
        })
        .collect()
}

/// The committed offsets a snapshot found, by partition (those without one left out).
pub fn committed_in(snapshot: &[SnapshotEntry]) -> HashMap<TopicPartition, i64> {
    snapshot.iter().filter_map(|s| Some((TopicPartition::new(s.topic.clone(), s.partition), s.offset?))).collect()
}

/// The steps that put `restore`'s partitions of `group` back, planned against
/// the cluster as it is now: a reset to each offset the snapshot holds (id
/// `step_id`), and a deletion of the commits where it holds none (id
/// `<step_id>-uncommit`). Either is left out when it has nothing to do.
pub async fn plan_restore<P: Provider>(
    provider: &P,
    step_id: &str,
    group: &str,
    restore: &RestorePoints,
) -> Result<Vec<PlannedStep>, ProviderError> {
    let uncommit: Vec<(TopicPartition, Option<i64>)> =
        restore.iter().filter(|(_, (before, _))| before.is_none()).map(|(tp, (_, left))| (tp.clone(), *left)).collect();
    let mut steps = Vec::new();
    let recommit: RestorePoints =
        restore.iter().filter(|(_, (before, _))| before.is_some()).map(|(tp, p)| (tp.clone(), *p)).collect();
    if !recommit.is_empty() {
        steps.push(plan_recommit(provider, step_id, group, &recommit).await?);
    }
    let uncommit_id = format!("{step_id}-uncommit");
    steps
        .extend(crate::steps::delete_offsets::rollback::plan_uncommit(provider, &uncommit_id, group, &uncommit).await?);
    Ok(steps)
}

/// The reset back to each partition's snapshot offset.
async fn plan_recommit<P: Provider>(
    provider: &P,
    step_id: &str,
    group: &str,
    restore: &RestorePoints,
) -> Result<PlannedStep, ProviderError> {
    let partitions: Vec<TopicPartition> = restore.keys().cloned().collect();
    let mut topics: Vec<String> = partitions.iter().map(|tp| tp.topic.clone()).collect();
    topics.dedup();
    let now = super::drift::committed(provider, group, &topics).await?;
    let marks: HashMap<TopicPartition, (i64, i64)> = provider
        .watermarks(&partitions)
        .await?
        .into_iter()
        .map(|w| (TopicPartition::new(w.topic, w.partition), (w.log_start, w.log_end)))
        .collect();
    let mut targets = Vec::new();
    let (mut skip, mut rewind) = (0, 0);
    for (tp, (before, left)) in restore {
        let current = now.get(tp).copied();
        let Some(target) = *before else { continue };
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
    let mut plan = ResetPlan::new(group, &targets, skip, rewind);
    let described = provider.describe_group(group).await?;
    plan.group_state = Some(described.state.to_string());
    let warnings = super::gate::plan_warning(&described, None).into_iter().collect();
    Ok(PlannedStep {
        id: step_id.to_owned(),
        status: StepStatus::Planned,
        detail: StepDetail::ResetOffsets(Box::new(plan)),
        reason: None,
        warnings,
        timeout: None,
        retries: None,
    })
}
