//! DeleteRecords v1: moves partitions' log start forward, asked of each
//! partition's leader; each partition answers its new log start or an error.

use kafka_protocol::messages::delete_records_request::{DeleteRecordsPartition, DeleteRecordsTopic};
use kafka_protocol::messages::{DeleteRecordsRequest, DeleteRecordsResponse};

use super::connection::Api;
use super::{PartitionAnswer, by_topic, name, partition_answers};

pub const API: Api = Api { version: 1, name: "DeleteRecords" };

/// The request deleting below each partition's offset, waiting at most `timeout_ms`.
pub fn request(below: &[(&str, i32, i64)], timeout_ms: i32) -> DeleteRecordsRequest {
    let topics = by_topic(below.iter().copied())
        .into_iter()
        .map(|(topic, entries)| {
            DeleteRecordsTopic::default().with_name(name(topic).into()).with_partitions(
                entries
                    .into_iter()
                    .map(|(p, offset)| DeleteRecordsPartition::default().with_partition_index(p).with_offset(offset))
                    .collect(),
            )
        })
        .collect();
    DeleteRecordsRequest::default().with_topics(topics).with_timeout_ms(timeout_ms)
}

/// Each partition's new log start or error code.
pub fn answer(response: DeleteRecordsResponse) -> Vec<PartitionAnswer<i64>> {
    let topics = response.topics.into_iter().map(|t| (t.name.0.to_string(), t.partitions));
    partition_answers(topics, |p| (p.partition_index, p.error_code, p.low_watermark))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::delete_records_response::{DeleteRecordsPartitionResult, DeleteRecordsTopicResult};

    #[test]
    fn the_request_groups_partitions_by_topic_and_the_answer_gives_log_starts() {
        let request = request(&[("t", 0, 5), ("u", 1, 7), ("t", 2, 9)], 3_000);
        assert_eq!(request.timeout_ms, 3_000);
        let asked: Vec<(String, Vec<(i32, i64)>)> = request
            .topics
            .iter()
            .map(|t| (t.name.0.to_string(), t.partitions.iter().map(|p| (p.partition_index, p.offset)).collect()))
            .collect();
        assert_eq!(asked, [("t".to_owned(), vec![(0, 5), (2, 9)]), ("u".to_owned(), vec![(1, 7)])]);

        let result = |p, low, error| {
            DeleteRecordsPartitionResult::default()
                .with_partition_index(p)
                .with_low_watermark(low)
                .with_error_code(error)
        };
        let answers = answer(DeleteRecordsResponse::default().with_topics(vec![
            DeleteRecordsTopicResult::default()
                .with_name(name("t").into())
                .with_partitions(vec![result(0, 5, 0), result(2, -1, 6)]),
        ]));
        assert_eq!(answers[0], PartitionAnswer { topic: "t".into(), partition: 0, error: 0, value: 5 });
        assert_eq!((answers[1].partition, answers[1].error), (2, 6));
    }
}
