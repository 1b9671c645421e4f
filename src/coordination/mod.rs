//! Several daemons as one deployment, coordinated through Kafka itself
//! (docs/HA.md). The replicas join one group on the coordination cluster;
//! the group's assignment of the state topic's partitions says which replica
//! owns which partition, and a target cluster belongs to the partition its
//! name hashes to. An owner claims a partition (its transactional producer's
//! `init_transactions` fences the one before), reads the partition to its
//! end, writes its claim with the next term, and only then acts: fires the
//! schedules of the partition's runbooks, runs on its clusters, and writes
//! their records, all in transactions a newer owner fences. Every replica
//! tails both topics into its own store, so any replica answers reads.

mod claim;
mod cluster_fence;
mod membership;
pub mod names;
mod ownership;
pub mod records;
mod replicated_store;
pub mod status;
mod tail;
mod topics;
pub mod view;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use chrono::Utc;
use rdkafka::producer::{FutureProducer, Producer};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use crate::config::{CoordinationConfig, KafkaClusterConfig};
use crate::history::{Held, RunRecord, StoreError, Target};
pub use cluster_fence::ClusterFence;
pub use names::Names;
pub use ownership::TransactError;
use ownership::{Ownership, Write};
use records::{ClaimRecord, CursorRecord, LockRecord, ReplicaRecord, RunEnvelope, StateRecord, lock_key};
pub use replicated_store::ReplicatedStore;
pub use tail::{Ingest, Ingested};
use view::View;

/// What the daemon hears from its coordinator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// This replica claimed `partition` and read it to its end: its runs left
    /// behind are to be taken over, its schedules to be run here.
    Claimed { partition: i32, term: u64 },
    /// This replica no longer owns `partition`: its schedules stop here.
    Lost { partition: i32 },
}

/// Counts for `/metrics`.
#[derive(Debug, Default)]
pub struct Counters {
    pub claims: AtomicU64,
    pub losses: AtomicU64,
    /// Writes refused because a newer owner had fenced this replica.
    pub fenced: AtomicU64,
    /// Writes refused because this replica no longer owned the cluster (it
    /// had let go, or the group had moved it) before anything was sent.
    pub refused: AtomicU64,
}

