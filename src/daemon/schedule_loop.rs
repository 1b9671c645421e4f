//! The scheduler's loop: sleep until the next fire time (or until woken by a
//! reload, a pause or a run's end), tick, and act on what the tick says.
//! Sleeps are capped so that a jump of the wall clock (a suspended machine)
//! is noticed within [`LONGEST_SLEEP`]; the scheduler then sorts the slots that
//! passed into fires and misses as it does after a downtime.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::api_error::ApiError;
use super::runner::{Work, start_after};
use super::state::Daemon;
use crate::engine::{Mode, RunInfo, Trigger};
use crate::notify::{Notification, missed_context, render_message};
use crate::runbook::spec::{RunEvent, ScheduleMode};
use crate::schedule::Event;

const LONGEST_SLEEP: Duration = Duration::from_secs(30);

pub async fn schedule_loop(daemon: Arc<Daemon>) {
    loop {
        if daemon.stopping.load(Ordering::SeqCst) {
            return;
        }
        let wake_at = daemon.scheduler().wake_at();
        let sleep =
            wake_at.map_or(LONGEST_SLEEP, |at| (at - Utc::now()).to_std().unwrap_or(Duration::ZERO)).min(LONGEST_SLEEP);
        tokio::select! {
            () = tokio::time::sleep(sleep) => {}
            () = daemon.wake.notified() => {}
        }
        if daemon.stopping.load(Ordering::SeqCst) {
            return;
        }
        let events = daemon.scheduler().tick(Utc::now());
        if !events.is_empty() {
            // On disk before any run starts: a daemon killed in the middle of a
            // run restarts past its slot, and never runs that slot again.
            save_cursors(&daemon);
            handle(&daemon, events);
        }
    }
}

/// A run of `runbook` ended: a slot queued behind it may fire now.
pub fn run_ended(daemon: &Arc<Daemon>, runbook: &str) {
    // Queued slots were dealt with (and their cursor saved) when they were queued.
    let events = daemon.scheduler().finished(runbook, Utc::now());
    handle(daemon, events);
    daemon.wake.notify_one();
}

/// Saves every runbook's cursor and writes it out before returning.
pub fn save_cursors(daemon: &Daemon) {
    let cursors: Vec<(String, DateTime<Utc>)> =
        daemon.scheduler().cursors().map(|(name, at)| (name.to_owned(), at)).collect();
    let saved = daemon.store.save_schedule_cursors(cursors.iter().map(|(n, at)| (n.as_str(), *at)));
    if let Err(e) = saved.and_then(|()| daemon.store.flush()) {
        tracing::warn!(error = %e, "cannot save schedule cursors; a restart may count slots as missed again");
    }
}

fn handle(daemon: &Arc<Daemon>, events: Vec<Event>) {
    for event in events {
        match event {
            Event::Fire { runbook, slot, late, catchup } => {
                daemon.metrics.fired(&runbook, late);
                tracing::info!(runbook = %runbook, slot = %slot.to_rfc3339(), late_ms = late.as_millis() as u64, catchup, "slot fires");
                let daemon = daemon.clone();
                tokio::spawn(async move { fire(&daemon, &runbook, slot).await });
            }
            Event::Missed { runbook, slot } => {
                daemon.metrics.missed(&runbook);
                tracing::warn!(runbook = %runbook, slot = %slot.to_rfc3339(), "slot missed");
                let daemon = daemon.clone();
                tokio::spawn(async move { notify_missed(&daemon, &runbook, slot).await });
            }
            Event::Skipped { runbook, slot, reason } => {
                daemon.metrics.skipped(&runbook, reason.name());
                tracing::info!(runbook = %runbook, slot = %slot.to_rfc3339(), reason = reason.name(), "slot skipped");
            }
        }
    }
}

