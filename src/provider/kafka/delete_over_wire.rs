//! DeleteRecords over `wire` (plaintext listeners): partitions routed to
//! their leaders from metadata read for the attempt, one request per leader,
//! every leader at once. A partition whose leader moved or died answers a
//! passing error, and the caller asks again after fresh metadata, so a purge
//! follows a leader failover instead of waiting on the dead leader.

use std::collections::HashMap;
use std::time::Duration;

use rdkafka::error::RDKafkaErrorCode;

use super::Inner;
use super::wire::{self, Broker, Wire, delete_records, rd_code};
use crate::provider::{ProviderResult, TopicPartition};

/// Why a partition's records were not deleted: Kafka's code when there is
/// one (which tells whether asking again may help), and words for the record.
pub type Refusal = (Option<RDKafkaErrorCode>, String);

/// A partition, and its new log start or why it has none.
pub type Deleted = ((String, i32), Result<i64, Refusal>);

/// One leader's share of a request: partitions and the offsets to delete below.
type Share<'a> = (Broker, Vec<(&'a str, i32, i64)>);

impl Inner {
    /// Asks each partition's leader to delete below its offset, waiting at
    /// most `timeout` for the deletion; each partition's new log start or refusal.
    pub(super) fn delete_over_wire(
        &self,
        wire: &Wire,
        below: &[(TopicPartition, i64)],
        timeout: Duration,
    ) -> ProviderResult<Vec<Deleted>> {
        let mut topics: Vec<&str> = below.iter().map(|(tp, _)| tp.topic.as_str()).collect();
        topics.sort_unstable();
        topics.dedup();
        let metadata = self.metadata(Some(&topics))?;
        let mut outcomes = Vec::with_capacity(below.len());
        let mut shares: HashMap<i32, Share> = HashMap::new();
        for (tp, offset) in below {
            let key = (tp.topic.clone(), tp.partition);
            match metadata.leader_of(&tp.topic, tp.partition) {
                Some(leader) => shares.entry(leader.id).or_insert_with(|| (leader.clone(), Vec::new())).1.push((
                    &tp.topic,
                    tp.partition,
                    *offset,
                )),
                None => {
                    let known = metadata.topics.iter().any(|t| t.name == tp.topic && t.error == 0);
                    let code = if known {
                        RDKafkaErrorCode::LeaderNotAvailable
                    } else {
                        RDKafkaErrorCode::UnknownTopicOrPartition
                    };
                    outcomes.push((key, Err((Some(code), code.to_string()))));
                }
            }
        }
        let timeout_ms = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
        let answered =
            wire::per_broker(shares.into_values().map(|(b, share)| (b.clone(), share)).collect(), |broker, share| {
                let request = delete_records::request(&share, timeout_ms);
                let asked = share.iter().map(|(t, p, _)| ((*t).to_owned(), *p));
                Ok::<_, ()>(match wire.call(broker, delete_records::API, &request) {
                    Ok(response) => {
                        let mut answers: HashMap<(String, i32), Result<i64, Refusal>> =
                            delete_records::answer(response)
                                .into_iter()
                                .map(|a| {
                                    let outcome = match a.error {
                                        0 => Ok(a.value),
                                        code => Err(refusal(code)),
                                    };
                                    ((a.topic, a.partition), outcome)
                                })
                                .collect();
                        asked
                            .map(|key| {
                                let outcome = answers.remove(&key).unwrap_or_else(|| {
                                    Err((None, "the leader did not answer for this partition".to_owned()))
                                });
                                (key, outcome)
                            })
                            .collect::<Vec<_>>()
                    }
                    // The leader cannot be reached or did not answer in time: a
                    // passing failure, asked again of whichever broker leads next.
                    Err(failed) => {
                        let code = if failed.timed_out() {
                            RDKafkaErrorCode::RequestTimedOut
                        } else {
                            RDKafkaErrorCode::BrokerTransportFailure
                        };
                        asked.map(|key| (key, Err((Some(code), failed.to_string())))).collect()
                    }
                })
            })
            .unwrap_or_default();
        if answered.iter().flatten().any(|(_, outcome)| outcome.is_err()) {
            self.recent_metadata.forget();
        }
        outcomes.extend(answered.into_iter().flatten());
        Ok(outcomes)
    }
}

fn refusal(code: i16) -> Refusal {
    match rd_code(code) {
        Some(known) => (Some(known), known.to_string()),
        None => (None, format!("Kafka error code {code}")),
    }
}
