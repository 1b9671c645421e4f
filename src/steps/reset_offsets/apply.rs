//! Applying a planned reset: pass the gate, save the rollback snapshot, check
//! the guards again against the offsets as they are, commit only what
//! differs, read it back, and give each partition an outcome from what the
//! read-back shows.

use serde::{Deserialize, Serialize};

use crate::provider::{Provider, TopicPartition};
use crate::step::{JournalError, StepError};
use crate::steps::AppliedDetail;

use super::drift;
use super::gate;
use super::guards::{self, Movement};
use super::reset_plan::ResetPlan;

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

/// One reset: gate, snapshot (saved through `progress` before anything
/// is committed), guards, commit, read back. The snapshot is kept whatever
/// happens after it is taken.
pub async fn apply<P: Provider>(
    reset: &ResetPlan,
    provider: &P,
    progress: &(dyn Fn(&AppliedDetail) -> Result<(), JournalError> + Sync),
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
    if let Err(e) = progress(&AppliedDetail::Reset(record.clone())) {
        return (Err(e.into()), Some(record));
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
        StepError::Incomplete(format!(
            "group {:?}: {why}. Committed: {}. Not committed: {}. Unverified: {}. The snapshot of the offsets before the commit is in the run record.",
            reset.group,
            list(Outcome::Committed),
            list(Outcome::NotCommitted),
            list(Outcome::Unverified),
        ))
    });
    (result, Some(record))
}
