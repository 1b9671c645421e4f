//! Applying a planned purge: read the protecting groups' offsets again and
//! refuse before deleting anything if one of them now sits below a planned new
//! log start (`--force` does not change that), re-check `max_delete` and
//! `max_delete_percent` against
//! the logs as they are, send DeleteRecords, then read every partition's log
//! start back and report each one.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::provider::{Provider, TopicPartition, Watermarks};
use crate::step::StepError;

use super::guard;
use super::protection::{self, Cap};
use super::purge_plan::PurgePlan;

/// What a purge did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurgeApplied {
    pub topic: String,
    /// Always true: a rollback cannot bring these records back.
    pub irreversible: bool,
    pub results: Vec<PurgeResult>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurgeResult {
    pub topic: String,
    pub partition: i32,
    /// The log start just before the deletion.
    pub log_start_before: i64,
    /// The planned new log start.
    pub target: i64,
    /// Read back after the deletion; `None` when it could not be read.
    pub log_start_after: Option<i64>,
    pub deleted: i64,
    pub outcome: PurgeOutcome,
    /// Why the leader refused, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PurgeOutcome {
    /// The log start reached the target.
    Deleted,
    /// The log start was already at or past the target: nothing was sent.
    Unchanged,
    /// The log start is still below the target.
    NotDeleted,
    /// Not known: the log start could not be read back (the request's answer,
    /// even an error, may not tell what the leader did).
    Unverified,
}

/// Applies one purge. The record exists once anything may have been deleted.
pub async fn apply<P: Provider>(purge: &PurgePlan, provider: &P) -> (Result<(), StepError>, Option<PurgeApplied>) {
    let mut record = PurgeApplied { topic: purge.topic.clone(), irreversible: true, results: Vec::new() };
    if purge.changes.is_empty() {
        return (Ok(()), Some(record));
    }
    let asked: Vec<TopicPartition> = purge.changes.iter().map(|c| c.topic_partition()).collect();
    let now = match provider.watermarks(&asked).await {
        Ok(marks) => marks,
        Err(e) => return (Err(e.into()), None),
    };
    if let Err(e) = still_safe(purge, provider, &now).await {
        return (Err(e), None);
    }
    let would_delete: i64 = purge.changes.iter().zip(&now).map(|(c, w)| (c.new_log_start - w.log_start).max(0)).sum();
    let shares = purge.changes.iter().zip(&now).map(|(c, w)| guard::Share {
        partition: c.partition,
        deleted: (c.new_log_start - w.log_start).max(0),
        records: w.log_end - w.log_start,
    });
    let limits = guard::check_delete(purge.max_delete, &purge.topic, would_delete)
        .and_then(|()| guard::check_percent(purge.max_delete_percent, &purge.topic, shares));
    if let Err(refusal) = limits {
        return (Err(refusal), None);
    }
    let to_delete: Vec<(TopicPartition, i64)> = purge
        .changes
        .iter()
        .zip(&now)
        .filter(|(c, w)| w.log_start < c.new_log_start)
        .map(|(c, _)| (c.topic_partition(), c.new_log_start))
        .collect();
    let sent = provider.delete_records(&to_delete).await;
    let refused: BTreeMap<i32, String> = match &sent {
        Ok(outcomes) => outcomes.iter().filter_map(|o| o.outcome.clone().err().map(|e| (o.partition, e))).collect(),
        Err(_) => BTreeMap::new(),
    };
    let after = provider.watermarks(&asked).await;
    for (i, (change, before)) in purge.changes.iter().zip(&now).enumerate() {
        // Watermarks come in the order asked.
        let read_back = after.as_ref().ok().and_then(|a| a.get(i)).map(|w| w.log_start);
        let outcome = match read_back {
            _ if before.log_start >= change.new_log_start => PurgeOutcome::Unchanged,
            Some(start) if start >= change.new_log_start => PurgeOutcome::Deleted,
            Some(_) => PurgeOutcome::NotDeleted,
            // Without a read-back nobody knows: a per-partition error may be a
            // time-out whose request the leader applied all the same.
            None => PurgeOutcome::Unverified,
        };
        // Nothing was sent for an unchanged partition: it reports the log start it was left at.
        let log_start_after = if outcome == PurgeOutcome::Unchanged { Some(before.log_start) } else { read_back };
        record.results.push(PurgeResult {
            topic: change.topic.clone(),
            partition: change.partition,
            log_start_before: before.log_start,
            target: change.new_log_start,
            log_start_after,
            deleted: log_start_after.map_or(0, |after| (after - before.log_start).max(0)),
            outcome,
            error: refused.get(&change.partition).cloned(),
        });
    }
    let list = |wanted: PurgeOutcome| {
        let names: Vec<String> = record
            .results
            .iter()
            .filter(|r| r.outcome == wanted)
            .map(|r| match &r.error {
                Some(e) => format!("{}:{} ({e})", r.topic, r.partition),
                None => format!("{}:{}", r.topic, r.partition),
            })
            .collect();
        if names.is_empty() { "none".to_owned() } else { names.join(", ") }
    };
    let incomplete =
        record.results.iter().any(|r| matches!(r.outcome, PurgeOutcome::NotDeleted | PurgeOutcome::Unverified));
    let result = match (sent, after) {
        // The read-back is the proof: every log start reached its target, whatever became of the answer.
        (Err(e), Ok(_)) if !incomplete => {
            tracing::warn!(topic = %purge.topic, error = %e, "DeleteRecords answered with an error, but every log start reads back at its target");
            Ok(())
        }
        (Err(e), _) => Err(format!("DeleteRecords failed: {e}")),
        (Ok(_), Err(e)) => Err(format!("records were deleted but the log starts could not be read back: {e}")),
        (Ok(_), Ok(_)) if incomplete => Err("some log starts did not reach their targets".to_owned()),
        (Ok(_), Ok(_)) => {
            if !refused.is_empty() {
                let partitions: Vec<String> = refused.iter().map(|(p, e)| format!("{p} ({e})")).collect();
                tracing::warn!(topic = %purge.topic, partitions = %partitions.join(", "), "DeleteRecords answered with an error, but every log start reads back at its target");
            }
            Ok(())
        }
    };
    let result = result.map_err(|why| {
        StepError::Incomplete(format!(
            "topic {:?}: {why}. Deleted: {}. Not deleted: {}. Unverified: {}.",
            purge.topic,
            list(PurgeOutcome::Deleted),
            list(PurgeOutcome::NotDeleted),
            list(PurgeOutcome::Unverified),
        ))
    });
    (result, Some(record))
}

