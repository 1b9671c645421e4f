//! Reading records in offset ranges. On plaintext listeners this is Fetch
//! spoken directly (`direct_scan`); on listeners that need TLS or SASL it is a
//! consumer of its own that is assigned
//! the partitions (never subscribed, no group): librdkafka fetches every
//! assigned partition at once, and its queue limits bound the memory in use.
//! A partition is done at the end of its range, or at the log end it reports.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{BorrowedMessage, Headers, Message as _};
use rdkafka::{Offset, TopicPartitionList};

use super::direct_scan::refill;
use super::{Inner, settings};
use crate::provider::{Message, OffsetRange, ProviderError, ProviderResult, Scanned, Visitor};

const OPERATION: &str = "reading messages";

/// How far librdkafka reads ahead, unless the cluster's `properties` say
/// otherwise: 10,000 records a partition and at most 16 MiB in all wait in the
/// queue, which bounds a scan's memory whatever its window, and a partition
/// whose queue is full is fetched again after 10 ms (librdkafka's default, one
/// second, stalls a scan that keeps pace with the broker).
const PREFETCH: [(&str, &str); 3] =
    [("queued.min.messages", "10000"), ("queued.max.messages.kbytes", "16384"), ("fetch.queue.backoff.ms", "10")];

/// The group id of scanning clients, which never join it or commit.
pub const SCAN_GROUP: &str = "ebb-scan-never-joined";

impl Inner {
    /// Reads `ranges` of one topic: over Fetch spoken directly on plaintext
    /// listeners (`direct_scan`), through librdkafka's consumer on the others.
    pub(super) fn scan(&self, ranges: &[OffsetRange], visit: &Visitor) -> ProviderResult<Scanned> {
        let ranges: Vec<&OffsetRange> = ranges.iter().filter(|r| r.start < r.end).collect();
        let Some(topic) = ranges.first().map(|r| r.topic.clone()) else { return Ok(Scanned::default()) };
        if ranges.iter().any(|r| r.topic != topic) {
            return Err(self.scan_error("a scan reads one topic at a time".to_owned()));
        }
        match &self.wire {
            Some(wire) => self.scan_direct(wire, &topic, &ranges, visit),
            None => Ok(Scanned { read: self.scan_with_librdkafka(topic, &ranges, visit)?, notes: Vec::new() }),
        }
    }

    fn scan_with_librdkafka(&self, topic: String, ranges: &[&OffsetRange], visit: &Visitor) -> ProviderResult<u64> {
        // librdkafka wants a group id even to assign; this one is never joined
        // and never committed to (auto commit is off), so no group appears.
        let mut config = settings::for_group(&self.base, SCAN_GROUP);
        config.set("enable.partition.eof", "true").set("auto.offset.reset", "error");
        config.set("isolation.level", if self.scans_read_committed { "read_committed" } else { "read_uncommitted" });
        for (key, value) in PREFETCH {
            if config.get(key).is_none() {
                config.set(key, value);
            }
        }
        let consumer: BaseConsumer = config.create().map_err(|e| self.request_error(OPERATION, &e))?;
        let mut assignment = TopicPartitionList::with_capacity(ranges.len());
        for r in ranges {
            assignment
                .add_partition(&r.topic, r.partition)
                .set_offset(Offset::Offset(r.start))
                .map_err(|e| self.request_error(OPERATION, &e))?;
        }
        consumer.assign(&assignment).map_err(|e| self.request_error(OPERATION, &e))?;
        let mut ends: HashMap<i32, i64> = ranges.iter().map(|r| (r.partition, r.end)).collect();
        let mut read = 0u64;
        // Progress is timed at each empty poll, not at each record: reading the
        // clock per record was a twentieth of a scan's time.
        let mut last_progress = Instant::now();
        let mut progressed = false;
        let mut lent = Message { topic, ..Message::default() };
        while !ends.is_empty() {
            match consumer.poll(Duration::from_millis(100)) {
                None => {
                    if std::mem::take(&mut progressed) {
                        last_progress = Instant::now();
                    } else if last_progress.elapsed() > self.timeout.duration {
                        return Err(ProviderError::Timeout {
                            cluster: self.cluster.clone(),
                            operation: OPERATION,
                            timeout: self.timeout.duration,
                        });
                    }
                }
                Some(Ok(record)) => {
                    progressed = true;
                    let Some(&end) = ends.get(&record.partition()) else { continue };
                    if record.offset() >= end {
                        ends.remove(&record.partition());
                        continue;
                    }
                    if record.offset() + 1 >= end {
                        ends.remove(&record.partition());
                    }
                    read += 1;
                    lend(&record, &mut lent);
                    if !visit(&lent) {
                        break;
                    }
                }
                Some(Err(KafkaError::PartitionEOF(partition))) => {
                    progressed = true;
                    ends.remove(&partition);
                }
                Some(Err(e)) => return Err(self.request_error(OPERATION, &e)),
            }
        }
        Ok(read)
    }

    fn scan_error(&self, detail: String) -> ProviderError {
        ProviderError::Request { cluster: self.cluster.clone(), operation: OPERATION, detail, retryable: false }
    }
}

/// Copies `record` into `lent`, reusing its buffers (the topic is the scan's
/// one topic, set once), so a scan allocates per record only what grows.
fn lend(record: &BorrowedMessage<'_>, lent: &mut Message) {
    lent.partition = record.partition();
    lent.offset = record.offset();
    lent.timestamp = record.timestamp().to_millis();
    refill(&mut lent.key, record.key());
    refill(&mut lent.value, record.payload());
    lent.headers.clear();
    if let Some(headers) = record.headers() {
        lent.headers
            .extend(headers.iter().map(|h| (h.key.to_owned(), h.value.map(<[u8]>::to_vec).unwrap_or_default())));
    }
}
