//! Kafka's protocol spoken directly on plaintext listeners: Metadata,
//! FindCoordinator, the batched offset calls (ListOffsets, OffsetFetch,
//! OffsetCommit), DeleteRecords and Fetch, one request per leader or
//! coordinator whatever the number of partitions. Every request and answer is
//! encoded and decoded by the `kafka-protocol` crate, generated from Kafka's
//! own message schemas; this module picks versions, routes, frames and counts.
//!
//! Why not librdkafka for these: it matches every partition of an answer to its
//! request list by linear search, so one list of n partitions costs n² string
//! comparisons (two seconds of CPU at 10,000 partitions); it keeps sending
//! DeleteRecords to a leader that died; and its consumer is the floor a scan
//! cannot go below (`direct_scan`). Here an answer is read once, front to back.
//! Group listings and descriptions, transactional commits and everything on
//! listeners that need TLS or SASL (`security.protocol` other than PLAINTEXT),
//! which this module does not speak, stay with librdkafka.

mod connection;
pub mod delete_records;
mod error_codes;
pub mod fetch;
pub mod find_coordinator;
pub mod list_offsets;
mod malformed;
pub mod metadata;
pub mod offset_commit;
pub mod offset_delete;
pub mod offset_fetch;

pub use connection::{Api, CallError, Connection};
pub use error_codes::rd_code;
pub use malformed::Malformed;

use std::collections::HashMap;
use std::io;
use std::sync::Mutex;
use std::time::Duration;

use kafka_protocol::protocol::{Request, StrBytes};

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

/// A name as the codec holds it.
pub fn name(text: &str) -> StrBytes {
    StrBytes::from_string(text.to_owned())
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

    /// Sends one request to `broker` on a connection of its own and returns the answer.
    pub fn call<R: Request>(&self, broker: &Broker, api: Api, request: &R) -> Result<R::Response, CallFailed> {
        let mut connection = self.open(broker, api)?;
        self.call_on(&mut connection, broker, api, request)
    }

    /// A connection to `broker`, for several calls in turn.
    pub fn open(&self, broker: &Broker, api: Api) -> Result<Connection, CallFailed> {
        Connection::open(&broker.address, &self.client_id, self.timeout).map_err(|error| CallFailed::Io {
            api: api.name,
            broker: broker.id,
            error,
        })
    }

    /// Sends one request on `connection` (open to `broker`) and returns the answer.
    pub fn call_on<R: Request>(
        &self,
        connection: &mut Connection,
        broker: &Broker,
        api: Api,
        request: &R,
    ) -> Result<R::Response, CallFailed> {
        {
            let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
            *counts.entry(broker.id).or_default().entry(api.name.to_owned()).or_default() += 1;
        }
        connection.call(api, request).map_err(|e| match e {
            CallError::Io(error) => CallFailed::Io { api: api.name, broker: broker.id, error },
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

/// Every partition of an answer's topics (name, partitions), in order, read
/// by `read` into its index, error code and value.
pub fn partition_answers<P, T>(
    topics: impl IntoIterator<Item = (String, Vec<P>)>,
    mut read: impl FnMut(P) -> (i32, i16, T),
) -> Vec<PartitionAnswer<T>> {
    let mut answers = Vec::new();
    for (topic, partitions) in topics {
        for p in partitions {
            let (partition, error, value) = read(p);
            answers.push(PartitionAnswer { topic: topic.clone(), partition, error, value });
        }
    }
    answers
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
        let failed = wire.call(&broker, list_offsets::API, &list_offsets::request(&[], -1)).unwrap_err();
        assert!(matches!(failed, CallFailed::Io { broker: 7, .. }), "{failed}");
        assert!(wire.counts().is_empty());
    }
}
