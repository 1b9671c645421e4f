//! `purge_messages`: delete records below a point, never past what protected
//! groups have consumed (SPEC §3.4). Mutating and irreversible.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::values::{Count, Flag, Partition, PartitionOffsets, Templated};
use crate::time::{HumanDuration, TimeSpec};

/// Delete a topic's oldest records, capped by what every protected group has consumed.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PurgeMessagesSpec {
    /// Topic to purge; its `cleanup.policy` must include `delete`.
    pub topic: String,
    /// Partitions to purge; default all.
    #[serde(default)]
    pub partitions: Option<Vec<Templated<Partition>>>,
    /// Where the new log start goes: a map with exactly one key.
    pub before: Before,
    /// Groups whose unconsumed records are kept: `all` (default: every group with
    /// committed offsets on the topic), `none`, or a list of group names.
    #[serde(default)]
    pub protect_groups: Option<ProtectGroups>,
    /// Delete even what protected groups have not consumed yet.
    #[serde(default)]
    pub allow_unconsumed: Option<Templated<bool>>,
    /// Refuse if more than this many records would be deleted in total.
    #[serde(default)]
    pub max_delete: Option<Templated<Count>>,
    /// Refuse if any partition would lose more than this percentage (0–100) of its records.
    #[serde(default)]
    pub max_delete_percent: Option<Templated<Count>>,
    /// With `datetime` or `older_than`: refuse when the records around a
    /// partition's cut are out of time order (a record below it newer than the
    /// cut-off, or one above it older), instead of warning.
    #[serde(default)]
    pub strict_time: Option<Templated<bool>>,
}

/// The point below which records are deleted.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[schemars(transform = super::one_key::exactly_one_key)]
pub enum Before {
    /// This offset in every partition.
    Offset(Templated<i64>),
    /// Per partition: partition → offset.
    Offsets(PartitionOffsets),
    /// The first offset whose timestamp is at or after this time.
    Datetime(Templated<TimeSpec>),
    /// Records older than this.
    OlderThan(Templated<HumanDuration>),
    /// The lowest committed offset among these groups.
    CommittedBy(Vec<String>),
    /// The high watermark: everything, as far as protection allows.
    HighWatermark(Flag),
}

/// Which groups protect unconsumed records.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum ProtectGroups {
    /// `all` or `none`.
    Keyword(ProtectKeyword),
    /// These groups.
    Groups(Vec<String>),
}

/// `all`: every group with committed offsets on the topic; `none`: no protection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProtectKeyword {
    /// Every group with committed offsets on the topic.
    All,
    /// No group: only `before` limits the purge.
    None,
}
