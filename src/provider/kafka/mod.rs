//! The native provider: Apache Kafka over its own protocol, through librdkafka.
//!
//! librdkafka's calls block the calling thread, so every one of them runs on
//! tokio's blocking pool, never on the runtime's worker threads. Batched reads
//! hand librdkafka whole partition lists, which it groups into one request per
//! leader (ListOffsets) or per group coordinator (OffsetFetch): round trips grow
//! with the number of brokers, not partitions.

pub mod audit_producer;
mod chunks;
mod client_context;
mod connect_failure;
mod delete_over_wire;
mod delete_records;
mod direct_scan;
mod errors;
mod fenced_commit;
pub use fenced_commit::is_fenced;
mod first_connection;
mod group_admin;
mod offsets_over_wire;
mod recent_metadata;
mod request_counts;
#[doc(hidden)]
pub mod retry;
mod scan;
pub use scan::SCAN_GROUP;
pub mod settings;
mod wire;

use client_context::ReaderContext;
pub use request_counts::{RequestCounts, sent_between};

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, ResourceSpecifier};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use wire::metadata::{ClusterMetadata, PartitionMetadata, TopicMetadata};

use crate::config::{KafkaClusterConfig, Redactor};
use crate::provider::commit_fence::CommitFence;
use crate::provider::{
    CleanupPolicy, CommittedOffset, GroupDescription, GroupListing, OffsetDeleted, OffsetForTime, OffsetRange,
    PartitionInfo, Provider, ProviderError, ProviderResult, RecordsDeleted, Scanned, TopicDescription, TopicPartition,
    Visitor, Watermarks,
};
use crate::time::HumanDuration;

type Failed = retry::Failed<ProviderError>;

/// Topics Kafka keeps for itself; never listed, never a default scope.
const INTERNAL_TOPICS: [&str; 4] =
    ["__consumer_offsets", "__transaction_state", "__share_group_state", "__cluster_metadata"];

pub fn is_internal_topic(name: &str) -> bool {
    INTERNAL_TOPICS.contains(&name)
}

/// A connection to one Kafka cluster. Cheap to clone.
#[derive(Clone)]
pub struct KafkaProvider {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    cluster: String,
    bootstrap: String,
    timeout: HumanDuration,
    redactor: Redactor,
    base: ClientConfig,
    /// Settings for the transactional producers of fenced commits.
    producer: ClientConfig,
    /// Set in a coordinated deployment: commits are fenced, and DeleteRecords
    /// waits on proof of ownership (`fenced_commit`).
    fence: Option<Arc<dyn CommitFence>>,
    /// Belongs to no group: metadata, ListOffsets, group listings.
    reader: BaseConsumer<ReaderContext>,
    /// Created at its first use (deleting records, describing configs): a
    /// librdkafka client connects and reads metadata as soon as it exists, and
    /// most commands never need this one. The reader, made from the same
    /// settings, has already proven them.
    admin: OnceLock<AdminClient<DefaultClientContext>>,
    /// One client per group ebb reads or commits offsets for; none ever subscribes.
    group_clients: Mutex<HashMap<String, Arc<BaseConsumer<ReaderContext>>>>,
    /// Whether clients report statistics (request counts).
    count_requests: bool,
    /// Whether a first metadata answer has come, over librdkafka or `wire`
    /// (until then, refused connections are told apart: see `first_connection`).
    connected: AtomicBool,
    /// Kafka's protocol spoken directly, on plaintext listeners; `None` where
    /// the cluster needs TLS or SASL (see `wire`).
    wire: Option<wire::Wire>,
    /// Whether scans leave out aborted transactions (`settings::scans_read_committed`).
    scans_read_committed: bool,
    /// The last metadata read over `wire`, reused for a moment.
    recent_metadata: recent_metadata::RecentMetadata,
}

