//! DeleteRecords: moving partitions' log start forward, one request per leader
//! with all of that leader's partitions: over `wire` on plaintext listeners
//! (`delete_over_wire`, which finds the leaders afresh after a failure), else
//! through librdkafka's admin client. Asking again for the same offsets is
//! harmless, so partitions that failed for a passing reason (a leader moving
//! or dead) are asked again until the cluster's timeout is spent; the rest
//! keep their error.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use tokio::time::Instant;

use rdkafka::admin::AdminOptions;
use rdkafka::{Offset, TopicPartitionList};

use rdkafka::error::RDKafkaErrorCode;

use crate::provider::{ProviderError, ProviderResult, RecordsDeleted, TopicPartition};

use super::KafkaProvider;
use super::delete_over_wire::Deleted;
use super::errors::{code_of, is_retryable_code};
use crate::retry::Backoff;

impl KafkaProvider {
    pub(super) async fn delete_records_below(
        &self,
        below: &[(TopicPartition, i64)],
    ) -> ProviderResult<Vec<RecordsDeleted>> {
        const OPERATION: &str = "deleting records";
        let inner = &self.inner;
        let mut backoff = Backoff::within(inner.timeout.duration, Duration::from_millis(50), Duration::from_secs(1));
        let deadline = backoff.deadline().unwrap_or_else(Instant::now);
        let mut outcomes: BTreeMap<(String, i32), Result<i64, String>> = BTreeMap::new();
        let mut pending: Vec<(TopicPartition, i64)> = below.to_vec();
        while !pending.is_empty() {
            // Kafka cannot fence DeleteRecords: ownership is proven before each batch.
            if let Some(fence) = inner.fence.clone() {
                let owner = tokio::task::spawn_blocking(move || fence.still_owner()).await;
                let why = match owner {
                    Ok(Ok(())) => None,
                    Ok(Err(why)) => Some(why),
                    Err(e) => Some(e.to_string()),
                };
                if let Some(why) = why {
                    return Err(crate::provider::ProviderError::NotSent {
                        cluster: inner.cluster.clone(),
                        detail: format!("records were not deleted: {why}"),
                    });
                }
            }
            // Each attempt gets what is left of the timeout, and a retry only fits if time
            // remains after the answer: the whole call stays within the cluster's timeout.
            let left = deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(100));
            let answered = if inner.wire.is_some() {
                let asked = pending.clone();
                // A third of what is left: a leader that cannot finish (its
                // followers' log starts wait on a dead replica still in sync)
                // answers in time for the partitions to be asked again once
                // the cluster has moved on.
                let wait = (left / 3).max(Duration::from_millis(100));
                self.blocking(OPERATION, move |inner| {
                    let wire = inner.wire.as_ref().expect("a plaintext cluster");
                    inner.delete_over_wire(wire, &asked, wait)
                })
                .await?
            } else {
                match self.delete_with_admin(&pending, left).await {
                    Ok(answered) => answered,
                    Err((e, code)) if backoff.allows_another() && code.is_some_and(is_retryable_code) => {
                        drop(e);
                        tokio::time::sleep(backoff.next_pause().unwrap_or_default()).await;
                        continue;
                    }
                    Err((e, _)) => return Err(e),
                }
            };
            let may_retry = backoff.allows_another();
            let asked: HashMap<(String, i32), i64> =
                pending.iter().map(|(tp, offset)| ((tp.topic.clone(), tp.partition), *offset)).collect();
            let mut again = Vec::new();
            for (key, outcome) in answered {
                let outcome = match outcome {
                    Ok(low) => Ok(low),
                    Err((code, words)) => {
                        if may_retry
                            && code.is_some_and(is_retryable_code)
                            && let Some(offset) = asked.get(&key)
                        {
                            again.push((TopicPartition::new(key.0, key.1), *offset));
                            continue;
                        }
                        Err(words)
                    }
                };
                outcomes.insert(key, outcome);
            }
            if !again.is_empty() {
                tokio::time::sleep(backoff.next_pause().unwrap_or_default()).await;
            }
            pending = again;
        }
        Ok(below
            .iter()
            .map(|(tp, _)| RecordsDeleted {
                topic: tp.topic.clone(),
                partition: tp.partition,
                outcome: outcomes
                    .remove(&(tp.topic.clone(), tp.partition))
                    .unwrap_or_else(|| Err("the cluster did not answer for this partition".to_owned())),
            })
            .collect())
    }

    /// One DeleteRecords attempt through librdkafka's admin client; a failure
    /// of the whole request comes with its code.
    async fn delete_with_admin(
        &self,
        pending: &[(TopicPartition, i64)],
        left: Duration,
    ) -> Result<Vec<Deleted>, (ProviderError, Option<RDKafkaErrorCode>)> {
        const OPERATION: &str = "deleting records";
        let inner = &self.inner;
        let mut request = TopicPartitionList::with_capacity(pending.len());
        for (tp, offset) in pending {
            request
                .add_partition(&tp.topic, tp.partition)
                .set_offset(Offset::Offset(*offset))
                .map_err(|e| (inner.request_error(OPERATION, &e), None))?;
        }
        let options = AdminOptions::new().request_timeout(Some(left)).operation_timeout(Some(left));
        let admin = inner.admin().map_err(|e| (e, None))?;
        let response = admin
            .delete_records(&request, &options)
            .await
            .map_err(|e| (inner.request_error(OPERATION, &e), code_of(&e)))?;
        Ok(response
            .elements()
            .into_iter()
            .map(|elem| {
                let key = (elem.topic().to_owned(), elem.partition());
                let outcome = match (elem.error(), elem.offset()) {
                    (Ok(()), Offset::Offset(low)) => Ok(low),
                    (Ok(()), other) => Err((None, format!("the leader answered without a log start ({other:?})"))),
                    (Err(e), _) => {
                        let code = code_of(&e);
                        Err((code, code.map_or_else(|| e.to_string(), |c| c.to_string())))
                    }
                };
                (key, outcome)
            })
            .collect())
    }
}
