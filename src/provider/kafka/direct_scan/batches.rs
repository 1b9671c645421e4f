//! Record batches (message format v2) as a Fetch answer holds them: cut into
//! whole batches, each checked (CRC) and its attributes read by the
//! `kafka-protocol` crate, its records decompressed by the crate's gzip,
//! snappy, lz4 and zstd codecs, and then walked here, one record at a time,
//! into one lent `Message`.
//!
//! Why the records are walked here rather than by the crate's decoder: it keeps
//! a record's headers in a map, so two headers with one name (which Kafka
//! allows, and Apache's consumer shows) would come out as one; it refuses
//! header names that are not UTF-8; and it allocates every record before the
//! first is seen. The walk keeps every header, lends each record in turn and
//! checks every length against the bytes left.

use std::collections::{HashSet, VecDeque};

use bytes::Bytes;
use kafka_protocol::compression::{self, Decompressor};
use kafka_protocol::records::{BatchDecodeInfo, Compression, RecordBatchDecoder, TimestampType};

use crate::provider::Message;

/// The fixed part of a v2 batch, before its records.
const HEADER: usize = 61;
/// Where a batch's size ends and where its magic byte is (the same in the
/// older message formats, so an old record is told apart before it is read).
const SIZE_END: usize = 12;
const MAGIC: usize = 16;

/// A batch that cannot be read, with why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable(pub String);

/// The whole batches at the front of `records`, each as its own bytes; a batch
/// cut short at the end (the answer's size limit fell inside it) is left out.
pub fn whole_batches(records: &Bytes) -> Result<Vec<Bytes>, Unreadable> {
    let mut batches = Vec::new();
    let mut at = 0usize;
    while records.len() - at >= SIZE_END {
        let size = i32::from_be_bytes(records[at + 8..at + 12].try_into().expect("4 bytes"));
        let size = usize::try_from(size).map_err(|_| Unreadable(format!("a batch of {size} bytes")))?;
        let end = at + SIZE_END + size;
        if end > records.len() {
            break;
        }
        let batch = records.slice(at..end);
        if batch.len() <= MAGIC || batch[MAGIC] != 2 {
            let magic = batch.get(MAGIC).copied().unwrap_or_default();
            let offset = base_offset(&batch);
            return Err(Unreadable(format!(
                "message format v{magic} at offset {offset}: records written before Kafka 0.11 are not read directly"
            )));
        }
        if batch.len() < HEADER {
            return Err(Unreadable(format!("a batch of {} bytes, shorter than its header", batch.len())));
        }
        batches.push(batch);
        at = end;
    }
    Ok(batches)
}

fn base_offset(batch: &[u8]) -> i64 {
    batch.get(..8).map_or(-1, |b| i64::from_be_bytes(b.try_into().expect("8 bytes")))
}

/// The offset after `batch`'s last record (also after records compaction removed).
pub fn next_offset(batch: &[u8]) -> Result<i64, Unreadable> {
    let delta = i32::from_be_bytes(batch[23..27].try_into().expect("4 bytes"));
    let base = base_offset(batch);
    base.checked_add(i64::from(delta))
        .and_then(|last| last.checked_add(1))
        .filter(|_| delta >= 0)
        .ok_or_else(|| Unreadable(format!("batch at offset {base}: a last offset delta of {delta}")))
}

fn max_timestamp(batch: &[u8]) -> i64 {
    i64::from_be_bytes(batch[35..43].try_into().expect("8 bytes"))
}

/// Read-committed filtering of one partition's answer, as Kafka's own
/// consumer does it: a producer's batches are skipped from the first offset
/// of a transaction the answer lists as aborted up to that transaction's
/// abort marker; control batches (the markers) are never shown.
pub struct Aborted {
    /// Aborted transactions not yet reached, by first offset.
    pending: VecDeque<(i64, i64)>,
    producers: HashSet<i64>,
}

impl Aborted {
    pub fn new(mut aborted: Vec<(i64, i64)>) -> Self {
        aborted.sort_by_key(|(_, first)| *first);
        Aborted { pending: aborted.into(), producers: HashSet::new() }
    }

