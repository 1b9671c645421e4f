//! DeleteRecords: moving partitions' log start forward. librdkafka looks up
//! each partition's leader and sends one request per leader with all of that
//! leader's partitions. Asking again for the same offsets is harmless, so
//! partitions that failed for a passing reason (a leader moving) are asked
//! again until the cluster's timeout is spent; the rest keep their error.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use tokio::time::Instant;

use rdkafka::admin::AdminOptions;
use rdkafka::{Offset, TopicPartitionList};

use crate::provider::{ProviderResult, RecordsDeleted, TopicPartition};

use super::KafkaProvider;
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
            let mut request = TopicPartitionList::with_capacity(pending.len());
            for (tp, offset) in &pending {
                request
                    .add_partition(&tp.topic, tp.partition)
                    .set_offset(Offset::Offset(*offset))
                    .map_err(|e| inner.request_error(OPERATION, &e))?;
            }
            // Each attempt gets what is left of the timeout, and a retry only fits if time
            // remains after the answer: the whole call stays within the cluster's timeout.
            let left = deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(100));
            let options = AdminOptions::new().request_timeout(Some(left)).operation_timeout(Some(left));
            let outcome = inner.admin()?.delete_records(&request, &options).await;
            let may_retry = backoff.allows_another();
            let response = match outcome {
                Ok(response) => response,
                Err(e) if may_retry && code_of(&e).is_some_and(is_retryable_code) => {
                    tokio::time::sleep(backoff.next_pause().unwrap_or_default()).await;
                    continue;
                }
                Err(e) => return Err(inner.request_error(OPERATION, &e)),
            };
            let asked: HashMap<(String, i32), i64> =
                pending.iter().map(|(tp, offset)| ((tp.topic.clone(), tp.partition), *offset)).collect();
            let mut again = Vec::new();
            for elem in response.elements() {
                let key = (elem.topic().to_owned(), elem.partition());
                let outcome = match (elem.error(), elem.offset()) {
                    (Ok(()), Offset::Offset(low)) => Ok(low),
                    (Ok(()), other) => Err(format!("the leader answered without a log start ({other:?})")),
                    (Err(e), _) => {
                        let code = code_of(&e);
                        if may_retry
                            && code.is_some_and(is_retryable_code)
                            && let Some(offset) = asked.get(&key)
                        {
                            again.push((TopicPartition::new(key.0, key.1), *offset));
                            continue;
                        }
                        Err(code.map_or_else(|| e.to_string(), |c| c.to_string()))
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
}
