//! A planned reset: the partitions whose committed offset changes, the rest of
//! its scope (which apply snapshots and drift checks read too), and its guards.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::provider::TopicPartition;
use crate::steps::compute_offsets::PartitionTarget;
use crate::time::HumanDuration;

/// A planned reset: the partitions whose committed offset changes, and the
/// rest of the scope, which apply snapshots and drift checks read too.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResetPlan {
    pub group: String,
    pub changes: Vec<ResetChange>,
    /// Partitions in scope whose target equals the committed offset.
    #[serde(default)]
    pub unchanged: Vec<Unchanged>,
    pub total_skip: i64,
    pub total_rewind: i64,
    #[serde(default)]
    pub guards: Guards,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_for_inactive: Option<HumanDuration>,
    /// The group's state when planned (`Empty`, `Stable`…), if it was read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_state: Option<String>,
}

/// The limits a reset must stay within, rendered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Guards {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_skip: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_rewind: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_partitions: Option<u64>,
}

/// One partition whose committed offset changes: its computed target, and the group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResetChange {
    pub group: String,
    #[serde(flatten)]
    pub planned: PartitionTarget,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unchanged {
    pub topic: String,
    pub partition: i32,
    pub current: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl ResetPlan {
    /// Splits computed targets into changes and unchanged partitions.
    pub fn new(group: &str, targets: &[PartitionTarget], total_skip: i64, total_rewind: i64) -> Self {
        let (changing, same): (Vec<&PartitionTarget>, Vec<&PartitionTarget>) =
            targets.iter().partition(|t| t.changes());
        ResetPlan {
            group: group.to_owned(),
            changes: changing
                .into_iter()
                .map(|t| ResetChange { group: group.to_owned(), planned: t.clone() })
                .collect(),
            unchanged: same
                .into_iter()
                .map(|t| Unchanged {
                    topic: t.topic.clone(),
                    partition: t.partition,
                    current: t.current,
                    note: t.note.clone(),
                })
                .collect(),
            total_skip,
            total_rewind,
            guards: Guards::default(),
            wait_for_inactive: None,
            group_state: None,
        }
    }

    /// Every partition in scope, changing or not, sorted.
    pub fn scope(&self) -> Vec<TopicPartition> {
        let all: BTreeSet<TopicPartition> = self
            .changes
            .iter()
            .map(|c| c.planned.topic_partition())
            .chain(self.unchanged.iter().map(|u| TopicPartition::new(u.topic.clone(), u.partition)))
            .collect();
        all.into_iter().collect()
    }

    /// The topics in scope, sorted.
    pub fn topics(&self) -> Vec<String> {
        let all: BTreeSet<String> = self.scope().into_iter().map(|tp| tp.topic).collect();
        all.into_iter().collect()
    }
}
