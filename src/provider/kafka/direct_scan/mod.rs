//! Reading records in offset ranges over Fetch spoken directly (plaintext
//! listeners): one fetching thread per partition leader asks for all of its
//! partitions at once, read_committed, and hands each partition's whole record
//! batches to a decoding thread, always the same one for a partition so its
//! records are shown in order. The decoding threads decompress, drop aborted
//! transactions and control records, drop records outside the range, and run
//! the visitor (the query's filter) where they decode.
//!
//! A partition is done at the end of its range, or where its leader says
//! nothing more is readable now: the last stable offset (read_committed) or
//! the high watermark. Ending short of the range is noted for the plan. A
//! partition whose leader moved (or cannot be reached) is asked of the new
//! leader after fresh metadata, no more often than a growing backoff; one
//! whose log start passed its position (records deleted during the scan)
//! goes on from the new log start, and that is noted too.
//! The scan fails only when the brokers gave nothing for the cluster's timeout
//! (time spent waiting for the visitor to take what was read does not count).

mod batches;
mod budget;
mod fetcher;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::Inner;
use super::wire::{Broker, Wire};
use crate::provider::{Message, OffsetRange, ProviderError, ProviderResult, Scanned, Visitor};
pub(super) use batches::refill;
use batches::{Aborted, Unreadable};
use budget::{Budget, Held};

pub(super) const OPERATION: &str = "reading messages";

/// Bytes of answers a scan holds at most (plus one oversized batch).
const IN_FLIGHT: i64 = 24 << 20;
/// Bytes asked of one leader per fetch, and of one partition at first (a
/// partition whose next batch is larger is asked for more, doubling).
const FETCH_BYTES: i32 = 8 << 20;
const PARTITION_BYTES: i32 = 1 << 20;
/// Waited before reading metadata again for partitions without a leader that
/// answers; doubled at each try that finds none, up to the most.
const LEADER_BACKOFF: Duration = Duration::from_millis(100);
const MOST_LEADER_BACKOFF: Duration = Duration::from_secs(1);

/// One partition's share of the scan.
#[derive(Debug, Clone)]
struct Part {
    partition: i32,
    position: i64,
    end: i64,
    max_bytes: i32,
}

/// What a fetching thread tells the scan.
enum Event {
    /// These partitions need their leader found again, and why.
    Reroute(Vec<Part>, String),
    /// An answer moved a partition on, or a partition is done.
    Progress,
    Failed(ProviderError),
    Ended,
}

/// Sends `Ended` when a fetching thread ends, however it ends.
struct Ending(mpsc::Sender<Event>);

impl Drop for Ending {
    fn drop(&mut self) {
        let _ = self.0.send(Event::Ended);
    }
}

/// Whole batches of one partition for a decoding thread.
struct Job {
    partition: i32,
    /// Records before this offset (a batch may begin earlier) are not shown.
    from: i64,
    end: i64,
    batches: Vec<Bytes>,
    aborted: Vec<(i64, i64)>,
    _held: Arc<Held>,
}

/// What the scan's threads share.
struct Shared<'a> {
    inner: &'a Inner,
    wire: &'a Wire,
    topic: &'a str,
    stop: AtomicBool,
    budget: Arc<Budget>,
    read: AtomicU64,
    /// The first failure a thread met.
    failure: Mutex<Option<ProviderError>>,
    /// What the plan should be told.
    notes: Mutex<Vec<String>>,
}

impl Shared<'_> {
    fn fail(&self, error: ProviderError) {
        self.failure.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert(error);
        self.stop.store(true, Ordering::Relaxed);
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    fn note(&self, note: String) {
        tracing::info!(cluster = %self.inner.cluster, "{note}");
        self.notes.lock().unwrap_or_else(|p| p.into_inner()).push(note);
    }

    /// The error for a partition its leader answered with Kafka error `code`.
    fn refused(&self, partition: i32, code: i16) -> ProviderError {
        self.inner.partition_failed(OPERATION, &format!("{}:{partition}", self.topic), code).error
    }

    fn unreadable(&self, partition: i32, why: Unreadable) -> ProviderError {
        ProviderError::Request {
            cluster: self.inner.cluster.clone(),
            operation: OPERATION,
            detail: format!("{}:{partition}: {}", self.topic, why.0),
            retryable: false,
        }
    }
}

impl Inner {
    pub(super) fn scan_direct(
        &self,
        wire: &Wire,
        topic: &str,
        ranges: &[&OffsetRange],
        visit: &Visitor,
    ) -> ProviderResult<Scanned> {
        let shared = Shared {
            inner: self,
            wire,
            topic,
            stop: AtomicBool::new(false),
            budget: Budget::new(IN_FLIGHT),
            read: AtomicU64::new(0),
            failure: Mutex::new(None),
            notes: Mutex::new(Vec::new()),
        };
        let parts: Vec<Part> = ranges
            .iter()
            .map(|r| Part { partition: r.partition, position: r.start, end: r.end, max_bytes: PARTITION_BYTES })
            .collect();
        let decoders = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(1, 8).min(parts.len());
        let outcome = std::thread::scope(|scope| {
            let mut queues = Vec::with_capacity(decoders);
            for _ in 0..decoders {
                let (queue, jobs) = mpsc::channel::<Job>();
                queues.push(queue);
                let shared = &shared;
                scope.spawn(move || decode(shared, jobs, visit));
            }
            let outcome = self.route(scope, &shared, parts, &queues);
            if outcome.is_err() {
                shared.stop.store(true, Ordering::Relaxed);
            }
            outcome
        });
        outcome?;
        if let Some(failure) = shared.failure.into_inner().unwrap_or_else(|p| p.into_inner()) {
            return Err(failure);
        }
        let mut notes = shared.notes.into_inner().unwrap_or_else(|p| p.into_inner());
        notes.sort();
        Ok(Scanned { read: shared.read.load(Ordering::Relaxed), notes })
    }

