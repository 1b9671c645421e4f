//! Fetch v11: records of several partitions of one topic from their leader,
//! read_committed or not. v11 is served by every Kafka from 2.3 to 4.x; ebb
//! asks full fetches (no fetch session), so each request names every
//! partition it wants.

use bytes::Bytes;
use kafka_protocol::messages::FetchRequest;
use kafka_protocol::messages::FetchResponse;
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};

use super::connection::Api;
use super::name;

pub const API: Api = Api { version: 11, name: "Fetch" };

/// How long the broker may wait for data before answering; ebb reads below
/// the log end, so this is only waited out where nothing is left to read.
const MAX_WAIT_MS: i32 = 100;

/// One partition asked: where to read from, and how many bytes at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Asked {
    pub partition: i32,
    pub offset: i64,
    pub max_bytes: i32,
}

pub fn request(topic: &str, asked: &[Asked], max_bytes: i32, read_committed: bool) -> FetchRequest {
    let partitions = asked
        .iter()
        .map(|a| {
            FetchPartition::default()
                .with_partition(a.partition)
                .with_fetch_offset(a.offset)
                .with_partition_max_bytes(a.max_bytes)
        })
        .collect();
    FetchRequest::default()
        .with_replica_id((-1).into())
        .with_max_wait_ms(MAX_WAIT_MS)
        .with_min_bytes(1)
        .with_max_bytes(max_bytes)
        .with_isolation_level(i8::from(read_committed))
        .with_session_id(0)
        .with_session_epoch(-1)
        .with_topics(vec![FetchTopic::default().with_topic(name(topic).into()).with_partitions(partitions)])
}

/// One partition's part of a fetch answer.
#[derive(Debug, Clone, Default)]
pub struct Fetched {
    pub partition: i32,
    pub error: i16,
    pub high_watermark: i64,
    pub last_stable_offset: i64,
    /// Transactions aborted in the answer's range: producer id and first offset.
    pub aborted: Vec<(i64, i64)>,
    /// Record batches, the last one possibly cut short.
    pub records: Bytes,
}

/// The answer's top-level error code and its partitions of `topic`.
pub fn answer(response: FetchResponse, topic: &str) -> (i16, Vec<Fetched>) {
    let mut fetched = Vec::new();
    for answered in response.responses.into_iter().filter(|t| t.topic.0.as_str() == topic) {
        for p in answered.partitions {
            fetched.push(Fetched {
                partition: p.partition_index,
                error: p.error_code,
                high_watermark: p.high_watermark,
                last_stable_offset: p.last_stable_offset,
                aborted: p
                    .aborted_transactions
                    .unwrap_or_default()
                    .into_iter()
                    .map(|t| (t.producer_id.0, t.first_offset))
                    .collect(),
                records: p.records.unwrap_or_default(),
            });
        }
    }
    (response.error_code, fetched)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::fetch_response::{AbortedTransaction, FetchableTopicResponse, PartitionData};

    #[test]
    fn the_request_reads_committed_or_not_without_a_session() {
        let asked = [Asked { partition: 3, offset: 40, max_bytes: 1 << 20 }];
        let request = request("orders", &asked, 8 << 20, true);
        assert_eq!((request.isolation_level, request.session_id, request.session_epoch), (1, 0, -1));
        assert_eq!(super::request("orders", &asked, 8 << 20, false).isolation_level, 0);
        assert_eq!((request.replica_id.0, request.min_bytes, request.max_bytes), (-1, 1, 8 << 20));
        let partition = &request.topics[0].partitions[0];
        assert_eq!(request.topics[0].topic.0.as_str(), "orders");
        assert_eq!((partition.partition, partition.fetch_offset, partition.partition_max_bytes), (3, 40, 1 << 20));
    }

    #[test]
    fn the_answer_keeps_only_the_topic_asked() {
        let partition = PartitionData::default()
            .with_partition_index(1)
            .with_high_watermark(9)
            .with_last_stable_offset(7)
            .with_aborted_transactions(Some(vec![
                AbortedTransaction::default().with_producer_id(5.into()).with_first_offset(2),
            ]))
            .with_records(Some(Bytes::from_static(b"batches")));
        let response = FetchResponse::default().with_responses(vec![
            FetchableTopicResponse::default().with_topic(name("orders").into()).with_partitions(vec![partition]),
            FetchableTopicResponse::default()
                .with_topic(name("other").into())
                .with_partitions(vec![PartitionData::default()]),
        ]);
        let (error, fetched) = answer(response, "orders");
        assert_eq!((error, fetched.len()), (0, 1));
        assert_eq!((fetched[0].partition, fetched[0].high_watermark, fetched[0].last_stable_offset), (1, 9, 7));
        assert_eq!(fetched[0].aborted, [(5, 2)]);
        assert_eq!(&fetched[0].records[..], b"batches");
    }
}
