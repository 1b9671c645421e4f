//! ListOffsets v2: the offset of each partition at a time, or its log start
//! (`-2`) or log end (`-1`), asked of the partition's leader.

use super::codec::{Decoder, Encoder, Malformed};
use super::connection::Api;
use super::{PartitionAnswer, by_topic, partition_answers};

pub const API: Api = Api { key: 2, version: 2, name: "ListOffsets" };

pub const EARLIEST: i64 = -2;
pub const LATEST: i64 = -1;

/// The request for `partitions`, each asked at `timestamp`; read_uncommitted, so
/// the log end is the high watermark, as Apache Kafka's tools report it.
pub fn request(partitions: &[(&str, i32)], timestamp: i64) -> Vec<u8> {
    let mut e = Encoder::new();
    e.i32(-1).i8(0);
    let topics = by_topic(partitions.iter().map(|(t, p)| (*t, *p, ())));
    e.count(topics.len());
    for (topic, entries) in topics {
        e.string(topic).count(entries.len());
        for (partition, ()) in entries {
            e.i32(partition).i64(timestamp);
        }
    }
    e.into_bytes()
}

/// Each partition's offset (`None`: no record at or after the time) or error code.
pub fn answer(body: &[u8]) -> Result<Vec<PartitionAnswer<Option<i64>>>, Malformed> {
    let mut d = Decoder::new(body);
    let _throttle_ms = d.i32()?;
    partition_answers(&mut d, 22, |d| {
        let error = d.i16()?;
        let _timestamp = d.i64()?;
        let offset = d.i64()?;
        Ok((error, (offset >= 0).then_some(offset)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_groups_partitions_by_topic() {
        let body = request(&[("a", 0), ("b", 3), ("a", 1)], EARLIEST);
        let mut d = Decoder::new(&body);
        assert_eq!((d.i32().unwrap(), d.i8().unwrap()), (-1, 0));
        assert_eq!(d.i32().unwrap(), 2);
        assert_eq!(d.string().unwrap(), "a");
        assert_eq!(d.i32().unwrap(), 2);
        assert_eq!((d.i32().unwrap(), d.i64().unwrap()), (0, -2));
        assert_eq!((d.i32().unwrap(), d.i64().unwrap()), (1, -2));
        assert_eq!(d.string().unwrap(), "b");
        assert_eq!(d.i32().unwrap(), 1);
        assert_eq!((d.i32().unwrap(), d.i64().unwrap()), (3, -2));
    }

    #[test]
    fn the_answer_gives_offsets_errors_and_no_offset() {
        let mut e = Encoder::new();
        e.i32(0).count(1).string("a").count(3);
        e.i32(0).i16(0).i64(-1).i64(42);
        e.i32(1).i16(6).i64(-1).i64(-1);
        e.i32(2).i16(0).i64(-1).i64(-1);
        let answers = answer(&e.into_bytes()).unwrap();
        assert_eq!(answers[0], PartitionAnswer { topic: "a".into(), partition: 0, error: 0, value: Some(42) });
        assert_eq!((answers[1].error, answers[1].value), (6, None));
        assert_eq!((answers[2].error, answers[2].value), (0, None));
        assert!(answer(&[0, 0, 0, 0, 0, 0, 0, 1]).is_err(), "a topic announced but missing");
    }
}
