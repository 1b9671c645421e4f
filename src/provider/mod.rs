//! Providers: the one place ebb talks to a cluster. Every provider (native Kafka
//! today; Tencent CKafka and Huawei DMS through their management APIs) answers
//! the same questions through the `Provider` trait, so steps and plans never know
//! which one they run on.

mod any;
pub mod ckafka;
mod cloud_http;
pub mod cluster_report;
pub mod commit_fence;
mod connect_error;
pub mod dms;
mod error;
pub mod kafka;
#[cfg(test)]
pub mod memory;
mod model;
mod pacing;
mod paging;
mod per_topic;
pub mod signing;

use std::future::Future;

pub use any::AnyProvider;
pub use commit_fence::CommitFence;
pub use connect_error::{ConnectError, connect_named};
pub use error::{CloudAnswer, ProviderError};
pub use model::{
    CleanupPolicy, CommittedOffset, GroupDescription, GroupListing, GroupMember, GroupState, Message, OffsetDeleted,
    OffsetForTime, OffsetRange, PartitionInfo, RecordsDeleted, TopicDescription, TopicPartition, Watermarks,
};

pub type ProviderResult<T> = Result<T, ProviderError>;

/// What `Provider::scan` shows each record to; false stops the scan. The record
/// is lent, so a scan can reuse one buffer for millions of records; a visitor
/// that keeps one clones it.
pub type Visitor = std::sync::Arc<dyn Fn(&Message) -> bool + Send + Sync>;

/// What a scan read: how many records, and what its reader should be told
/// about how (records deleted under it, a partition that ended short of its
/// range at an open transaction).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scanned {
    pub read: u64,
    pub notes: Vec<String>,
}

/// Reads a provider offers. Batched calls take many partitions at once so a
/// provider can group its requests (per broker for Kafka, per page for cloud APIs).
pub trait Provider: Send + Sync {
    /// The cluster's name in `ebb.yaml`, for messages.
    fn cluster(&self) -> &str;

    /// Every topic but Kafka's internal ones, sorted by name.
    fn topics(&self) -> impl Future<Output = ProviderResult<Vec<TopicDescription>>> + Send;

    /// One topic, or `UnknownTopic`.
    fn topic(&self, name: &str) -> impl Future<Output = ProviderResult<TopicDescription>> + Send;

    /// The named topics, in the order asked; `UnknownTopic` for the first one
    /// missing. By default one `topic` call each, all at once; Kafka asks one
    /// metadata request for all of them.
    fn topics_named(&self, names: &[String]) -> impl Future<Output = ProviderResult<Vec<TopicDescription>>> + Send {
        futures_util::future::try_join_all(names.iter().map(|name| self.topic(name)))
    }

    /// Log start and log end of each partition, in the order asked. An unknown
    /// topic or partition is an error (`UnknownTopic`, `UnknownPartition`).
    fn watermarks(&self, partitions: &[TopicPartition])
    -> impl Future<Output = ProviderResult<Vec<Watermarks>>> + Send;

    /// The first offset whose timestamp is at or after `timestamp_ms`, per partition.
    fn offsets_for_timestamp(
        &self,
        partitions: &[TopicPartition],
        timestamp_ms: i64,
    ) -> impl Future<Output = ProviderResult<Vec<OffsetForTime>>> + Send;

    /// A group's committed offsets on `topics`, or on every topic when `None`.
    /// Partitions without a committed offset are left out.
    fn committed_offsets(
        &self,
        group: &str,
        topics: Option<&[String]>,
    ) -> impl Future<Output = ProviderResult<Vec<CommittedOffset>>> + Send;

    /// A group's state and live members. A group the coordinator does not know is `Dead`.
    fn describe_group(&self, group: &str) -> impl Future<Output = ProviderResult<GroupDescription>> + Send;

    /// Every consumer group, sorted by name.
    fn list_groups(&self) -> impl Future<Output = ProviderResult<Vec<GroupListing>>> + Send;

    /// Commits offsets for a group, all in one request to its coordinator. The
    /// group must have no live members (the caller checks). A failure may leave
    /// some partitions committed and others not: read them back to know which.
    fn commit_offsets(
        &self,
        group: &str,
        offsets: &[(TopicPartition, i64)],
    ) -> impl Future<Output = ProviderResult<()>> + Send;

    /// Removes a group's committed offsets on the partitions (OffsetDelete, one
    /// request to its coordinator). The coordinator refuses a partition of a
    /// topic a live member is subscribed to; that is reported in its outcome,
    /// not as an error of the whole call. By default the provider cannot.
    fn delete_offsets(
        &self,
        group: &str,
        _partitions: &[TopicPartition],
    ) -> impl Future<Output = ProviderResult<Vec<OffsetDeleted>>> + Send {
        let refused = ProviderError::Request {
            cluster: self.cluster().to_owned(),
            operation: "deleting committed offsets",
            detail: format!("this provider's API cannot delete the committed offsets of group {group:?}"),
            retryable: false,
        };
        async move { Err(refused) }
    }

    /// Reads every record in the ranges, all of one topic (partitions in
    /// parallel, each in offset order), and hands each to `visit` on a thread
    /// that may block; `visit` returns false to stop early. Never joins a group
    /// or commits. Returns how many records were read.
    fn scan(&self, ranges: &[OffsetRange], visit: Visitor) -> impl Future<Output = ProviderResult<u64>> + Send;

    /// `scan`, with what the scan noticed about the ranges on the way.
    fn scan_noting(
        &self,
        ranges: &[OffsetRange],
        visit: Visitor,
    ) -> impl Future<Output = ProviderResult<Scanned>> + Send {
        async move { Ok(Scanned { read: self.scan(ranges, visit).await?, notes: Vec::new() }) }
    }

    /// When `scan` cannot read the provider's fastest way on this cluster:
    /// how it reads instead, and why, for the plan to say.
    fn scan_fallback(&self) -> Option<String> {
        None
    }

    /// Deletes every record below the given offset of each partition (DeleteRecords,
    /// one request per partition leader). Irreversible. A partition the leader
    /// refuses is reported in its outcome, not as an error of the whole call.
    fn delete_records(
        &self,
        below: &[(TopicPartition, i64)],
    ) -> impl Future<Output = ProviderResult<Vec<RecordsDeleted>>> + Send;

    /// Where the records of `topic` timed within `[from_ms, to_ms]` whose key
    /// or value contains `keyword` (case-sensitive) are, as (partition, offset),
    /// found by the cluster itself. `None` (the default): this provider's API
    /// cannot search, and the caller scans the window.
    fn search(
        &self,
        _topic: &str,
        _from_ms: i64,
        _to_ms: i64,
        _keyword: &str,
    ) -> impl Future<Output = ProviderResult<Option<Vec<(i32, i64)>>>> + Send {
        async { Ok(None) }
    }

    /// A topic's `cleanup.policy`.
    fn cleanup_policy(&self, topic: &str) -> impl Future<Output = ProviderResult<CleanupPolicy>> + Send;
}