pub struct Coordination {
    pub names: Names,
    pub replica: String,
    /// Random per process: a restarted replica is a new incarnation.
    pub incarnation: String,
    /// Where this replica's API answers.
    pub address: String,
    cluster: KafkaClusterConfig,
    /// How long without reaching the coordination cluster before this replica stops acting.
    pub session: Duration,
    /// Partitions the group gave this replica, claimed or being claimed.
    assigned: Mutex<BTreeSet<i32>>,
    /// Partitions claimed and still owned.
    owned: Mutex<BTreeMap<i32, Arc<Ownership>>>,
    view: Mutex<View>,
    /// When the coordination cluster last took a write from this replica.
    last_contact: Mutex<Instant>,
    events: UnboundedSender<Event>,
    /// Partitions the group gave, waiting to be claimed.
    to_claim: UnboundedSender<i32>,
    /// Partitions queued or being claimed now.
    claiming: Mutex<BTreeSet<i32>>,
    /// Told of each partition this replica stops owning, at once (the daemon
    /// stops its runs there, before anything can be claimed again).
    on_lost: Box<dyn Fn(i32) + Send + Sync>,
    /// The group's thread, joined when the replica leaves.
    membership: Mutex<Option<std::thread::JoinHandle<()>>>,
    heartbeats: FutureProducer,
    stopping: AtomicBool,
    pub counters: Counters,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The first error line of a coordination failure, for logs and messages.
#[derive(Debug, thiserror::Error)]
#[error("coordination through cluster {cluster}: {detail}")]
pub struct CoordinationError {
    pub cluster: String,
    pub detail: String,
}

impl Coordination {
    /// Joins the deployment: makes its topics if they are missing, reads them
    /// into the local store through `ingest` (returning once read to their
    /// end), then joins the group and starts claiming what it is given.
    /// `on_lost` hears of each partition this replica stops owning, as it
    /// stops (before the group can hand it on, or this replica claim it again).
    pub async fn start(
        settings: &CoordinationConfig,
        cluster: &KafkaClusterConfig,
        address: &str,
        ingest: Ingest,
        on_lost: Box<dyn Fn(i32) + Send + Sync>,
    ) -> Result<(Arc<Coordination>, UnboundedReceiver<Event>), CoordinationError> {
        let fail = |detail: String| CoordinationError {
            cluster: settings.cluster.clone(),
            detail: cluster.redactor().redact(&detail),
        };
        let partitions = topics::ensure(cluster, &settings.id, settings.partitions).await.map_err(fail)?;
        let replica = settings.replica.clone().unwrap_or_else(|| default_replica(address));
        let (events, event_rx) = unbounded_channel();
        let (to_claim, claim_rx) = unbounded_channel();
        let heartbeats: FutureProducer = crate::provider::kafka::settings::producer(cluster)
            .set("client.id", format!("ebb-{replica}"))
            .create()
            .map_err(|e| fail(format!("cannot make a producer: {e}")))?;
        let coordination = Arc::new(Coordination {
            names: Names::new(&settings.id, partitions),
            replica,
            incarnation: format!("{:016x}", rand_u64()),
            address: settings.advertise.clone().unwrap_or_else(|| address.to_owned()),
            cluster: cluster.clone(),
            session: settings.session.duration,
            assigned: Mutex::new(BTreeSet::new()),
            owned: Mutex::new(BTreeMap::new()),
            view: Mutex::new(View::default()),
            last_contact: Mutex::new(Instant::now()),
            events,
            to_claim,
            claiming: Mutex::new(BTreeSet::new()),
            on_lost,
            membership: Mutex::new(None),
            heartbeats,
            stopping: AtomicBool::new(false),
            counters: Counters::default(),
        });
        tail::start(coordination.clone(), ingest).map_err(fail)?;
        let caught_up = {
            let coordination = coordination.clone();
            tokio::task::spawn_blocking(move || coordination.read_to_end(None)).await
        };
        caught_up.map_err(|e| fail(e.to_string()))?.map_err(fail)?;
        let group = membership::start(coordination.clone()).map_err(fail)?;
        *lock(&coordination.membership) = Some(group);
        tokio::spawn(claim::claim_loop(coordination.clone(), claim_rx));
        tokio::spawn(heartbeat_loop(coordination.clone()));
        Ok((coordination, event_rx))
    }

    /// Records of the coordination topics this replica has yet to read.
    pub fn lag(&self) -> i64 {
        lock(&self.view).lag()
    }

    /// The partition of target cluster `cluster`.
    pub fn partition_of(&self, cluster: &str) -> i32 {
        self.names.partition_of(cluster)
    }

    /// Whether this replica owns `cluster` now: its partition is claimed and
    /// the coordination cluster was reached within the session.
    pub fn owns(&self, cluster: &str) -> bool {
        self.ownership(cluster).is_ok()
    }

    /// The partitions this replica owns.
    pub fn owned(&self) -> Vec<i32> {
        lock(&self.owned).keys().copied().collect()
    }

    /// The replica that owns `cluster` by the latest claim, and its address.
    pub fn owner_of(&self, cluster: &str) -> Option<(String, Option<String>)> {
        let view = lock(&self.view);
        let claim = view.claims.get(&self.partition_of(cluster))?;
        let address = view.replicas.get(&claim.replica).map(|r| r.address.clone());
        Some((claim.replica.clone(), address))
    }

    /// A schedule's cursor as the state topic holds it.
    pub fn cursor(&self, runbook: &str) -> Option<CursorRecord> {
        lock(&self.view).cursors.get(runbook).cloned()
    }

    fn ownership(&self, cluster: &str) -> Result<Arc<Ownership>, String> {
        let partition = self.partition_of(cluster);
        self.check_contact();
        lock(&self.owned).get(&partition).cloned().ok_or_else(|| self.not_owner(cluster))
    }

    /// Why this replica may not act on `cluster`, naming its owner.
    pub fn not_owner(&self, cluster: &str) -> String {
        let owner = self.owner_of(cluster).map_or_else(
            || "no replica has claimed it yet".to_owned(),
            |(replica, address)| {
                format!("replica {replica} owns it{}", address.map(|a| format!(" at {a}")).unwrap_or_default())
            },
        );
        format!("this replica ({}) does not own cluster {cluster} now: {owner}", self.replica)
    }

