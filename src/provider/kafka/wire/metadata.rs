//! Metadata v4: brokers, and each topic's partitions with their leaders and
//! replicas. v4 is the first version that can ask not to create a missing
//! topic, which ebb never wants.

use super::Broker;
use super::codec::{Decoder, Encoder, Malformed};
use super::connection::Api;

pub const API: Api = Api { key: 3, version: 4, name: "Metadata" };

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

/// The request for `topics`, or for every topic when `None`.
pub fn request(topics: Option<&[&str]>) -> Vec<u8> {
    let mut e = Encoder::new();
    match topics {
        None => e.i32(-1),
        Some(names) => {
            e.count(names.len());
            for name in names {
                e.string(name);
            }
            &mut e
        }
    };
    e.i8(0);
    e.into_bytes()
}

pub fn answer(body: &[u8]) -> Result<ClusterMetadata, Malformed> {
    let mut d = Decoder::new(body);
    let _throttle_ms = d.i32()?;
    let mut brokers = Vec::new();
    for _ in 0..d.count(12)? {
        let id = d.i32()?;
        let host = d.string()?;
        let port = d.i32()?;
        let _rack = d.nullable_string()?;
        brokers.push(Broker { id, address: super::address(&host, port) });
    }
    let _cluster_id = d.nullable_string()?;
    let _controller = d.i32()?;
    let mut topics = Vec::new();
    for _ in 0..d.count(9)? {
        let error = d.i16()?;
        let name = d.string()?;
        let _internal = d.i8()?;
        let mut partitions = Vec::new();
        for _ in 0..d.count(18)? {
            let _error = d.i16()?;
            let id = d.i32()?;
            let leader = d.i32()?;
            let replicas = (0..d.count(4)?).map(|_| d.i32()).collect::<Result<Vec<_>, _>>()?;
            for _ in 0..d.count(4)? {
                d.i32()?;
            }
            partitions.push(PartitionMetadata { id, leader, replicas });
        }
        topics.push(TopicMetadata { name, error, partitions });
    }
    Ok(ClusterMetadata { brokers, topics })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_never_creates_topics() {
        assert_eq!(request(None), [0xff, 0xff, 0xff, 0xff, 0]);
        assert_eq!(request(Some(&["t"])), [0, 0, 0, 1, 0, 1, b't', 0]);
    }

    #[test]
    fn the_answer_reads_brokers_leaders_replicas_and_topic_errors() {
        let mut e = Encoder::new();
        e.i32(0).count(2);
        e.i32(1).string("127.0.0.1").i32(9092).null_string();
        e.i32(2).string("::1").i32(9093).string("rack-b");
        e.string("cluster").i32(1).count(2);
        e.i16(0).string("orders").i8(0).count(1);
        e.i16(0).i32(0).i32(2).count(2).i32(2).i32(1).count(1).i32(2);
        e.i16(3).string("missing").i8(0).count(0);
        let metadata = answer(&e.into_bytes()).unwrap();
        assert_eq!(metadata.brokers[0], Broker { id: 1, address: "127.0.0.1:9092".into() });
        assert_eq!(metadata.brokers[1].address, "[::1]:9093");
        assert_eq!(metadata.topics[0].partitions, [PartitionMetadata { id: 0, leader: 2, replicas: vec![2, 1] }]);
        assert_eq!((metadata.topics[1].name.as_str(), metadata.topics[1].error), ("missing", 3));
    }
}
