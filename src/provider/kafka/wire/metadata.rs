//! Metadata v4: brokers, and each topic's partitions with their leaders and
//! replicas. v4 is the first version that can ask not to create a missing
//! topic, which ebb never wants.

use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::{MetadataRequest, MetadataResponse};

use super::connection::Api;
use super::{Broker, name};

pub const API: Api = Api { version: 4, name: "Metadata" };

/// What ebb reads of a cluster's metadata, from either client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClusterMetadata {
    pub brokers: Vec<Broker>,
    pub topics: Vec<TopicMetadata>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicMetadata {
    pub name: String,
    /// Kafka's error code for the topic (3: it does not exist), 0 when none.
    pub error: i16,
    pub partitions: Vec<PartitionMetadata>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionMetadata {
    pub id: i32,
    /// -1 while no leader is elected.
    pub leader: i32,
    pub replicas: Vec<i32>,
}

impl ClusterMetadata {
    /// The leader of `topic`'s `partition` as a known broker, if it has one.
    pub fn leader_of(&self, topic: &str, partition: i32) -> Option<&Broker> {
        let topic = self.topics.iter().find(|t| t.name == topic && t.error == 0)?;
        let leader = topic.partitions.iter().find(|p| p.id == partition)?.leader;
        self.brokers.iter().find(|b| b.id == leader)
    }
}

/// The request for `topics`, or for every topic when `None`.
pub fn request(topics: Option<&[&str]>) -> MetadataRequest {
    let topics = topics
        .map(|names| names.iter().map(|n| MetadataRequestTopic::default().with_name(Some(name(n).into()))).collect());
    MetadataRequest::default().with_topics(topics).with_allow_auto_topic_creation(false)
}

pub fn answer(response: MetadataResponse) -> ClusterMetadata {
    let brokers = response
        .brokers
        .into_iter()
        .map(|b| Broker { id: b.node_id.0, address: super::address(&b.host, b.port) })
        .collect();
    let topics = response
        .topics
        .into_iter()
        .map(|t| TopicMetadata {
            name: t.name.map(|n| n.0.to_string()).unwrap_or_default(),
            error: t.error_code,
            partitions: t
                .partitions
                .into_iter()
                .map(|p| PartitionMetadata {
                    id: p.partition_index,
                    leader: p.leader_id.0,
                    replicas: p.replica_nodes.into_iter().map(|r| r.0).collect(),
                })
                .collect(),
        })
        .collect();
    ClusterMetadata { brokers, topics }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::metadata_response::{
        MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
    };

    #[test]
    fn the_request_never_creates_topics() {
        assert!(!request(None).allow_auto_topic_creation);
        assert_eq!(request(None).topics, None, "every topic");
        let named = request(Some(&["t"])).topics.unwrap();
        assert_eq!(named[0].name.as_ref().unwrap().0.as_str(), "t");
    }

    #[test]
    fn the_answer_reads_brokers_leaders_replicas_and_topic_errors() {
        let response = MetadataResponse::default()
            .with_brokers(vec![
                MetadataResponseBroker::default().with_node_id(1.into()).with_host(name("127.0.0.1")).with_port(9092),
                MetadataResponseBroker::default().with_node_id(2.into()).with_host(name("::1")).with_port(9093),
            ])
            .with_topics(vec![
                MetadataResponseTopic::default().with_name(Some(name("orders").into())).with_partitions(vec![
                    MetadataResponsePartition::default()
                        .with_partition_index(0)
                        .with_leader_id(2.into())
                        .with_replica_nodes(vec![2.into(), 1.into()]),
                ]),
                MetadataResponseTopic::default().with_name(Some(name("missing").into())).with_error_code(3),
            ]);
        let metadata = answer(response);
        assert_eq!(metadata.brokers[0], Broker { id: 1, address: "127.0.0.1:9092".into() });
        assert_eq!(metadata.brokers[1].address, "[::1]:9093");
        assert_eq!(metadata.topics[0].partitions, [PartitionMetadata { id: 0, leader: 2, replicas: vec![2, 1] }]);
        assert_eq!((metadata.topics[1].name.as_str(), metadata.topics[1].error), ("missing", 3));
        assert_eq!(metadata.leader_of("orders", 0).map(|b| b.id), Some(2));
        assert_eq!(metadata.leader_of("missing", 0), None);
    }
}
