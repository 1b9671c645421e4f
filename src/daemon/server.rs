//! `ebb daemon`: bind the API, take the history store for the daemon's life,
//! load the runbooks, and run the scheduler, the reload poll and the HTTP
//! server until SIGTERM or SIGINT. Then: stop scheduling and starting runs,
//! give running ones the grace period, stop the rest (their records become
//! `interrupted`), save the schedule cursors, flush the store, exit 0.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tokio::net::TcpListener;

use super::ServeError;
use super::api::router;
use super::http_server::{self, ConnectionLimits};
use super::runbook_set::{self, RunbookSet};
use super::schedule_loop::{save_cursors, schedule_loop};
use super::state::Daemon;
use super::tls;
use crate::config::LoadedConfig;
use crate::history::{BRIEF_WAIT, DataDir, Holder, mark_interrupted};
use crate::runbook::Catalog;

/// How often the runbooks directory is looked at for changes.
pub const RELOAD_EVERY: Duration = Duration::from_secs(1);
/// The most `daemon.max_connections` may say.
const MOST_CONNECTIONS: usize = 65_536;
/// How long running steps get to finish after SIGTERM, unless configured.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(30);

pub struct DaemonOptions {
    /// Overrides `daemon.listen`.
    pub listen: Option<String>,
    /// Overrides `daemon.grace`.
    pub grace: Option<Duration>,
}

pub async fn serve(config: LoadedConfig, options: DaemonOptions) -> Result<(), ServeError> {
    // The daemon runs every runbook and serves the API: every section must resolve.
    config.require("")?;
    let daemon_config = config.config.daemon.clone().unwrap_or_default();
    let listen = options.listen.unwrap_or(daemon_config.listen);
    let grace = options.grace.or(daemon_config.grace.map(|g| g.duration)).unwrap_or(DEFAULT_GRACE);
    let cannot_listen = |source| ServeError::Listen { listen: listen.clone(), source };
    // Checked before binding, so a refused daemon never listens at all.
    if !(1..=MOST_CONNECTIONS).contains(&daemon_config.max_connections) {
        return Err(ServeError::MaxConnections { most: MOST_CONNECTIONS });
    }
    if daemon_config.header_timeout.duration < Duration::from_secs(1) {
        return Err(ServeError::HeaderTimeout);
    }
    let session = daemon_config.console.session.duration;
    let session_bounds = Duration::from_secs(60)..=Duration::from_secs(30 * 86_400);
    if daemon_config.console.enabled && !session_bounds.contains(&session) {
        return Err(ServeError::ConsoleSession);
    }
    let tls = daemon_config.tls.as_ref().map(tls::acceptor).transpose()?;
    if tls.is_none() {
        for address in tokio::net::lookup_host(&listen).await.map_err(cannot_listen)? {
            tls::plain_http_allowed(address, daemon_config.allow_plain_http)?;
        }
    }
    let listener = TcpListener::bind(&listen).await.map_err(cannot_listen)?;
    let address = listener.local_addr().map_err(cannot_listen)?;
    let api_url = format!("{}://{address}", if tls.is_some() { "https" } else { "http" });
    // Other replicas pass runs here: an address like 0.0.0.0 would send them to themselves.
    if address.ip().is_unspecified() && config.config.coordination.as_ref().is_some_and(|c| c.advertise.is_none()) {
        return Err(ServeError::Coordination(format!(
            "daemon.listen {address} is every interface: set coordination.advertise to the address other replicas reach this one at"
        )));
    }
    if daemon_config.tokens.is_empty() {
        tracing::warn!(
            "daemon.tokens in ebb.yaml is empty: every API request but /healthz and /metrics will be refused (401)"
        );
    }

    let data = DataDir::from_config(&config.config);
    let holder = Holder { pid: std::process::id(), command: "ebb daemon".to_owned(), api: Some(api_url.clone()) };
    let store = data.open_as(&holder, BRIEF_WAIT)?;
    let mut runbooks = RunbookSet::new(config.config.runbooks.clone(), Catalog::from_config(&config.config));
    runbooks.reload();
    let daemon = Arc::new(Daemon::new(config, store, data.locks(), runbooks));
    let coordination = super::coordinated::join(&daemon, &api_url).await?;
    daemon.sync_schedules();
    daemon.remember_history();

    // The one line a script waits for; the address is the real one when listen asked for port 0.
    println!("ebb daemon listening on {api_url}");
    tracing::info!(api = %api_url, runbooks = daemon.runbooks().count(), "daemon started");

    let scheduler = tokio::spawn(schedule_loop(daemon.clone()));
    let reloader = tokio::spawn(reload_loop(daemon.clone()));
    let expiry = tokio::spawn(expiry_loop(daemon.clone()));
    let coordinator = coordination.map(|events| {
        let retention = tokio::spawn(super::coordinated::retention_loop(daemon.clone()));
        (tokio::spawn(super::coordinated::coordination_loop(daemon.clone(), events)), retention)
    });
    let auditor = crate::audit::AuditDelivery::from_config(&daemon.config).map(|delivery| {
        let delivery = Arc::new(delivery);
        let loops: Vec<_> = (0..delivery.sinks().len())
            .map(|sink| tokio::spawn(audit_loop(daemon.clone(), delivery.clone(), sink)))
            .collect();
        (delivery, loops)
    });
    let shutdown = shutdown(daemon.clone(), grace);
    let limits = ConnectionLimits {
        header_timeout: daemon_config.header_timeout.duration,
        max_connections: daemon_config.max_connections,
    };
    http_server::serve(listener, tls, router(daemon.clone()), limits, shutdown).await;
    scheduler.abort();
    reloader.abort();
    expiry.abort();
    if let Some((delivery, loops)) = auditor {
        for task in loops {
            task.abort();
        }
        // What the runs of the last moments raised, while the sinks answer quickly.
        delivery.deliver(&daemon.store, std::time::Duration::from_secs(5)).await;
    }

    match daemon.coordination() {
        // Runs stopped by the grace period are recorded for the deployment,
        // while this replica still owns their clusters; then it leaves the group.
        Some(coordination) => {
            super::coordinated::interrupt_stopped_runs(&daemon);
            coordination.stop();
        }
        None => {
            mark_interrupted(&*daemon.store, &daemon.locks)?;
        }
    }
    if let Some((events, retention)) = coordinator {
        events.abort();
        retention.abort();
    }
    save_cursors(&daemon);
    daemon.store.flush()?;
    tracing::info!("daemon stopped");
    Ok(())
}

