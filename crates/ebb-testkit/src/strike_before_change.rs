//! A provider for fault tests: it passes every call to the one it wraps, and
//! runs a hook once, just before the first change it is asked to make (a
//! commit or a DeleteRecords), so a test can kill a broker in the middle of
//! an apply, after its checks and before its write.

use std::sync::atomic::{AtomicBool, Ordering};

use ebb::provider::{
    CleanupPolicy, CommittedOffset, GroupDescription, GroupListing, OffsetForTime, OffsetRange, Provider,
    ProviderResult, RecordsDeleted, TopicDescription, TopicPartition, Visitor, Watermarks,
};

pub struct StrikeBeforeChange<'a, P> {
    inner: P,
    strike: &'a (dyn Fn() + Sync),
    struck: AtomicBool,
}

impl<'a, P: Provider> StrikeBeforeChange<'a, P> {
    pub fn new(inner: P, strike: &'a (dyn Fn() + Sync)) -> Self {
        StrikeBeforeChange { inner, strike, struck: AtomicBool::new(false) }
    }

    /// Whether the hook has run.
    pub fn struck(&self) -> bool {
        self.struck.load(Ordering::SeqCst)
    }

    fn before_change(&self) {
        if !self.struck.swap(true, Ordering::SeqCst) {
            (self.strike)();
        }
    }
}

impl<P: Provider + Sync> Provider for StrikeBeforeChange<'_, P> {
    fn cluster(&self) -> &str {
        self.inner.cluster()
    }
    fn scan_fallback(&self) -> Option<String> {
        self.inner.scan_fallback()
    }
    async fn scan_noting(&self, ranges: &[OffsetRange], visit: Visitor) -> ProviderResult<ebb::provider::Scanned> {
        self.inner.scan_noting(ranges, visit).await
    }
    async fn topics(&self) -> ProviderResult<Vec<TopicDescription>> {
        self.inner.topics().await
    }
    async fn topic(&self, name: &str) -> ProviderResult<TopicDescription> {
        self.inner.topic(name).await
    }
    async fn watermarks(&self, partitions: &[TopicPartition]) -> ProviderResult<Vec<Watermarks>> {
        self.inner.watermarks(partitions).await
    }
    async fn offsets_for_timestamp(
        &self,
        partitions: &[TopicPartition],
        ms: i64,
    ) -> ProviderResult<Vec<OffsetForTime>> {
        self.inner.offsets_for_timestamp(partitions, ms).await
    }
    async fn committed_offsets(&self, group: &str, topics: Option<&[String]>) -> ProviderResult<Vec<CommittedOffset>> {
        self.inner.committed_offsets(group, topics).await
    }
    async fn describe_group(&self, group: &str) -> ProviderResult<GroupDescription> {
        self.inner.describe_group(group).await
    }
    async fn list_groups(&self) -> ProviderResult<Vec<GroupListing>> {
        self.inner.list_groups().await
    }
    async fn commit_offsets(&self, group: &str, offsets: &[(TopicPartition, i64)]) -> ProviderResult<()> {
        self.before_change();
        self.inner.commit_offsets(group, offsets).await
    }
    async fn scan(&self, ranges: &[OffsetRange], visit: Visitor) -> ProviderResult<u64> {
        self.inner.scan(ranges, visit).await
    }
    async fn cleanup_policy(&self, topic: &str) -> ProviderResult<CleanupPolicy> {
        self.inner.cleanup_policy(topic).await
    }
    async fn delete_records(&self, below: &[(TopicPartition, i64)]) -> ProviderResult<Vec<RecordsDeleted>> {
        self.before_change();
        self.inner.delete_records(below).await
    }
}
