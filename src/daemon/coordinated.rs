//! The daemon as a replica of a coordinated deployment (docs/HA.md): it
//! joins, keeps its store in step with the runs topic, takes over what a
//! partition it claims left behind, and runs only its own clusters' schedules.

use std::sync::{Arc, Weak};

use chrono::Utc;
use tokio::sync::mpsc::UnboundedReceiver;

use super::ServeError;
use super::state::Daemon;
use crate::config::ClusterConfig;
use crate::coordination::{Coordination, Event, Ingested};
use crate::history::{RunQuery, RunRecord, RunState, Store};
use crate::provider::Provider;

/// Joins the deployment ebb.yaml's `coordination:` names, if it names one:
/// returns once this replica's store holds every run the topics hold.
pub async fn join(daemon: &Arc<Daemon>, address: &str) -> Result<Option<UnboundedReceiver<Event>>, ServeError> {
    let Some(settings) = daemon.config.config.coordination.clone() else { return Ok(None) };
    let ClusterConfig::Kafka(cluster) = daemon.config.cluster(&settings.cluster)? else {
        unreachable!("ebb.yaml's checks admit only a kafka cluster for coordination")
    };
    let weak: Weak<Daemon> = Arc::downgrade(daemon);
    let ingest = Box::new(move |ingested: Ingested| {
        let Some(daemon) = weak.upgrade() else { return };
        let done = match &ingested {
            Ingested::Saved(record) => daemon.store.save(record),
            Ingested::Removed(id) => daemon.store.remove(id).map(|_| ()),
        };
        if let Err(e) = done {
            tracing::error!(error = %e, "a run from the runs topic cannot be kept in the local store");
        }
    });
    let weak: Weak<Daemon> = Arc::downgrade(daemon);
    let on_lost = Box::new(move |partition: i32| {
        let Some(daemon) = weak.upgrade() else { return };
        let Some(coordination) = daemon.coordination().cloned() else { return };
        // Its runs there stop now: a claim of it later is a new term, not theirs.
        daemon.stop_runs_on(|cluster| coordination.partition_of(cluster) == partition);
    });
    let (coordination, events) = Coordination::start(&settings, cluster, address, ingest, on_lost)
        .await
        .map_err(|e| ServeError::Coordination(e.to_string()))?;
    tracing::info!(replica = %coordination.replica, deployment = %settings.id, "joined the deployment");
    let _ = daemon.coordination.set(coordination);
    Ok(Some(events))
}

/// Acts on what the coordinator says, for the daemon's life.
pub async fn coordination_loop(daemon: Arc<Daemon>, mut events: UnboundedReceiver<Event>) {
    while let Some(event) = events.recv().await {
        match event {
            Event::Claimed { partition, term } => take_over(&daemon, partition, term).await,
            Event::Lost { .. } => {}
        }
        // Schedules follow ownership: gained ones start from the deployment's cursor.
        daemon.sync_schedules();
    }
}

/// Runs of `partition`'s clusters left `running` by an earlier owner: their
/// groups are fenced (a late commit of theirs fails) and read back, and each
/// is marked `interrupted` with what the read-back shows. None is resumed.
async fn take_over(daemon: &Arc<Daemon>, partition: i32, term: u64) {
    let Some(coordination) = daemon.coordination().cloned() else { return };
    let running = RunQuery { status: Some(RunState::Running), oldest_first: true, ..RunQuery::default() };
    let summaries = daemon.store.list(&running).unwrap_or_else(|e| {
        tracing::error!(error = %e, "cannot list running runs to take over");
        Vec::new()
    });
    let ours: Vec<String> = daemon.in_flight().into_iter().map(|(id, _, _)| id).collect();
    for summary in summaries {
        if ours.contains(&summary.id) {
            continue;
        }
        let Ok(Some(record)) = daemon.store.get(&summary.id) else { continue };
        if coordination.partition_of(&record.cluster) != partition {
            continue;
        }
        let targets = record.plan.as_ref().map(crate::runs::targets).unwrap_or_default();
        let record = fence_and_interrupt(daemon, record, &targets, &coordination.replica, term).await;
        let cluster = record.cluster.clone();
        let released = crate::coordination::off_worker(|| coordination.release_locks(&cluster, &targets));
        if let Err(why) = released {
            tracing::warn!(run_id = %record.id, why, "cannot let go of the locks of a run taken over");
        }
        match daemon.history().save(&record) {
            Ok(()) => {
                tracing::warn!(run_id = %record.id, runbook = %record.runbook, partition, term, "a run left behind by an earlier owner is marked interrupted")
            }
            Err(e) => tracing::error!(run_id = %record.id, error = %e, "cannot mark a run left behind as interrupted"),
        }
    }
}

