//! A query's plan for people: how many records matched of how many read,
//! each partition's first and last match, and the kept messages as a table
//! (partition, offset, time, key, value). Keys, values and headers come from
//! Kafka and are hostile: control characters are escaped, values cut to the
//! width, and binary shown as such, never written raw to a terminal.

use std::fmt::Write;

use serde_json::Value;

use super::QueryOutput;
use crate::step::view_settings::{ViewSettings, cell};
use crate::text_table::Table;
use crate::view_document::ViewDocument;

/// Characters of a key shown, at most.
const KEY_MOST: usize = 32;

/// The end of the step's line: `: 11 match(es) in 120 record(s) read, 11 shown`.
pub fn headline(output: &QueryOutput) -> String {
    format!(": {} match(es) in {} record(s) read, {} shown", output.count, output.scanned, output.messages.len())
}

/// A key or value as a cell: `-` when absent, `(binary, N bytes)` when not
/// text. A message is base64 as a whole when any part of it is binary (one
/// binary header will do), so each field is decoded and shown as text when it is.
fn shown_bytes(message: &Value, field: &str, most: usize) -> String {
    use base64::Engine as _;
    match &message[field] {
        Value::Null => "-".to_owned(),
        Value::String(text) if message["encoding"] == "base64" => {
            match base64::engine::general_purpose::STANDARD.decode(text) {
                Ok(bytes) => match String::from_utf8(bytes) {
                    Ok(text) => cell(&text, most),
                    Err(binary) => format!("(binary, {} bytes)", binary.as_bytes().len()),
                },
                Err(_) => "(binary)".to_owned(),
            }
        }
        Value::String(text) => cell(text, most),
        other => cell(&other.to_string(), most),
    }
}

/// A message's headers as one cell, `name=value` joined by `; `, each part
/// escaped like a value (`-` when there are none).
fn shown_headers(message: &Value, most: usize) -> String {
    use base64::Engine as _;
    let Some(headers) = message["headers"].as_object().filter(|h| !h.is_empty()) else { return "-".to_owned() };
    let text = |value: &Value| match value {
        Value::Null => "(null)".to_owned(),
        Value::String(text) if message["encoding"] == "base64" => {
            match base64::engine::general_purpose::STANDARD.decode(text).map(String::from_utf8) {
                Ok(Ok(text)) => text,
                _ => "(binary)".to_owned(),
            }
        }
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    let joined: Vec<String> = headers.iter().map(|(name, value)| format!("{name}={}", text(value))).collect();
    cell(&joined.join("; "), most)
}

pub fn plan(out: &mut ViewDocument, output: &QueryOutput, settings: &ViewSettings) {
    if let Some(downloaded) = &output.downloaded {
        let _ = writeln!(out, "  downloaded {} record(s) to {}", downloaded.records, cell(&downloaded.path, 200));
    }
    if output.partitions.is_empty() {
        return;
    }
    let mut matches = Table::new(vec!["PARTITION", "MATCHES", "FIRST-MATCH", "LAST-MATCH"]);
    for p in &output.partitions {
        matches.row(vec![
            p.partition.to_string(),
            p.matches.to_string(),
            p.first_match.to_string(),
            p.last_match.to_string(),
        ]);
    }
    out.indented_table(matches);
    if output.messages.is_empty() {
        return;
    }
    let header = ["PARTITION", "OFFSET", "TIME", "KEY", "VALUE"];
    let leading: Vec<[String; 4]> = output
        .messages
        .iter()
        .map(|message| {
            [
                message["partition"].to_string(),
                message["offset"].to_string(),
                message["timestamp"].as_i64().map_or_else(|| "-".to_owned(), |ms| settings.time(ms)),
                shown_bytes(message, "key", KEY_MOST),
            ]
        })
        .collect();
    // The value gets what the other columns, their gaps and the indent leave.
    let taken: usize = (0..4)
        .map(|i| leading.iter().map(|row| row[i].chars().count()).chain([header[i].len()]).max().unwrap_or(0))
        .sum();
    let value_most = settings.width.saturating_sub(taken + 2 * 4 + 2).max(16);
    let mut kept = Table::new(header.to_vec());
    if settings.headers {
        kept = Table::new([&header[..], &["HEADERS"]].concat());
    }
    for (message, [partition, offset, time, key]) in output.messages.iter().zip(leading) {
        let mut cells = vec![partition, offset, time, key, shown_bytes(message, "value", value_most)];
        if settings.headers {
            cells.push(shown_headers(message, value_most));
        }
        kept.row(cells);
    }
    let _ = writeln!(out, "  kept messages:");
    out.indented_table(kept);
    if output.count > output.messages.len() as u64 {
        let _ = writeln!(
            out,
            "  ({} more match(es) not kept: raise `limit`, or `download` them all)",
            output.count - output.messages.len() as u64
        );
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::steps::query_messages::PartitionMatches;

    fn output(messages: Vec<Value>) -> QueryOutput {
        QueryOutput {
            topic: "orders".into(),
            count: messages.len() as u64 + 3,
            scanned: 50,
            partitions: vec![PartitionMatches {
                partition: 1,
                first_match: 3,
                last_match: 9,
                matches: 2,
                runs: vec![],
                runs_cut: false,
            }],
            messages,
            downloaded: None,
            where_errors: 0,
            first_where_error: None,
            read_notes: Vec::new(),
        }
    }

    #[test]
    fn hostile_keys_and_values_are_escaped_cut_and_binary_is_named() {
        let messages = vec![
            json!({ "partition": 1, "offset": 3, "timestamp": 0, "key": "k\u{1b}[2J", "value": "<script>\u{7}", "headers": {} }),
            json!({ "partition": 1, "offset": 9, "timestamp": 0, "key": null, "value": "x".repeat(500), "headers": {} }),
            json!({ "partition": 1, "offset": 10, "timestamp": 0, "key": "AAEC", "value": "/w==", "encoding": "base64" }),
            json!({ "partition": 1, "offset": 11, "timestamp": 0, "key": "a2V5", "value": "/w==", "encoding": "base64" }),
        ];
        let mut doc = ViewDocument::default();
        plan(&mut doc, &output(messages), &ViewSettings { width: 100, ..ViewSettings::default() });
        let out = doc.text();
        assert!(!out.contains('\u{1b}') && !out.contains('\u{7}'), "{out}");
        assert!(out.contains("k\\u{1b}[2J") && out.contains("<script>\\u{7}"), "{out}");
        assert!(out.contains("(binary, 1 bytes)"), "{out}");
        assert!(out.contains("  key  ") || out.contains(" key "), "a text key beside a binary value is text: {out}");
        assert!(out.lines().all(|l| l.chars().count() <= 100), "{out}");
        assert!(out.contains("1970-01-01T00:00:00.000Z"), "{out}");
        assert!(out.contains("3 more match(es) not kept"), "{out}");
        assert_eq!(headline(&output(vec![])), ": 3 match(es) in 50 record(s) read, 0 shown");
    }
}
