//! What the daemon holds while it runs, shared by the scheduler loop, the
//! reload loop, the HTTP handlers and the run tasks.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

use chrono::Utc;
use tokio::sync::Notify;
use tokio::task::AbortHandle;

use super::auth::Tokens;
use super::metrics::{Gauges, Metrics};
use super::runbook_set::RunbookSet;
use crate::config::LoadedConfig;
use crate::coordination::{ClusterFence, Coordination, ReplicatedStore};
use crate::history::{LockDir, OpenStore};
use crate::notify::Notifier;
use crate::provider::{AnyProvider, ConnectError, connect_named};
use crate::schedule::Scheduler;

pub struct Daemon {
    pub config: LoadedConfig,
    /// The history store, open for the daemon's whole life.
    pub store: OpenStore,
    pub locks: LockDir,
    pub runbooks: RwLock<RunbookSet>,
    pub scheduler: Mutex<Scheduler>,
    pub metrics: Metrics,
    pub notifier: Arc<Notifier>,
    pub tokens: Tokens,
    /// One client per cluster, made on first use and kept.
    providers: Mutex<BTreeMap<String, AnyProvider>>,
    /// Runs going now: id → (runbook, cluster, the task).
    in_flight: Mutex<BTreeMap<String, (String, String, AbortHandle)>>,
    /// Wakes the scheduler loop early (a reload, a pause, a run's end).
    pub wake: Notify,
    /// Set by SIGTERM/SIGINT: no new runs start.
    pub stopping: AtomicBool,
    /// Held while an approval or rejection is decided, so two at once cannot both count.
    pub decisions: tokio::sync::Mutex<()>,
    /// Console logins.
    pub sessions: super::console::Sessions,
    /// Set when ebb.yaml has `coordination:` (docs/HA.md), once joined.
    pub coordination: std::sync::OnceLock<Arc<Coordination>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Daemon {
    pub fn new(config: LoadedConfig, store: OpenStore, locks: LockDir, runbooks: RunbookSet) -> Self {
        let tokens = Tokens::new(config.config.daemon.as_ref().map_or(&[][..], |d| &d.tokens));
        let notifier = Arc::new(Notifier::from_config(&config));
        let console = config.config.daemon.clone().unwrap_or_default().console;
        Daemon {
            config,
            store,
            locks,
            runbooks: RwLock::new(runbooks),
            scheduler: Mutex::new(Scheduler::new()),
            metrics: Metrics::default(),
            notifier,
            tokens,
            providers: Mutex::new(BTreeMap::new()),
            in_flight: Mutex::new(BTreeMap::new()),
            wake: Notify::new(),
            stopping: AtomicBool::new(false),
            decisions: tokio::sync::Mutex::new(()),
            sessions: super::console::Sessions::new(console.session.duration),
            coordination: std::sync::OnceLock::new(),
        }
    }

    pub fn runbooks(&self) -> RwLockReadGuard<'_, RunbookSet> {
        self.runbooks.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn runbooks_mut(&self) -> RwLockWriteGuard<'_, RunbookSet> {
        self.runbooks.write().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn scheduler(&self) -> MutexGuard<'_, Scheduler> {
        lock(&self.scheduler)
    }

    /// The coordinator of a deployment of several replicas, if this is one.
    pub fn coordination(&self) -> Option<&Arc<Coordination>> {
        self.coordination.get()
    }

