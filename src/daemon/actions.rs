//! What a caller can ask the daemon to do, whichever way they ask: the JSON
//! API and the web console both come here, so a role, a refusal or a run is
//! the same from either.

use std::sync::Arc;

use axum::http::StatusCode;
use chrono::Utc;
use serde_json::Value;

use super::api_error::ApiError;
use super::auth::Caller;
use super::runner::{Started, Work, start};
use super::state::Daemon;
use crate::config::Role;
use crate::engine::{Mode, RunInfo, Trigger};
use crate::history::{RunRecord, Store};

/// The most characters a reason given with a decision may have.
pub const REASON_MOST: usize = 500;

/// A run asked for by `caller`.
pub fn run_info(trigger: Trigger, mode: Mode, caller: &Caller) -> RunInfo {
    let mut run = RunInfo::now(trigger, mode);
    run.actor = Some(caller.name.clone());
    // A viewer may plan, but a plan never writes a file on a viewer's behalf.
    run.files.may_write = caller.role >= Role::Operator;
    run
}

/// Refuses a caller below `needs`, as the API does (403).
pub fn require(caller: &Caller, needs: Role) -> Result<(), ApiError> {
    if caller.role < needs {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("this token's role cannot do this; it needs {}", role_name(needs)),
        ));
    }
    Ok(())
}

pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::Viewer => "viewer",
        Role::Operator => "operator",
        Role::Admin => "admin",
    }
}

/// Plans runbook `name` with `params` (any role may plan); with `sha256`,
/// only if that is the runbook's current version.
pub async fn plan(
    daemon: &Arc<Daemon>,
    caller: &Caller,
    name: String,
    params: Vec<(String, Value)>,
    sha256: Option<String>,
) -> Result<Started, ApiError> {
    let work = Work::Runbook { name, params, sha256 };
    start(daemon, work, run_info(Trigger::Api, Mode::Plan, caller)).await
}

/// The apply of the plan `record` made: a rollback's plan applied is a
/// rollback (trigger `rollback`, as `ebb rollback` records it), whichever
/// way it was applied.
fn saved_plan_run(record: &RunRecord, caller: &Caller) -> RunInfo {
    let mut run = match &record.rollback_of {
        Some(of) => RunInfo::rollback(Mode::Apply, of),
        None => run_info(Trigger::Api, Mode::Apply, caller),
    };
    run.actor = Some(caller.name.clone());
    run
}

/// Plans and applies runbook `name` (an operator's), or pending its
/// approvers under `approval:`; or applies a saved plan.
pub async fn apply(daemon: &Arc<Daemon>, caller: &Caller, work: Work) -> Result<Started, ApiError> {
    require(caller, Role::Operator)?;
    let run = match &work {
        Work::SavedPlan { plan_id, .. } => saved_plan_run(&daemon.store.find(plan_id)?, caller),
        _ => run_info(Trigger::Api, Mode::Apply, caller),
    };
    tracing::info!(caller = %caller.name, "run requested");
    start(daemon, work, run).await
}

/// Applies the plan run `plan_id` made, a rollback's plan included.
pub async fn apply_saved(daemon: &Arc<Daemon>, caller: &Caller, plan_id: &str) -> Result<Started, ApiError> {
    require(caller, Role::Operator)?;
    let record = daemon.store.find(plan_id)?;
    let work = Work::SavedPlan { name: record.runbook.clone(), plan_id: record.id, sha256: None, approved: false };
    apply(daemon, caller, work).await
}

/// Rolls back run `id`: plans it only, or plans and applies it.
pub async fn rollback(daemon: &Arc<Daemon>, caller: &Caller, id: &str, mode: Mode) -> Result<Started, ApiError> {
    require(caller, Role::Operator)?;
    let of = daemon.store.find(id)?.id;
    let mut run = RunInfo::rollback(mode, &of);
    run.actor = Some(caller.name.clone());
    tracing::info!(caller = %caller.name, of = %of, "rollback requested");
    start(daemon, Work::Rollback { of }, run).await
}

/// Pauses or resumes runbook `name`'s schedule.
pub fn set_paused(daemon: &Daemon, caller: &Caller, name: &str, paused: bool) -> Result<(), ApiError> {
    require(caller, Role::Operator)?;
    if daemon.runbooks().get(name).is_none() {
        return Err(ApiError::not_found(format!("no runbook named {name}")));
    }
    if !daemon.scheduler().set_paused(name, paused) {
        return Err(ApiError::conflict(format!("runbook {name} has no schedule to pause or resume")));
    }
    tracing::info!(runbook = %name, caller = %caller.name, paused, "schedule paused or resumed");
    daemon.wake.notify_one();
    Ok(())
}

/// What a decision on a pending plan led to.
pub enum Decision {
    /// Recorded; nothing starts (a rejection, or an approval short of the count).
    Recorded(Box<RunRecord>),
    /// The approval completed the count: the apply started.
    Applying(Started),
}

/// Approves (or rejects) pending run `id` as `caller`; the approval that
/// completes the count starts the apply, through the usual drift checks.
pub async fn decide(
    daemon: &Arc<Daemon>,
    caller: &Caller,
    id: &str,
    approving: bool,
    reason: Option<String>,
) -> Result<Decision, ApiError> {
    require(caller, Role::Operator)?;
    if reason.as_ref().is_some_and(|r| r.chars().count() > REASON_MOST) {
        return Err(ApiError::bad_request(format!("reason: at most {REASON_MOST} characters")));
    }
    let reason = reason.map(|r| crate::shown::terminal_safe(&r));
    let decision = daemon.decisions.lock().await;
    let mut record = daemon.store.find(id)?;
    let by = crate::runs::Approver { name: &caller.name, role: caller.role };
    let store = &daemon.history();
    let decided = if approving {
        crate::runs::approve(&mut record, &by, Utc::now(), store)
    } else {
        crate::runs::reject(&mut record, &by, reason, Utc::now(), store)
    };
    let decided = match decided {
        Ok(decided) => decided,
        Err(crate::runs::DecisionRefused::Store(e)) => return Err(e.into()),
        Err(refused) if refused.is_forbidden() => {
            return Err(ApiError::new(StatusCode::FORBIDDEN, "forbidden", refused.to_string()));
        }
        Err(refused) => return Err(ApiError::conflict(refused.to_string())),
    };
    tracing::info!(caller = %caller.name, run_id = %record.id, decided = ?decided, "approval decided");
    if decided != crate::runs::Decided::Approved {
        return Ok(Decision::Recorded(Box::new(record)));
    }
    let work =
        Work::SavedPlan { name: record.runbook.clone(), plan_id: record.id.clone(), sha256: None, approved: true };
    let started = match start(daemon, work, saved_plan_run(&record, caller)).await {
        Ok(started) => started,
        Err(e) => {
            if let Err(unsaved) = crate::runs::withdraw_approval(&mut record, &caller.name, store) {
                tracing::error!(run_id = %record.id, error = %unsaved, "an approval whose apply did not start is still recorded");
            }
            return Err(e);
        }
    };
    if let Err(e) = crate::runs::applied_in(&mut record, &started.id, store) {
        tracing::error!(run_id = %record.id, error = %e, "the approved run does not say which run applied it");
    }
    drop(decision);
    Ok(Decision::Applying(started))
}
