//! The audit stream: every run's state changes (planned, pending, approved,
//! applied, refused, failed, rolled back…) as CloudEvents 1.0, delivered to
//! the sinks in ebb.yaml's `audit:`. History writes each event to an outbox
//! in the same transaction as the state change (`history/audit_event.rs`);
//! this delivers the outbox to every sink in order, at least once: a sink's
//! position moves only past what it took, so a sink that is down gets every
//! event when it is back (up to `max_events` kept).

mod sink;

use std::time::Duration;

use crate::config::{DEFAULT_MAX_EVENTS, LoadedConfig};
use crate::history::SledStore;

pub use sink::Sink;

/// Events read from the outbox at a time.
const BATCH: usize = 200;
/// Longest wait for one sink to take one event.
const SEND_TIMEOUT: Duration = Duration::from_secs(15);

pub struct AuditDelivery {
    sinks: Vec<Sink>,
    max_events: u64,
}

/// What one delivery pass did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Delivered {
    pub events: u64,
    /// Dropped undelivered: the outbox was over `max_events`.
    pub dropped: u64,
    /// Per sink that could not take its next event: why.
    pub failures: Vec<(String, String)>,
    /// Events still waiting for some sink.
    pub backlog: usize,
}

impl AuditDelivery {
    /// The sinks of `loaded`'s `audit:`; `None` without one.
    pub fn from_config(loaded: &LoadedConfig) -> Option<Self> {
        let audit = loaded.config.audit.as_ref()?;
        let sinks = audit.sinks.iter().map(|s| Sink::new(s, loaded)).collect();
        Some(AuditDelivery { sinks, max_events: audit.max_events.unwrap_or(DEFAULT_MAX_EVENTS) })
    }

    /// Delivers what the outbox holds to every sink, each in order, stopping
    /// a sink at its first failure (it is tried again next time).
    pub async fn deliver(&self, store: &SledStore, within: Duration) -> Delivered {
        let mut done = Delivered::default();
        // Each sink at its own pace: one that is down does not hold the others back.
        let passes =
            futures_util::future::join_all(self.sinks.iter().map(|sink| self.deliver_to(sink, store, within))).await;
        for (sink, (events, result)) in self.sinks.iter().zip(passes) {
            done.events += events;
            if let Err(why) = result {
                done.failures.push((sink.name().to_owned(), why));
            }
        }
        done.dropped = self.trim(store);
        done.backlog = store.audit_backlog();
        done
    }

    /// The sinks, for a caller that delivers to each at its own pace.
    pub fn sinks(&self) -> &[Sink] {
        &self.sinks
    }

    /// Delivers what the outbox holds to one sink (see [`AuditDelivery::deliver`]):
    /// how many events it took, and why it stopped early.
    pub async fn deliver_to(&self, sink: &Sink, store: &SledStore, within: Duration) -> (u64, Result<(), String>) {
        let pass = drain(sink, store, tokio::time::Instant::now() + within).await;
        if let (_, Err(why)) = &pass {
            tracing::warn!(sink = %sink.name(), error = %why, "audit events not delivered; they are kept and sent again");
        }
        pass
    }

    /// Removes what every sink has, and the oldest events past `max_events`;
    /// how many of those were dropped undelivered.
    pub fn trim(&self, store: &SledStore) -> u64 {
        let names: Vec<String> = self.sinks.iter().map(|s| s.name().to_owned()).collect();
        match store.audit_trim(&names, self.max_events) {
            Ok(0) => 0,
            Ok(dropped) => {
                tracing::error!(
                    dropped,
                    max_events = self.max_events,
                    "the audit outbox was full: its oldest events were dropped undelivered"
                );
                dropped
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot trim the audit outbox");
                0
            }
        }
    }
}

/// Sends `sink` every event past its position, in order, until the first
/// failure or `deadline`; how many it took, and the failure.
async fn drain(sink: &Sink, store: &SledStore, deadline: tokio::time::Instant) -> (u64, Result<(), String>) {
    let mut sent = 0;
    let mut cursor = match store.audit_cursor(sink.name()) {
        Ok(cursor) => cursor,
        Err(e) => return (0, Err(e.to_string())),
    };
    loop {
        let events = match store.audit_events_after(cursor, BATCH) {
            Ok(events) if events.is_empty() => return (sent, Ok(())),
            Ok(events) => events,
            Err(e) => return (sent, Err(e.to_string())),
        };
        for (seq, event) in events {
            if tokio::time::Instant::now() >= deadline {
                return (sent, Ok(()));
            }
            let run = serde_json::from_slice::<serde_json::Value>(&event)
                .ok()
                .and_then(|e| e["subject"].as_str().map(str::to_owned))
                .unwrap_or_default();
            match tokio::time::timeout(SEND_TIMEOUT, sink.send(&run, &event)).await {
                Ok(Ok(())) => {}
                Ok(Err(why)) => return (sent, Err(why)),
                Err(_) => return (sent, Err(format!("no answer within {}s", SEND_TIMEOUT.as_secs()))),
            }
            if let Err(e) = store.set_audit_cursor(sink.name(), seq) {
                return (sent, Err(e.to_string()));
            }
            cursor = Some(seq);
            sent += 1;
        }
    }
}