    /// Whether `batch`'s records are to be skipped; updates the aborted producers.
    fn skips(&mut self, info: &BatchDecodeInfo, last_offset: i64, abort_marker: bool) -> bool {
        if info.producer_id < 0 {
            return info.control;
        }
        while self.pending.front().is_some_and(|(_, first)| *first <= last_offset) {
            let (producer, _) = self.pending.pop_front().expect("a front");
            self.producers.insert(producer);
        }
        if abort_marker {
            self.producers.remove(&info.producer_id);
            return true;
        }
        info.control || (info.transactional && self.producers.contains(&info.producer_id))
    }
}

/// What showing a batch's records came to.
pub struct Shown {
    pub records: u64,
    /// The visitor asked to stop.
    pub stopped: bool,
}

/// Shows `visit` each record of `batch` at an offset in `from..end`, lent in
/// `lent` (whose topic is set), unless read-committed filtering skips it.
pub fn show(
    batch: &Bytes,
    from: i64,
    end: i64,
    aborted: &mut Aborted,
    lent: &mut Message,
    visit: &mut dyn FnMut(&Message) -> bool,
) -> Result<Shown, Unreadable> {
    let info = RecordBatchDecoder::decode_batch_info(&mut batch.clone())
        .map_err(|e| Unreadable(format!("batch at offset {}: {e:#}", base_offset(batch))))?
        .pop()
        .ok_or_else(|| Unreadable(format!("batch at offset {}: no header", base_offset(batch))))?;
    let last_offset = next_offset(batch)? - 1;
    let shown = Shown { records: 0, stopped: false };
    if last_offset < from || info.min_offset >= end {
        return Ok(shown);
    }
    let records = decompressed(info.compression, batch.slice(HEADER..))
        .map_err(|e| Unreadable(format!("batch at offset {}: {e}", info.min_offset)))?;
    let abort_marker = info.control && is_abort_marker(&records);
    if aborted.skips(&info, last_offset, abort_marker) {
        return Ok(shown);
    }
    walk(&info, max_timestamp(batch), &records, from, end, lent, visit)
}

fn decompressed(compression: Compression, mut raw: Bytes) -> Result<Bytes, String> {
    let keep = |b: &mut Bytes| Ok(std::mem::take(b));
    let done = match compression {
        Compression::None => return Ok(raw),
        Compression::Gzip => <compression::Gzip as Decompressor<Bytes>>::decompress(&mut raw, keep),
        Compression::Snappy => <compression::Snappy as Decompressor<Bytes>>::decompress(&mut raw, keep),
        Compression::Lz4 => <compression::Lz4 as Decompressor<Bytes>>::decompress(&mut raw, keep),
        Compression::Zstd => <compression::Zstd as Decompressor<Bytes>>::decompress(&mut raw, keep),
    };
    done.map_err(|e| format!("{compression:?} records do not decompress: {e:#}"))
}

/// Whether a control batch's first record is an abort marker: its key is a
/// version (int16) and a type (int16), 0 for abort, 1 for commit.
fn is_abort_marker(records: &[u8]) -> bool {
    let mut r = Reader { bytes: records };
    let key = (|| {
        r.varint()?;
        r.take(1)?;
        r.varint()?;
        r.varint()?;
        r.bytes()
    })();
    matches!(key, Ok(Some(key)) if key.len() >= 4 && key[2..4] == [0, 0])
}

fn walk(
    info: &BatchDecodeInfo,
    max_timestamp: i64,
    records: &[u8],
    from: i64,
    end: i64,
    lent: &mut Message,
    visit: &mut dyn FnMut(&Message) -> bool,
) -> Result<Shown, Unreadable> {
    let mut shown = Shown { records: 0, stopped: false };
    let mut r = Reader { bytes: records };
    let bad = |why: &str| Unreadable(format!("batch at offset {}: {why}", info.min_offset));
    for _ in 0..info.record_count {
        let size = r.varint().map_err(&bad)?;
        let size = usize::try_from(size).map_err(|_| bad("a record of negative size"))?;
        let mut record = Reader { bytes: r.take(size).map_err(&bad)? };
        let offset = read_record(&mut record, info, max_timestamp, lent).map_err(&bad)?;
        if offset < from {
            continue;
        }
        if offset >= end {
            break;
        }
        shown.records += 1;
        if !visit(lent) {
            shown.stopped = true;
            break;
        }
    }
    Ok(shown)
}

