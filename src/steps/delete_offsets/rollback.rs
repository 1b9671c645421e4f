//! Deletions undone, and commits a run created removed. A deletion's rollback
//! re-commits each offset it deleted (a reset back to its snapshot, planned by
//! the reset kind); a reset's rollback deletes the commits it created where
//! the group had none, with the deletion this kind plans here.

use crate::provider::{Provider, ProviderError, TopicPartition};
use crate::step::StepStatus;
use crate::steps::reset_offsets::drift::committed;
use crate::steps::reset_offsets::rollback::{RestorePoints, committed_in};
use crate::steps::{PlannedStep, StepDetail};

use super::apply::{DeletionOutcome, OffsetsDeleted};
use super::deletion_plan::{Deletion, DeletionPlan};
use super::gate;

/// The offsets a deletion removed (or may have), to commit again: those its
/// results say went, or, when it stopped before reporting, every deletion its
/// plan listed that the snapshot found.
pub fn restore_points(done: &OffsetsDeleted, planned: Option<&DeletionPlan>) -> RestorePoints {
    let snapshot = committed_in(&done.snapshot);
    let before = |tp: &TopicPartition| snapshot.get(tp).copied();
    let gone: Vec<(TopicPartition, Option<i64>)> = if done.results.is_empty() {
        planned
            .map(|p| p.deletions.iter().map(|d| (d.topic_partition(), before(&d.topic_partition()))).collect())
            .unwrap_or_default()
    } else {
        done.results
            .iter()
            .filter(|r| matches!(r.outcome, DeletionOutcome::Deleted | DeletionOutcome::Unverified))
            .map(|r| {
                let tp = TopicPartition::new(r.topic.clone(), r.partition);
                let offset = before(&tp).or(r.before);
                (tp, offset)
            })
            .collect()
    };
    gone.into_iter().filter(|(_, offset)| offset.is_some()).map(|(tp, offset)| (tp, (offset, None))).collect()
}

/// The deletion of the commits `partitions` hold now, which a run created
/// where the group had none: (partition, the offset the run left if known).
/// `None` when none of them has a commit any more.
pub async fn plan_uncommit<P: Provider>(
    provider: &P,
    step_id: &str,
    group: &str,
    partitions: &[(TopicPartition, Option<i64>)],
) -> Result<Option<PlannedStep>, ProviderError> {
    if partitions.is_empty() {
        return Ok(None);
    }
    let mut topics: Vec<String> = partitions.iter().map(|(tp, _)| tp.topic.clone()).collect();
    topics.sort();
    topics.dedup();
    let now = committed(provider, group, &topics).await?;
    let mut plan = DeletionPlan { group: group.to_owned(), ..DeletionPlan::default() };
    for (tp, left) in partitions {
        let Some(current) = now.get(tp).copied() else { continue };
        let moved =
            left.filter(|left| *left != current).map(|left| format!("moved since the run, which left it at {left}"));
        plan.deletions.push(Deletion {
            topic: tp.topic.clone(),
            partition: tp.partition,
            offset: current,
            lag: None,
            note: Some(moved.unwrap_or_else(|| "had no committed offset before the run".to_owned())),
        });
    }
    if plan.deletions.is_empty() {
        return Ok(None);
    }
    let described = provider.describe_group(group).await?;
    plan.group_state = Some(described.state.to_string());
    let warnings = gate::plan_warning(&described, &topics).into_iter().collect();
    Ok(Some(PlannedStep {
        id: step_id.to_owned(),
        status: StepStatus::Planned,
        detail: StepDetail::DeleteOffsets(Box::new(plan)),
        reason: None,
        warnings,
        timeout: None,
        retries: None,
    }))
}