impl KafkaProvider {
    /// Whether `other` is a clone of this client.
    pub fn same_client(&self, other: &KafkaProvider) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// Asks librdkafka's own client for the cluster's metadata, fresh: the
    /// client a bad request could wedge, whichever path reads go by.
    pub async fn health_check(&self) -> ProviderResult<()> {
        self.blocking("checking the client's health", |inner| inner.metadata_from_librdkafka(None).map(|_| ())).await
    }
}

impl KafkaProvider {
    /// Creates the clients. No request is sent until the first read.
    pub fn connect(cluster: &str, config: &KafkaClusterConfig) -> ProviderResult<Self> {
        Self::build(cluster, config, false, None)
    }

    /// Like `connect`, for a replica of a coordinated deployment: offset
    /// commits are fenced and every DeleteRecords batch waits on `fence`.
    pub fn connect_fenced(
        cluster: &str,
        config: &KafkaClusterConfig,
        fence: Arc<dyn CommitFence>,
    ) -> ProviderResult<Self> {
        Self::build(cluster, config, false, Some(fence))
    }

    /// Takes `group`'s commits from whoever held them (a replica taking over
    /// a run left behind); nothing without a fence.
    pub async fn fence_group(&self, group: &str) -> ProviderResult<()> {
        if self.inner.fence.is_none() {
            return Ok(());
        }
        let group = group.to_owned();
        self.blocking("fencing commits", move |inner| {
            let fence = inner.fence.clone().expect("checked above");
            inner.fence_group(&*fence, &group)
        })
        .await
    }

    /// Like `connect`, and counts the requests the reader sends (see `request_counts`).
    pub fn connect_counting_requests(cluster: &str, config: &KafkaClusterConfig) -> ProviderResult<Self> {
        Self::build(cluster, config, true, None)
    }

    fn build(
        cluster: &str,
        config: &KafkaClusterConfig,
        count_requests: bool,
        fence: Option<Arc<dyn CommitFence>>,
    ) -> ProviderResult<Self> {
        let base = settings::base(config);
        let redactor = config.redactor();
        let create_error = |e| errors::creation_error(cluster, &redactor, &e);
        let reader_config = counting(&base, count_requests);
        let reader = reader_config.create_with_context(ReaderContext::default()).map_err(create_error)?;
        let inner = Inner {
            cluster: cluster.to_owned(),
            bootstrap: config.bootstrap_servers.clone(),
            timeout: config.timeout.clone(),
            redactor,
            base,
            producer: {
                let mut producer = settings::producer(config);
                producer.set("client.id", settings::client_id(config));
                producer
            },
            fence,
            reader,
            admin: OnceLock::new(),
            group_clients: Mutex::new(HashMap::new()),
            count_requests,
            connected: AtomicBool::new(false),
            wire: settings::is_plaintext(config)
                .then(|| wire::Wire::new(settings::client_id(config), config.timeout.duration)),
            recent_metadata: recent_metadata::RecentMetadata::default(),
            scans_read_committed: settings::scans_read_committed(config),
        };
        Ok(KafkaProvider { inner: Arc::new(inner) })
    }

    /// Requests the reader (metadata, ListOffsets, group admin calls) has sent so
    /// far, per broker and API; `None` unless connected with `connect_counting_requests`.
    /// Waits for a report librdkafka began after this call (they come every 100 ms),
    /// so every request finished before the call is counted.
    pub async fn request_counts(&self) -> Option<RequestCounts> {
        self.blocking("reading request counts", |inner| Ok(settled_counts(&inner.reader).map(|c| inner.with_wire(c))))
            .await
            .ok()
            .flatten()
    }

    /// Like `request_counts`, for the client that fetches and commits `group`'s
    /// offsets (OffsetFetch, OffsetCommit).
    pub async fn group_request_counts(&self, group: &str) -> Option<RequestCounts> {
        let group = group.to_owned();
        self.blocking("reading request counts", move |inner| {
            Ok(settled_counts(&*inner.group_client(&group)?).map(|c| inner.with_wire(c)))
        })
        .await
        .ok()
        .flatten()
    }