    /// Lets go of everything once the coordination cluster has not been
    /// reached for a whole session: a replica cut off stops acting on its own.
    fn check_contact(&self) {
        if lock(&self.last_contact).elapsed() > self.session {
            self.let_go_of_everything("the coordination cluster has not been reached within the session");
        }
    }

    /// Queues for a claim the partitions the group gave this replica that it
    /// does not own (it let go of them while out of contact, or a claim failed).
    fn claim_what_is_assigned(&self) {
        let assigned = lock(&self.assigned);
        let owned = lock(&self.owned);
        let mut claiming = lock(&self.claiming);
        for partition in assigned.iter().filter(|p| !owned.contains_key(p)) {
            if claiming.insert(*partition) {
                let _ = self.to_claim.send(*partition);
            }
        }
    }

    /// Writes `writes` for `cluster` in one transaction of its partition's
    /// owner, or refuses: this replica does not own it, or was fenced.
    fn transact(&self, cluster: &str, writes: &[Write]) -> Result<(), String> {
        let ownership = self.ownership(cluster).inspect_err(|_| {
            self.counters.refused.fetch_add(1, Ordering::Relaxed);
        })?;
        let started = Instant::now();
        match ownership.transact(writes) {
            Ok(()) => {
                self.contact(started);
                Ok(())
            }
            Err(TransactError::Fenced(partition)) => {
                self.counters.fenced.fetch_add(1, Ordering::Relaxed);
                self.lose(partition, "a newer owner fenced this replica");
                Err(format!("replica {} was fenced: another replica owns cluster {cluster} now", self.replica))
            }
            Err(e) => Err(e.to_string()),
        }
    }

    /// Proves this replica still owns `cluster`: its claim is written again in
    /// a transaction, which fails if a newer owner has fenced it. Blocks.
    pub fn prove(&self, cluster: &str) -> Result<(), String> {
        let ownership = self.ownership(cluster)?;
        self.transact(cluster, &[self.claim_write(ownership.partition, ownership.term)])
    }

    /// This replica's claim of `partition` at `term`, as of now.
    fn claim_write(&self, partition: i32, term: u64) -> Write {
        self.state_write(&StateRecord::Claim(ClaimRecord {
            partition,
            replica: self.replica.clone(),
            incarnation: self.incarnation.clone(),
            term,
            at: Utc::now(),
        }))
    }

    /// Saves a run's record to the runs topic, as the owner of its cluster. Blocks.
    pub fn publish_run(&self, record: &RunRecord) -> Result<(), StoreError> {
        let writes = self.run_writes(record)?;
        self.transact(&record.cluster, &writes).map_err(StoreError::Io)
    }

    /// Removes a run from the runs topic (retention), as the owner of its
    /// cluster: tombstones for its key and the parts it was written in. Blocks.
    pub fn publish_removal(&self, record: &RunRecord) -> Result<(), StoreError> {
        let writes: Vec<Write> =
            self.run_writes(record)?.into_iter().map(|write| Write { value: None, ..write }).collect();
        self.transact(&record.cluster, &writes).map_err(StoreError::Io)
    }

    /// Fires a schedule slot: its cursor and its run's first record, in one
    /// transaction, so a slot fires at most once whoever owns the schedule. Blocks.
    pub fn fire(&self, cursor: &CursorRecord, record: &RunRecord) -> Result<(), String> {
        // A slot at or before the deployment's cursor fired already (under an earlier owner).
        if lock(&self.view).cursors.get(&cursor.runbook).is_some_and(|last| last.slot >= cursor.slot) {
            return Err(format!("slot {} fired already", cursor.slot.to_rfc3339()));
        }
        let mut writes = vec![self.state_write(&StateRecord::Cursor(cursor.clone()))];
        writes.extend(self.run_writes(record).map_err(|e| e.to_string())?);
        self.transact(&record.cluster, &writes)
    }