/// Reads one record into `lent` and returns its offset.
fn read_record(
    r: &mut Reader<'_>,
    info: &BatchDecodeInfo,
    max_timestamp: i64,
    lent: &mut Message,
) -> Result<i64, &'static str> {
    r.take(1)?;
    let timestamp_delta = r.varint()?;
    let offset_delta = r.varint()?;
    let offset = info.min_offset.checked_add(offset_delta).ok_or("an offset past the end of offsets")?;
    lent.offset = offset;
    let timestamp = match info.timestamp_type {
        TimestampType::LogAppend => max_timestamp,
        TimestampType::Creation => info.min_timestamp.wrapping_add(timestamp_delta),
    };
    lent.timestamp = (timestamp >= 0).then_some(timestamp);
    refill(&mut lent.key, r.bytes()?);
    refill(&mut lent.value, r.bytes()?);
    let count = r.varint()?;
    if count < 0 {
        return Err("a negative header count");
    }
    lent.headers.clear();
    for _ in 0..count {
        let name = r.bytes()?.ok_or("a header without a name")?;
        let value = r.bytes()?;
        lent.headers.push((String::from_utf8_lossy(name).into_owned(), value.map(<[u8]>::to_vec).unwrap_or_default()));
    }
    Ok(offset)
}

/// Puts `bytes` in `slot`, reusing its buffer.
pub fn refill(slot: &mut Option<Vec<u8>>, bytes: Option<&[u8]>) {
    match (slot.as_mut(), bytes) {
        (Some(buffer), Some(bytes)) => {
            buffer.clear();
            buffer.extend_from_slice(bytes);
        }
        (None, Some(bytes)) => *slot = Some(bytes.to_vec()),
        (_, None) => *slot = None,
    }
}

