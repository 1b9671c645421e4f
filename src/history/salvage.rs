//! Run records read straight from the bytes of a store's files, for a store
//! sled cannot open (`ebb history repair`). sled keeps a record's stored form
//! whole inside its log pages or blob files, so every zstd frame (and, from
//! stores older than compression, every plain JSON record) that decodes to an
//! `ebb.run/v1` record is a run; the same run may be found several times
//! (each save rewrites it), and the most finished copy wins. The run summaries
//! found the same way name the runs that existed, so a run whose record
//! cannot be read is reported lost, never silently dropped.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::Path;

use serde_json::Value;

use super::record::{RUN_FORMAT, RunRecord, RunState, RunSummary};

/// The four bytes every zstd frame starts with.
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
/// The largest record JSON read back (a 10,000-partition record is half a megabyte).
const MOST_JSON: u64 = 64 * 1024 * 1024;

/// What the files of a store still hold.
#[derive(Debug, Default)]
pub struct Found {
    /// Each readable run, its most finished copy.
    pub records: BTreeMap<String, RunRecord>,
    /// Every run a summary names.
    pub named: BTreeSet<String>,
}

impl Found {
    /// Adds what another scan found; the most finished copy of a run wins.
    pub fn absorb(&mut self, other: Found) {
        self.named.extend(other.named);
        for record in other.records.into_values() {
            keep_record(record, self);
        }
    }
}

/// Reads every file in sled's directory `dir` and its `blobs` folder.
pub fn scan(dir: &Path) -> Found {
    let mut found = Found::default();
    for (_, entry, _) in super::store_files::store_files(dir) {
        if let Ok(bytes) = std::fs::read(entry.path()) {
            scan_bytes(&bytes, &mut found);
        }
    }
    found
}

fn scan_bytes(bytes: &[u8], found: &mut Found) {
    for at in 0..bytes.len().saturating_sub(4) {
        let rest = &bytes[at..];
        if rest.starts_with(&ZSTD_MAGIC) {
            if let Some(value) = zstd_json(rest) {
                keep(value, found);
            }
        } else if rest.starts_with(b"{\"format\":\"") {
            if let Some(value) = first_json(rest) {
                keep(value, found);
            }
        } else if rest.starts_with(b"{\"id\":\"")
            && let Some(summary) = first_json(rest).and_then(|v| serde_json::from_value::<RunSummary>(v).ok())
        {
            found.named.insert(summary.id);
        }
    }
}

/// The JSON of the zstd frame that starts `bytes`, if it is one.
fn zstd_json(bytes: &[u8]) -> Option<Value> {
    let mut decoder = zstd::stream::read::Decoder::with_buffer(bytes).ok()?.single_frame();
    let mut json = Vec::new();
    (&mut decoder).take(MOST_JSON).read_to_end(&mut json).ok()?;
    serde_json::from_slice(&json).ok()
}

/// The first JSON value in `bytes`, whatever follows it.
fn first_json(bytes: &[u8]) -> Option<Value> {
    serde_json::Deserializer::from_slice(bytes).into_iter::<Value>().next()?.ok()
}

fn keep(value: Value, found: &mut Found) {
    if value["format"] != RUN_FORMAT {
        return;
    }
    let Ok(record) = serde_json::from_value::<RunRecord>(value) else { return };
    keep_record(record, found);
}

fn keep_record(record: RunRecord, found: &mut Found) {
    found.named.insert(record.id.clone());
    let better = found.records.get(&record.id).is_none_or(|kept| finish_rank(&record) > finish_rank(kept));
    if better {
        found.records.insert(record.id.clone(), record);
    }
}

/// How far a copy of a run got: finished beats running, then more steps, then the later end.
fn finish_rank(record: &RunRecord) -> (bool, usize, Option<chrono::DateTime<chrono::Utc>>) {
    let steps = record.apply.as_ref().map_or(0, |a| a.steps.len());
    (record.status != RunState::Running, steps, record.finished_at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::record::sample;
    use crate::history::record_body;

    #[test]
    fn records_are_found_among_other_bytes_and_the_most_finished_copy_wins() {
        let running = sample("nightly", RunState::Running, 1_763_686_800_000);
        let mut done = running.clone();
        done.finish(RunState::Succeeded, None);
        let other = sample("hourly", RunState::Failed, 1_763_686_900_000);
        let mut bytes = b"garbage\x00\x01".to_vec();
        bytes.extend(record_body::encode(&done).unwrap());
        bytes.extend(b"more noise");
        bytes.extend(record_body::encode(&running).unwrap());
        bytes.extend(serde_json::to_vec(&other).unwrap());
        bytes.extend(serde_json::to_vec(&sample("lost", RunState::Succeeded, 1_763_687_000_000).summary()).unwrap());
        let mut found = Found::default();
        scan_bytes(&bytes, &mut found);
        assert_eq!(found.records.len(), 2);
        assert_eq!(found.records[&done.id].status, RunState::Succeeded);
        assert_eq!(found.records[&other.id], other, "plain JSON records of older stores too");
        assert_eq!(found.named.len(), 3, "the summary names a run whose record is gone");
    }
}