    /// Runs librdkafka work on the blocking pool.
    async fn blocking<T, F>(&self, operation: &'static str, work: F) -> ProviderResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Inner) -> ProviderResult<T> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        match tokio::task::spawn_blocking(move || work(&inner)).await {
            Ok(result) => result,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(_) => Err(ProviderError::Request {
                cluster: self.inner.cluster.clone(),
                operation,
                detail: "cancelled while shutting down".to_owned(),
                retryable: false,
            }),
        }
    }
}

/// The settings, with statistics every 100 ms when counting requests.
fn counting(base: &ClientConfig, count_requests: bool) -> ClientConfig {
    let mut config = base.clone();
    if count_requests {
        config.set("statistics.interval.ms", "100");
    }
    config
}

/// The latest request counts of a counting client, from a report begun after this call.
fn settled_counts(client: &BaseConsumer<ReaderContext>) -> Option<RequestCounts> {
    // Statistics arrive as events on the client's queue. A poll with no
    // timeout serves one event; a short one serves every queued event.
    let serve = || {
        let _ = client.poll(Duration::from_millis(20));
    };
    serve();
    let seen = client.context().reports();
    // The next report may have been under way already; the one after it was not.
    for _ in 0..250 {
        serve();
        if client.context().reports() >= seen + 2 {
            return client.context().latest();
        }
    }
    None
}

impl Inner {
    /// The admin client, created now if this is its first use.
    fn admin(&self) -> ProviderResult<&AdminClient<DefaultClientContext>> {
        if let Some(admin) = self.admin.get() {
            return Ok(admin);
        }
        let admin = self.base.create().map_err(|e| errors::creation_error(&self.cluster, &self.redactor, &e))?;
        // Two first uses at once each create one; the loser's is dropped.
        Ok(self.admin.get_or_init(|| admin))
    }

    /// Request counts with those sent over `wire` added.
    fn with_wire(&self, mut counts: RequestCounts) -> RequestCounts {
        if let Some(wire) = &self.wire {
            for (broker, apis) in wire.counts() {
                for (api, n) in apis {
                    *counts.entry(broker).or_default().entry(api).or_default() += n;
                }
            }
        }
        counts
    }

    /// Brokers and topics: over `wire` on plaintext listeners, else through librdkafka.
    fn metadata(&self, topics: Option<&[&str]>) -> ProviderResult<ClusterMetadata> {
        match &self.wire {
            Some(wire) => {
                if let Some(recent) = self.recent_metadata.get(topics) {
                    return Ok(recent);
                }
                let metadata = retry::within(self.timeout.duration, || self.metadata_over_wire(wire, topics))?;
                self.recent_metadata.keep(topics, &metadata);
                Ok(metadata)
            }
            None => self.metadata_from_librdkafka(topics),
        }
    }

    fn metadata_from_librdkafka(&self, topics: Option<&[&str]>) -> ProviderResult<ClusterMetadata> {
        let single = match topics {
            Some([one]) => Some(*one),
            _ => None,
        };
        let metadata = self.librdkafka_metadata(single)?;
        let brokers = metadata
            .brokers()
            .iter()
            .map(|b| wire::Broker { id: b.id(), address: format!("{}:{}", b.host(), b.port()) })
            .collect();
        let topics = metadata
            .topics()
            .iter()
            .filter(|t| topics.is_none_or(|names| names.contains(&t.name())))
            .map(|t| TopicMetadata {
                name: t.name().to_owned(),
                // Broker errors keep their Kafka number (librdkafka uses the same ones).
                error: match t.error() {
                    None => 0,
                    Some(e) => match RDKafkaErrorCode::from(e) {
                        RDKafkaErrorCode::UnknownTopicOrPartition | RDKafkaErrorCode::UnknownTopic => 3,
                        _ => i16::try_from(e as i32).unwrap_or(-1),
                    },
                },
                partitions: t
                    .partitions()
                    .iter()
                    .map(|p| PartitionMetadata { id: p.id(), leader: p.leader(), replicas: p.replicas().to_vec() })
                    .collect(),
            })
            .collect();
        Ok(ClusterMetadata { brokers, topics })
    }