/// Reads the varints and length-prefixed bytes of a record, every length
/// checked against what is left.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], &'static str> {
        if n > self.bytes.len() {
            return Err("a record cut short");
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    /// A zigzag varint of up to 64 bits.
    fn varint(&mut self) -> Result<i64, &'static str> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = *self.take(1)?.first().expect("one byte");
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok((value >> 1) as i64 ^ -((value & 1) as i64));
            }
        }
        Err("a varint longer than 10 bytes")
    }

    /// Bytes with a varint length; -1 is null.
    fn bytes(&mut self) -> Result<Option<&'a [u8]>, &'static str> {
        match self.varint()? {
            -1 => Ok(None),
            n => Ok(Some(self.take(usize::try_from(n).map_err(|_| "a negative length")?)?)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::BytesMut;
    use kafka_protocol::indexmap::IndexMap;
    use kafka_protocol::protocol::StrBytes;
    use kafka_protocol::records::{Record, RecordBatchEncoder, RecordEncodeOptions};

    fn record(offset: i64, value: &str) -> Record {
        Record {
            transactional: false,
            control: false,
            delete_horizon: false,
            partition_leader_epoch: 0,
            producer_id: -1,
            producer_epoch: -1,
            timestamp_type: TimestampType::Creation,
            offset,
            sequence: offset as i32,
            timestamp: 1_700_000_000_000 + offset,
            key: Some(Bytes::from(format!("k{offset}"))),
            value: Some(Bytes::from(value.to_owned())),
            headers: IndexMap::from([(StrBytes::from_static_str("h"), Some(Bytes::from_static(b"v")))]),
        }
    }

    fn encoded(records: &[Record], compression: Compression) -> Bytes {
        let mut buf = BytesMut::new();
        RecordBatchEncoder::encode(&mut buf, records, &RecordEncodeOptions { version: 2, compression }).unwrap();
        buf.freeze()
    }

    /// Every record of `records` shown from `from` to `end`, as (offset, value).
    fn shown(records: &Bytes, from: i64, end: i64, aborted: Vec<(i64, i64)>) -> Vec<(i64, String)> {
        let mut seen = Vec::new();
        let mut aborted = Aborted::new(aborted);
        let mut lent = Message::default();
        for batch in whole_batches(records).unwrap() {
            let mut visit = |m: &Message| {
                seen.push((m.offset, String::from_utf8_lossy(m.value.as_deref().unwrap_or_default()).into_owned()));
                true
            };
            show(&batch, from, end, &mut aborted, &mut lent, &mut visit).unwrap();
        }
        seen
    }

    #[test]
    fn every_codec_reads_back_keys_values_headers_and_times() {
        for compression in
            [Compression::None, Compression::Gzip, Compression::Snappy, Compression::Lz4, Compression::Zstd]
        {
            let records: Vec<Record> = (10..15).map(|o| record(o, &format!("value {o}"))).collect();
            let bytes = encoded(&records, compression);
            let mut lent = Message::default();
            let mut seen = Vec::new();
            let batch = &whole_batches(&bytes).unwrap()[0];
            assert_eq!(next_offset(batch), Ok(15));
            let mut visit = |m: &Message| {
                seen.push(m.clone());
                true
            };
            let outcome = show(batch, 0, 100, &mut Aborted::new(vec![]), &mut lent, &mut visit).unwrap();
            assert_eq!(outcome.records, 5, "{compression:?}");
            assert_eq!(seen[2].offset, 12);
            assert_eq!(seen[2].key.as_deref(), Some(&b"k12"[..]));
            assert_eq!(seen[2].value.as_deref(), Some(&b"value 12"[..]));
            assert_eq!(seen[2].timestamp, Some(1_700_000_000_012));
            assert_eq!(seen[2].headers, [("h".to_owned(), b"v".to_vec())]);
        }
    }

    #[test]
    fn records_outside_the_range_are_not_shown_and_a_stop_is_kept() {
        let bytes = encoded(&(0..10).map(|o| record(o, "x")).collect::<Vec<_>>(), Compression::Lz4);
        assert_eq!(shown(&bytes, 3, 6, vec![]).iter().map(|(o, _)| *o).collect::<Vec<_>>(), [3, 4, 5]);
        let batch = &whole_batches(&bytes).unwrap()[0];
        let mut count = 0;
        let mut visit = |_: &Message| {
            count += 1;
            count < 2
        };
        let outcome = show(batch, 0, 10, &mut Aborted::new(vec![]), &mut Message::default(), &mut visit).unwrap();
        assert!(outcome.stopped && outcome.records == 2);
    }

    #[test]
    fn a_batch_cut_short_is_left_for_the_next_fetch() {
        let mut bytes = BytesMut::from(&encoded(&[record(0, "a")], Compression::None)[..]);
        bytes.extend_from_slice(&encoded(&[record(1, "b")], Compression::None)[..20]);
        let batches = whole_batches(&bytes.freeze()).unwrap();
        assert_eq!(batches.len(), 1);
        assert_eq!(next_offset(&batches[0]), Ok(1));
    }

    #[test]
    fn aborted_transactions_and_markers_are_skipped() {
        let producer = |mut r: Record, id: i64| {
            r.transactional = true;
            r.producer_id = id;
            r.producer_epoch = 0;
            r
        };
        let marker = |offset: i64, id: i64, kind: u8| {
            let mut r = producer(record(offset, ""), id);
            r.control = true;
            r.key = Some(Bytes::from(vec![0, 0, 0, kind]));
            r.value = Some(Bytes::from(vec![0, 0, 0, 0, 0, 0]));
            r.headers.clear();
            r
        };
        let mut bytes = BytesMut::new();
        bytes.extend_from_slice(&encoded(
            &[producer(record(0, "aborted"), 7), producer(record(1, "aborted"), 7)],
            Compression::Zstd,
        ));
        bytes.extend_from_slice(&encoded(&[producer(record(2, "committed"), 8)], Compression::Gzip));
        bytes.extend_from_slice(&encoded(&[marker(3, 7, 0)], Compression::None));
        bytes.extend_from_slice(&encoded(&[marker(4, 8, 1)], Compression::None));
        bytes.extend_from_slice(&encoded(&[producer(record(5, "later"), 7)], Compression::Snappy));
        bytes.extend_from_slice(&encoded(&[record(6, "plain")], Compression::None));
        let seen = shown(&bytes.freeze(), 0, 100, vec![(7, 0)]);
        assert_eq!(seen, [(2, "committed".to_owned()), (5, "later".to_owned()), (6, "plain".to_owned())]);
    }

    #[test]
    fn duplicate_headers_and_log_append_times_are_kept() {
        // One record written by hand: two headers named "h", a header name that is not UTF-8.
        let mut record = vec![0u8];
        record.extend([0, 0]); // timestamp and offset deltas
        record.extend([2, b'k', 2, b'v']); // key "k", value "v"
        record.extend([6, 2, b'h', 2, b'1', 2, b'h', 2, b'2', 2, 0xff, 1]);
        let mut body = vec![(record.len() * 2) as u8];
        body.extend(&record);
        let mut batch = vec![0u8; HEADER];
        batch[..8].copy_from_slice(&40i64.to_be_bytes());
        batch[8..12].copy_from_slice(&((HEADER - 12 + body.len()) as i32).to_be_bytes());
        batch[MAGIC] = 2;
        batch[21..23].copy_from_slice(&(1i16 << 3).to_be_bytes()); // log append time
        batch[35..43].copy_from_slice(&1_234i64.to_be_bytes());
        batch[43..51].copy_from_slice(&(-1i64).to_be_bytes());
        batch[57..61].copy_from_slice(&1i32.to_be_bytes());
        batch.extend(&body);
        let crc = crc32c::crc32c(&batch[21..]);
        batch[17..21].copy_from_slice(&crc.to_be_bytes());
        let bytes = Bytes::from(batch);
        let mut lent = Message::default();
        let mut seen = Vec::new();
        let mut visit = |m: &Message| {
            seen.push(m.clone());
            true
        };
        show(&whole_batches(&bytes).unwrap()[0], 0, 100, &mut Aborted::new(vec![]), &mut lent, &mut visit).unwrap();
        assert_eq!(seen[0].offset, 40);
        assert_eq!(seen[0].timestamp, Some(1_234));
        assert_eq!(
            seen[0].headers,
            [("h".to_owned(), b"1".to_vec()), ("h".to_owned(), b"2".to_vec()), ("\u{fffd}".to_owned(), vec![])]
        );
    }

    #[test]
    fn damaged_or_old_batches_are_unreadable_not_a_panic() {
        let good = encoded(&[record(0, "a")], Compression::Zstd);
        let mut damaged = BytesMut::from(&good[..]);
        let last = damaged.len() - 1;
        damaged[last] ^= 0xff;
        let damaged = damaged.freeze();
        let batch = &whole_batches(&damaged).unwrap()[0];
        let mut visit = |_: &Message| true;
        assert!(show(batch, 0, 10, &mut Aborted::new(vec![]), &mut Message::default(), &mut visit).is_err(), "CRC");

        let mut old = BytesMut::from(&good[..]);
        old[MAGIC] = 1;
        assert!(whole_batches(&old.freeze()).unwrap_err().0.contains("message format v1"));

        let mut negative = BytesMut::from(&good[..]);
        negative[8..12].copy_from_slice(&(-5i32).to_be_bytes());
        assert!(whole_batches(&negative.freeze()).is_err());

        let mut overflowing = BytesMut::from(&good[..]);
        overflowing[..8].copy_from_slice(&i64::MAX.to_be_bytes());
        let overflowing = overflowing.freeze();
        assert!(next_offset(&whole_batches(&overflowing).unwrap()[0]).is_err(), "an offset past i64");

        let mut reader = Reader { bytes: &[0xff; 12] };
        assert!(reader.varint().is_err());
        let mut reader = Reader { bytes: &[20, b'a'] };
        assert!(reader.bytes().is_err(), "a length past the end");
    }
}