/// Refuses when a protecting group now sits below a planned new log start, or
/// has no committed offset where it had one, or a log now ends below it.
async fn still_safe<P: Provider>(purge: &PurgePlan, provider: &P, now: &[Watermarks]) -> Result<(), StepError> {
    let mut unsafe_now = Vec::new();
    for (change, w) in purge.changes.iter().zip(now) {
        if change.new_log_start > w.log_end {
            unsafe_now.push(format!(
                "{}:{} now ends at {}, below the planned new log start {}",
                change.topic, change.partition, w.log_end, change.new_log_start
            ));
        }
    }
    if !purge.allow_unconsumed {
        let partitions: Vec<i32> = purge.changes.iter().map(|c| c.partition).collect();
        let caps = protection::caps(provider, &purge.topic, &partitions, &purge.protect_groups).await?;
        for change in &purge.changes {
            match caps.get(change.partition) {
                Some(Cap::Blocked { groups }) => unsafe_now.push(format!(
                    "{} now has no committed offset on {}:{}",
                    groups.join(", "),
                    change.topic,
                    change.partition
                )),
                Some(Cap::At { offset, group }) if *offset < change.new_log_start => unsafe_now.push(format!(
                    "group {group:?} is now at {offset} on {}:{}, below the planned new log start {}",
                    change.topic, change.partition, change.new_log_start
                )),
                _ => {}
            }
        }
    }
    if unsafe_now.is_empty() {
        return Ok(());
    }
    Err(StepError::Refused(format!(
        "the planned purge would now delete records not yet consumed; nothing was deleted:\n{}\nmake a new plan",
        unsafe_now.iter().map(|u| format!("  - {u}")).collect::<Vec<_>>().join("\n")
    )))
}
