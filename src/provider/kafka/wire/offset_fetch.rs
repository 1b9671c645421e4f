//! OffsetFetch: a group's committed offsets, asked of its coordinator; v3, or
//! v7 with `require_stable` (Kafka 2.5 and later), where the coordinator
//! answers "unstable" while a transaction's offsets to the group are pending.

use kafka_protocol::messages::offset_fetch_request::OffsetFetchRequestTopic;
use kafka_protocol::messages::{OffsetFetchRequest, OffsetFetchResponse};

use super::connection::Api;
use super::{PartitionAnswer, by_topic, name, partition_answers};

pub const API: Api = Api { version: 3, name: "OffsetFetch" };
pub const STABLE: Api = Api { version: 7, name: "OffsetFetch" };

/// The request; `stable` asks for `require_stable`, which only `STABLE` carries.
pub fn request(group: &str, partitions: &[(&str, i32)], stable: bool) -> OffsetFetchRequest {
    let topics = by_topic(partitions.iter().map(|(t, p)| (*t, *p, ())))
        .into_iter()
        .map(|(topic, entries)| {
            OffsetFetchRequestTopic::default()
                .with_name(name(topic).into())
                .with_partition_indexes(entries.into_iter().map(|(p, ())| p).collect())
        })
        .collect();
    OffsetFetchRequest::default()
        .with_group_id(name(group).into())
        .with_topics(Some(topics))
        .with_require_stable(stable)
}

/// The group-level error code, and each partition's committed offset (`None`: nothing committed).
pub struct Answer {
    pub error: i16,
    pub partitions: Vec<PartitionAnswer<Option<i64>>>,
}

pub fn answer(response: OffsetFetchResponse) -> Answer {
    let topics = response.topics.into_iter().map(|t| (t.name.0.to_string(), t.partitions));
    let partitions = partition_answers(topics, |p| {
        (p.partition_index, p.error_code, (p.committed_offset >= 0).then_some(p.committed_offset))
    });
    Answer { error: response.error_code, partitions }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::offset_fetch_response::{OffsetFetchResponsePartition, OffsetFetchResponseTopic};

    #[test]
    fn the_request_names_the_group_and_its_partitions() {
        let request = request("g", &[("t", 0), ("t", 1)], false);
        assert_eq!(request.group_id.0.as_str(), "g");
        assert!(!request.require_stable);
        assert!(super::request("g", &[("t", 0)], true).require_stable);
        let topics = request.topics.unwrap();
        assert_eq!((topics[0].name.0.as_str(), topics[0].partition_indexes.as_slice()), ("t", &[0, 1][..]));
    }

    #[test]
    fn the_answer_reads_offsets_nothing_committed_and_the_group_error() {
        let partition =
            |p, offset| OffsetFetchResponsePartition::default().with_partition_index(p).with_committed_offset(offset);
        let answer = answer(
            OffsetFetchResponse::default()
                .with_topics(vec![
                    OffsetFetchResponseTopic::default()
                        .with_name(name("t").into())
                        .with_partitions(vec![partition(0, 17), partition(1, -1)]),
                ])
                .with_error_code(14),
        );
        assert_eq!(answer.error, 14);
        assert_eq!(answer.partitions[0].value, Some(17));
        assert_eq!(answer.partitions[1].value, None);
    }
}
