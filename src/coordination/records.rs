//! The records on the coordination topics. Keys say what a record is about
//! (`replica/<id>`, `claim/<partition>`, `cursor/<runbook>` on the state
//! topic; a run's id on the runs topic), values are JSON, and a null value
//! (a tombstone) removes the key when the topic is compacted.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::history::RunRecord;

/// A replica says it is alive, where it answers, and what it owns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplicaRecord {
    pub replica: String,
    /// Random per process start: tells a restarted replica from its earlier life.
    pub incarnation: String,
    /// Where its API answers (runs are forwarded there).
    pub address: String,
    pub seen_at: DateTime<Utc>,
    pub owned: Vec<i32>,
    /// Records of the coordination topics it has yet to read.
    pub lag: i64,
    pub version: String,
}

/// An owner took a partition: terms only grow, one per takeover.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimRecord {
    pub partition: i32,
    pub replica: String,
    pub incarnation: String,
    pub term: u64,
    pub at: DateTime<Utc>,
}

/// The last slot of a runbook's schedule that fired, and its run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CursorRecord {
    pub runbook: String,
    pub slot: DateTime<Utc>,
    pub run_id: String,
}

/// A group or topic a run is changing, held for the deployment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LockRecord {
    pub cluster: String,
    /// `group:<name>` or `topic:<name>`.
    pub target: String,
    pub run_id: String,
    pub replica: String,
    pub at: DateTime<Utc>,
}

/// What the state topic holds under one key.
#[derive(Debug, Clone, PartialEq)]
pub enum StateRecord {
    Replica(ReplicaRecord),
    Claim(ClaimRecord),
    Cursor(CursorRecord),
    Lock(LockRecord),
}

/// The state topic's key of a lock of `target` (`group:<name>`, `topic:<name>`) on `cluster`.
pub fn lock_key(cluster: &str, target: &str) -> String {
    format!("lock/{cluster}/{target}")
}

impl StateRecord {
    pub fn key(&self) -> String {
        match self {
            StateRecord::Replica(r) => format!("replica/{}", r.replica),
            StateRecord::Claim(c) => format!("claim/{}", c.partition),
            StateRecord::Cursor(c) => format!("cursor/{}", c.runbook),
            StateRecord::Lock(l) => lock_key(&l.cluster, &l.target),
        }
    }

    pub fn value(&self) -> Vec<u8> {
        let json = match self {
            StateRecord::Replica(r) => serde_json::to_vec(r),
            StateRecord::Claim(c) => serde_json::to_vec(c),
            StateRecord::Cursor(c) => serde_json::to_vec(c),
            StateRecord::Lock(l) => serde_json::to_vec(l),
        };
        json.expect("state records serialize")
    }

    /// Reads a record back; `None` for keys this ebb does not know (a newer
    /// one wrote them) or values it cannot read.
    pub fn parse(key: &str, value: &[u8]) -> Option<StateRecord> {
        let (kind, _) = key.split_once('/')?;
        match kind {
            "replica" => serde_json::from_slice(value).ok().map(StateRecord::Replica),
            "claim" => serde_json::from_slice(value).ok().map(StateRecord::Claim),
            "cursor" => serde_json::from_slice(value).ok().map(StateRecord::Cursor),
            "lock" => serde_json::from_slice(value).ok().map(StateRecord::Lock),
            _ => None,
        }
    }
}

/// A run's record as written to the runs topic, with who wrote it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunEnvelope {
    pub replica: String,
    pub incarnation: String,
    /// The writer's term of ownership of the run's partition.
    pub term: u64,
    pub record: RunRecord,
}

/// A run record larger than this is written in parts (keys `<id>#<n>`), all
/// in one transaction, then the run's own key names how many.
pub const PART_BYTES: usize = 512 * 1024;

/// What a run's own key holds: the record whole, or how many parts carry it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunValue {
    Whole(Box<RunEnvelope>),
    Parts { count: usize, sha256: String },
}