async fn fire(daemon: &Arc<Daemon>, runbook: &str, slot: DateTime<Utc>) {
    let mode = match daemon.runbooks().get(runbook).and_then(|e| e.timing.as_ref()).map(|t| t.mode) {
        Some(ScheduleMode::Plan) => Mode::Plan,
        _ => Mode::Apply,
    };
    let mut run = RunInfo::now(Trigger::Schedule, mode);
    run.slot = Some(slot);
    // In a deployment, the slot is fired for everyone once the run is checked and before it starts.
    let fired = daemon.coordination().and_then(|_| fired_record(daemon, runbook, &run));
    let not_fired = std::sync::atomic::AtomicBool::new(false);
    let commit = async {
        let fired = match (daemon.coordination().cloned(), fired) {
            (Some(coordination), Some(record)) => fire_for_deployment(daemon, &coordination, slot, record).await,
            (Some(_), None) => Err(ApiError::unavailable("the runbook has no valid version to run")),
            (None, _) => Ok(()),
        };
        not_fired.store(fired.is_err(), Ordering::SeqCst);
        fired
    };
    let work = Work::Runbook { name: runbook.to_owned(), params: Vec::new(), sha256: None };
    let started = start_after(daemon, work, run, commit).await;
    if let Err(e) = &started
        && not_fired.load(Ordering::SeqCst)
    {
        // Another replica owns the schedule now, or fired this slot: nothing of it is ours.
        tracing::warn!(runbook = %runbook, slot = %slot.to_rfc3339(), why = %e.message, "slot not fired here");
        run_ended(daemon, runbook);
        return;
    }
    if let Err(e) = started {
        tracing::error!(runbook = %runbook, slot = %slot.to_rfc3339(), error = %e.message, "scheduled run could not start");
        daemon.metrics.run_ended(&super::metrics::RunEnd {
            runbook,
            trigger: Trigger::Schedule.name(),
            status: "failed",
            finished: chrono::Utc::now().timestamp_millis() as f64 / 1000.0,
            took: std::time::Duration::ZERO,
            offsets_moved: 0,
            records_deleted: 0,
            does_the_job: true,
        });
        run_ended(daemon, runbook);
    }
}

/// The first record of a scheduled run of `runbook`, as a deployment
/// records it when the slot fires; `None` without a valid version.
fn fired_record(daemon: &Daemon, runbook: &str, run: &RunInfo) -> Option<crate::history::RunRecord> {
    let runbooks = daemon.runbooks();
    let entry = runbooks.get(runbook)?;
    let good = entry.good.as_ref()?;
    let spec = entry.spec()?;
    let sha256 = crate::engine::sha256_hex(good.text.as_bytes());
    Some(crate::history::RunRecord::fired(run, runbook, &sha256, &spec.cluster))
}

/// Fires a slot for the whole deployment: its cursor and its run's first
/// record in one transaction of the cluster's owner, so no other replica
/// fires it too; refused when this replica does not own the cluster (any
/// more), or the slot fired already.
async fn fire_for_deployment(
    daemon: &Daemon,
    coordination: &Arc<crate::coordination::Coordination>,
    slot: DateTime<Utc>,
    record: crate::history::RunRecord,
) -> Result<(), ApiError> {
    let cursor =
        crate::coordination::records::CursorRecord { runbook: record.runbook.clone(), slot, run_id: record.id.clone() };
    let written = {
        let (coordination, record) = (coordination.clone(), record.clone());
        tokio::task::spawn_blocking(move || coordination.fire(&cursor, &record)).await
    };
    written.map_err(|e| ApiError::internal(e.to_string()))?.map_err(ApiError::unavailable)?;
    if let Err(e) = crate::history::Store::save(&*daemon.store, &record) {
        tracing::error!(run_id = %record.id, error = %e, "a fired run is not in the local store");
    }
    Ok(())
}

async fn notify_missed(daemon: &Daemon, runbook: &str, slot: DateTime<Utc>) {
    let Some(spec) = daemon.runbooks().get(runbook).and_then(|e| e.spec().cloned()) else {
        return;
    };
    let mode = match spec.schedule.as_ref().and_then(|s| s.mode) {
        Some(ScheduleMode::Plan) => Mode::Plan,
        _ => Mode::Apply,
    };
    let run = missed_context(slot, mode);
    for rule in spec.notify.iter().filter(|r| r.on.contains(&RunEvent::Missed)) {
        let message = render_message(rule.message.as_deref(), &spec, &run, RunEvent::Missed)
            .unwrap_or_else(|e| format!("{runbook} missed a slot (the notify message did not render: {})", e.message));
        let note = Notification {
            runbook: runbook.to_owned(),
            run_id: String::new(),
            status: "missed".to_owned(),
            summary: run["summary"].as_str().unwrap_or_default().to_owned(),
            message,
            event: "missed".to_owned(),
        };
        let delivery = daemon.notifier.send(&rule.to, &note).await;
        daemon.metrics.notified(&rule.to, delivery.delivered);
    }
}
