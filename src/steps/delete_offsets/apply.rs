//! Applying a planned deletion: pass the gate, save the snapshot of the
//! offsets as they are (what a rollback re-commits), delete those still
//! there, read back, and give each partition an outcome from the read-back.

use serde::{Deserialize, Serialize};

use crate::provider::{OffsetDeleted, Provider, TopicPartition};
use crate::step::{JournalError, StepError};
use crate::steps::AppliedDetail;
use crate::steps::reset_offsets::SnapshotEntry;
use crate::steps::reset_offsets::drift::committed;

use super::deletion_plan::DeletionPlan;
use super::gate;

/// What a deletion did: the snapshot taken before it, and each partition's fate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OffsetsDeleted {
    pub group: String,
    /// The group's committed offsets on every partition in scope, before the
    /// deletion: what a rollback re-commits.
    pub snapshot: Vec<SnapshotEntry>,
    pub results: Vec<DeletionResult>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeletionResult {
    pub topic: String,
    pub partition: i32,
    /// The committed offset before the deletion.
    pub before: Option<i64>,
    pub outcome: DeletionOutcome,
    /// Why the coordinator refused, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeletionOutcome {
    /// Read back with no committed offset.
    Deleted,
    /// Already without a committed offset when applied: nothing was sent.
    Absent,
    /// Still committed after the deletion.
    NotDeleted,
    /// Not known: the offsets could not be read back.
    Unverified,
}

pub async fn apply<P: Provider>(
    plan: &DeletionPlan,
    provider: &P,
    progress: &(dyn Fn(&AppliedDetail) -> Result<(), JournalError> + Sync),
) -> (Result<(), StepError>, Option<OffsetsDeleted>) {
    let topics = plan.topics();
    if !plan.deletions.is_empty()
        && let Err(e) = gate::check(provider, &plan.group, &topics).await
    {
        return (Err(e), None);
    }
    let before = match committed(provider, &plan.group, &topics).await {
        Ok(before) => before,
        Err(e) => return (Err(e.into()), None),
    };
    let snapshot: Vec<SnapshotEntry> = plan
        .scope()
        .into_iter()
        .map(|tp| SnapshotEntry { offset: before.get(&tp).copied(), topic: tp.topic, partition: tp.partition })
        .collect();
    let mut record = OffsetsDeleted { group: plan.group.clone(), snapshot, results: Vec::new() };
    if let Err(e) = progress(&AppliedDetail::DeleteOffsets(record.clone())) {
        return (Err(e.into()), Some(record));
    }
    let planned: Vec<TopicPartition> = plan.deletions.iter().map(|d| d.topic_partition()).collect();
    let to_delete: Vec<TopicPartition> = planned.iter().filter(|tp| before.contains_key(tp)).cloned().collect();
    let answer = provider.delete_offsets(&plan.group, &to_delete).await;
    let after = committed(provider, &plan.group, &topics).await;
    let refusals: Vec<OffsetDeleted> = answer.as_ref().map(|a| a.clone()).unwrap_or_default();
    for tp in planned {
        let was = before.get(&tp).copied();
        let refused = refusals
            .iter()
            .find(|r| r.topic == tp.topic && r.partition == tp.partition)
            .and_then(|r| r.refused.clone());
        let outcome = match &after {
            _ if was.is_none() => DeletionOutcome::Absent,
            Ok(now) if !now.contains_key(&tp) => DeletionOutcome::Deleted,
            Ok(_) => DeletionOutcome::NotDeleted,
            Err(_) => DeletionOutcome::Unverified,
        };
        record.results.push(DeletionResult { topic: tp.topic, partition: tp.partition, before: was, outcome, refused });
    }
    let list = |wanted: DeletionOutcome| {
        let names: Vec<String> = record
            .results
            .iter()
            .filter(|r| r.outcome == wanted)
            .map(|r| match &r.refused {
                Some(why) => format!("{}:{} ({why})", r.topic, r.partition),
                None => format!("{}:{}", r.topic, r.partition),
            })
            .collect();
        if names.is_empty() { "none".to_owned() } else { names.join(", ") }
    };
    let count = |wanted: DeletionOutcome| record.results.iter().filter(|r| r.outcome == wanted).count();
    let (deleted, kept, unknown) =
        (count(DeletionOutcome::Deleted), count(DeletionOutcome::NotDeleted), count(DeletionOutcome::Unverified));
    let why = match (&answer, &after) {
        (_, Ok(_)) if kept == 0 && unknown == 0 => None,
        (Err(e), _) => Some(format!("the deletion failed: {e}")),
        (Ok(_), Err(e)) => Some(format!("the deletion was sent but could not be read back: {e}")),
        (Ok(_), Ok(_)) => Some("the coordinator kept some committed offsets".to_owned()),
    };
    let result = match why {
        None => Ok(()),
        // Nothing changed: the coordinator answered, refusing every partition.
        Some(why) if answer.is_ok() && deleted == 0 && unknown == 0 => Err(StepError::Refused(format!(
            "group {:?}: {why}; nothing was deleted. Not deleted: {}",
            plan.group,
            list(DeletionOutcome::NotDeleted)
        ))),
        Some(why) => Err(StepError::Incomplete(format!(
            "group {:?}: {why}. Deleted: {}. Not deleted: {}. Unverified: {}. The snapshot of the offsets before the \
             deletion is in the run record.",
            plan.group,
            list(DeletionOutcome::Deleted),
            list(DeletionOutcome::NotDeleted),
            list(DeletionOutcome::Unverified),
        ))),
    };
    (result, Some(record))
}
