//! Offset commits that a newer owner can fence (docs/HA.md). Each commit to
//! a group goes through a transactional producer whose id is the group's
//! (from the `CommitFence`): `init_transactions` bumps the id's epoch, so a
//! replica that took over and committed, or only fenced, makes the older
//! replica's late `send_offsets_to_transaction` fail. Between the
//! `init_transactions` and the commit the replica proves it still owns the
//! cluster, so an old owner that wakes up cannot fence the new one and then
//! commit. The offsets are read back stable (OffsetFetch with
//! `require_stable`, over `wire` on plaintext listeners), so the commit is in
//! place when this returns.

use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::producer::{BaseProducer, Producer};
use rdkafka::{Offset, TopicPartitionList};

use super::Inner;
use crate::provider::commit_fence::CommitFence;
use crate::provider::{ProviderError, ProviderResult, TopicPartition};

const OPERATION: &str = "committing offsets in a transaction";

impl Inner {
    fn transactional_producer(&self, fence: &dyn CommitFence, group: &str) -> ProviderResult<BaseProducer> {
        super::settings::transactional(&self.producer, &fence.transactional_id(group), self.timeout.duration)
            .create()
            .map_err(|e| self.request_error(OPERATION, &e))
    }

    /// Whether this process still owns the cluster, as a refusal naming `group`.
    fn proven(&self, fence: &dyn CommitFence, group: &str) -> ProviderResult<()> {
        fence.still_owner().map_err(|why| ProviderError::NotSent {
            cluster: self.cluster.clone(),
            detail: format!("group {group:?}: nothing was committed: {why}"),
        })
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
        // Proven before taking the group's id too: an old owner that wakes up
        // must not fence (and so abort) the new owner's commit in flight.
        self.proven(fence, group)?;
        let producer = self.transactional_producer(fence, group)?;
        producer.init_transactions(timeout).map_err(|e| self.fenced_or(e))?;
        self.proven(fence, group)?;
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
        let read: Vec<(TopicPartition, Option<i64>)> = match &self.wire {
            Some(wire) => {
                let asked: Vec<TopicPartition> = offsets.iter().map(|(tp, _)| tp.clone()).collect();
                let read = super::retry::within(timeout, || self.committed_over_wire(wire, group, &asked, true))?;
                asked
                    .into_iter()
                    .map(|tp| {
                        let found = read.iter().find(|c| c.topic == tp.topic && c.partition == tp.partition);
                        (tp, found.map(|c| c.offset))
                    })
                    .collect()
            }
            None => {
                let mut asked = TopicPartitionList::with_capacity(offsets.len());
                for (tp, _) in offsets {
                    asked.add_partition(&tp.topic, tp.partition);
                }
                let read = reader.committed_offsets(asked, timeout).map_err(|e| self.request_error(OPERATION, &e))?;
                offsets
                    .iter()
                    .map(|(tp, _)| {
                        let found = read.find_partition(&tp.topic, tp.partition).map(|e| e.offset());
                        let offset = match found {
                            Some(Offset::Offset(o)) => Some(o),
                            _ => None,
                        };
                        (tp.clone(), offset)
                    })
                    .collect()
            }
        };
        let differs = offsets.iter().zip(&read).find(|((_, offset), (_, read))| *read != Some(*offset));
        if let Some(((tp, offset), _)) = differs {
            return Err(ProviderError::Request {
                cluster: self.cluster.clone(),
                operation: OPERATION,
                detail: format!("{}:{} reads back other than {offset} after the commit", tp.topic, tp.partition),
                retryable: false,
            });
        }
        Ok(())
    }

    /// A fenced producer's error says another replica took over; others are what they are.
    fn fenced_or(&self, error: KafkaError) -> ProviderError {
        if is_fenced(&error) {
            return ProviderError::NotSent {
                cluster: self.cluster.clone(),
                detail: "fenced: a newer owner has taken this group's commits; nothing was committed".to_owned(),
            };
        }
        self.request_error(OPERATION, &error)
    }
}

/// Whether a transactional producer's `error` says a newer holder of its
/// transactional id fenced it (or left it unusable, which ends it the same way).
pub fn is_fenced(error: &KafkaError) -> bool {
    use rdkafka::types::RDKafkaErrorCode::{Fenced, InvalidProducerEpoch, ProducerFenced};
    match error {
        KafkaError::Transaction(e) => {
            e.is_fatal() || matches!(e.code(), Fenced | ProducerFenced | InvalidProducerEpoch)
        }
        other => matches!(other.rdkafka_error_code(), Some(Fenced | ProducerFenced | InvalidProducerEpoch)),
    }
}