    /// Descriptions of the named topics (in the order given), or of every
    /// non-internal topic when `names` is `None`. One metadata request either way.
    fn describe_topics(&self, names: Option<&[String]>) -> ProviderResult<Vec<TopicDescription>> {
        let asked: Option<Vec<&str>> = names.map(|names| names.iter().map(String::as_str).collect());
        let metadata = self.metadata(asked.as_deref())?;
        let mut found: HashMap<String, TopicDescription> = HashMap::new();
        for topic in metadata.topics {
            match topic.error {
                0 => {}
                3 => continue,
                code => {
                    let detail = match wire::rd_code(code) {
                        Some(code) => code.to_string(),
                        None => format!("Kafka error code {code}"),
                    };
                    return Err(ProviderError::Request {
                        cluster: self.cluster.clone(),
                        operation: "reading topic metadata",
                        detail: format!("{}: {detail}", topic.name),
                        retryable: false,
                    });
                }
            }
            let mut partitions: Vec<PartitionInfo> = topic
                .partitions
                .into_iter()
                .map(|p| PartitionInfo {
                    partition: p.id,
                    leader: (p.leader >= 0).then_some(p.leader),
                    replicas: p.replicas,
                })
                .collect();
            partitions.sort_by_key(|p| p.partition);
            found.insert(topic.name.clone(), TopicDescription { name: topic.name, partitions });
        }
        match names {
            Some(names) => names
                .iter()
                .map(|name| {
                    found.remove(name.as_str()).ok_or_else(|| ProviderError::UnknownTopic {
                        cluster: self.cluster.clone(),
                        topic: name.clone(),
                    })
                })
                .collect(),
            None => {
                let mut all: Vec<TopicDescription> =
                    found.into_values().filter(|t| !is_internal_topic(&t.name)).collect();
                all.sort_by(|a, b| a.name.cmp(&b.name));
                Ok(all)
            }
        }
    }

    /// Checks that every partition exists, so a typo is an error, never a silent gap.
    fn check_partitions(&self, partitions: &[TopicPartition]) -> ProviderResult<()> {
        let names: Vec<String> =
            partitions.iter().map(|tp| tp.topic.clone()).collect::<BTreeSet<_>>().into_iter().collect();
        if names.is_empty() {
            return Ok(());
        }
        let topics = self.describe_topics(Some(&names))?;
        let counts: HashMap<&str, &TopicDescription> = topics.iter().map(|t| (t.name.as_str(), t)).collect();
        let known: std::collections::HashSet<(&str, i32)> =
            topics.iter().flat_map(|t| t.partitions.iter().map(|p| (t.name.as_str(), p.partition))).collect();
        for tp in partitions {
            let topic = counts[tp.topic.as_str()];
            if !known.contains(&(tp.topic.as_str(), tp.partition)) {
                return Err(ProviderError::UnknownPartition {
                    cluster: self.cluster.clone(),
                    topic: tp.topic.clone(),
                    partition: tp.partition,
                    count: topic.partitions.len(),
                });
            }
        }
        Ok(())
    }

