//! Offset commits that a newer owner can fence (docs/HA.md). Each commit to
//! a group goes through a transactional producer whose id is the group's
//! (from the `CommitFence`): `init_transactions` bumps the id's epoch, so a
//! replica that took over and committed, or only fenced, makes the older
//! replica's late `send_offsets_to_transaction` fail. Between the
//! `init_transactions` and the commit the replica proves it still owns the
//! cluster, so an old owner that wakes up cannot fence the new one and then
//! commit. The offsets are read back stable (OffsetFetch with
//! `require_stable`), so the commit is in place when this returns.

use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::producer::{BaseProducer, Producer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

use super::Inner;
use crate::provider::commit_fence::CommitFence;
use crate::provider::{ProviderError, ProviderResult, TopicPartition};

const OPERATION: &str = "committing offsets in a transaction";

impl Inner {
    fn transactional_producer(&self, fence: &dyn CommitFence, group: &str) -> ProviderResult<BaseProducer> {
        let mut config: ClientConfig = self.producer.clone();
        config
            .set("transactional.id", fence.transactional_id(group))
            .set("transaction.timeout.ms", self.timeout.duration.as_millis().max(10_000).to_string());
        config.create().map_err(|e| self.request_error(OPERATION, &e))
    }

    /// Takes the group's transactional id: any earlier holder is fenced.
    pub(super) fn fence_group(&self, fence: &dyn CommitFence, group: &str) -> ProviderResult<()> {
        let producer = self.transactional_producer(fence, group)?;
        producer.init_transactions(self.timeout.duration).map_err(|e| self.request_error("fencing commits", &e))
    }

    pub(super) fn commit_fenced(
        &self,
        fence: &dyn CommitFence,
        group: &str,
        offsets: &[(TopicPartition, i64)],
    ) -> ProviderResult<()> {
        let timeout = self.timeout.duration;
        let producer = self.transactional_producer(fence, group)?;
        producer.init_transactions(timeout).map_err(|e| self.fenced_or(e))?;
        fence.still_owner().map_err(|why| ProviderError::NotSent {
            cluster: self.cluster.clone(),
            detail: format!("group {group:?}: nothing was committed: {why}"),
        })?;
        let mut request = TopicPartitionList::with_capacity(offsets.len());
        for (tp, offset) in offsets {
            request
                .add_partition(&tp.topic, tp.partition)
                .set_offset(Offset::Offset(*offset))
                .map_err(|e| self.request_error(OPERATION, &e))?;
        }
        let mut group_config = super::settings::for_group(&self.base, group);
        group_config.set("isolation.level", "read_committed");
        let reader: BaseConsumer = group_config.create().map_err(|e| self.request_error(OPERATION, &e))?;
        let metadata = reader.group_metadata().ok_or_else(|| ProviderError::Request {
            cluster: self.cluster.clone(),
            operation: OPERATION,
            detail: "librdkafka gave no group metadata".to_owned(),
            retryable: false,
        })?;
        producer.begin_transaction().map_err(|e| self.fenced_or(e))?;
        let sent = producer
            .send_offsets_to_transaction(&request, &metadata, timeout)
            .and_then(|()| producer.commit_transaction(timeout));
        if let Err(e) = sent {
            let _ = producer.abort_transaction(Duration::from_secs(5));
            return Err(self.fenced_or(e));
        }
        // Stable: the read waits while the transaction's offsets are still being written.
        let mut asked = TopicPartitionList::with_capacity(offsets.len());
        for (tp, _) in offsets {
            asked.add_partition(&tp.topic, tp.partition);
        }
        reader.committed_offsets(asked, timeout).map_err(|e| self.request_error(OPERATION, &e))?;
        Ok(())
    }

    /// A fenced producer's error says another replica took over; others are what they are.
    fn fenced_or(&self, error: KafkaError) -> ProviderError {
        let fenced = match &error {
            KafkaError::Transaction(e) => {
                use rdkafka::types::RDKafkaErrorCode::{Fenced, ProducerFenced};
                e.is_fatal() || matches!(e.code(), Fenced | ProducerFenced)
            }
            _ => false,
        };
        if fenced {
            return ProviderError::NotSent {
                cluster: self.cluster.clone(),
                detail: "fenced: a newer owner has taken this group's commits; nothing was committed".to_owned(),
            };
        }
        self.request_error(OPERATION, &error)
    }
}
