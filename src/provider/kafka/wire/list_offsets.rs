//! ListOffsets v2: the offset of each partition at a time, or its log start
//! (`-2`) or log end (`-1`), asked of the partition's leader.

use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::{ListOffsetsRequest, ListOffsetsResponse};

use super::connection::Api;
use super::{PartitionAnswer, by_topic, name, partition_answers};

pub const API: Api = Api { version: 2, name: "ListOffsets" };

pub const EARLIEST: i64 = -2;
pub const LATEST: i64 = -1;

/// The request for `partitions`, each asked at `timestamp`; read_uncommitted, so
/// the log end is the high watermark, as Apache Kafka's tools report it.
pub fn request(partitions: &[(&str, i32)], timestamp: i64) -> ListOffsetsRequest {
    let topics = by_topic(partitions.iter().map(|(t, p)| (*t, *p, ())))
        .into_iter()
        .map(|(topic, entries)| {
            ListOffsetsTopic::default().with_name(name(topic).into()).with_partitions(
                entries
                    .into_iter()
                    .map(|(p, ())| ListOffsetsPartition::default().with_partition_index(p).with_timestamp(timestamp))
                    .collect(),
            )
        })
        .collect();
    ListOffsetsRequest::default().with_replica_id((-1).into()).with_isolation_level(0).with_topics(topics)
}

/// Each partition's offset (`None`: no record at or after the time) or error code.
pub fn answer(response: ListOffsetsResponse) -> Vec<PartitionAnswer<Option<i64>>> {
    let topics = response.topics.into_iter().map(|t| (t.name.0.to_string(), t.partitions));
    partition_answers(topics, |p| (p.partition_index, p.error_code, (p.offset >= 0).then_some(p.offset)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::list_offsets_response::{ListOffsetsPartitionResponse, ListOffsetsTopicResponse};

    #[test]
    fn the_request_groups_partitions_by_topic() {
        let request = request(&[("a", 0), ("b", 3), ("a", 1)], EARLIEST);
        assert_eq!((request.replica_id.0, request.isolation_level), (-1, 0));
        let asked: Vec<(String, Vec<(i32, i64)>)> = request
            .topics
            .iter()
            .map(|t| (t.name.0.to_string(), t.partitions.iter().map(|p| (p.partition_index, p.timestamp)).collect()))
            .collect();
        assert_eq!(asked, [("a".to_owned(), vec![(0, -2), (1, -2)]), ("b".to_owned(), vec![(3, -2)])]);
    }

    #[test]
    fn the_answer_gives_offsets_errors_and_no_offset() {
        let partition = |p, error, offset| {
            ListOffsetsPartitionResponse::default().with_partition_index(p).with_error_code(error).with_offset(offset)
        };
        let answers = answer(ListOffsetsResponse::default().with_topics(vec![
            ListOffsetsTopicResponse::default().with_name(name("a").into()).with_partitions(vec![
                partition(0, 0, 42),
                partition(1, 6, -1),
                partition(2, 0, -1),
            ]),
        ]));
        assert_eq!(answers[0], PartitionAnswer { topic: "a".into(), partition: 0, error: 0, value: Some(42) });
        assert_eq!((answers[1].error, answers[1].value), (6, None));
        assert_eq!((answers[2].error, answers[2].value), (0, None));
    }
}
