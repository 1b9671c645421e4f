//! Counting the requests ebb sends, per broker and per API, from librdkafka's
//! own statistics. Off by default; tests and benchmarks switch it on to show
//! that round trips grow with the number of brokers, not partitions.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use rdkafka::client::ClientContext;
use rdkafka::consumer::ConsumerContext;
use rdkafka::statistics::Statistics;

/// Requests sent so far: broker id → API name (`ListOffsets`, `OffsetFetch`…) → count.
/// Connections to bootstrap addresses, before ebb knows broker ids, are not
/// included; the group coordinator connection counts for the broker it reaches.
pub type RequestCounts = BTreeMap<i32, BTreeMap<String, i64>>;

/// The client context of the provider's reader: keeps the latest statistics when counting.
#[derive(Default)]
pub struct ReaderContext {
    latest: Mutex<Option<RequestCounts>>,
    reports: AtomicU64,
}

impl ReaderContext {
    pub fn latest(&self) -> Option<RequestCounts> {
        self.latest.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// How many statistics reports have been received.
    pub fn reports(&self) -> u64 {
        self.reports.load(Ordering::Acquire)
    }
}

impl ClientContext for ReaderContext {
    fn stats(&self, statistics: Statistics) {
        // The group coordinator connection is a logical broker (node id -1)
        // named after the broker it talks to: its requests count for that broker.
        let ids: BTreeMap<String, i32> =
            statistics.brokers.values().filter(|b| b.nodeid >= 0).map(|b| (b.nodename.clone(), b.nodeid)).collect();
        let mut counts = RequestCounts::new();
        for broker in statistics.brokers.into_values() {
            let id = if broker.nodeid >= 0 { Some(broker.nodeid) } else { ids.get(&broker.nodename).copied() };
            let Some(id) = id else { continue };
            let apis = counts.entry(id).or_default();
            for (api, n) in broker.req.into_iter().filter(|(_, n)| *n > 0) {
                *apis.entry(api).or_default() += n;
            }
        }
        *self.latest.lock().unwrap_or_else(|p| p.into_inner()) = Some(counts);
        self.reports.fetch_add(1, Ordering::Release);
    }
}

impl ConsumerContext for ReaderContext {}

/// How many `api` requests went to each broker between two snapshots.
pub fn sent_between(before: &RequestCounts, after: &RequestCounts, api: &str) -> BTreeMap<i32, i64> {
    after
        .iter()
        .map(|(broker, apis)| {
            let now = apis.get(api).copied().unwrap_or(0);
            let then = before.get(broker).and_then(|a| a.get(api)).copied().unwrap_or(0);
            (*broker, now - then)
        })
        .filter(|(_, n)| *n > 0)
        .collect()
}
