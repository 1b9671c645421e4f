//! The provider a cluster's configuration names (`kafka`, `ckafka` or `dms`),
//! as one type the commands and the daemon hold. Cheap to clone.

use std::sync::Arc;

use super::ProviderError;
use super::ckafka::CkafkaProvider;
use super::dms::DmsProvider;
use super::kafka::KafkaProvider;
use super::{
    CleanupPolicy, CommittedOffset, GroupDescription, GroupListing, OffsetDeleted, OffsetForTime, OffsetRange,
    Provider, ProviderResult, RecordsDeleted, Scanned, TopicDescription, TopicPartition, Visitor, Watermarks,
};
use crate::config::ClusterConfig;
use crate::kafka_names;

#[derive(Clone)]
pub enum AnyProvider {
    Kafka(KafkaProvider),
    Ckafka(Arc<CkafkaProvider>),
    Dms(Arc<DmsProvider>),
}

impl AnyProvider {
    /// Whether `other` is this very client (a clone of it), not another connection.
    pub fn same_client(&self, other: &AnyProvider) -> bool {
        match (self, other) {
            (AnyProvider::Kafka(a), AnyProvider::Kafka(b)) => a.same_client(b),
            (AnyProvider::Ckafka(a), AnyProvider::Ckafka(b)) => Arc::ptr_eq(a, b),
            (AnyProvider::Dms(a), AnyProvider::Dms(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }

    /// Asks the cluster something any cluster answers, through the client
    /// requests use: an error means the client cannot be relied on.
    pub async fn health_check(&self) -> ProviderResult<()> {
        match self {
            AnyProvider::Kafka(p) => p.health_check().await,
            AnyProvider::Ckafka(p) => p.topics().await.map(|_| ()),
            AnyProvider::Dms(p) => p.topics().await.map(|_| ()),
        }
    }

    pub fn connect(cluster: &str, config: &ClusterConfig) -> ProviderResult<Self> {
        Ok(match config {
            ClusterConfig::Kafka(kafka) => AnyProvider::Kafka(KafkaProvider::connect(cluster, kafka)?),
            ClusterConfig::Ckafka(ckafka) => AnyProvider::Ckafka(Arc::new(CkafkaProvider::connect(cluster, ckafka)?)),
            ClusterConfig::Dms(dms) => AnyProvider::Dms(Arc::new(DmsProvider::connect(cluster, dms)?)),
        })
    }

    /// Like `connect`, for a replica of a coordinated deployment: a Kafka
    /// cluster's commits are fenced and its DeleteRecords wait on proof of
    /// ownership. The cloud APIs have nothing to fence with; their changes
    /// are covered by the journal write that proves ownership before each step.
    pub fn connect_fenced(
        cluster: &str,
        config: &ClusterConfig,
        fence: Arc<dyn super::CommitFence>,
    ) -> ProviderResult<Self> {
        match config {
            ClusterConfig::Kafka(kafka) => {
                Ok(AnyProvider::Kafka(KafkaProvider::connect_fenced(cluster, kafka, fence)?))
            }
            other => Self::connect(cluster, other),
        }
    }

    /// Takes `group`'s commits from whoever held them; nothing where commits are not fenced.
    pub async fn fence_group(&self, group: &str) -> ProviderResult<()> {
        match self {
            AnyProvider::Kafka(p) => p.fence_group(group).await,
            AnyProvider::Ckafka(_) | AnyProvider::Dms(_) => Ok(()),
        }
    }
}

/// `$body` with `$p` bound to the provider inside, whichever it is.
macro_rules! each {
    ($self:ident, $p:ident => $body:expr) => {
        match $self {
            AnyProvider::Kafka($p) => $body,
            AnyProvider::Ckafka($p) => $body,
            AnyProvider::Dms($p) => $body,
        }
    };
}

impl AnyProvider {
    /// Refuses a request naming a topic or group that breaks Kafka's rules,
    /// or giving a negative offset, before it is sent.
    fn sendable<'a>(
        &self,
        groups: impl IntoIterator<Item = &'a str>,
        topics: impl IntoIterator<Item = &'a str>,
        offsets: impl IntoIterator<Item = i64>,
    ) -> ProviderResult<()> {
        let not_sent = |detail: String| ProviderError::NotSent { cluster: self.cluster().to_owned(), detail };
        for group in groups {
            kafka_names::check_group(group).map_err(|e| not_sent(e.to_string()))?;
        }
        let mut checked: Option<&str> = None;
        for topic in topics {
            // Requests list a topic once per partition, in order.
            if checked != Some(topic) {
                kafka_names::check_topic(topic).map_err(|e| not_sent(e.to_string()))?;
                checked = Some(topic);
            }
        }
        if let Some(offset) = offsets.into_iter().find(|o| *o < 0) {
            return Err(not_sent(format!("offset {offset} is negative; Kafka offsets start at 0")));
        }
        Ok(())
    }
}

fn topics_of(partitions: &[TopicPartition]) -> impl Iterator<Item = &str> {
    partitions.iter().map(|tp| tp.topic.as_str())
}

const NONE: [&str; 0] = [];
const NO_OFFSETS: [i64; 0] = [];

impl Provider for AnyProvider {
    fn cluster(&self) -> &str {
        each!(self, p => p.cluster())
    }

    async fn topics(&self) -> ProviderResult<Vec<TopicDescription>> {
        each!(self, p => p.topics().await)
    }

    async fn topic(&self, name: &str) -> ProviderResult<TopicDescription> {
        self.sendable(NONE, [name], NO_OFFSETS)?;
        each!(self, p => p.topic(name).await)
    }

    async fn topics_named(&self, names: &[String]) -> ProviderResult<Vec<TopicDescription>> {
        self.sendable(NONE, names.iter().map(String::as_str), NO_OFFSETS)?;
        each!(self, p => p.topics_named(names).await)
    }

    async fn watermarks(&self, partitions: &[TopicPartition]) -> ProviderResult<Vec<Watermarks>> {
        self.sendable(NONE, topics_of(partitions), NO_OFFSETS)?;
        each!(self, p => p.watermarks(partitions).await)
    }

    async fn offsets_for_timestamp(
        &self,
        partitions: &[TopicPartition],
        timestamp_ms: i64,
    ) -> ProviderResult<Vec<OffsetForTime>> {
        self.sendable(NONE, topics_of(partitions), NO_OFFSETS)?;
        each!(self, p => p.offsets_for_timestamp(partitions, timestamp_ms).await)
    }

    async fn committed_offsets(&self, group: &str, topics: Option<&[String]>) -> ProviderResult<Vec<CommittedOffset>> {
        self.sendable([group], topics.unwrap_or_default().iter().map(String::as_str), NO_OFFSETS)?;
        each!(self, p => p.committed_offsets(group, topics).await)
    }

    async fn describe_group(&self, group: &str) -> ProviderResult<GroupDescription> {
        self.sendable([group], NONE, NO_OFFSETS)?;
        each!(self, p => p.describe_group(group).await)
    }

    async fn list_groups(&self) -> ProviderResult<Vec<GroupListing>> {
        each!(self, p => p.list_groups().await)
    }

    async fn commit_offsets(&self, group: &str, offsets: &[(TopicPartition, i64)]) -> ProviderResult<()> {
        self.sendable([group], offsets.iter().map(|(tp, _)| tp.topic.as_str()), offsets.iter().map(|(_, o)| *o))?;
        each!(self, p => p.commit_offsets(group, offsets).await)
    }

    async fn delete_offsets(&self, group: &str, partitions: &[TopicPartition]) -> ProviderResult<Vec<OffsetDeleted>> {
        self.sendable([group], topics_of(partitions), NO_OFFSETS)?;
        each!(self, p => p.delete_offsets(group, partitions).await)
    }

    fn scan_fallback(&self) -> Option<String> {
        each!(self, p => p.scan_fallback())
    }

    async fn scan(&self, ranges: &[OffsetRange], visit: Visitor) -> ProviderResult<u64> {
        self.sendable(NONE, ranges.iter().map(|r| r.topic.as_str()), NO_OFFSETS)?;
        each!(self, p => p.scan(ranges, visit).await)
    }

    async fn scan_noting(&self, ranges: &[OffsetRange], visit: Visitor) -> ProviderResult<Scanned> {
        self.sendable(NONE, ranges.iter().map(|r| r.topic.as_str()), NO_OFFSETS)?;
        each!(self, p => p.scan_noting(ranges, visit).await)
    }

    async fn delete_records(&self, below: &[(TopicPartition, i64)]) -> ProviderResult<Vec<RecordsDeleted>> {
        self.sendable(NONE, below.iter().map(|(tp, _)| tp.topic.as_str()), below.iter().map(|(_, o)| *o))?;
        each!(self, p => p.delete_records(below).await)
    }

    async fn search(
        &self,
        topic: &str,
        from_ms: i64,
        to_ms: i64,
        keyword: &str,
    ) -> ProviderResult<Option<Vec<(i32, i64)>>> {
        self.sendable(NONE, [topic], NO_OFFSETS)?;
        each!(self, p => p.search(topic, from_ms, to_ms, keyword).await)
    }

    async fn cleanup_policy(&self, topic: &str) -> ProviderResult<CleanupPolicy> {
        self.sendable(NONE, [topic], NO_OFFSETS)?;
        each!(self, p => p.cleanup_policy(topic).await)
    }
}