/// The key-value pairs that write `envelope`: its parts, if any, then its own key.
pub fn run_writes(envelope: &RunEnvelope) -> Vec<(String, Vec<u8>)> {
    let id = &envelope.record.id;
    let whole = serde_json::to_vec(&RunValue::Whole(Box::new(envelope.clone()))).expect("run records serialize");
    if whole.len() <= PART_BYTES {
        return vec![(id.clone(), whole)];
    }
    let body = serde_json::to_vec(envelope).expect("run records serialize");
    let parts: Vec<&[u8]> = body.chunks(PART_BYTES).collect();
    let mut writes: Vec<(String, Vec<u8>)> =
        parts.iter().enumerate().map(|(n, part)| (format!("{id}#{n}"), part.to_vec())).collect();
    let head = RunValue::Parts { count: parts.len(), sha256: crate::engine::sha256_hex(&body) };
    writes.push((id.clone(), serde_json::to_vec(&head).expect("serializes")));
    writes
}

/// Puts a run record back together from its own key's value and the parts
/// read before it; `Err` says what is missing or wrong.
pub fn read_run(value: &[u8], part: impl Fn(usize) -> Option<Vec<u8>>) -> Result<RunEnvelope, String> {
    match serde_json::from_slice::<RunValue>(value).map_err(|e| format!("unreadable run value: {e}"))? {
        RunValue::Whole(envelope) => Ok(*envelope),
        RunValue::Parts { count, sha256 } => {
            let mut body = Vec::new();
            for n in 0..count {
                body.extend(part(n).ok_or_else(|| format!("part {n} of {count} is missing"))?);
            }
            if crate::engine::sha256_hex(&body) != sha256 {
                return Err("its parts do not add up to what was written".to_owned());
            }
            serde_json::from_slice(&body).map_err(|e| format!("unreadable run record: {e}"))
        }
    }
}

/// The part number a runs-topic key names, if it is a part's key.
pub fn part_of(key: &str) -> Option<(&str, usize)> {
    let (id, n) = key.rsplit_once('#')?;
    Some((id, n.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::RunState;
    use crate::history::record::sample;

    fn envelope(record: RunRecord) -> RunEnvelope {
        RunEnvelope { replica: "r1".into(), incarnation: "i".into(), term: 3, record }
    }

    #[test]
    fn a_small_run_is_one_write_and_reads_back() {
        let small = envelope(sample("nightly", RunState::Running, 1_763_686_800_000));
        let writes = run_writes(&small);
        assert_eq!(writes.len(), 1);
        assert_eq!(writes[0].0, small.record.id);
        assert_eq!(read_run(&writes[0].1, |_| None).unwrap(), small);
    }

    #[test]
    fn a_large_run_is_written_in_parts_and_put_back_together() {
        let mut record = sample("nightly", RunState::Succeeded, 1_763_686_800_000);
        record.reason = Some("x".repeat(3 * PART_BYTES / 2));
        let large = envelope(record);
        let writes = run_writes(&large);
        assert_eq!(writes.len(), 3, "two parts and the head");
        assert!(writes.iter().all(|(_, v)| v.len() <= PART_BYTES));
        let parts: std::collections::BTreeMap<usize, Vec<u8>> =
            writes.iter().filter_map(|(k, v)| part_of(k).map(|(_, n)| (n, v.clone()))).collect();
        let (head_key, head) = writes.last().unwrap();
        assert_eq!(head_key, &large.record.id);
        assert_eq!(read_run(head, |n| parts.get(&n).cloned()).unwrap(), large);
        let missing = read_run(head, |n| (n == 0).then(|| parts[&0].clone())).unwrap_err();
        assert!(missing.contains("part 1 of 2 is missing"), "{missing}");
        let wrong = read_run(head, |n| Some(parts[&(1 - n)].clone())).unwrap_err();
        assert!(wrong.contains("do not add up"), "{wrong}");
    }

    #[test]
    fn state_records_round_trip_and_unknown_keys_are_ignored() {
        let cursor = StateRecord::Cursor(CursorRecord {
            runbook: "nightly".into(),
            slot: DateTime::from_timestamp(1_763_686_800, 0).unwrap(),
            run_id: "r".into(),
        });
        assert_eq!(cursor.key(), "cursor/nightly");
        assert_eq!(StateRecord::parse(&cursor.key(), &cursor.value()), Some(cursor));
        assert_eq!(StateRecord::parse("lease/x", b"{}"), None);
        assert_eq!(StateRecord::parse("claim/1", b"not json"), None);
    }
}
