//! The CSV files of `compute_offsets: { strategy: { from_file: … } }`: rows of
//! `topic,partition,offset`, or `group,topic,partition,offset` as
//! `kafka-consumer-groups --reset-offsets --export` writes them for several
//! groups (then only the rows of the group being reset count).

use std::collections::BTreeMap;

use crate::provider::TopicPartition;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("offsets file line {line}: {reason}")]
pub struct OffsetsFileError {
    pub line: usize,
    pub reason: String,
}

/// The offsets a file gives `group`. Blank lines are skipped.
pub fn parse_offsets_file(text: &str, group: &str) -> Result<BTreeMap<TopicPartition, i64>, OffsetsFileError> {
    let mut offsets = BTreeMap::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let err = |reason: String| OffsetsFileError { line, reason };
        let cells: Vec<String> = raw.split(',').map(unquote).collect();
        let cells: Vec<&str> = cells.iter().map(String::as_str).collect();
        let (row_group, topic, partition, offset) = match cells.as_slice() {
            [""] => continue,
            [topic, partition, offset] => (None, *topic, *partition, *offset),
            [group, topic, partition, offset] => (Some(*group), *topic, *partition, *offset),
            _ => {
                return Err(err(format!(
                    "it is not topic,partition,offset or group,topic,partition,offset ({} cells)",
                    cells.len()
                )));
            }
        };
        let partition: i32 = partition
            .parse()
            .ok()
            .filter(|p| *p >= 0)
            .ok_or_else(|| err("the partition is not a partition number".to_owned()))?;
        let offset: i64 = offset
            .parse()
            .ok()
            .filter(|o| *o >= 0)
            .ok_or_else(|| err("the offset is not a number of 0 or more".to_owned()))?;
        // The reason only: a file's content is never quoted back.
        crate::kafka_names::check_topic(topic)
            .map_err(|e| err(format!("the topic is not a valid Kafka topic name: {}", e.reason)))?;
        if row_group.is_none_or(|g| g == group) {
            offsets.insert(TopicPartition::new(topic, partition), offset);
        }
    }
    Ok(offsets)
}

/// A CSV cell without its surrounding quotes: Apache's export quotes some
/// topic names (`"orders",0,12`). Topic names cannot contain commas or quotes,
/// so splitting on commas first is safe.
fn unquote(cell: &str) -> String {
    let cell = cell.trim();
    match cell.strip_prefix('"').and_then(|c| c.strip_suffix('"')) {
        Some(inner) => inner.replace("\"\"", "\""),
        None => cell.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_export_formats_read() {
        let plain = parse_offsets_file("orders,0,12\norders,1,7\n\n", "g").unwrap();
        assert_eq!(plain[&TopicPartition::new("orders", 1)], 7);
        let quoted = parse_offsets_file("\"orders\",0,12\n", "g").unwrap();
        assert_eq!(quoted[&TopicPartition::new("orders", 0)], 12, "Apache's export quotes some names");
        let grouped = parse_offsets_file("g,orders,0,12\nother,orders,0,99\n", "g").unwrap();
        assert_eq!(grouped.len(), 1);
        assert_eq!(grouped[&TopicPartition::new("orders", 0)], 12);
    }

    #[test]
    fn bad_rows_name_their_line() {
        assert_eq!(parse_offsets_file("orders,0,12\norders,x,1\n", "g").unwrap_err().line, 2);
        let e = parse_offsets_file("SECRET=hunter2\n", "g").unwrap_err().to_string();
        assert!(e.contains("line 1: it is not topic,partition,offset"), "{e}");
        assert!(!e.contains("hunter2"), "a file's content is never quoted: {e}");
        assert!(parse_offsets_file("orders,0,twelve\n", "g").unwrap_err().reason.contains("not a number"));
        assert!(parse_offsets_file("orders,0,-7\n", "g").unwrap_err().reason.contains("0 or more"));
        assert!(parse_offsets_file("bad topic,0,1\n", "g").unwrap_err().reason.contains("not a valid Kafka topic"));
    }
}
