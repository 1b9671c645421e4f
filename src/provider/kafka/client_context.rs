//! The context of ebb's librdkafka clients: it keeps the latest statistics
//! (request counts, when counting) and the last reason librdkafka gave for a
//! failed connection, which the first metadata request turns into a
//! `ConnectFailure` (see `connect_failure`).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::ConsumerContext;
use rdkafka::statistics::Statistics;

use super::request_counts::RequestCounts;

#[derive(Default)]
pub struct ReaderContext {
    latest: Mutex<Option<RequestCounts>>,
    reports: AtomicU64,
    connect_failure: Mutex<Option<String>>,
}

impl ReaderContext {
    pub fn latest(&self) -> Option<RequestCounts> {
        self.latest.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// How many statistics reports have been received.
    pub fn reports(&self) -> u64 {
        self.reports.load(Ordering::Acquire)
    }

    /// librdkafka's last words on a failed connection, taken (so each is seen once).
    pub fn take_connect_failure(&self) -> Option<String> {
        self.connect_failure.lock().unwrap_or_else(|p| p.into_inner()).take()
    }

    fn keep_connect_failure(&self, text: &str) {
        *self.connect_failure.lock().unwrap_or_else(|p| p.into_inner()) = Some(text.to_owned());
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

    /// librdkafka's log lines arrive while the client's queue is served. A
    /// broker connection that failed is logged under `FAIL` with its reason
    /// (a TLS handshake, SASL authentication); everything else is not shown,
    /// as before: librdkafka logs for its own maintainers.
    fn log(&self, level: RDKafkaLogLevel, facility: &str, message: &str) {
        if facility == "FAIL" && (level as i32) <= RDKafkaLogLevel::Warning as i32 {
            self.keep_connect_failure(message);
        }
    }
}

impl ConsumerContext for ReaderContext {}
