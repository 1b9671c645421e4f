//! The provider's batched offset calls over `wire` (plaintext listeners): the
//! partitions are routed to their leaders, or the group's coordinator, from
//! one metadata request, and each broker gets one request with all of its
//! partitions, every broker at once.

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use rdkafka::error::RDKafkaErrorCode;

use super::connect_failure::ConnectFailure;
use super::wire::metadata::ClusterMetadata;
use super::wire::{self, Broker, CallFailed, PartitionAnswer, Wire, find_coordinator, rd_code};
use super::{Failed, Inner};
use crate::provider::{CommittedOffset, OffsetDeleted, ProviderError, TopicPartition};

impl Inner {
    /// One Metadata request to the first bootstrap server that answers.
    pub(super) fn metadata_over_wire(&self, wire: &Wire, topics: Option<&[&str]>) -> Result<ClusterMetadata, Failed> {
        const OPERATION: &str = "reading cluster metadata";
        let mut last = None;
        let (mut closed_unanswered, mut answered_in_tls) = (true, false);
        for address in self.bootstrap.split(',').map(str::trim).filter(|a| !a.is_empty()) {
            let bootstrap = Broker { id: -1, address: address.to_owned() };
            match wire.call(&bootstrap, wire::metadata::API, &wire::metadata::request(topics)) {
                Ok(response) => {
                    let metadata = wire::metadata::answer(response);
                    self.connected.store(true, Ordering::Release);
                    return Ok(metadata);
                }
                Err(failed) => {
                    answered_in_tls |= matches!(failed, CallFailed::AnsweredInTls { .. });
                    closed_unanswered &= failed.closed_unanswered();
                    last = Some(failed);
                }
            }
        }
        let first_connection = !self.connected.load(Ordering::Acquire);
        Err(match last {
            // No bootstrap server answered plain Kafka, and one answered in TLS: certain.
            Some(_) if answered_in_tls && first_connection => {
                Failed { code: None, error: self.refused(ConnectFailure::ListenerWantsTls) }
            }
            // Every bootstrap server took the connection and closed it at the
            // first request: a listener that wants SASL (or TLS) first, or
            // brokers restarting. Retried like any transport failure until the
            // timeout, then reported as what it most likely is.
            Some(_) if closed_unanswered && first_connection => Failed {
                code: Some(RDKafkaErrorCode::BrokerTransportFailure),
                error: self.refused(ConnectFailure::ClosedWithoutAnswer),
            },
            Some(failed) => self.call_failed(OPERATION, &failed),
            None => self.partition_failed(OPERATION, "bootstrap_servers (empty)", 8),
        })
    }

