//! `compute_offsets`: target offsets for one group, per partition, by one
//! strategy (SPEC §3.2). Read-only; `reset_offsets` commits what it computes.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::values::{Flag, Partition, PartitionOffsets, Templated};
use crate::time::{HumanDuration, TimeSpec};

/// Compute the offsets a group should move to, without moving it.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ComputeOffsetsSpec {
    /// The consumer group.
    pub group: String,
    /// Topics in scope; default every topic the group has committed offsets on.
    #[serde(default)]
    pub topics: Option<Vec<String>>,
    /// Partitions in scope, applied to each topic; default all.
    #[serde(default)]
    pub partitions: Option<Vec<Templated<Partition>>>,
    /// How to choose each partition's target: a map with exactly one key.
    pub strategy: Strategy,
}

/// How target offsets are chosen. Targets are clamped to [log start, log end].
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[schemars(transform = super::one_key::exactly_one_key)]
pub enum Strategy {
    /// Log start of each partition.
    ToEarliest(Flag),
    /// Log end (high watermark) of each partition.
    ToLatest(Flag),
    /// The committed offset; log end where none is committed.
    ToCurrent(Flag),
    /// This offset in every partition.
    ToOffset(Templated<i64>),
    /// The committed offset plus this (negative rewinds); every partition needs a committed offset.
    ShiftBy(Templated<i64>),
    /// The first offset whose timestamp is at or after this time; log end where none.
    ToDatetime(Templated<TimeSpec>),
    /// The first offset whose timestamp is at or after now minus this; log end where none.
    ByDuration(Templated<HumanDuration>),
    /// Given offsets: topic → partition → offset.
    Offsets(BTreeMap<String, PartitionOffsets>),
    /// A CSV file of `topic,partition,offset` or `group,topic,partition,offset` rows.
    FromFile(String),
    /// Another group's committed offsets.
    FromGroup(String),
    /// Just past the last match of this `query_messages` step, in each partition with matches.
    AfterMessages(String),
    /// The first match of this `query_messages` step, in each partition with matches.
    AtMessages(String),
    /// Just past the run of consecutive matches of this `query_messages` step
    /// that the group's committed offset sits on, in each partition where it
    /// sits on one; every other partition keeps its offset. Skips a poison
    /// message (or several in a row) and nothing else.
    PastMatches(String),
}

impl Strategy {
    /// The step this strategy reads its targets from, if any.
    pub fn query_step(&self) -> Option<&str> {
        match self {
            Strategy::AfterMessages(step) | Strategy::AtMessages(step) | Strategy::PastMatches(step) => Some(step),
            _ => None,
        }
    }
}
