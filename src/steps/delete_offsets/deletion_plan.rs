//! A planned deletion of committed offsets: each partition whose commit goes,
//! with the offset it holds now, and the partitions in scope that have none.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::provider::TopicPartition;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DeletionPlan {
    pub group: String,
    /// The partitions whose committed offset is deleted.
    pub deletions: Vec<Deletion>,
    /// Partitions in scope without a committed offset: nothing to delete.
    #[serde(default)]
    pub absent: Vec<Absent>,
    /// The group's state when planned (`Empty`, `Stable`…), if it was read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_state: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deletion {
    pub topic: String,
    pub partition: i32,
    /// The committed offset that goes.
    pub offset: i64,
    /// How far behind the log end the group is there, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lag: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Absent {
    pub topic: String,
    pub partition: i32,
}

impl Deletion {
    pub fn topic_partition(&self) -> TopicPartition {
        TopicPartition::new(self.topic.clone(), self.partition)
    }
}

impl DeletionPlan {
    /// Every partition in scope, deleted or not, sorted.
    pub fn scope(&self) -> Vec<TopicPartition> {
        let all: BTreeSet<TopicPartition> = self
            .deletions
            .iter()
            .map(Deletion::topic_partition)
            .chain(self.absent.iter().map(|a| TopicPartition::new(a.topic.clone(), a.partition)))
            .collect();
        all.into_iter().collect()
    }

    /// The topics in scope, sorted.
    pub fn topics(&self) -> Vec<String> {
        let all: BTreeSet<String> = self.scope().into_iter().map(|tp| tp.topic).collect();
        all.into_iter().collect()
    }
}