    /// Starts a fetching thread per leader and moves partitions whose leader
    /// changed, until every partition is done or the scan stops.
    fn route<'scope>(
        &'scope self,
        scope: &'scope std::thread::Scope<'scope, '_>,
        shared: &'scope Shared<'scope>,
        parts: Vec<Part>,
        queues: &[mpsc::Sender<Job>],
    ) -> ProviderResult<()> {
        let (events, heard) = mpsc::channel::<Event>();
        let mut pending = parts;
        let mut fetching = 0usize;
        let mut last_progress = Instant::now();
        // Why partitions last had to find their leader again, for a time-out's message.
        let mut last_reason: Option<String> = None;
        let mut backoff = LEADER_BACKOFF;
        let mut next_lookup = Instant::now();
        loop {
            if !pending.is_empty() && !shared.stopped() && Instant::now() >= next_lookup {
                let routed = self.leaders_of(shared.topic, &mut pending)?;
                if pending.is_empty() {
                    backoff = LEADER_BACKOFF;
                } else {
                    backoff = (backoff * 2).min(MOST_LEADER_BACKOFF);
                }
                next_lookup = Instant::now() + backoff;
                for (leader, share) in routed {
                    fetching += 1;
                    let queues = queues.to_vec();
                    let ending = Ending(events.clone());
                    scope.spawn(move || fetcher::fetch(shared, &leader, share, &queues, &ending.0));
                }
            }
            if fetching == 0 && (pending.is_empty() || shared.stopped()) {
                return Ok(());
            }
            match heard.recv_timeout(Duration::from_millis(50)) {
                Ok(Event::Reroute(parts, why)) => {
                    self.recent_metadata.forget();
                    last_reason = Some(why);
                    pending.extend(parts);
                    // The cluster gets a moment to move on before it is asked again.
                    next_lookup = next_lookup.max(Instant::now() + backoff);
                }
                Ok(Event::Progress) => last_progress = Instant::now(),
                Ok(Event::Failed(error)) => shared.fail(error),
                Ok(Event::Ended) => fetching -= 1,
                Err(_) => {}
            }
            // Time spent waiting for the visitor to take what was read is not the broker's.
            if shared.budget.is_spent() {
                last_progress = Instant::now();
            }
            if last_progress.elapsed() > self.timeout.duration && !shared.stopped() {
                shared.fail(match &last_reason {
                    Some(why) => ProviderError::Request {
                        cluster: self.cluster.clone(),
                        operation: OPERATION,
                        detail: format!(
                            "nothing read for {:?}; the partitions' leaders last failed with: {why}",
                            self.timeout.duration
                        ),
                        retryable: true,
                    },
                    None => ProviderError::Timeout {
                        cluster: self.cluster.clone(),
                        operation: OPERATION,
                        timeout: self.timeout.duration,
                    },
                });
            }
        }
    }

    /// Takes the partitions of `pending` that have a leader, grouped by
    /// leader; those without one stay. A topic that no longer exists, or that
    /// the cluster refuses, fails the scan; passing troubles leave them pending.
    fn leaders_of(&self, topic: &str, pending: &mut Vec<Part>) -> ProviderResult<Vec<(Broker, Vec<Part>)>> {
        let metadata = match self.metadata(Some(&[topic])) {
            Ok(metadata) => metadata,
            // Metadata is asked again after the backoff, until the scan's timeout.
            Err(_) => return Ok(Vec::new()),
        };
        if let Some(error) = metadata.topics.iter().find(|t| t.name == topic).map(|t| t.error).filter(|e| *e != 0) {
            if error == 3 {
                return Err(ProviderError::UnknownTopic { cluster: self.cluster.clone(), topic: topic.to_owned() });
            }
            let failed = self.partition_failed(OPERATION, &format!("topic {topic}"), error);
            return match failed.code {
                Some(code) if super::errors::is_retryable_code(code) => Ok(Vec::new()),
                _ => Err(failed.error),
            };
        }
        let mut by_leader: Vec<(Broker, Vec<Part>)> = Vec::new();
        for part in std::mem::take(pending) {
            match metadata.leader_of(topic, part.partition) {
                None => pending.push(part),
                Some(leader) => match by_leader.iter_mut().find(|(b, _)| b.id == leader.id) {
                    Some((_, share)) => share.push(part),
                    None => by_leader.push((leader.clone(), vec![part])),
                },
            }
        }
        Ok(by_leader)
    }
}

/// A decoding thread: shows the records of each job it is given, in order.
fn decode(shared: &Shared<'_>, jobs: mpsc::Receiver<Job>, visit: &Visitor) {
    let mut lent = Message { topic: shared.topic.to_owned(), ..Message::default() };
    let mut show = |m: &Message| visit(m);
    for job in jobs {
        lent.partition = job.partition;
        let mut aborted = Aborted::new(job.aborted);
        for batch in &job.batches {
            if shared.stopped() {
                break;
            }
            match batches::show(batch, job.from, job.end, &mut aborted, &mut lent, &mut show) {
                Ok(shown) => {
                    shared.read.fetch_add(shown.records, Ordering::Relaxed);
                    if shown.stopped {
                        shared.stop.store(true, Ordering::Relaxed);
                        break;
                    }
                }
                Err(why) => {
                    shared.fail(shared.unreadable(job.partition, why));
                    break;
                }
            }
        }
    }
}
