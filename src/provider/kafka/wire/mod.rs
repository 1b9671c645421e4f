//! The three batched offset calls — ListOffsets, OffsetFetch, OffsetCommit —
//! spoken directly on Kafka's protocol, one request per leader or coordinator
//! whatever the number of partitions.
//!
//! Why not librdkafka for these: it matches every partition of an answer to its
//! request list by linear search, so one list of n partitions costs n² string
//! comparisons (two seconds of CPU at 10,000 partitions), and cutting lists
//! into chunks makes the number of requests grow with the partitions. Here an
//! answer is read once, front to back. Metadata, group listings and
//! descriptions, DeleteRecords and reading messages stay with librdkafka, and
//! so do these three calls on listeners that need TLS or SASL
//! (`security.protocol` other than PLAINTEXT), which this module does not speak.

mod codec;
mod connection;
mod error_codes;
pub mod find_coordinator;
pub mod list_offsets;
pub mod metadata;
pub mod offset_commit;
pub mod offset_fetch;

pub use codec::Malformed;
pub use connection::Api;
pub use error_codes::rd_code;

use std::collections::HashMap;
use std::io;
use std::sync::Mutex;
use std::time::Duration;

use codec::Decoder;
use connection::{CallError, Connection};

use super::RequestCounts;

/// One partition's part of an answer: its error code and, when that is 0, its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionAnswer<T> {
    pub topic: String,
    pub partition: i32,
    pub error: i16,
    pub value: T,
}

/// A broker by node id and `host:port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broker {
    pub id: i32,
    pub address: String,
}

/// `host:port`, with an IPv6 host in brackets.
pub fn address(host: &str, port: i32) -> String {
    if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") }
}

/// A request that got no usable answer.
#[derive(Debug)]
pub enum CallFailed {
    /// Connecting, sending or receiving failed (refused, reset, timed out).
    Io {
        api: &'static str,
        broker: i32,
        error: io::Error,
    },
    Malformed {
        api: &'static str,
        broker: i32,
        error: Malformed,
    },
    /// The broker answered in TLS: its listener wants `security.protocol` SSL or SASL_SSL.
    AnsweredInTls {
        api: &'static str,
        broker: i32,
    },
}

impl CallFailed {
    pub fn timed_out(&self) -> bool {
        matches!(self, CallFailed::Io { error, .. }
            if matches!(error.kind(), io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock))
    }

    /// Whether the broker closed the connection before answering.
    pub fn closed_unanswered(&self) -> bool {
        matches!(self, CallFailed::Io { error, .. }
            if matches!(error.kind(), io::ErrorKind::UnexpectedEof | io::ErrorKind::ConnectionReset))
    }
}

impl std::fmt::Display for CallFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallFailed::Io { api, broker, error } => write!(f, "{api} to broker {broker}: {error}"),
            CallFailed::Malformed { api, broker, error } => write!(f, "{api} from broker {broker}: {error}"),
            CallFailed::AnsweredInTls { api, broker } => write!(f, "{api} to broker {broker}: answered in TLS"),
        }
    }
}

/// Sends requests, one connection per call, and counts them per broker and API.
pub struct Wire {
    client_id: String,
    timeout: Duration,
    counts: Mutex<RequestCounts>,
    coordinators: Mutex<HashMap<String, Broker>>,
}

impl Wire {
    pub fn new(client_id: &str, timeout: Duration) -> Self {
        Wire {
            client_id: client_id.to_owned(),
            timeout,
            counts: Mutex::new(RequestCounts::new()),
            coordinators: Mutex::new(HashMap::new()),
        }
    }

    /// Sends one request to `broker` and returns its answer's body.
    pub fn call(&self, broker: &Broker, api: Api, body: &[u8]) -> Result<Vec<u8>, CallFailed> {
        let io = |error| CallFailed::Io { api: api.name, broker: broker.id, error };
        let mut connection = Connection::open(&broker.address, &self.client_id, self.timeout).map_err(io)?;
        {
            let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
            *counts.entry(broker.id).or_default().entry(api.name.to_owned()).or_default() += 1;
        }
        connection.call(api, body).map_err(|e| match e {
            CallError::Io(error) => io(error),
            CallError::Malformed(error) => CallFailed::Malformed { api: api.name, broker: broker.id, error },
            CallError::AnsweredInTls => CallFailed::AnsweredInTls { api: api.name, broker: broker.id },
        })
    }

