//! OffsetFetch v3: a group's committed offsets, asked of its coordinator.

use super::codec::{Decoder, Encoder, Malformed};
use super::connection::Api;
use super::{PartitionAnswer, by_topic, partition_answers};

pub const API: Api = Api { key: 9, version: 3, name: "OffsetFetch" };

pub fn request(group: &str, partitions: &[(&str, i32)]) -> Vec<u8> {
    let mut e = Encoder::new();
    e.string(group);
    let topics = by_topic(partitions.iter().map(|(t, p)| (*t, *p, ())));
    e.count(topics.len());
    for (topic, entries) in topics {
        e.string(topic).count(entries.len());
        for (partition, ()) in entries {
            e.i32(partition);
        }
    }
    e.into_bytes()
}

/// The group-level error code, and each partition's committed offset (`None`: nothing committed).
pub struct Answer {
    pub error: i16,
    pub partitions: Vec<PartitionAnswer<Option<i64>>>,
}

pub fn answer(body: &[u8]) -> Result<Answer, Malformed> {
    let mut d = Decoder::new(body);
    let _throttle_ms = d.i32()?;
    let partitions = partition_answers(&mut d, 16, |d| {
        let offset = d.i64()?;
        let _metadata = d.nullable_string()?;
        let error = d.i16()?;
        Ok((error, (offset >= 0).then_some(offset)))
    })?;
    let error = d.i16()?;
    Ok(Answer { error, partitions })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_names_the_group_and_its_partitions() {
        let body = request("g", &[("t", 0), ("t", 1)]);
        let mut d = Decoder::new(&body);
        assert_eq!(d.string().unwrap(), "g");
        assert_eq!(d.i32().unwrap(), 1);
        assert_eq!(d.string().unwrap(), "t");
        assert_eq!(d.i32().unwrap(), 2);
        assert_eq!((d.i32().unwrap(), d.i32().unwrap()), (0, 1));
    }

    #[test]
    fn the_answer_reads_offsets_nothing_committed_and_the_group_error() {
        let mut e = Encoder::new();
        e.i32(0).count(1).string("t").count(2);
        e.i32(0).i64(17).string("meta").i16(0);
        e.i32(1).i64(-1).null_string().i16(0);
        e.i16(14);
        let answer = answer(&e.into_bytes()).unwrap();
        assert_eq!(answer.error, 14);
        assert_eq!(answer.partitions[0].value, Some(17));
        assert_eq!(answer.partitions[1].value, None);
    }
}
