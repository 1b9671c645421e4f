//! Runs inside the daemon: a runbook planned (and applied, in mode `apply`),
//! a plan made earlier applied, or a run rolled back — each recorded in
//! history exactly as the CLI records it, then counted and notified.
//!
//! Starting a run has two halves. What can be refused at once (an unknown
//! runbook, bad params, an unknown plan or run, a cluster ebb cannot reach) is
//! checked before anything is spawned, so the API can answer with a 4xx; the
//! rest runs as a task whose end is its record.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use serde_json::Value;
use tokio::task::JoinHandle;

use super::api_error::ApiError;
use super::state::Daemon;
use crate::engine::{CompiledRunbook, Mode, Plan, PlanStatus, RunInfo, Trigger, compile_checked};
use crate::history::{RunRecord, RunState, Store};
use crate::notify::run_summary;
use crate::provider::AnyProvider;
use crate::runbook::spec::RunbookSpec;
use crate::runs::{self, plan_rollback};

/// What to run.
pub enum Work {
    /// Plan the runbook, and apply the plan in mode `apply`. With `sha256`,
    /// only if the runbook's current version has that SHA-256 (the file the
    /// caller means), checked against the very version that runs.
    Runbook { name: String, params: Vec<(String, Value)>, sha256: Option<String> },
    /// Apply the plan that run `plan_id` made (after the drift check).
    /// `approved`: the plan is one its approvers just approved.
    SavedPlan { name: String, plan_id: String, sha256: Option<String>, approved: bool },
    /// Roll back run `of`.
    Rollback { of: String },
}

/// A run checked and ready to spawn.
enum Prepared {
    Runbook {
        compiled: Box<CompiledRunbook>,
    },
    /// A plan to apply as it is: a saved plan, or a rollback's.
    Plan {
        plan: Box<Plan>,
        sha256_now: Option<String>,
        /// Its approvers approved it; otherwise a plan under `approval:` waits for them.
        approved: bool,
    },
}

impl Prepared {
    /// The cluster the run works on.
    fn cluster(&self) -> &str {
        match self {
            Prepared::Runbook { compiled } => &compiled.spec.cluster,
            Prepared::Plan { plan, .. } => &plan.cluster,
        }
    }
}

/// A run started: its id, and its task, whose output is the run's record.
pub struct Started {
    pub id: String,
    pub task: JoinHandle<RunRecord>,
}

/// Checks `work` and starts it as run `run`.
pub async fn start(daemon: &Arc<Daemon>, work: Work, run: RunInfo) -> Result<Started, ApiError> {
    start_after(daemon, work, run, async { Ok(()) }).await
}

/// Like `start`, with `commit` awaited once the work is checked and before
/// it starts (a scheduled run fires its slot for the deployment there):
/// work that cannot start commits nothing, and a failed commit starts nothing.
pub async fn start_after(
    daemon: &Arc<Daemon>,
    work: Work,
    mut run: RunInfo,
    commit: impl std::future::Future<Output = Result<(), ApiError>>,
) -> Result<Started, ApiError> {
    if daemon.stopping.load(Ordering::SeqCst) {
        return Err(ApiError::unavailable("the daemon is shutting down; no new runs start"));
    }
    let (runbook, spec, prepared, provider) = prepare(daemon, work, &run).await?;
    commit.await?;
    run.notifier = Some(daemon.notifier.clone());
    run = run.with_files(crate::step::confined_files::FileAccess::from_config(&daemon.config.config));
    let id = run.id.clone();
    let task_daemon = daemon.clone();
    let task_runbook = runbook.clone();
    let cluster = prepared.cluster().to_owned();
    // The scheduler counted a scheduled run when it fired it; any other run of
    // the runbook counts too, for `overlap`, until it ends.
    if run.trigger != Trigger::Schedule {
        daemon.scheduler().started(&runbook);
    }
    let task = tokio::spawn(async move {
        let record = execute(&task_daemon, prepared, &provider, &run).await;
        task_daemon.untrack(&run.id);
        ended(&task_daemon, spec.as_ref(), &record).await;
        super::schedule_loop::run_ended(&task_daemon, &task_runbook);
        record
    });
    daemon.track(&id, &runbook, &cluster, task.abort_handle());
    Ok(Started { id, task })
}