    /// Requests sent so far, per broker and API.
    pub fn counts(&self) -> RequestCounts {
        self.counts.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The coordinator last found for `group`.
    pub fn known_coordinator(&self, group: &str) -> Option<Broker> {
        self.coordinators.lock().unwrap_or_else(|p| p.into_inner()).get(group).cloned()
    }

    pub fn remember_coordinator(&self, group: &str, coordinator: Option<Broker>) {
        let mut known = self.coordinators.lock().unwrap_or_else(|p| p.into_inner());
        match coordinator {
            Some(broker) => known.insert(group.to_owned(), broker),
            None => known.remove(group),
        };
    }
}

/// Entries grouped by topic, topics and entries in the order first seen.
pub fn by_topic<'a, T>(entries: impl Iterator<Item = (&'a str, i32, T)>) -> Vec<(&'a str, Vec<(i32, T)>)> {
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut topics: Vec<(&str, Vec<(i32, T)>)> = Vec::new();
    for (topic, partition, value) in entries {
        let i = *index.entry(topic).or_insert_with(|| {
            topics.push((topic, Vec::new()));
            topics.len() - 1
        });
        topics[i].1.push((partition, value));
    }
    topics
}

/// An offset call's answer body after its throttle time: topics, each a name
/// and its partitions, each an index and then the fields `read` takes, which
/// give the partition's error code and value. `partition_bytes` is the least a
/// partition takes, against which its count is checked.
pub fn partition_answers<T>(
    d: &mut Decoder<'_>,
    partition_bytes: usize,
    mut read: impl FnMut(&mut Decoder<'_>) -> Result<(i16, T), Malformed>,
) -> Result<Vec<PartitionAnswer<T>>, Malformed> {
    let mut answers = Vec::new();
    for _ in 0..d.count(6)? {
        let topic = d.string()?;
        for _ in 0..d.count(partition_bytes)? {
            let partition = d.i32()?;
            let (error, value) = read(d)?;
            answers.push(PartitionAnswer { topic: topic.clone(), partition, error, value });
        }
    }
    Ok(answers)
}

/// Runs `work` for each broker's share at once and joins the results in order.
pub fn per_broker<S, T, E>(
    shares: Vec<(Broker, S)>,
    work: impl Fn(&Broker, S) -> Result<T, E> + Sync,
) -> Result<Vec<T>, E>
where
    S: Send,
    T: Send,
    E: Send,
{
    if shares.len() == 1 {
        let (broker, share) = shares.into_iter().next().expect("one share");
        return work(&broker, share).map(|t| vec![t]);
    }
    std::thread::scope(|scope| {
        let work = &work;
        let running: Vec<_> =
            shares.into_iter().map(|(broker, share)| scope.spawn(move || work(&broker, share))).collect();
        running
            .into_iter()
            .map(|r| match r.join() {
                Ok(result) => result,
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_group_by_topic_in_first_seen_order() {
        let grouped = by_topic([("b", 1, 'x'), ("a", 0, 'y'), ("b", 0, 'z')].into_iter());
        assert_eq!(grouped, vec![("b", vec![(1, 'x'), (0, 'z')]), ("a", vec![(0, 'y')])]);
    }

    #[test]
    fn per_broker_work_keeps_its_order_and_fails_on_the_first_error() {
        let brokers = |n: i32| (0..n).map(|id| (Broker { id, address: String::new() }, id * 10)).collect();
        assert_eq!(per_broker(brokers(3), |b, s| Ok::<_, ()>(b.id + s)).unwrap(), [0, 11, 22]);
        assert_eq!(per_broker(brokers(3), |b, _| if b.id == 1 { Err(b.id) } else { Ok(()) }), Err(1));
    }

    #[test]
    fn a_refused_connection_is_an_io_failure_and_is_not_counted() {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let wire = Wire::new("ebb", Duration::from_secs(1));
        let broker = Broker { id: 7, address: format!("127.0.0.1:{port}") };
        let failed = wire.call(&broker, list_offsets::API, &[]).unwrap_err();
        assert!(matches!(failed, CallFailed::Io { broker: 7, .. }), "{failed}");
        assert!(wire.counts().is_empty());
    }
}
