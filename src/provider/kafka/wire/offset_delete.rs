//! OffsetDelete v0: removes a group's committed offsets on some partitions,
//! asked of its coordinator. The coordinator refuses the partitions of a
//! topic a live member is subscribed to, each with its own error code.

use kafka_protocol::messages::offset_delete_request::{OffsetDeleteRequestPartition, OffsetDeleteRequestTopic};
use kafka_protocol::messages::{OffsetDeleteRequest, OffsetDeleteResponse};

use super::connection::Api;
use super::{PartitionAnswer, by_topic, name, partition_answers};

pub const API: Api = Api { version: 0, name: "OffsetDelete" };

pub fn request(group: &str, partitions: &[(&str, i32)]) -> OffsetDeleteRequest {
    let topics = by_topic(partitions.iter().map(|(t, p)| (*t, *p, ())))
        .into_iter()
        .map(|(topic, entries)| {
            OffsetDeleteRequestTopic::default().with_name(name(topic).into()).with_partitions(
                entries
                    .into_iter()
                    .map(|(p, ())| OffsetDeleteRequestPartition::default().with_partition_index(p))
                    .collect(),
            )
        })
        .collect();
    OffsetDeleteRequest::default().with_group_id(name(group).into()).with_topics(topics)
}

/// The group-level error code, and each partition's.
pub struct Answer {
    pub error: i16,
    pub partitions: Vec<PartitionAnswer<()>>,
}

pub fn answer(response: OffsetDeleteResponse) -> Answer {
    let topics = response.topics.into_iter().map(|t| (t.name.0.to_string(), t.partitions));
    Answer {
        error: response.error_code,
        partitions: partition_answers(topics, |p| (p.partition_index, p.error_code, ())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::offset_delete_response::{OffsetDeleteResponsePartition, OffsetDeleteResponseTopic};

    #[test]
    fn the_request_names_the_group_and_the_answer_gives_each_partition_code() {
        let request = request("g", &[("t", 0), ("t", 2)]);
        assert_eq!(request.group_id.0.as_str(), "g");
        let asked: Vec<i32> = request.topics[0].partitions.iter().map(|p| p.partition_index).collect();
        assert_eq!((request.topics[0].name.0.as_str(), asked), ("t", vec![0, 2]));

        let partition = |p, e| OffsetDeleteResponsePartition::default().with_partition_index(p).with_error_code(e);
        let answer = answer(OffsetDeleteResponse::default().with_topics(vec![
            OffsetDeleteResponseTopic::default()
                .with_name(name("t").into())
                .with_partitions(vec![partition(0, 0), partition(2, 86)]),
        ]));
        assert_eq!(answer.error, 0);
        assert_eq!(answer.partitions.iter().map(|a| (a.partition, a.error)).collect::<Vec<_>>(), [(0, 0), (2, 86)]);
    }
}
