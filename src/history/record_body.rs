//! A run record as the store keeps it: its JSON, compressed with zstd.
//!
//! A reset or purge over 10,000 partitions is a record of about half a
//! megabyte of JSON, and an apply saves it after every mutating step. sled
//! keeps values inline in its tree nodes and writes values over a quarter of
//! its 512 KiB segment as separate blob files that it reads back and
//! checksums when a store is reopened, so uncompressed records made each of
//! those saves cost more than the step. The per-partition rows repeat the same
//! keys and names, and compress about twentyfold, to a few tens of kilobytes.
//!
//! Stores written before compression hold plain JSON; a record is read as
//! zstd when it starts with zstd's frame magic, and as JSON otherwise.

use serde_json::Value;

use super::record::RunRecord;
use super::store::StoreError;

/// zstd's level 3 (its default): most of the ratio at a fraction of the time
/// of the higher levels.
const LEVEL: i32 = 3;

/// The four bytes every zstd frame starts with.
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// The stored form of `record`.
pub fn encode(record: &RunRecord) -> Result<Vec<u8>, StoreError> {
    let json = serde_json::to_vec(record).map_err(|e| StoreError::Io(e.to_string()))?;
    zstd::bulk::compress(&json, LEVEL).map_err(|e| StoreError::Io(format!("compressing run {}: {e}", record.id)))
}

/// The JSON of the record stored as `bytes` under run `id`.
pub fn decode(id: &str, bytes: &[u8]) -> Result<Value, StoreError> {
    let corrupt = |e: &dyn std::fmt::Display| StoreError::Corrupt(format!("run {id}: {e}"));
    if bytes.starts_with(&ZSTD_MAGIC) {
        let json = zstd::stream::decode_all(bytes).map_err(|e| corrupt(&e))?;
        serde_json::from_slice(&json).map_err(|e| corrupt(&e))
    } else {
        serde_json::from_slice(bytes).map_err(|e| corrupt(&e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::record::{RunState, sample};

    #[test]
    fn a_record_reads_back_from_its_compressed_form_and_from_plain_json() {
        let record = sample("nightly", RunState::Succeeded, 1_763_686_800_000);
        let stored = encode(&record).unwrap();
        assert!(stored.starts_with(&ZSTD_MAGIC));
        let back: RunRecord = serde_json::from_value(decode(&record.id, &stored).unwrap()).unwrap();
        assert_eq!(back, record);

        let plain = serde_json::to_vec(&record).unwrap();
        let back: RunRecord = serde_json::from_value(decode(&record.id, &plain).unwrap()).unwrap();
        assert_eq!(back, record, "stores written before compression still read");
    }

    #[test]
    fn many_partitions_compress_many_times_over() {
        let mut record = sample("nightly", RunState::Succeeded, 1_763_686_800_000);
        for partition in 0..2_000 {
            let row = serde_json::json!({ "group": "orders-g", "topic": "orders", "partition": partition,
                "current": 1_000 + partition, "target": 2_000 + partition });
            record.params.insert(format!("orders-{partition}"), row);
        }
        let json = serde_json::to_vec(&record).unwrap().len();
        let stored = encode(&record).unwrap().len();
        assert!(stored * 5 < json, "{json} bytes of JSON stored as {stored}");
    }

    #[test]
    fn a_damaged_record_is_reported_as_corrupt_naming_the_run() {
        let mut stored = encode(&sample("nightly", RunState::Succeeded, 1_763_686_800_000)).unwrap();
        stored.truncate(stored.len() / 2);
        let err = decode("01DAMAGED", &stored).unwrap_err();
        assert!(matches!(err, StoreError::Corrupt(_)) && err.to_string().contains("01DAMAGED"), "{err}");
        let err = decode("01DAMAGED", b"not json").unwrap_err();
        assert!(matches!(err, StoreError::Corrupt(_)), "{err}");
    }
}
