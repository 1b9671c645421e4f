//! OffsetCommit v3: commits a group's offsets through its coordinator, as an
//! administrator does for a group with no live members (generation -1, no
//! member id), the way Apache Kafka's `--reset-offsets --execute` does.

use super::codec::{Decoder, Encoder, Malformed};
use super::connection::Api;
use super::{PartitionAnswer, by_topic, partition_answers};

pub const API: Api = Api { key: 8, version: 3, name: "OffsetCommit" };

pub fn request(group: &str, offsets: &[(&str, i32, i64)]) -> Vec<u8> {
    let mut e = Encoder::new();
    // Generation, member id, retention (-1: the broker's own).
    e.string(group).i32(-1).string("").i64(-1);
    let topics = by_topic(offsets.iter().copied());
    e.count(topics.len());
    for (topic, entries) in topics {
        e.string(topic).count(entries.len());
        for (partition, offset) in entries {
            e.i32(partition).i64(offset).null_string();
        }
    }
    e.into_bytes()
}

/// Each partition's result code.
pub fn answer(body: &[u8]) -> Result<Vec<PartitionAnswer<()>>, Malformed> {
    let mut d = Decoder::new(body);
    let _throttle_ms = d.i32()?;
    partition_answers(&mut d, 6, |d| Ok((d.i16()?, ())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_commits_outside_any_generation() {
        let body = request("g", &[("t", 2, 40)]);
        let mut d = Decoder::new(&body);
        assert_eq!(d.string().unwrap(), "g");
        assert_eq!((d.i32().unwrap(), d.string().unwrap(), d.i64().unwrap()), (-1, String::new(), -1));
        assert_eq!((d.i32().unwrap(), d.string().unwrap(), d.i32().unwrap()), (1, "t".to_owned(), 1));
        assert_eq!((d.i32().unwrap(), d.i64().unwrap(), d.nullable_string().unwrap()), (2, 40, None));
    }

    #[test]
    fn the_answer_reads_each_partition_code() {
        let mut e = Encoder::new();
        e.i32(0).count(1).string("t").count(2).i32(0).i16(0).i32(1).i16(25);
        let answers = answer(&e.into_bytes()).unwrap();
        assert_eq!(answers.iter().map(|a| (a.partition, a.error)).collect::<Vec<_>>(), [(0, 0), (1, 25)]);
    }
}
