//! What a provider reports about a cluster, in ebb's words, independent of the
//! protocol or API that produced it.

use std::fmt;

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct TopicPartition {
    pub topic: String,
    pub partition: i32,
}

impl TopicPartition {
    pub fn new(topic: impl Into<String>, partition: i32) -> Self {
        TopicPartition { topic: topic.into(), partition }
    }
}

impl fmt::Display for TopicPartition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.topic, self.partition)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartitionInfo {
    pub partition: i32,
    /// Broker id of the leader; `None` while the partition has no leader.
    pub leader: Option<i32>,
    pub replicas: Vec<i32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TopicDescription {
    pub name: String,
    /// Sorted by partition id.
    pub partitions: Vec<PartitionInfo>,
}

impl TopicDescription {
    pub fn topic_partitions(&self) -> impl Iterator<Item = TopicPartition> + '_ {
        self.partitions.iter().map(|p| TopicPartition::new(&self.name, p.partition))
    }
}

/// A partition's log start (the earliest offset still stored) and log end (the high watermark).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Watermarks {
    pub topic: String,
    pub partition: i32,
    pub log_start: i64,
    pub log_end: i64,
}

/// The result of looking up the first offset whose timestamp is at or after a time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OffsetForTime {
    pub topic: String,
    pub partition: i32,
    /// `None` when no message at or after the time exists.
    pub offset: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommittedOffset {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
}

/// Consumer group states as the group coordinator reports them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(into = "String")]
pub enum GroupState {
    Empty,
    Stable,
    PreparingRebalance,
    CompletingRebalance,
    Dead,
    /// A state this version of ebb does not know by name (newer protocols add some).
    Other(String),
}

impl GroupState {
    /// A state as a cloud API names it, in any case and with or without
    /// separators (`PreparingRebalance`, `PREPARING_REBALANCE`).
    pub fn from_name(name: &str) -> GroupState {
        let folded: String = name.chars().filter(char::is_ascii_alphabetic).collect::<String>().to_lowercase();
        match folded.as_str() {
            "empty" => GroupState::Empty,
            "stable" => GroupState::Stable,
            "preparingrebalance" => GroupState::PreparingRebalance,
            "completingrebalance" => GroupState::CompletingRebalance,
            "dead" => GroupState::Dead,
            _ => GroupState::Other(name.to_owned()),
        }
    }

    /// Whether a group in this state has no live members, so its offsets may be changed.
    pub fn is_inactive(&self) -> bool {
        matches!(self, GroupState::Empty | GroupState::Dead)
    }
}

impl fmt::Display for GroupState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            GroupState::Empty => "Empty",
            GroupState::Stable => "Stable",
            GroupState::PreparingRebalance => "PreparingRebalance",
            GroupState::CompletingRebalance => "CompletingRebalance",
            GroupState::Dead => "Dead",
            GroupState::Other(s) => s,
        })
    }
}

impl From<GroupState> for String {
    fn from(state: GroupState) -> String {
        state.to_string()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupMember {
    pub member_id: String,
    pub client_id: String,
    pub host: String,
    /// The topics of the partitions assigned to it, sorted; empty when the
    /// provider does not report assignments.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub topics: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupDescription {
    pub group: String,
    pub state: GroupState,
    /// `classic`, or `consumer` for the KIP-848 protocol.
    pub group_type: String,
    pub members: Vec<GroupMember>,
}

impl GroupDescription {
    /// A classic-protocol group as a cloud API reports it, its state by name.
    pub fn classic(group: String, state: &str, members: Vec<GroupMember>) -> Self {
        GroupDescription { group, state: GroupState::from_name(state), group_type: "classic".into(), members }
    }

    /// A group the cluster does not know: `Dead`, no members.
    pub fn unknown(group: &str) -> Self {
        GroupDescription {
            group: group.to_owned(),
            state: GroupState::Dead,
            group_type: "classic".into(),
            members: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupListing {
    pub group: String,
    pub state: GroupState,
    /// `classic`, or `consumer` for the KIP-848 protocol.
    pub group_type: String,
}

impl GroupListing {
    /// A classic-protocol group as a cloud API lists it, its state by name.
    pub fn classic(group: String, state: &str) -> Self {
        GroupListing { group, state: GroupState::from_name(state), group_type: "classic".into() }
    }
}

/// A topic's `cleanup.policy`: purging needs `delete` in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CleanupPolicy {
    pub topic: String,
    /// As the broker reports it, e.g. `delete`, `compact`, `compact,delete`.
    pub policy: String,
}

impl CleanupPolicy {
    pub fn allows_delete(&self) -> bool {
        self.policy.split(',').any(|p| p.trim() == "delete")
    }
}

/// Offsets `[start, end)` of one partition to read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OffsetRange {
    pub topic: String,
    pub partition: i32,
    pub start: i64,
    pub end: i64,
}

/// One record as read from a partition.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Message {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    /// Epoch milliseconds, when the record has a timestamp.
    pub timestamp: Option<i64>,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    pub headers: Vec<(String, Vec<u8>)>,
}

impl Message {
    /// Bytes of key, value and headers.
    pub fn size(&self) -> usize {
        self.key.as_ref().map_or(0, Vec::len)
            + self.value.as_ref().map_or(0, Vec::len)
            + self.headers.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>()
    }
}

/// What OffsetDelete did to one partition of a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetDeleted {
    pub topic: String,
    pub partition: i32,
    /// Why the coordinator refused to delete it, when it did.
    pub refused: Option<String>,
}

/// What DeleteRecords did to one partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordsDeleted {
    pub topic: String,
    pub partition: i32,
    /// The partition's log start after the deletion, as its leader reported
    /// it; or why the leader refused.
    pub outcome: Result<i64, String>,
}