    /// Takes the deployment's locks of `targets` on `cluster` for run
    /// `run_id`, in one transaction of the cluster's owner. `Ok(Err)` names a
    /// lock another run holds (one `running` says is still going); `Err` says
    /// this replica could not write them (it does not own the cluster). Blocks.
    pub fn take_locks(
        &self,
        cluster: &str,
        targets: &[Target],
        run_id: &str,
        running: &dyn Fn(&str) -> bool,
    ) -> Result<Result<(), Held>, String> {
        {
            let view = lock(&self.view);
            for target in targets {
                let key = lock_key(cluster, &lock_target(target));
                if let Some(held) = view.locks.get(&key).filter(|l| l.run_id != run_id && running(&l.run_id)) {
                    return Ok(Err(Held {
                        cluster: cluster.to_owned(),
                        target: target.clone(),
                        holder: held.run_id.clone(),
                    }));
                }
            }
        }
        let writes: Vec<Write> = targets
            .iter()
            .map(|target| {
                self.state_write(&StateRecord::Lock(LockRecord {
                    cluster: cluster.to_owned(),
                    target: lock_target(target),
                    run_id: run_id.to_owned(),
                    replica: self.replica.clone(),
                    at: Utc::now(),
                }))
            })
            .collect();
        self.transact(cluster, &writes).map(Ok)
    }

    /// Lets go of the deployment's locks of `targets` on `cluster`, if this
    /// replica still owns it (a new owner lets go of them when it takes over). Blocks.
    pub fn release_locks(&self, cluster: &str, targets: &[Target]) -> Result<(), String> {
        let writes: Vec<Write> = targets
            .iter()
            .map(|target| Write {
                topic: self.names.state_topic(),
                key: lock_key(cluster, &lock_target(target)),
                value: None,
            })
            .collect();
        self.transact(cluster, &writes)
    }

    fn run_writes(&self, record: &RunRecord) -> Result<Vec<Write>, StoreError> {
        let term = lock(&self.owned).get(&self.partition_of(&record.cluster)).map_or(0, |o| o.term);
        let envelope = RunEnvelope {
            replica: self.replica.clone(),
            incarnation: self.incarnation.clone(),
            term,
            record: record.clone(),
        };
        let topic = self.names.runs_topic();
        Ok(records::run_writes(&envelope)
            .into_iter()
            .map(|(key, value)| Write { topic: topic.clone(), key, value: Some(value) })
            .collect())
    }

    fn state_write(&self, record: &StateRecord) -> Write {
        Write { topic: self.names.state_topic(), key: record.key(), value: Some(record.value()) }
    }

    fn contact(&self, since: Instant) {
        let mut last = lock(&self.last_contact);
        *last = (*last).max(since);
    }

    /// The group took `partitions` away (or they were lost with the session).
    fn revoked(&self, partitions: &[i32]) {
        let mut assigned = lock(&self.assigned);
        for partition in partitions {
            assigned.remove(partition);
            self.lose(*partition, "the group moved it");
        }
    }

    fn assigned(&self, partitions: &[i32]) {
        lock(&self.assigned).extend(partitions.iter().copied());
        self.claim_what_is_assigned();
    }

    fn is_assigned(&self, partition: i32) -> bool {
        lock(&self.assigned).contains(&partition)
    }

    fn lose(&self, partition: i32, why: &str) {
        let Some(ownership) = lock(&self.owned).remove(&partition) else { return };
        self.counters.losses.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(
            partition,
            term = ownership.term,
            why,
            "no longer the owner of a partition; its work stops here"
        );
        (self.on_lost)(partition);
        let _ = self.events.send(Event::Lost { partition });
        // Closing a producer waits on the network: not on the caller's thread.
        std::thread::spawn(move || drop(ownership));
    }

    fn let_go_of_everything(&self, why: &str) {
        let partitions: Vec<i32> = lock(&self.owned).keys().copied().collect();
        for partition in partitions {
            self.lose(partition, why);
        }
    }

