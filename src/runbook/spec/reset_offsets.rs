//! `reset_offsets`: commit computed offsets for a group, behind its gate and
//! guards (SPEC §3.3). Mutating; its rollback snapshot goes into history.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::compute_offsets::Strategy;
use super::values::{Count, Partition, Templated};
use crate::time::HumanDuration;

/// Move a group's committed offsets. Either `offsets` names a `compute_offsets`
/// step, or `group` and `strategy` (with optional `topics`/`partitions`) compute
/// them inline.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetOffsetsSpec {
    /// The `compute_offsets` step whose targets to commit.
    #[serde(default)]
    pub offsets: Option<String>,
    /// Inline: the consumer group.
    #[serde(default)]
    pub group: Option<String>,
    /// Inline: topics in scope; default every topic the group has committed offsets on.
    #[serde(default)]
    pub topics: Option<Vec<String>>,
    /// Inline: partitions in scope, applied to each topic.
    #[serde(default)]
    pub partitions: Option<Vec<Templated<Partition>>>,
    /// Inline: how to choose each target.
    #[serde(default)]
    pub strategy: Option<Strategy>,
    /// Refuse if the offsets would move forward by more than this many messages in total.
    #[serde(default)]
    pub max_skip: Option<Templated<Count>>,
    /// Refuse if the offsets would move back by more than this many messages in total.
    #[serde(default)]
    pub max_rewind: Option<Templated<Count>>,
    /// Refuse if more than this many partitions would change.
    #[serde(default)]
    pub max_partitions: Option<Templated<Count>>,
    /// Wait up to this long for an active group to become empty instead of refusing at once.
    #[serde(default)]
    pub wait_for_inactive: Option<HumanDuration>,
}
