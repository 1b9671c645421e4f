//! Each kind's one typed output in a plan: what it found or will change.
//! The JSON a plan file holds and what templates see as `steps.<id>.output`
//! are both derived from it.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::compute_offsets::ComputeOutput;
use super::delete_offsets::DeletionPlan;
use super::purge_messages::PurgePlan;
use super::query_messages::QueryOutput;
use super::reset_offsets::ResetPlan;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StepDetail {
    QueryMessages {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        output: Option<QueryOutput>,
    },
    ComputeOffsets {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        output: Option<ComputeOutput>,
    },
    ResetOffsets(Box<ResetPlan>),
    PurgeMessages(Box<PurgePlan>),
    DeleteOffsets(Box<DeletionPlan>),
    Check {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
    },
    Notify {
        to: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
    },
}

impl StepDetail {
    pub fn kind(&self) -> &'static str {
        match self {
            StepDetail::QueryMessages { .. } => "query_messages",
            StepDetail::ComputeOffsets { .. } => "compute_offsets",
            StepDetail::ResetOffsets(_) => "reset_offsets",
            StepDetail::PurgeMessages(_) => "purge_messages",
            StepDetail::DeleteOffsets(_) => "delete_offsets",
            StepDetail::Check { .. } => "check",
            StepDetail::Notify { .. } => "notify",
        }
    }

    /// Whether applying it changes the cluster.
    pub fn is_mutating(&self) -> bool {
        matches!(self, StepDetail::ResetOffsets(_) | StepDetail::PurgeMessages(_) | StepDetail::DeleteOffsets(_))
    }

    /// Partitions an apply would change.
    pub fn change_count(&self) -> usize {
        match self {
            StepDetail::ResetOffsets(reset) => reset.changes.len(),
            StepDetail::PurgeMessages(purge) => purge.changes.len(),
            StepDetail::DeleteOffsets(deletion) => deletion.deletions.len(),
            _ => 0,
        }
    }

    /// The groups and topics applying it changes, or relies on staying put: a
    /// reset's group; a purge's topic and the groups whose commits cap it.
    pub fn touches(&self) -> Touches {
        match self {
            StepDetail::ResetOffsets(reset) => Touches { groups: vec![reset.group.clone()], topics: vec![] },
            StepDetail::DeleteOffsets(deletion) => Touches { groups: vec![deletion.group.clone()], topics: vec![] },
            StepDetail::PurgeMessages(purge) => {
                Touches { groups: purge.protected_by.clone(), topics: vec![purge.topic.clone()] }
            }
            _ => Touches::default(),
        }
    }

    /// The groups and topics it reads or changes, for finding runs by them.
    pub fn names(&self) -> Touches {
        let topics_of = |partitions: &mut dyn Iterator<Item = &str>| {
            let mut topics: Vec<String> = partitions.map(str::to_owned).collect();
            topics.dedup();
            topics
        };
        match self {
            StepDetail::QueryMessages { output: Some(output) } => {
                Touches { groups: vec![], topics: vec![output.topic.clone()] }
            }
            StepDetail::ComputeOffsets { output: Some(output) } => Touches {
                groups: vec![output.group.clone()],
                topics: topics_of(&mut output.partitions.iter().map(|p| p.topic.as_str())),
            },
            StepDetail::ResetOffsets(reset) => Touches {
                groups: vec![reset.group.clone()],
                topics: topics_of(
                    &mut reset
                        .changes
                        .iter()
                        .map(|c| c.planned.topic.as_str())
                        .chain(reset.unchanged.iter().map(|u| u.topic.as_str())),
                ),
            },
            StepDetail::DeleteOffsets(deletion) => {
                Touches { groups: vec![deletion.group.clone()], topics: deletion.topics() }
            }
            other => other.touches(),
        }
    }

    /// What later templates see as `steps.<id>.output`.
    pub fn template_output(&self) -> Option<Value> {
        match self {
            StepDetail::QueryMessages { output } => output.as_ref().map(|o| serde_json::to_value(o).expect("JSON")),
            StepDetail::ComputeOffsets { output } => output.as_ref().map(|o| serde_json::to_value(o).expect("JSON")),
            StepDetail::ResetOffsets(reset) => Some(json!({
                "group": reset.group,
                "changes": reset.changes.len(),
                "unchanged": reset.unchanged.len(),
                "total_skip": reset.total_skip,
                "total_rewind": reset.total_rewind,
            })),
            StepDetail::PurgeMessages(purge) => Some(purge.output()),
            StepDetail::DeleteOffsets(deletion) => Some(json!({
                "group": deletion.group,
                "deletions": deletion.deletions.len(),
                "absent": deletion.absent.len(),
            })),
            StepDetail::Check { .. } | StepDetail::Notify { .. } => None,
        }
    }
}

/// What one step's apply changes, for the locks that keep two runs apart.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Touches {
    pub groups: Vec<String>,
    pub topics: Vec<String>,
}
