//! `delete_offsets`: remove a group's committed offsets on some topics, as
//! `kafka-consumer-groups --delete-offsets` does, behind the same kind of gate
//! as a reset. Mutating; the offsets removed are kept for rollback.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::values::{Partition, Templated};

/// Delete a group's committed offsets on topics (optionally only some partitions).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteOffsetsSpec {
    /// The consumer group.
    pub group: String,
    /// The topics whose committed offsets go.
    #[schemars(length(min = 1))]
    pub topics: Vec<String>,
    /// Only these partitions of each topic; default every partition.
    #[serde(default)]
    pub partitions: Option<Vec<Templated<Partition>>>,
}
