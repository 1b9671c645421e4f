//! Reading records in offset ranges with a consumer of its own that is assigned
//! the partitions (never subscribed, no group): librdkafka fetches every
//! assigned partition at once, and its queue limits bound the memory in use.
//! A partition is done at the end of its range, or at the log end it reports.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{BorrowedMessage, Headers, Message as _};
use rdkafka::{Offset, TopicPartitionList};

use super::{Inner, settings};
use crate::provider::{Message, OffsetRange, ProviderError, ProviderResult, Visitor};

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
    pub(super) fn scan(&self, ranges: &[OffsetRange], visit: &Visitor) -> ProviderResult<u64> {
        let ranges: Vec<&OffsetRange> = ranges.iter().filter(|r| r.start < r.end).collect();
        let Some(topic) = ranges.first().map(|r| r.topic.clone()) else { return Ok(0) };
        if ranges.iter().any(|r| r.topic != topic) {
            return Err(self.scan_error("a scan reads one topic at a time".to_owned()));
        }
        // librdkafka wants a group id even to assign; this one is never joined
        // and never committed to (auto commit is off), so no group appears.
        let mut config = settings::for_group(&self.base, SCAN_GROUP);
        config.set("enable.partition.eof", "true").set("auto.offset.reset", "error");
        for (key, value) in PREFETCH {
            if config.get(key).is_none() {
                config.set(key, value);
            }
        }
        let consumer: BaseConsumer = config.create().map_err(|e| self.request_error(OPERATION, &e))?;
        let mut assignment = TopicPartitionList::with_capacity(ranges.len());
        for r in &ranges {
            assignment
                .add_partition(&r.topic, r.partition)
                .set_offset(Offset::Offset(r.start))
                .map_err(|e| self.request_error(OPERATION, &e))?;
        }
        consumer.assign(&assignment).map_err(|e| self.request_error(OPERATION, &e))?;
        let mut ends: HashMap<i32, i64> = ranges.iter().map(|r| (r.partition, r.end)).collect();
        let mut read = 0u64;
        let mut last_progress = Instant::now();
        while !ends.is_empty() {
            match consumer.poll(Duration::from_millis(100)) {
                None => {
                    if last_progress.elapsed() > self.timeout.duration {
                        return Err(ProviderError::Timeout {
                            cluster: self.cluster.clone(),
                            operation: OPERATION,
                            timeout: self.timeout.duration,
                        });
                    }
                }
                Some(Ok(record)) => {
                    last_progress = Instant::now();
                    let Some(&end) = ends.get(&record.partition()) else { continue };
                    if record.offset() >= end {
                        ends.remove(&record.partition());
                        continue;
                    }
                    if record.offset() + 1 >= end {
                        ends.remove(&record.partition());
                    }
                    read += 1;
                    if !visit(owned(&record)) {
                        break;
                    }
                }
                Some(Err(KafkaError::PartitionEOF(partition))) => {
                    last_progress = Instant::now();
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

fn owned(record: &BorrowedMessage<'_>) -> Message {
    Message {
        topic: record.topic().to_owned(),
        partition: record.partition(),
        offset: record.offset(),
        timestamp: record.timestamp().to_millis(),
        key: record.key().map(<[u8]>::to_vec),
        value: record.payload().map(<[u8]>::to_vec),
        headers: record
            .headers()
            .map(|headers| {
                headers.iter().map(|h| (h.key.to_owned(), h.value.map(<[u8]>::to_vec).unwrap_or_default())).collect()
            })
            .unwrap_or_default(),
    }
}