    /// Checks that every partition exists and lists its offsets at each of
    /// `specs` (a time, `Offset::Beginning` or `Offset::End`): one list per spec.
    fn checked_offsets(
        &self,
        partitions: &[TopicPartition],
        specs: &[Offset],
    ) -> ProviderResult<Vec<Vec<Option<i64>>>> {
        if let Some(wire) = &self.wire {
            let timestamps: Vec<i64> = specs
                .iter()
                .map(|spec| match spec {
                    Offset::Beginning => wire::list_offsets::EARLIEST,
                    Offset::End => wire::list_offsets::LATEST,
                    Offset::Offset(ms) => *ms,
                    other => unreachable!("ListOffsets is asked for a time, the start or the end, not {other:?}"),
                })
                .collect();
            return retry::within(self.timeout.duration, || self.offsets_over_wire(wire, partitions, &timestamps));
        }
        self.check_partitions(partitions)?;
        std::thread::scope(|scope| {
            let running: Vec<_> =
                specs.iter().map(|spec| scope.spawn(move || self.list_offsets(partitions, *spec))).collect();
            running.into_iter().map(|r| r.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))).collect()
        })
    }

    /// ListOffsets for many partitions at once. `spec` is a timestamp in
    /// milliseconds, or `Offset::Beginning` / `Offset::End` for the log start / end.
    /// Returns `None` where the broker found no offset (no message at or after the time).
    fn list_offsets(&self, partitions: &[TopicPartition], spec: Offset) -> ProviderResult<Vec<Option<i64>>> {
        if partitions.is_empty() {
            return Ok(Vec::new());
        }
        chunks::concurrently(partitions, |chunk| {
            retry::within(self.timeout.duration, || self.list_offsets_once(chunk, spec))
        })
    }

    fn list_offsets_once(&self, partitions: &[TopicPartition], spec: Offset) -> Result<Vec<Option<i64>>, Failed> {
        const OPERATION: &str = "listing offsets";
        let mut request = TopicPartitionList::with_capacity(partitions.len());
        for tp in partitions {
            // Set on the new element: `add_partition_offset` searches the whole
            // list for it, which makes building a list quadratic.
            request.add_partition(&tp.topic, tp.partition).set_offset(spec).map_err(|e| self.failed(OPERATION, e))?;
        }
        let response =
            self.reader.offsets_for_times(request, self.timeout.duration).map_err(|e| self.failed(OPERATION, e))?;
        let mut by_partition: HashMap<(String, i32), Option<i64>> = HashMap::with_capacity(partitions.len());
        for elem in response.elements() {
            if let Err(e) = elem.error() {
                return Err(self.failed_on(OPERATION, &format!("{}:{}", elem.topic(), elem.partition()), e));
            }
            let offset = match elem.offset() {
                Offset::Offset(n) => Some(n),
                _ => None,
            };
            by_partition.insert((elem.topic().to_owned(), elem.partition()), offset);
        }
        partitions
            .iter()
            .map(|tp| {
                by_partition.get(&(tp.topic.clone(), tp.partition)).copied().ok_or_else(|| Failed {
                    code: Some(RDKafkaErrorCode::LeaderNotAvailable),
                    error: ProviderError::Request {
                        cluster: self.cluster.clone(),
                        operation: OPERATION,
                        detail: format!("the broker did not answer for {tp}"),
                        retryable: true,
                    },
                })
            })
            .collect()
    }

    /// A failed request, keeping the code that decides whether to retry it.
    fn failed(&self, operation: &'static str, error: KafkaError) -> Failed {
        Failed { code: errors::code_of(&error), error: self.request_error(operation, &error) }
    }

    /// A failed partition or group inside an answer.
    fn failed_on(&self, operation: &'static str, subject: &str, error: KafkaError) -> Failed {
        match errors::code_of(&error) {
            Some(code) => Failed { code: Some(code), error: self.code_error(operation, subject, code) },
            None => Failed { code: None, error: self.request_error(operation, &error) },
        }
    }

    fn group_client(&self, group: &str) -> ProviderResult<Arc<BaseConsumer<ReaderContext>>> {
        let mut clients = self.group_clients.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(client) = clients.get(group) {
            return Ok(Arc::clone(client));
        }
        let client: BaseConsumer<ReaderContext> =
            counting(&settings::for_group(&self.base, group), self.count_requests)
                .create_with_context(ReaderContext::default())
                .map_err(|e| errors::creation_error(&self.cluster, &self.redactor, &e))?;
        let client = Arc::new(client);
        clients.insert(group.to_owned(), Arc::clone(&client));
        Ok(client)
    }

    fn committed_offsets(&self, group: &str, topics: Option<&[String]>) -> ProviderResult<Vec<CommittedOffset>> {
        let described = self.describe_topics(topics)?;
        let partitions: Vec<TopicPartition> = described.iter().flat_map(TopicDescription::topic_partitions).collect();
        if partitions.is_empty() {
            return Ok(Vec::new());
        }
        if let Some(wire) = &self.wire {
            let mut offsets =
                retry::within(self.timeout.duration, || self.committed_over_wire(wire, group, &partitions, false))?;
            offsets.sort_by(|a, b| (&a.topic, a.partition).cmp(&(&b.topic, b.partition)));
            return Ok(offsets);
        }
        let client = self.group_client(group)?;
        const OPERATION: &str = "fetching committed offsets";
        let mut offsets = chunks::concurrently(&partitions, |chunk| {
            let mut request = TopicPartitionList::with_capacity(chunk.len());
            for tp in chunk {
                request.add_partition(&tp.topic, tp.partition);
            }
            retry::within(self.timeout.duration, || {
                let response = client
                    .committed_offsets(request.clone(), self.timeout.duration)
                    .map_err(|e| self.failed(OPERATION, e))?;
                let mut offsets = Vec::new();
                for elem in response.elements() {
                    if let Err(e) = elem.error() {
                        let subject = format!("group {group} on {}:{}", elem.topic(), elem.partition());
                        return Err(self.failed_on(OPERATION, &subject, e));
                    }
                    if let Offset::Offset(offset) = elem.offset() {
                        offsets.push(CommittedOffset {
                            topic: elem.topic().to_owned(),
                            partition: elem.partition(),
                            offset,
                        });
                    }
                }
                Ok(offsets)
            })
        })?;
        offsets.sort_by(|a, b| (&a.topic, a.partition).cmp(&(&b.topic, b.partition)));
        Ok(offsets)
    }

    fn commit_offsets(&self, group: &str, offsets: &[(TopicPartition, i64)]) -> ProviderResult<()> {
        const OPERATION: &str = "committing offsets";
        if let Some(fence) = &self.fence {
            return self.commit_fenced(&**fence, group, offsets);
        }
        if let Some(wire) = &self.wire {
            // Committing the same offsets again is harmless, so passing failures are retried.
            return retry::within(self.timeout.duration, || self.commit_over_wire(wire, group, offsets));
        }
        let client = self.group_client(group)?;
        chunks::concurrently(offsets, |chunk| {
            let mut request = TopicPartitionList::with_capacity(chunk.len());
            for (tp, offset) in chunk {
                request
                    .add_partition(&tp.topic, tp.partition)
                    .set_offset(Offset::Offset(*offset))
                    .map_err(|e| self.request_error(OPERATION, &e))?;
            }
            // Committing the same offsets again is harmless, so passing failures are retried.
            retry::within(self.timeout.duration, || {
                client.commit(&request, CommitMode::Sync).map_err(|e| self.failed(OPERATION, e))
            })?;
            Ok(Vec::<()>::new())
        })?;
        Ok(())
    }

    fn describe_group(&self, group: &str) -> ProviderResult<GroupDescription> {
        retry::within(self.timeout.duration, || {
            group_admin::describe_group(&self.reader, group, self.timeout.duration)
                .map_err(|e| Failed { code: e.code, error: self.admin_error("describing a consumer group", e) })
        })
    }

    fn delete_offsets(&self, group: &str, partitions: &[TopicPartition]) -> ProviderResult<Vec<OffsetDeleted>> {
        self.check_partitions(partitions)?;
        // OffsetDelete cannot be fenced by Kafka: ownership is proven first.
        if let Some(fence) = &self.fence {
            fence.still_owner().map_err(|why| ProviderError::NotSent {
                cluster: self.cluster.clone(),
                detail: format!("group {group:?}: no offsets were deleted: {why}"),
            })?;
        }
        // Deleting what is already gone is harmless, so passing failures are retried.
        if let Some(wire) = &self.wire {
            return retry::within(self.timeout.duration, || self.delete_offsets_over_wire(wire, group, partitions));
        }
        retry::within(self.timeout.duration, || {
            group_admin::delete_offsets(&self.reader, group, partitions, self.timeout.duration)
                .map_err(|e| Failed { code: e.code, error: self.admin_error("deleting committed offsets", e) })
        })
    }

    fn list_groups(&self) -> ProviderResult<Vec<GroupListing>> {
        let mut groups = retry::within(self.timeout.duration, || {
            group_admin::list_groups(&self.reader, self.timeout.duration)
                .map_err(|e| Failed { code: e.code, error: self.admin_error("listing consumer groups", e) })
        })?;
        groups.sort_by(|a, b| a.group.cmp(&b.group));
        Ok(groups)
    }
}