/// Marks `record` interrupted after fencing and reading back each group among
/// `targets` (what its plan changes).
async fn fence_and_interrupt(
    daemon: &Daemon,
    mut record: RunRecord,
    targets: &[crate::history::Target],
    replica: &str,
    term: u64,
) -> RunRecord {
    record.interrupt(Utc::now());
    let mut notes = Vec::new();
    let groups = targets.iter().filter_map(|t| match t {
        crate::history::Target::Group(g) => Some(g),
        crate::history::Target::Topic(_) => None,
    });
    match daemon.provider(&record.cluster) {
        Ok(provider) => {
            for group in groups {
                let fenced = provider.fence_group(group).await;
                let snapshot: Vec<(String, i32)> = record
                    .apply
                    .iter()
                    .flat_map(|a| &a.steps)
                    .filter_map(|s| s.offsets_snapshot())
                    .filter(|(g, _)| g == group)
                    .flat_map(|(_, entries)| entries.iter().map(|e| (e.topic.clone(), e.partition)))
                    .collect();
                let read_back = if snapshot.is_empty() {
                    Ok(String::new())
                } else {
                    let mut topics: Vec<String> = snapshot.iter().map(|(t, _)| t.clone()).collect();
                    topics.dedup();
                    provider.committed_offsets(group, Some(&topics)).await.map(|offsets| {
                        let shown: Vec<String> = snapshot
                            .iter()
                            .map(|(t, p)| {
                                let now = offsets.iter().find(|o| &o.topic == t && o.partition == *p);
                                format!("{t}:{p}={}", now.map_or("-".to_owned(), |o| o.offset.to_string()))
                            })
                            .collect();
                        format!(", committed now {}", shown.join(" "))
                    })
                };
                notes.push(match (fenced, read_back) {
                    (Ok(()), Ok(now)) => format!("group {group} fenced{now}"),
                    (Err(e), _) | (_, Err(e)) => format!("group {group}: {e}"),
                });
            }
        }
        Err(e) => notes.push(format!("cluster {}: {e}", record.cluster)),
    }
    let taken = format!("replica {replica} took its cluster over (term {term})");
    let detail = if notes.is_empty() { taken } else { format!("{taken}: {}", notes.join("; ")) };
    record.reason = Some(match record.reason.take() {
        Some(reason) => format!("{reason}. {detail}"),
        None => detail,
    });
    record
}

/// At shutdown: runs of this replica's clusters that the grace period
/// stopped are recorded `interrupted` for the whole deployment, while this
/// replica still owns them. Other replicas' runs are theirs to record.
pub fn interrupt_stopped_runs(daemon: &Daemon) {
    let running = RunQuery { status: Some(RunState::Running), ..RunQuery::default() };
    for summary in daemon.store.list(&running).unwrap_or_default() {
        if daemon.locks.is_alive(&summary.id) || !daemon.runs_cluster(&summary.cluster) {
            continue;
        }
        let Ok(Some(mut record)) = daemon.store.get(&summary.id) else { continue };
        record.interrupt(Utc::now());
        if let Err(e) = daemon.history().save(&record) {
            tracing::error!(run_id = %record.id, error = %e, "cannot record a stopped run as interrupted");
        }
    }
}

/// History retention for the deployment: every hour, each replica applies
/// `history:` to the runs of the clusters it owns, removing them with
/// tombstones on the runs topic, so every replica's store lets them go.
pub async fn retention_loop(daemon: Arc<Daemon>) {
    let retention = crate::history::Retention::from(&daemon.config.config.history);
    loop {
        tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
        let daemon = daemon.clone();
        let removed = tokio::task::spawn_blocking(move || {
            let owned = OwnedRuns { history: daemon.history(), daemon: &daemon };
            retention.apply(&owned, Utc::now())
        })
        .await;
        match removed {
            Ok(Ok(0)) => {}
            Ok(Ok(removed)) => tracing::info!(removed, "history retention deleted old runs of this replica's clusters"),
            Ok(Err(e)) => tracing::error!(error = %e, "history retention failed"),
            Err(e) => tracing::error!(error = %e, "history retention stopped"),
        }
    }
}

/// The runs of the clusters this replica owns, as retention sees them.
struct OwnedRuns<'a> {
    history: crate::coordination::ReplicatedStore<'a>,
    daemon: &'a Daemon,
}

impl Store for OwnedRuns<'_> {
    fn save(&self, record: &RunRecord) -> Result<(), crate::history::StoreError> {
        self.history.save(record)
    }

    fn get(&self, id: &str) -> Result<Option<RunRecord>, crate::history::StoreError> {
        self.history.get(id)
    }

    fn remove(&self, id: &str) -> Result<bool, crate::history::StoreError> {
        self.history.remove(id)
    }

    fn page(&self, query: &RunQuery) -> Result<crate::history::RunPage, crate::history::StoreError> {
        let mut page = self.history.page(query)?;
        page.runs.retain(|run| self.daemon.runs_cluster(&run.cluster));
        Ok(page)
    }

    fn ids_with_prefix(&self, prefix: &str, limit: usize) -> Result<Vec<String>, crate::history::StoreError> {
        self.history.ids_with_prefix(prefix, limit)
    }

    fn runbook_counts(&self) -> Result<Vec<(String, u64)>, crate::history::StoreError> {
        self.history.runbook_counts()
    }
}