    /// Waits until the tail has read both topics to their ends as they are
    /// now (`partition` alone, or every partition). Blocks.
    fn read_to_end(&self, partition: Option<i32>) -> Result<(), String> {
        // The wait lasts while the tail makes progress: a large runs topic takes
        // as long as it takes, a tail that reads nothing gives up.
        let patience = self.cluster.timeout.duration.max(Duration::from_secs(30));
        let mut deadline = Instant::now() + patience;
        let topics = [self.names.state_topic(), self.names.runs_topic()];
        let partitions: Vec<i32> = partition.map_or_else(|| (0..self.names.partitions).collect(), |p| vec![p]);
        let client = self.heartbeats.client();
        let mut ends = Vec::new();
        for topic in &topics {
            for p in &partitions {
                // A topic just made may have no leader for a moment.
                let high = loop {
                    match client.fetch_watermarks(topic, *p, self.cluster.timeout.duration) {
                        Ok((_, high)) => break high,
                        Err(e) if Instant::now() > deadline => {
                            return Err(format!("cannot read the end of {topic}:{p}: {e}"));
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(100)),
                    }
                };
                ends.push((topic.clone(), *p, high));
            }
        }
        {
            let mut view = lock(&self.view);
            for (topic, p, high) in &ends {
                view.ends.insert((topic.clone(), *p), *high);
            }
        }
        let mut read_so_far = 0;
        loop {
            let (done, read) = {
                let view = lock(&self.view);
                let done = ends.iter().all(|(topic, p, high)| view.has_read(topic, *p, *high));
                (done, view.positions.values().sum::<i64>())
            };
            if done {
                return Ok(());
            }
            if read > read_so_far {
                read_so_far = read;
                deadline = Instant::now() + patience;
            }
            if Instant::now() > deadline || self.stopping.load(Ordering::SeqCst) {
                return Err("the coordination topics could not be read to their end in time".to_owned());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops acting and leaves the group (so the others take its partitions
    /// over at once): no more claims, heartbeats or tail. Blocks a moment.
    pub fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        self.let_go_of_everything("the daemon is stopping");
        if let Some(group) = lock(&self.membership).take() {
            let _ = group.join();
        }
    }

    fn replica_record(&self) -> ReplicaRecord {
        ReplicaRecord {
            replica: self.replica.clone(),
            incarnation: self.incarnation.clone(),
            address: self.address.clone(),
            seen_at: Utc::now(),
            owned: self.owned(),
            lag: lock(&self.view).lag(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }
}

/// Says this replica is alive every quarter of the session, and lets go of
/// everything once the coordination cluster has not been reached for a
/// whole session: a replica cut off stops acting on its own.
async fn heartbeat_loop(coordination: Arc<Coordination>) {
    use rdkafka::producer::FutureRecord;
    let every = coordination.session / 4;
    loop {
        if coordination.stopping.load(Ordering::SeqCst) {
            return;
        }
        let record = StateRecord::Replica(coordination.replica_record());
        let (key, value) = (record.key(), record.value());
        let topic = coordination.names.state_topic();
        let partition = coordination.partition_of(&coordination.replica);
        let started = Instant::now();
        let sent = coordination
            .heartbeats
            .send(FutureRecord::to(&topic).key(&key).payload(&value).partition(partition), every)
            .await;
        match sent {
            Ok(_) => {
                coordination.contact(started);
                coordination.claim_what_is_assigned();
            }
            Err((e, _)) => tracing::warn!(
                error = %coordination.cluster.redactor().redact(&e.to_string()),
                "cannot reach the coordination cluster"
            ),
        }
        coordination.check_contact();
        tokio::time::sleep(every.saturating_sub(started.elapsed())).await;
    }
}

/// How a lock's target is written in its key and record.
fn lock_target(target: &Target) -> String {
    match target {
        Target::Group(name) => format!("group:{name}"),
        Target::Topic(name) => format!("topic:{name}"),
    }
}

/// Runs blocking work from async code without stalling the runtime's other tasks.
pub fn off_worker<T>(work: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(work)
        }
        _ => work(),
    }
}

fn default_replica(address: &str) -> String {
    let host = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
    let port = address.rsplit(':').next().unwrap_or_default();
    let name: String = format!("{}-{port}", host.trim())
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '-' })
        .collect();
    name.trim_matches('-').chars().take(64).collect()
}

fn rand_u64() -> u64 {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("the system's random source");
    u64::from_le_bytes(bytes)
}