impl Provider for KafkaProvider {
    fn cluster(&self) -> &str {
        &self.inner.cluster
    }

    async fn topics(&self) -> ProviderResult<Vec<TopicDescription>> {
        self.blocking("reading cluster metadata", |inner| inner.describe_topics(None)).await
    }

    async fn topic(&self, name: &str) -> ProviderResult<TopicDescription> {
        let names = vec![name.to_owned()];
        let mut topics =
            self.blocking("reading topic metadata", move |inner| inner.describe_topics(Some(&names))).await?;
        Ok(topics.remove(0))
    }

    async fn topics_named(&self, names: &[String]) -> ProviderResult<Vec<TopicDescription>> {
        let names = names.to_vec();
        self.blocking("reading topic metadata", move |inner| inner.describe_topics(Some(&names))).await
    }

    async fn watermarks(&self, partitions: &[TopicPartition]) -> ProviderResult<Vec<Watermarks>> {
        let asked = partitions.to_vec();
        let checked = asked.clone();
        let mut lists = self
            .blocking("listing offsets", move |inner| {
                inner.checked_offsets(&checked, &[Offset::Beginning, Offset::End])
            })
            .await?;
        let (ends, starts) = (lists.pop().unwrap_or_default(), lists.pop().unwrap_or_default());
        asked
            .into_iter()
            .zip(starts.into_iter().zip(ends))
            .map(|(tp, (start, end))| match (start, end) {
                (Some(log_start), Some(log_end)) => {
                    Ok(Watermarks { topic: tp.topic, partition: tp.partition, log_start, log_end })
                }
                _ => Err(ProviderError::Request {
                    cluster: self.inner.cluster.clone(),
                    operation: "listing offsets",
                    detail: format!("no log start or log end for {tp}"),
                    retryable: true,
                }),
            })
            .collect()
    }