/// Marks pending plans not approved in time as expired, every 10 seconds,
/// so listings, metrics and the audit stream see them as they are.
async fn expiry_loop(daemon: Arc<Daemon>) {
    loop {
        // One decision at a time: an approval being decided is not expired under it.
        let deciding = daemon.decisions.lock().await;
        let expired = crate::runs::expire_overdue(&daemon.history(), chrono::Utc::now(), &|run| {
            daemon.runs_cluster(&run.cluster)
        });
        drop(deciding);
        match expired {
            Ok(0) => {}
            Ok(expired) => tracing::info!(expired, "pending plans not approved in time are expired"),
            Err(e) => tracing::error!(error = %e, "cannot mark overdue pending plans expired"),
        }
        tokio::time::sleep(std::time::Duration::from_secs(10)).await;
    }
}

/// Delivers the audit outbox to sink number `sink` every second, for the
/// daemon's whole life; each sink has its own loop, so one that is down does
/// not hold the others back.
async fn audit_loop(daemon: Arc<Daemon>, delivery: Arc<crate::audit::AuditDelivery>, sink: usize) {
    let Some(to) = delivery.sinks().get(sink) else { return };
    loop {
        let (events, _) = delivery.deliver_to(to, &daemon.store, std::time::Duration::from_secs(30)).await;
        let dropped = delivery.trim(&daemon.store);
        daemon.metrics.audit(events, dropped);
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}

/// Polls the runbooks directory. Listing and validating read files, so they
/// run on the blocking pool and outside the lock: runs and API requests that
/// read the set wait only for the swap.
async fn reload_loop(daemon: Arc<Daemon>) {
    let (dir, catalog) = {
        let set = daemon.runbooks();
        (set.dir().to_owned(), set.catalog().clone())
    };
    let mut every = tokio::time::interval(RELOAD_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let listed = {
            let dir = dir.clone();
            tokio::task::spawn_blocking(move || runbook_set::list(&dir)).await
        };
        let Ok(listing) = listed else { continue };
        if daemon.runbooks().is_current(&listing) {
            continue;
        }
        let checked = {
            let (dir, catalog) = (dir.clone(), catalog.clone());
            tokio::task::spawn_blocking(move || runbook_set::check(&dir, &catalog)).await
        };
        let Ok(checked) = checked else { continue };
        daemon.runbooks_mut().apply(listing, checked);
        daemon.sync_schedules();
    }
}

/// Resolves when the server should stop: after a signal, once running runs
/// ended or the grace period is over (then they are stopped).
async fn shutdown(daemon: Arc<Daemon>, grace: Duration) {
    wait_for_signal().await;
    daemon.stopping.store(true, Ordering::SeqCst);
    daemon.wake.notify_one();
    let running = daemon.in_flight();
    tracing::info!(runs = running.len(), grace_s = grace.as_secs(), "stopping: no new runs; waiting for running ones");
    let deadline = Instant::now() + grace;
    while !daemon.in_flight().is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let left = daemon.in_flight();
    for (id, runbook, task) in &left {
        tracing::warn!(run_id = %id, runbook = %runbook, "grace period over: run stopped; it will be recorded as interrupted");
        task.abort();
    }
    // Let the stopped tasks drop what they hold (their run locks) before the records are marked.
    let settle = Instant::now() + Duration::from_secs(2);
    while left.iter().any(|(_, _, task)| !task.is_finished()) && Instant::now() < settle {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn wait_for_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM; only SIGINT stops the daemon");
                let _ = interrupt.await;
                return;
            }
        };
        tokio::select! {
            _ = interrupt => tracing::info!("SIGINT received"),
            _ = terminate.recv() => tracing::info!("SIGTERM received"),
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}
