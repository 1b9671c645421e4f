//! The provider a cluster's configuration names (`kafka`, `ckafka` or `dms`),
//! as one type the commands and the daemon hold. Cheap to clone.

use std::sync::Arc;

use super::ckafka::CkafkaProvider;
use super::dms::DmsProvider;
use super::kafka::KafkaProvider;
use super::{
    CleanupPolicy, CommittedOffset, GroupDescription, GroupListing, OffsetForTime, OffsetRange, Provider,
    ProviderResult, RecordsDeleted, TopicDescription, TopicPartition, Visitor, Watermarks,
};
use crate::config::ClusterConfig;

#[derive(Clone)]
pub enum AnyProvider {
    Kafka(KafkaProvider),
    Ckafka(Arc<CkafkaProvider>),
    Dms(Arc<DmsProvider>),
}

impl AnyProvider {
    pub fn connect(cluster: &str, config: &ClusterConfig) -> ProviderResult<Self> {
        Ok(match config {
            ClusterConfig::Kafka(kafka) => AnyProvider::Kafka(KafkaProvider::connect(cluster, kafka)?),
            ClusterConfig::Ckafka(ckafka) => AnyProvider::Ckafka(Arc::new(CkafkaProvider::connect(cluster, ckafka)?)),
            ClusterConfig::Dms(dms) => AnyProvider::Dms(Arc::new(DmsProvider::connect(cluster, dms)?)),
        })
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

impl Provider for AnyProvider {
    fn cluster(&self) -> &str {
        each!(self, p => p.cluster())
    }

    async fn topics(&self) -> ProviderResult<Vec<TopicDescription>> {
        each!(self, p => p.topics().await)
    }

    async fn topic(&self, name: &str) -> ProviderResult<TopicDescription> {
        each!(self, p => p.topic(name).await)
    }

    async fn topics_named(&self, names: &[String]) -> ProviderResult<Vec<TopicDescription>> {
        each!(self, p => p.topics_named(names).await)
    }

    async fn watermarks(&self, partitions: &[TopicPartition]) -> ProviderResult<Vec<Watermarks>> {
        each!(self, p => p.watermarks(partitions).await)
    }

    async fn offsets_for_timestamp(
        &self,
        partitions: &[TopicPartition],
        timestamp_ms: i64,
    ) -> ProviderResult<Vec<OffsetForTime>> {
        each!(self, p => p.offsets_for_timestamp(partitions, timestamp_ms).await)
    }

    async fn committed_offsets(&self, group: &str, topics: Option<&[String]>) -> ProviderResult<Vec<CommittedOffset>> {
        each!(self, p => p.committed_offsets(group, topics).await)
    }

    async fn describe_group(&self, group: &str) -> ProviderResult<GroupDescription> {
        each!(self, p => p.describe_group(group).await)
    }

    async fn list_groups(&self) -> ProviderResult<Vec<GroupListing>> {
        each!(self, p => p.list_groups().await)
    }

    async fn commit_offsets(&self, group: &str, offsets: &[(TopicPartition, i64)]) -> ProviderResult<()> {
        each!(self, p => p.commit_offsets(group, offsets).await)
    }

    async fn scan(&self, ranges: &[OffsetRange], visit: Visitor) -> ProviderResult<u64> {
        each!(self, p => p.scan(ranges, visit).await)
    }

    async fn delete_records(&self, below: &[(TopicPartition, i64)]) -> ProviderResult<Vec<RecordsDeleted>> {
        each!(self, p => p.delete_records(below).await)
    }

    async fn search(
        &self,
        topic: &str,
        from_ms: i64,
        to_ms: i64,
        keyword: &str,
    ) -> ProviderResult<Option<Vec<(i32, i64)>>> {
        each!(self, p => p.search(topic, from_ms, to_ms, keyword).await)
    }

    async fn cleanup_policy(&self, topic: &str) -> ProviderResult<CleanupPolicy> {
        each!(self, p => p.cleanup_policy(topic).await)
    }
}
