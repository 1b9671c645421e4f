//! OffsetCommit v3: commits a group's offsets through its coordinator, as an
//! administrator does for a group with no live members (generation -1, no
//! member id), the way Apache Kafka's `--reset-offsets --execute` does.

use kafka_protocol::messages::offset_commit_request::{OffsetCommitRequestPartition, OffsetCommitRequestTopic};
use kafka_protocol::messages::{OffsetCommitRequest, OffsetCommitResponse};
use kafka_protocol::protocol::StrBytes;

use super::connection::Api;
use super::{PartitionAnswer, by_topic, name, partition_answers};

pub const API: Api = Api { version: 3, name: "OffsetCommit" };

pub fn request(group: &str, offsets: &[(&str, i32, i64)]) -> OffsetCommitRequest {
    let topics = by_topic(offsets.iter().copied())
        .into_iter()
        .map(|(topic, entries)| {
            OffsetCommitRequestTopic::default().with_name(name(topic).into()).with_partitions(
                entries
                    .into_iter()
                    .map(|(p, offset)| {
                        OffsetCommitRequestPartition::default()
                            .with_partition_index(p)
                            .with_committed_offset(offset)
                            .with_committed_metadata(None)
                    })
                    .collect(),
            )
        })
        .collect();
    // Generation, member id, retention (-1: the broker's own).
    OffsetCommitRequest::default()
        .with_group_id(name(group).into())
        .with_generation_id_or_member_epoch(-1)
        .with_member_id(StrBytes::default())
        .with_retention_time_ms(-1)
        .with_topics(topics)
}

/// Each partition's result code.
pub fn answer(response: OffsetCommitResponse) -> Vec<PartitionAnswer<()>> {
    let topics = response.topics.into_iter().map(|t| (t.name.0.to_string(), t.partitions));
    partition_answers(topics, |p| (p.partition_index, p.error_code, ()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::offset_commit_response::{OffsetCommitResponsePartition, OffsetCommitResponseTopic};

    #[test]
    fn the_request_commits_outside_any_generation() {
        let request = request("g", &[("t", 2, 40)]);
        assert_eq!(request.group_id.0.as_str(), "g");
        assert_eq!((request.generation_id_or_member_epoch, request.member_id.as_str()), (-1, ""));
        assert_eq!(request.retention_time_ms, -1);
        let partition = &request.topics[0].partitions[0];
        assert_eq!((partition.partition_index, partition.committed_offset), (2, 40));
        assert_eq!(partition.committed_metadata, None);
    }

    #[test]
    fn the_answer_reads_each_partition_code() {
        let partition = |p, e| OffsetCommitResponsePartition::default().with_partition_index(p).with_error_code(e);
        let answers = answer(OffsetCommitResponse::default().with_topics(vec![
            OffsetCommitResponseTopic::default()
                .with_name(name("t").into())
                .with_partitions(vec![partition(0, 0), partition(1, 25)]),
        ]));
        assert_eq!(answers.iter().map(|a| (a.partition, a.error)).collect::<Vec<_>>(), [(0, 0), (1, 25)]);
    }
}