    /// Checks that every partition exists and lists its offset at each of
    /// `timestamps` (or -2 / -1 for log start / end): one metadata request, then
    /// one ListOffsets per leader and timestamp, all at once. One list per timestamp.
    pub(super) fn offsets_over_wire(
        &self,
        wire: &Wire,
        partitions: &[TopicPartition],
        timestamps: &[i64],
    ) -> Result<Vec<Vec<Option<i64>>>, Failed> {
        const OPERATION: &str = "listing offsets";
        let mut topics: Vec<&str> = partitions.iter().map(|tp| tp.topic.as_str()).collect();
        topics.sort_unstable();
        topics.dedup();
        let mut metadata = self.metadata(Some(&topics)).map_err(|error| Failed { code: None, error })?;
        if !holds_every_partition(&metadata, partitions) {
            // Metadata reused from a moment ago may predate added partitions:
            // read it afresh before calling a partition unknown.
            self.recent_metadata.forget();
            metadata = self.metadata(Some(&topics)).map_err(|error| Failed { code: None, error })?;
        }
        let brokers: HashMap<i32, &Broker> = metadata.brokers.iter().map(|b| (b.id, b)).collect();
        let mut leaders: HashMap<(&str, i32), i32> = HashMap::new();
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for topic in metadata.topics.iter().filter(|t| t.error == 0) {
            counts.insert(&topic.name, topic.partitions.len());
            for p in &topic.partitions {
                leaders.insert((&topic.name, p.id), p.leader);
            }
        }
        let mut shares: HashMap<i32, Vec<(&str, i32)>> = HashMap::new();
        for tp in partitions {
            let Some(count) = counts.get(tp.topic.as_str()) else {
                let error = ProviderError::UnknownTopic { cluster: self.cluster.clone(), topic: tp.topic.clone() };
                return Err(Failed { code: None, error });
            };
            match leaders.get(&(tp.topic.as_str(), tp.partition)) {
                None => {
                    let error = ProviderError::UnknownPartition {
                        cluster: self.cluster.clone(),
                        topic: tp.topic.clone(),
                        partition: tp.partition,
                        count: *count,
                    };
                    return Err(Failed { code: None, error });
                }
                Some(id) if brokers.contains_key(id) => shares.entry(*id).or_default().push((&tp.topic, tp.partition)),
                Some(_) => return Err(self.partition_failed(OPERATION, &tp.to_string(), 5)),
            }
        }
        // One request per leader and timestamp: (leader, (timestamp index, partitions)).
        type Request<'a> = (Broker, (usize, Vec<(&'a str, i32)>));
        let requests: Vec<Request> = shares
            .into_iter()
            .flat_map(|(id, share)| {
                let broker = brokers[&id];
                (0..timestamps.len()).map(move |i| (broker.clone(), (i, share.clone())))
            })
            .collect();
        let answers = wire::per_broker(requests, |broker, (i, share)| {
            let request = wire::list_offsets::request(&share, timestamps[i]);
            let response =
                wire.call(broker, wire::list_offsets::API, &request).map_err(|e| self.call_failed(OPERATION, &e))?;
            let answers = wire::list_offsets::answer(response);
            Ok((i, answers))
        })?;
        let mut found: Vec<HashMap<(String, i32), Option<i64>>> = vec![HashMap::new(); timestamps.len()];
        for (i, answers) in answers {
            for answer in answers {
                self.check_answer(OPERATION, &answer)?;
                found[i].insert((answer.topic, answer.partition), answer.value);
            }
        }
        found
            .iter()
            .map(|found| {
                partitions
                    .iter()
                    .map(|tp| {
                        found
                            .get(&(tp.topic.clone(), tp.partition))
                            .copied()
                            .ok_or_else(|| self.partition_failed(OPERATION, &format!("{tp} (no answer)"), 5))
                    })
                    .collect()
            })
            .collect()
    }

    /// `group`'s committed offsets on `partitions`; partitions with none are
    /// left out. `stable`: none of them is pending in a transaction (the
    /// coordinator answers "unstable", retried, until it is settled).
    pub(super) fn committed_over_wire(
        &self,
        wire: &Wire,
        group: &str,
        partitions: &[TopicPartition],
        stable: bool,
    ) -> Result<Vec<CommittedOffset>, Failed> {
        const OPERATION: &str = "fetching committed offsets";
        let Some(first) = partitions.first() else { return Ok(Vec::new()) };
        let coordinator = self.coordinator(wire, group, &first.topic)?;
        let asked: Vec<(&str, i32)> = partitions.iter().map(|tp| (tp.topic.as_str(), tp.partition)).collect();
        let api = if stable { wire::offset_fetch::STABLE } else { wire::offset_fetch::API };
        let response = wire
            .call(&coordinator, api, &wire::offset_fetch::request(group, &asked, stable))
            .map_err(|e| self.coordinator_failed(wire, group, OPERATION, &e))?;
        let answer = wire::offset_fetch::answer(response);
        if answer.error != 0 {
            wire.remember_coordinator(group, None);
            return Err(self.partition_failed(OPERATION, &format!("group {group}"), answer.error));
        }
        let mut offsets = Vec::with_capacity(answer.partitions.len());
        for partition in answer.partitions {
            if partition.error != 0 {
                wire.remember_coordinator(group, None);
            }
            self.check_answer(OPERATION, &partition)?;
            if let Some(offset) = partition.value {
                offsets.push(CommittedOffset { topic: partition.topic, partition: partition.partition, offset });
            }
        }
        Ok(offsets)
    }

    /// Commits `offsets` for `group` in one request to its coordinator.
    pub(super) fn commit_over_wire(
        &self,
        wire: &Wire,
        group: &str,
        offsets: &[(TopicPartition, i64)],
    ) -> Result<(), Failed> {
        const OPERATION: &str = "committing offsets";
        let Some((first, _)) = offsets.first() else { return Ok(()) };
        let coordinator = self.coordinator(wire, group, &first.topic)?;
        let asked: Vec<(&str, i32, i64)> =
            offsets.iter().map(|(tp, offset)| (tp.topic.as_str(), tp.partition, *offset)).collect();
        let response = wire
            .call(&coordinator, wire::offset_commit::API, &wire::offset_commit::request(group, &asked))
            .map_err(|e| self.coordinator_failed(wire, group, OPERATION, &e))?;
        let answers = wire::offset_commit::answer(response);
        if answers.len() != offsets.len() {
            return Err(self.malformed(
                OPERATION,
                &coordinator,
                wire::Malformed(format!("{} results for {} partitions", answers.len(), offsets.len())),
            ));
        }
        for answer in &answers {
            if answer.error != 0 {
                wire.remember_coordinator(group, None);
            }
            self.check_answer(OPERATION, answer)?;
        }
        Ok(())
    }

    /// Deletes `group`'s committed offsets on `partitions` in one request to its
    /// coordinator. A partition the coordinator refuses comes back with the
    /// reason; a refusal of the whole group is an error.
    pub(super) fn delete_offsets_over_wire(
        &self,
        wire: &Wire,
        group: &str,
        partitions: &[TopicPartition],
    ) -> Result<Vec<OffsetDeleted>, Failed> {
        const OPERATION: &str = "deleting committed offsets";
        let Some(first) = partitions.first() else { return Ok(Vec::new()) };
        let coordinator = self.coordinator(wire, group, &first.topic)?;
        let asked: Vec<(&str, i32)> = partitions.iter().map(|tp| (tp.topic.as_str(), tp.partition)).collect();
        let response = wire
            .call(&coordinator, wire::offset_delete::API, &wire::offset_delete::request(group, &asked))
            .map_err(|e| self.coordinator_failed(wire, group, OPERATION, &e))?;
        let answer = wire::offset_delete::answer(response);
        if answer.error != 0 {
            wire.remember_coordinator(group, None);
            return Err(self.partition_failed(OPERATION, &format!("group {group}"), answer.error));
        }
        Ok(answer
            .partitions
            .into_iter()
            .map(|p| {
                let refused = (p.error != 0).then(|| match rd_code(p.error) {
                    Some(code) => format!("{}: {code}", error_name(code)),
                    None => format!("Kafka error code {}", p.error),
                });
                OffsetDeleted { topic: p.topic, partition: p.partition, refused }
            })
            .collect())
    }

    /// The broker coordinating `group`: remembered, or asked of any broker.
    /// `topic` is one the caller is about to name; reading its metadata lists the brokers.
    fn coordinator(&self, wire: &Wire, group: &str, topic: &str) -> Result<Broker, Failed> {
        const OPERATION: &str = "finding the group coordinator";
        if let Some(known) = wire.known_coordinator(group) {
            return Ok(known);
        }
        let metadata = self.metadata(Some(&[topic])).map_err(|error| Failed { code: None, error })?;
        let Some(any) = metadata.brokers.iter().min_by_key(|b| b.id) else {
            return Err(self.partition_failed(OPERATION, "the cluster", 8));
        };
        let response = wire
            .call(any, find_coordinator::API, &find_coordinator::request(group))
            .map_err(|e| self.call_failed(OPERATION, &e))?;
        let answer = find_coordinator::answer(response);
        if answer.error != 0 {
            let subject = match answer.message {
                Some(message) => format!("group {group} ({message})"),
                None => format!("group {group}"),
            };
            return Err(self.partition_failed(OPERATION, &subject, answer.error));
        }
        let coordinator = Broker { id: answer.node, address: answer.address };
        wire.remember_coordinator(group, Some(coordinator.clone()));
        Ok(coordinator)
    }

    /// The coordinator did not answer: it may have died and the group moved
    /// to another broker, so the next try asks where the group is now.
    fn coordinator_failed(&self, wire: &Wire, group: &str, operation: &'static str, failed: &CallFailed) -> Failed {
        wire.remember_coordinator(group, None);
        self.call_failed(operation, failed)
    }

    fn check_answer<T>(&self, operation: &'static str, answer: &PartitionAnswer<T>) -> Result<(), Failed> {
        if answer.error == 0 {
            return Ok(());
        }
        Err(self.partition_failed(operation, &format!("{}:{}", answer.topic, answer.partition), answer.error))
    }

    /// A partition or group the broker answered with error `code`.
    pub(super) fn partition_failed(&self, operation: &'static str, subject: &str, code: i16) -> Failed {
        self.recent_metadata.forget();
        match rd_code(code) {
            Some(code) => Failed { code: Some(code), error: self.code_error(operation, subject, code) },
            None => Failed {
                code: None,
                error: ProviderError::Request {
                    cluster: self.cluster.clone(),
                    operation,
                    detail: format!("{subject}: Kafka error code {code}"),
                    retryable: false,
                },
            },
        }
    }

    /// A request that got no answer: a time-out, or a broker that cannot be reached (retried).
    pub(super) fn call_failed(&self, operation: &'static str, failed: &CallFailed) -> Failed {
        self.recent_metadata.forget();
        let code = match failed {
            CallFailed::Malformed { .. } | CallFailed::AnsweredInTls { .. } => None,
            _ if failed.timed_out() => Some(RDKafkaErrorCode::RequestTimedOut),
            CallFailed::Io { .. } => Some(RDKafkaErrorCode::BrokerTransportFailure),
        };
        Failed { code, error: self.classify(operation, code, failed.to_string()) }
    }

    fn malformed(&self, operation: &'static str, broker: &Broker, error: wire::Malformed) -> Failed {
        self.call_failed(operation, &CallFailed::Malformed { api: operation, broker: broker.id, error })
    }
}

/// Whether every partition of a topic `metadata` knows is among its partitions
/// (numbered from 0); topics it does not know are left to the caller.
fn holds_every_partition(metadata: &ClusterMetadata, partitions: &[TopicPartition]) -> bool {
    let counts: HashMap<&str, usize> = metadata.topics.iter().map(|t| (t.name.as_str(), t.partitions.len())).collect();
    partitions
        .iter()
        .all(|tp| counts.get(tp.topic.as_str()).is_none_or(|n| usize::try_from(tp.partition).is_ok_and(|p| p < *n)))
}

/// A code's name as librdkafka's admin results give it (`GROUP_SUBSCRIBED_TO_TOPIC`),
/// so a refusal reads the same over either client.
fn error_name(code: RDKafkaErrorCode) -> String {
    let mut name = String::new();
    for (i, c) in format!("{code:?}").chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            name.push('_');
        }
        name.push(c.to_ascii_uppercase());
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_names_read_as_librdkafka_gives_them() {
        assert_eq!(error_name(RDKafkaErrorCode::GroupSubscribedToTopic), "GROUP_SUBSCRIBED_TO_TOPIC");
        assert_eq!(error_name(RDKafkaErrorCode::NotCoordinator), "NOT_COORDINATOR");
    }
}