    async fn offsets_for_timestamp(
        &self,
        partitions: &[TopicPartition],
        timestamp_ms: i64,
    ) -> ProviderResult<Vec<OffsetForTime>> {
        if timestamp_ms < 0 {
            return Err(ProviderError::Request {
                cluster: self.inner.cluster.clone(),
                operation: "looking up offsets by time",
                detail: format!("timestamp {timestamp_ms} is before 1970"),
                retryable: false,
            });
        }
        let asked = partitions.to_vec();
        let offsets = {
            let asked = asked.clone();
            self.blocking("looking up offsets by time", move |inner| {
                Ok(inner.checked_offsets(&asked, &[Offset::Offset(timestamp_ms)])?.pop().unwrap_or_default())
            })
            .await?
        };
        Ok(asked
            .into_iter()
            .zip(offsets)
            .map(|(tp, offset)| OffsetForTime { topic: tp.topic, partition: tp.partition, offset })
            .collect())
    }

    async fn committed_offsets(&self, group: &str, topics: Option<&[String]>) -> ProviderResult<Vec<CommittedOffset>> {
        let group = group.to_owned();
        let topics = topics.map(<[String]>::to_vec);
        self.blocking("fetching committed offsets", move |inner| inner.committed_offsets(&group, topics.as_deref()))
            .await
    }