    /// Where runs are recorded: the local store, and in a coordinated
    /// deployment the runs topic first, as the owner of the run's cluster.
    pub fn history(&self) -> ReplicatedStore<'_> {
        ReplicatedStore { local: &*self.store, coordination: self.coordination().map(|c| &**c) }
    }

    /// The locks a run takes: the data dir's, and the deployment's when coordinated.
    pub fn run_locks(&self) -> super::deployment_locks::DeploymentLocks<'_> {
        super::deployment_locks::DeploymentLocks {
            local: &self.locks,
            coordination: self.coordination(),
            store: &*self.store,
        }
    }

    /// Whether this replica runs `cluster`'s work now: always, alone.
    pub fn runs_cluster(&self, cluster: &str) -> bool {
        self.coordination().is_none_or(|c| c.owns(cluster))
    }

    /// The client for `cluster`, connecting on first use. In a coordinated
    /// deployment its changes are fenced (docs/HA.md).
    pub fn provider(&self, cluster: &str) -> Result<AnyProvider, ConnectError> {
        let mut providers = lock(&self.providers);
        if let Some(provider) = providers.get(cluster) {
            return Ok(provider.clone());
        }
        let provider = match self.coordination() {
            Some(coordination) => {
                let fence = Arc::new(ClusterFence { coordination: coordination.clone(), cluster: cluster.to_owned() });
                AnyProvider::connect_fenced(cluster, self.config.cluster(cluster)?, fence)?
            }
            None => connect_named(&self.config, cluster)?,
        };
        providers.insert(cluster.to_owned(), provider.clone());
        Ok(provider)
    }

    /// After a run on `cluster` failed: asks the cached client something any
    /// cluster answers (its metadata). A client that cannot answer — a broker
    /// gone, or a client wedged by what it was sent — is dropped, so the next
    /// run connects afresh instead of failing the same way until a restart.
    pub async fn check_provider(&self, cluster: &str) {
        let Some(provider) = lock(&self.providers).get(cluster).cloned() else { return };
        let Err(e) = provider.health_check().await else { return };
        let mut providers = lock(&self.providers);
        // Only the client that failed: another run may have replaced it meanwhile.
        if providers.get(cluster).is_some_and(|cached| cached.same_client(&provider)) {
            providers.remove(cluster);
            tracing::warn!(cluster, error = %e, "the client did not answer a health check; it is replaced at the next use");
        }
    }

    pub fn track(&self, id: &str, runbook: &str, cluster: &str, task: AbortHandle) {
        lock(&self.in_flight).insert(id.to_owned(), (runbook.to_owned(), cluster.to_owned(), task));
    }

    /// Stops the runs going now on the clusters `which` picks; their records
    /// stay as they last were, for the cluster's new owner to take over.
    pub fn stop_runs_on(&self, which: impl Fn(&str) -> bool) {
        let mut in_flight = lock(&self.in_flight);
        let stopped: Vec<String> =
            in_flight.iter().filter(|(_, (_, c, _))| which(c)).map(|(id, _)| id.clone()).collect();
        for id in stopped {
            if let Some((runbook, cluster, task)) = in_flight.remove(&id) {
                task.abort();
                tracing::warn!(run_id = %id, runbook = %runbook, cluster = %cluster, "run stopped: this replica no longer owns its cluster");
            }
        }
    }

    pub fn untrack(&self, id: &str) {
        lock(&self.in_flight).remove(id);
    }

    pub fn in_flight(&self) -> Vec<(String, String, AbortHandle)> {
        lock(&self.in_flight)
            .iter()
            .map(|(id, (runbook, _, task))| (id.clone(), runbook.clone(), task.clone()))
            .collect()
    }

    pub fn gauges(&self) -> Gauges {
        let runbooks = self.runbooks();
        let scheduler = self.scheduler();
        Gauges {
            runbooks: runbooks.entries().filter(|e| e.good.is_some()).count(),
            invalid_runbooks: runbooks.entries().filter(|e| !e.problems.is_empty()).count() + runbooks.nameless().len(),
            scheduled: scheduler.names().count(),
            paused: scheduler.names().filter(|n| scheduler.is_paused(n)).count(),
            runs_in_progress: lock(&self.in_flight).len(),
            next_fires: scheduler
                .names()
                .filter(|n| !scheduler.is_paused(n))
                .filter_map(|n| {
                    let next = scheduler.next_fires(n, 1).into_iter().next()?;
                    Some((n.to_owned(), next.timestamp_millis() as f64 / 1000.0))
                })
                .collect(),
            audit_backlog: self.store.audit_backlog(),
            coordination: self.coordination().map(|c| {
                use std::sync::atomic::Ordering::Relaxed;
                super::metrics::CoordinationGauges {
                    owned_partitions: c.owned().len(),
                    claims: c.counters.claims.load(Relaxed),
                    losses: c.counters.losses.load(Relaxed),
                    fenced: c.counters.fenced.load(Relaxed),
                    refused: c.counters.refused.load(Relaxed),
                    lag: c.lag(),
                }
            }),
        }
    }

    /// Seeds each runbook's last status and last success from history, so
    /// "has not succeeded in 26 hours" holds across a restart.
    pub fn remember_history(&self) {
        use crate::engine::Trigger;
        use crate::history::{RunQuery, RunState, Store};
        let names: Vec<String> = self.runbooks().entries().map(|e| e.name.clone()).collect();
        for name in names {
            // The newest runs that did the runbook's job (not a plan asked for by hand).
            let newest = |status: Option<RunState>| {
                let query = RunQuery { runbook: Some(name.clone()), status, limit: Some(50), ..RunQuery::default() };
                let runs = self.store.list(&query).ok().unwrap_or_default();
                runs.into_iter().find(|r| r.mode == crate::engine::Mode::Apply || r.trigger == Trigger::Schedule)
            };
            let last = newest(None);
            let success = newest(Some(RunState::Succeeded));
            let at = success.and_then(|s| s.finished_at).map(|t| t.timestamp_millis() as f64 / 1000.0);
            self.metrics.remember(&name, last.as_ref().map(|r| r.status.name()), at);
        }
    }

    /// Brings the scheduler in line with the runbooks: new and changed
    /// schedules set (a new one resumes from the cursor in the store), gone
    /// ones removed.
    pub fn sync_schedules(&self) {
        let now = Utc::now();
        let runbooks = self.runbooks();
        let mut scheduler = self.scheduler();
        // In a coordinated deployment, only the schedules of the clusters this replica owns.
        let wanted: BTreeMap<&str, _> = runbooks
            .entries()
            .filter(|e| e.spec().is_none_or(|spec| self.runs_cluster(&spec.cluster)))
            .filter_map(|e| e.timing.as_ref().map(|t| (e.name.as_str(), t)))
            .collect();
        let gone: Vec<String> = scheduler.names().filter(|n| !wanted.contains_key(n)).map(str::to_owned).collect();
        for name in gone {
            scheduler.remove(&name);
        }
        for (name, timing) in wanted {
            let resume_from = if scheduler.contains(name) {
                None
            } else if let Some(coordination) = self.coordination() {
                // The deployment's cursor: where the last owner left the schedule.
                coordination.cursor(name).map(|c| c.slot)
            } else {
                self.store.schedule_cursor(name).unwrap_or_else(|e| {
                    tracing::warn!(runbook = %name, error = %e, "cannot read the schedule cursor; starting from now");
                    None
                })
            };
            scheduler.set(name, timing.clone(), resume_from, now);
        }
        drop(scheduler);
        self.wake.notify_one();
    }
}
