//! `delete_offsets`: remove a group's committed offsets on topics (OffsetDelete,
//! as `kafka-consumer-groups --delete-offsets` does). Planning lists each
//! committed offset that goes; apply passes the gate (no live member consumes
//! the topics), snapshots, deletes and reads back. A rollback re-commits the
//! snapshot.

mod apply;
pub mod deletion_plan;
pub mod drift;
pub mod gate;
pub mod rollback;
pub mod view;

pub use apply::{DeletionOutcome, DeletionResult, OffsetsDeleted, apply};
pub use deletion_plan::{Absent, Deletion, DeletionPlan};

use std::collections::HashMap;

use crate::provider::{Provider, TopicPartition};
use crate::runbook::spec::DeleteOffsetsSpec;
use crate::step::{Fields, StepError, StepStatus};
use crate::steps::reset_offsets::drift::committed;

use super::{KindPlan, StepDetail};

/// Plans a deletion: the group's committed offsets on the topics (or the
/// partitions named), with a warning when live members consume them.
pub async fn plan<P: Provider>(
    spec: &DeleteOffsetsSpec,
    fields: &Fields<'_>,
    provider: &P,
) -> Result<KindPlan, StepError> {
    let group = fields.name("group", &spec.group, false)?;
    let mut topics = fields.topics(Some(&spec.topics))?.unwrap_or_default();
    topics.sort();
    topics.dedup();
    let only = fields.partitions(spec.partitions.as_deref())?;
    let described_topics = provider.topics_named(&topics).await?;
    let mut scope = Vec::new();
    for topic in &described_topics {
        let known: Vec<i32> = topic.partitions.iter().map(|p| p.partition).collect();
        match &only {
            Some(wanted) => {
                for partition in wanted {
                    if !known.contains(partition) {
                        return Err(fields.invalid(
                            "partitions",
                            format!("topic {:?} has no partition {partition} (it has {})", topic.name, known.len()),
                        ));
                    }
                    scope.push(TopicPartition::new(topic.name.clone(), *partition));
                }
            }
            None => scope.extend(known.into_iter().map(|p| TopicPartition::new(topic.name.clone(), p))),
        }
    }
    scope.sort();
    scope.dedup();
    let now = committed(provider, &group, &topics).await?;
    let log_end: HashMap<TopicPartition, i64> = provider
        .watermarks(&scope)
        .await?
        .into_iter()
        .map(|w| (TopicPartition::new(w.topic, w.partition), w.log_end))
        .collect();
    let mut plan = DeletionPlan { group: group.clone(), ..DeletionPlan::default() };
    for tp in scope {
        match now.get(&tp) {
            Some(offset) => plan.deletions.push(Deletion {
                lag: log_end.get(&tp).map(|end| (end - offset).max(0)),
                topic: tp.topic,
                partition: tp.partition,
                offset: *offset,
                note: None,
            }),
            None => plan.absent.push(Absent { topic: tp.topic, partition: tp.partition }),
        }
    }
    let described = provider.describe_group(&group).await?;
    plan.group_state = Some(described.state.to_string());
    let warnings = if plan.deletions.is_empty() { None } else { gate::plan_warning(&described, &topics) };
    let detail = StepDetail::DeleteOffsets(Box::new(plan));
    Ok(KindPlan { warnings: warnings.into_iter().collect(), ..KindPlan::new(StepStatus::Planned, detail) })
}