/// The runbook's name and spec (for notifications), the prepared work and its cluster's client.
async fn prepare(
    daemon: &Daemon,
    work: Work,
    run: &RunInfo,
) -> Result<(String, Option<RunbookSpec>, Prepared, AnyProvider), ApiError> {
    let provider = |cluster: &str| {
        owned_here(daemon, cluster)?;
        daemon.provider(cluster).map_err(|e| ApiError::unavailable(e.to_string()))
    };
    match work {
        Work::Runbook { name, params, sha256 } => {
            let checked = good_version(daemon, &name, sha256.as_deref())?;
            let compiled = compile_checked(checked, &params).map_err(|e| ApiError::bad_request(e.to_string()))?;
            let bad_names = crate::engine::bad_names(&compiled, run);
            if !bad_names.is_empty() {
                return Err(ApiError::bad_request(bad_names.join("; ")));
            }
            let provider = provider(&compiled.spec.cluster)?;
            let spec = compiled.spec.clone();
            Ok((name, Some(spec), Prepared::Runbook { compiled: Box::new(compiled) }, provider))
        }
        Work::SavedPlan { name, plan_id, sha256, approved } => {
            let record = daemon.store.find(&plan_id)?;
            let needs_approval = daemon.runbooks().under_approval(&name);
            let is_approved = approved && record.status == RunState::Approved;
            let under_rule = needs_approval || record.plan.as_ref().is_some_and(|p| p.approval.is_some());
            if under_rule && !is_approved {
                return Err(ApiError::conflict(format!(
                    "runbook {name} needs approval: a plan of it is applied only once approved (POST \
                     /api/v1/runs/{{id}}/approve on a pending run)"
                )));
            }
            if record.runbook != name {
                return Err(ApiError::bad_request(format!(
                    "run {} planned runbook {}, not {name}",
                    record.id, record.runbook
                )));
            }
            let Some(plan) = record.plan.filter(|_| record.mode == Mode::Plan || approved) else {
                return Err(ApiError::bad_request(format!(
                    "run {} is not a plan (mode {})",
                    record.id,
                    record.mode.name()
                )));
            };
            if plan.status != PlanStatus::Planned {
                return Err(ApiError::bad_request(format!(
                    "the plan of run {} stopped and cannot be applied",
                    record.id
                )));
            }
            let checked = good_version(daemon, &name, sha256.as_deref())?;
            // A rollback's plan is checked against the runbook its run recorded, as when it was planned.
            let sha256_now = match plan.rollback_of {
                Some(_) => Some(plan.runbook_sha256.clone()),
                None => Some(crate::engine::sha256_hex(checked.text.as_bytes())),
            };
            let provider = provider(&plan.cluster)?;
            let prepared = Prepared::Plan { plan: Box::new(plan), sha256_now, approved: is_approved };
            Ok((name, checked.spec, prepared, provider))
        }
        Work::Rollback { of } => {
            let record = daemon.store.find(&of)?;
            let spec = daemon.runbooks().get(&record.runbook).and_then(|e| e.spec().cloned());
            let provider = provider(&record.cluster)?;
            let plan =
                plan_rollback(&record, &provider, run).await.map_err(|e| ApiError::bad_request(e.to_string()))?;
            let sha256_now = Some(plan.runbook_sha256.clone());
            let prepared = Prepared::Plan { plan: Box::new(plan), sha256_now, approved: false };
            Ok((record.runbook.clone(), spec, prepared, provider))
        }
    }
}

/// In a coordinated deployment, runs start only on the replica that owns
/// their cluster (the API passes requests there; see `forward.rs`).
fn owned_here(daemon: &Daemon, cluster: &str) -> Result<(), ApiError> {
    match daemon.coordination() {
        Some(coordination) if !coordination.owns(cluster) => {
            Err(ApiError::unavailable(format!("{}; ask there", coordination.not_owner(cluster))))
        }
        _ => Ok(()),
    }
}