    async fn describe_group(&self, group: &str) -> ProviderResult<GroupDescription> {
        let group = group.to_owned();
        self.blocking("describing a consumer group", move |inner| inner.describe_group(&group)).await
    }

    async fn list_groups(&self) -> ProviderResult<Vec<GroupListing>> {
        self.blocking("listing consumer groups", |inner| inner.list_groups()).await
    }

    async fn commit_offsets(&self, group: &str, offsets: &[(TopicPartition, i64)]) -> ProviderResult<()> {
        if offsets.is_empty() {
            return Ok(());
        }
        let group = group.to_owned();
        let offsets = offsets.to_vec();
        self.blocking("committing offsets", move |inner| inner.commit_offsets(&group, &offsets)).await
    }

    async fn delete_offsets(&self, group: &str, partitions: &[TopicPartition]) -> ProviderResult<Vec<OffsetDeleted>> {
        if partitions.is_empty() {
            return Ok(Vec::new());
        }
        let group = group.to_owned();
        let partitions = partitions.to_vec();
        self.blocking("deleting committed offsets", move |inner| inner.delete_offsets(&group, &partitions)).await
    }

    fn scan_fallback(&self) -> Option<String> {
        if self.inner.wire.is_some() {
            return None;
        }
        let protocol = self.inner.base.get("security.protocol").unwrap_or("not PLAINTEXT");
        Some(format!(
            "messages were read through librdkafka's consumer, the slower path: Fetch spoken \
             directly needs a PLAINTEXT listener, and this cluster's security.protocol is {protocol}"
        ))
    }

    async fn scan(&self, ranges: &[OffsetRange], visit: Visitor) -> ProviderResult<u64> {
        Ok(self.scan_noting(ranges, visit).await?.read)
    }

    async fn scan_noting(&self, ranges: &[OffsetRange], visit: Visitor) -> ProviderResult<Scanned> {
        let ranges = ranges.to_vec();
        self.blocking("reading messages", move |inner| inner.scan(&ranges, &visit)).await
    }

    async fn delete_records(&self, below: &[(TopicPartition, i64)]) -> ProviderResult<Vec<RecordsDeleted>> {
        if below.is_empty() {
            return Ok(Vec::new());
        }
        self.delete_records_below(below).await
    }

    async fn cleanup_policy(&self, topic: &str) -> ProviderResult<CleanupPolicy> {
        // DescribeConfigs answers for a topic that does not exist with the broker's
        // defaults and no error, so existence is checked first.
        self.topic(topic).await?;
        let inner = &self.inner;
        let options = AdminOptions::new().request_timeout(Some(inner.timeout.duration));
        let resource = ResourceSpecifier::Topic(topic);
        let results = inner
            .admin()?
            .describe_configs([&resource], &options)
            .await
            .map_err(|e| inner.request_error("describing topic configuration", &e))?;
        let missing = || ProviderError::Request {
            cluster: inner.cluster.clone(),
            operation: "describing topic configuration",
            detail: format!("the broker reported no cleanup.policy for {topic}"),
            retryable: false,
        };
        match results.into_iter().next() {
            Some(Ok(resource)) => {
                let policy =
                    resource.get("cleanup.policy").and_then(|entry| entry.value.clone()).ok_or_else(missing)?;
                Ok(CleanupPolicy { topic: topic.to_owned(), policy })
            }
            Some(Err(RDKafkaErrorCode::UnknownTopicOrPartition | RDKafkaErrorCode::UnknownTopic)) => {
                Err(ProviderError::UnknownTopic { cluster: inner.cluster.clone(), topic: topic.to_owned() })
            }
            Some(Err(code)) => Err(inner.code_error("describing topic configuration", topic, code)),
            None => Err(missing()),
        }
    }
}