/// The runbook's version to run; with `sha256`, refused (409
/// `runbook_differs`) unless it is the file the caller means, so the daemon
/// never runs its own copy in place of another.
fn good_version(daemon: &Daemon, name: &str, sha256: Option<&str>) -> Result<crate::runbook::Checked, ApiError> {
    let runbooks = daemon.runbooks();
    let entry = runbooks.get(name).ok_or_else(|| ApiError::not_found(format!("no runbook named {name}")))?;
    let good = entry.good.clone().ok_or_else(|| {
        ApiError::conflict(format!("runbook {name} has no valid version to run: {}", entry.problems.join("; ")))
    })?;
    if sha256.is_some_and(|wanted| wanted != crate::engine::sha256_hex(good.text.as_bytes())) {
        return Err(ApiError::new(
            axum::http::StatusCode::CONFLICT,
            "runbook_differs",
            format!(
                "the daemon's runbook {name} ({}) is not the file you gave, so nothing was run: the daemon runs \
                 only its own copy. Put your file in the daemon's runbooks directory (it is reloaded within a \
                 second) and ask again, or name the runbook instead of a file to run the daemon's copy",
                entry.path.display()
            ),
        ));
    }
    Ok(good)
}

async fn execute(daemon: &Daemon, prepared: Prepared, provider: &AnyProvider, run: &RunInfo) -> RunRecord {
    let started = std::time::Instant::now();
    let (plan, sha256_now, approved) = match prepared {
        Prepared::Runbook { compiled } => {
            let plan = crate::engine::plan(&compiled, provider, run).await;
            (plan, Some(compiled.sha256.clone()), false)
        }
        Prepared::Plan { plan, sha256_now, approved } => (*plan, sha256_now, approved),
    };
    daemon.metrics.step_took(&plan.runbook, "(plan)", "plan", started.elapsed());
    // Under the two-person rule, what would be applied (a rollback too) waits for its approvers.
    if let Some(approval) = plan.approval.as_ref().filter(|_| !approved)
        && runs::goes_on_to_apply(&plan, run)
    {
        let pending = runs::record_pending(&daemon.history(), run, &plan, approval);
        if let Some(e) = &pending.unsaved {
            tracing::error!(run_id = %run.id, error = %e, "pending run is not in history");
        }
        return pending.record;
    }
    runs::finish_run(&plan, sha256_now.as_deref(), provider, run, &daemon.history(), &daemon.run_locks()).await
}

/// Counts a finished run, logs it, and sends the notifications its runbook asks for.
async fn ended(daemon: &Arc<Daemon>, spec: Option<&RunbookSpec>, record: &RunRecord) {
    let finished = record.finished_at.unwrap_or_else(chrono::Utc::now);
    let moved = record.resets().flat_map(|(_, r)| &r.results);
    let deleted = record.apply.iter().flat_map(|a| &a.steps).filter_map(|s| s.purge()).flat_map(|p| &p.results);
    daemon.metrics.run_ended(&super::metrics::RunEnd {
        runbook: &record.runbook,
        trigger: record.trigger.name(),
        status: record.status.name(),
        finished: finished.timestamp_millis() as f64 / 1000.0,
        took: (finished - record.started_at).to_std().unwrap_or_default(),
        offsets_moved: moved.filter(|r| r.outcome == crate::steps::reset_offsets::Outcome::Committed).count() as u64,
        records_deleted: deleted.map(|r| r.deleted.max(0) as u64).sum(),
        does_the_job: record.mode == crate::engine::Mode::Apply || record.trigger == Trigger::Schedule,
    });
    if record.status == RunState::Failed {
        // Beside the run's answer, not in its way.
        let (daemon, cluster) = (daemon.clone(), record.cluster.clone());
        tokio::spawn(async move { daemon.check_provider(&cluster).await });
    }
    for step in record.apply.iter().flat_map(|a| &a.steps) {
        if let (Some(start), Some(end)) = (step.started_at, step.finished_at) {
            daemon.metrics.step_took(&record.runbook, &step.id, &step.kind, (end - start).to_std().unwrap_or_default());
        }
    }
    tracing::info!(
        run_id = %record.id,
        runbook = %record.runbook,
        trigger = %record.trigger,
        mode = record.mode.name(),
        status = record.status.name(),
        summary = %run_summary(record),
        "run ended"
    );
    let Some(spec) = spec else { return };
    for delivery in runs::notify_ended(spec, record, &*daemon.notifier).await {
        daemon.metrics.notified(&delivery.to, delivery.delivered);
    }
}
