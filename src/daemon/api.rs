//! The HTTP API (SPEC §6): JSON under `/api/v1`, a bearer token on every
//! request but the public ones (`/healthz`, `/metrics`, the OpenAPI
//! document), roles viewer < operator < admin. Bodies are read as bytes and
//! parsed here, so every 4xx — bad JSON, an unknown field, a body over the
//! limit — has the same JSON error shape.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::actions;
use super::api_error::ApiError;
use super::auth::{Caller, Denied};
use super::body_read::BodyRead;
use super::path_segment::Segment;
use super::request_body::{self, DecisionBody, DeclineBody, PlanBody, RollbackBody, RunBody};
use super::runbook_set::RunbookEntry;
use super::runner::{Started, Work};
use super::state::Daemon;
use crate::config::Role;
use crate::engine::{Mode, Trigger};
use crate::history::{RunQuery, RunState, Store};

/// The largest request body accepted.
pub const BODY_LIMIT: usize = 64 * 1024;
/// `GET /runs` returns at most this many.
const MOST_RUNS: usize = 1000;
/// Next fire times shown per runbook.
const NEXT_FIRES: usize = 5;

type Shared = State<Arc<Daemon>>;

pub fn router(daemon: Arc<Daemon>) -> Router {
    let console_on = daemon.config.config.daemon.as_ref().is_none_or(|d| d.console.enabled);
    let api = Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/runbooks", get(list_runbooks))
        .route("/api/v1/runbooks/{name}", get(get_runbook))
        .route("/api/v1/runbooks/{name}/plan", post(plan_runbook))
        .route("/api/v1/runbooks/{name}/runs", post(run_runbook))
        .route("/api/v1/runbooks/{name}/pause", post(pause))
        .route("/api/v1/runbooks/{name}/resume", post(resume))
        .route("/api/v1/runs", get(list_runs))
        .route("/api/v1/runs/{id}", get(get_run))
        .route("/api/v1/runs/{id}/rollback", post(rollback))
        .route("/api/v1/runs/{id}/decline", post(decline))
        .route("/api/v1/runs/{id}/approve", post(approve))
        .route("/api/v1/runs/{id}/reject", post(reject))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed);
    let api = if console_on { api.nest("/ui", super::console::router()) } else { api };
    api.layer(axum::middleware::from_fn_with_state(daemon.clone(), super::forward::to_owner))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(daemon)
}

fn authorize(daemon: &Daemon, headers: &HeaderMap, needs: Role) -> Result<Caller, ApiError> {
    daemon.tokens.authorize(headers, needs).map_err(|denied| match denied {
        Denied::Unauthenticated => ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "a valid bearer token is required (Authorization: Bearer <token>, from daemon.tokens in ebb.yaml)",
        ),
        Denied::Forbidden { needs } => ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("this token's role cannot do this; it needs {}", actions::role_name(needs)),
        ),
    })
}

/// Parses a JSON body (an empty body is `{}`), turning every failure into a 4xx.
fn body<T: DeserializeOwned>(bytes: Result<Bytes, ApiError>) -> Result<T, ApiError> {
    request_body::parse(&bytes?).map_err(|e| ApiError::bad_request(e.to_string()))
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such endpoint; see /api/v1/openapi.json")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "this endpoint does not take that method")
}

async fn healthz(State(daemon): Shared) -> Json<Value> {
    let stopping = daemon.stopping.load(std::sync::atomic::Ordering::SeqCst);
    Json(json!({ "status": if stopping { "stopping" } else { "ok" }, "runbooks": daemon.runbooks().count() }))
}

async fn metrics(State(daemon): Shared) -> Response {
    let text = daemon.metrics.render(&daemon.gauges());
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text).into_response()
}

async fn openapi() -> Json<Value> {
    Json(super::openapi::document())
}

fn runbook_json(daemon: &Daemon, entry: &RunbookEntry, full: bool) -> Value {
    let spec = entry.spec();
    let scheduler = daemon.scheduler();
    let schedule = spec.and_then(|s| s.schedule.as_ref()).map(|s| {
        let next_fires = scheduler.next_fires(&entry.name, NEXT_FIRES);
        let zone = entry.zone().unwrap_or(chrono_tz::UTC);
        let local: Vec<String> = next_fires.iter().map(|t| t.with_timezone(&zone).to_rfc3339()).collect();
        json!({
            "cron": s.cron,
            "timezone": s.timezone.as_deref().unwrap_or("UTC"),
            "mode": entry.timing.as_ref().map(|t| format!("{:?}", t.mode).to_lowercase()),
            "missed": entry.timing.as_ref().map(|t| format!("{:?}", t.missed).to_lowercase()),
            "max_catchup": entry.timing.as_ref().map(|t| t.max_catchup),
            "overlap": entry.timing.as_ref().map(|t| format!("{:?}", t.overlap).to_lowercase()),
            "jitter": s.jitter.as_ref().map(|j| j.text.clone()),
            "paused": scheduler.is_paused(&entry.name),
            "next_fires": next_fires,
            "next_fires_local": local,
        })
    });
    drop(scheduler);
    let newest = RunQuery { runbook: Some(entry.name.clone()), limit: Some(1), ..RunQuery::default() };
    let last_run = daemon.store.list(&newest).ok().and_then(|runs| runs.into_iter().next()).map(|run| {
        json!({
            "id": run.id,
            "status": run.status.name(),
            "mode": run.mode.name(),
            "trigger": run.trigger.name(),
            "started_at": run.started_at,
            "finished_at": run.finished_at,
        })
    });
    let mut value = json!({
        "name": entry.name,
        "file": entry.path.display().to_string(),
        "valid": entry.problems.is_empty(),
        "runnable": entry.good.is_some(),
        "problems": entry.problems,
        "description": spec.and_then(|s| s.description.clone()),
        "cluster": spec.map(|s| s.cluster.clone()),
        "schedule": schedule,
        "loaded_at": entry.loaded_at,
        "sha256": entry.good.as_ref().map(|g| crate::engine::sha256_hex(g.text.as_bytes())),
        "last_run": last_run,
    });
    if full {
        value["spec"] = spec.map(|s| serde_json::to_value(s).unwrap_or_default()).unwrap_or_default();
    }
    value
}

async fn list_runbooks(State(daemon): Shared, headers: HeaderMap) -> Response {
    if let Err(denied) = authorize(&daemon, &headers, Role::Viewer) {
        return denied.into_response();
    }
    let runbooks = daemon.runbooks();
    let list: Vec<Value> = runbooks.entries().map(|e| runbook_json(&daemon, e, false)).collect();
    let invalid: Vec<Value> = runbooks
        .nameless()
        .iter()
        .map(|(file, problems)| json!({ "file": file.display().to_string(), "problems": problems }))
        .collect();
    Json(json!({ "runbooks": list, "invalid_files": invalid })).into_response()
}

async fn get_runbook(State(daemon): Shared, headers: HeaderMap, Segment(name): Segment) -> Response {
    if let Err(denied) = authorize(&daemon, &headers, Role::Viewer) {
        return denied.into_response();
    }
    let runbooks = daemon.runbooks();
    match runbooks.get(&name) {
        Some(entry) => Json(runbook_json(&daemon, entry, true)).into_response(),
        None => ApiError::not_found(format!("no runbook named {name}")).into_response(),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct WaitQuery {
    #[serde(default)]
    wait: bool,
}

type WaitParam = Result<Query<WaitQuery>, axum::extract::rejection::QueryRejection>;

/// What a request that changes the cluster carries: an operator's token,
/// `?wait=`, and a JSON body of type `B`.
fn change_request<B: DeserializeOwned>(
    daemon: &Daemon,
    headers: &HeaderMap,
    query: WaitParam,
    bytes: Result<Bytes, ApiError>,
) -> Result<(Caller, bool, B), ApiError> {
    let caller = authorize(daemon, headers, Role::Operator)?;
    let Ok(Query(query)) = query else {
        return Err(ApiError::bad_request("the only query parameter is wait=true|false"));
    };
    Ok((caller, query.wait, body(bytes)?))
}

/// Answers with the run id at once (202), or with its record once it ends.
async fn answer(started: Started, wait: bool) -> Response {
    if !wait {
        let body = json!({ "run_id": started.id, "status": "running", "url": format!("/api/v1/runs/{}", started.id) });
        return (StatusCode::ACCEPTED, Json(body)).into_response();
    }
    match started.task.await {
        Ok(record) => Json(record).into_response(),
        Err(_) => ApiError::unavailable(format!(
            "run {} was interrupted by the daemon shutting down; see GET /api/v1/runs/{}",
            started.id, started.id
        ))
        .into_response(),
    }
}

async fn plan_runbook(
    State(daemon): Shared,
    headers: HeaderMap,
    Segment(name): Segment,
    BodyRead(bytes): BodyRead,
) -> Response {
    let caller = match authorize(&daemon, &headers, Role::Viewer) {
        Ok(caller) => caller,
        Err(denied) => return denied.into_response(),
    };
    let request: PlanBody = match body(bytes) {
        Ok(request) => request,
        Err(e) => return e.into_response(),
    };
    match actions::plan(&daemon, &caller, name, request.params(), request.runbook_sha256).await {
        Ok(started) => answer(started, true).await,
        Err(e) => e.into_response(),
    }
}

async fn run_runbook(
    State(daemon): Shared,
    headers: HeaderMap,
    Segment(name): Segment,
    query: WaitParam,
    BodyRead(bytes): BodyRead,
) -> Response {
    let (caller, wait, request): (_, _, RunBody) = match change_request(&daemon, &headers, query, bytes) {
        Ok(parts) => parts,
        Err(e) => return e.into_response(),
    };
    let params = request.params();
    let sha256 = request.runbook_sha256;
    let work = match request.plan_id {
        Some(plan_id) if params.is_empty() => Work::SavedPlan { name, plan_id, sha256, approved: false },
        Some(_) => {
            return ApiError::bad_request("give params or a plan_id, not both: a plan has its params").into_response();
        }
        None => Work::Runbook { name, params, sha256 },
    };
    match actions::apply(&daemon, &caller, work).await {
        Ok(started) => answer(started, wait).await,
        Err(e) => e.into_response(),
    }
}

async fn set_paused(daemon: &Daemon, headers: &HeaderMap, name: &str, paused: bool) -> Response {
    let set = authorize(daemon, headers, Role::Operator)
        .and_then(|caller| actions::set_paused(daemon, &caller, name, paused));
    match set {
        Ok(()) => Json(json!({ "name": name, "paused": paused })).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn pause(State(daemon): Shared, headers: HeaderMap, Segment(name): Segment) -> Response {
    set_paused(&daemon, &headers, &name, true).await
}

async fn resume(State(daemon): Shared, headers: HeaderMap, Segment(name): Segment) -> Response {
    set_paused(&daemon, &headers, &name, false).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RunsQuery {
    runbook: Option<String>,
    status: Option<String>,
    limit: Option<usize>,
    since: Option<String>,
    group: Option<String>,
    topic: Option<String>,
}

async fn list_runs(
    State(daemon): Shared,
    headers: HeaderMap,
    query: Result<Query<RunsQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    if let Err(denied) = authorize(&daemon, &headers, Role::Viewer) {
        return denied.into_response();
    }
    let Ok(Query(query)) = query else {
        return ApiError::bad_request(
            "query parameters: runbook, status, group, topic, limit (a number), since (RFC 3339)",
        )
        .into_response();
    };
    let status = match query.status.as_deref() {
        None => None,
        Some(text) => match RunState::ALL.into_iter().find(|s| s.name() == text) {
            Some(status) => Some(status),
            None => {
                let names: Vec<&str> = RunState::ALL.iter().map(|s| s.name()).collect();
                return ApiError::bad_request(format!("unknown status {text:?}; one of {}", names.join(", ")))
                    .into_response();
            }
        },
    };
    let since = match query.since.as_deref().map(DateTime::parse_from_rfc3339) {
        None => None,
        Some(Ok(at)) => Some(at.with_timezone(&Utc)),
        Some(Err(e)) => return ApiError::bad_request(format!("since: not an RFC 3339 time: {e}")).into_response(),
    };
    let limit = query.limit.unwrap_or(50);
    if limit == 0 || limit > MOST_RUNS {
        return ApiError::bad_request(format!("limit must be 1 to {MOST_RUNS}")).into_response();
    }
    let request = RunQuery {
        runbook: query.runbook,
        status,
        since,
        limit: Some(limit),
        group: query.group,
        topic: query.topic,
        ..RunQuery::default()
    };
    match daemon.store.list(&request) {
        Ok(runs) => Json(json!({ "runs": runs })).into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

async fn get_run(State(daemon): Shared, headers: HeaderMap, Segment(id): Segment) -> Response {
    if let Err(denied) = authorize(&daemon, &headers, Role::Viewer) {
        return denied.into_response();
    }
    match daemon.store.find(&id).map_err(ApiError::from) {
        Ok(record) => Json(record).into_response(),
        // A run started a moment ago is still making its plan; it is stored once it has one.
        Err(e) => match daemon.in_flight().into_iter().find(|(run_id, _, _)| *run_id == id) {
            Some((run_id, runbook, _)) => {
                Json(json!({ "id": run_id, "runbook": runbook, "status": "running", "phase": "planning" }))
                    .into_response()
            }
            None => e.into_response(),
        },
    }
}

/// Records that the plan of run `id` was shown and not confirmed: a
/// `declined` run beside it (what `ebb run` records when a person says no).
async fn decline(
    State(daemon): Shared,
    headers: HeaderMap,
    Segment(id): Segment,
    query: WaitParam,
    BodyRead(bytes): BodyRead,
) -> Response {
    let (caller, _, request): (_, _, DeclineBody) = match change_request(&daemon, &headers, query, bytes) {
        Ok(parts) => parts,
        Err(e) => return e.into_response(),
    };
    let planned = match daemon.store.find(&id).map_err(ApiError::from) {
        Ok(record) => record,
        Err(e) => return e.into_response(),
    };
    let Some(plan) = planned.plan.filter(|_| planned.mode == Mode::Plan) else {
        return ApiError::bad_request(format!("run {} is not a plan, so there is nothing to decline", planned.id))
            .into_response();
    };
    let run = actions::run_info(Trigger::Api, Mode::Apply, &caller);
    let why = if request.no_terminal { crate::runs::Decline::NoTerminal } else { crate::runs::Decline::AtPrompt };
    let declined = crate::runs::record_declined(&daemon.history(), &run, &plan, why);
    if let Some(e) = declined.unsaved {
        return ApiError::from(e).into_response();
    }
    tracing::info!(caller = %caller.name, plan = %planned.id, run_id = %run.id, "plan declined");
    Json(declined.record).into_response()
}

async fn rollback(
    State(daemon): Shared,
    headers: HeaderMap,
    Segment(id): Segment,
    query: WaitParam,
    BodyRead(bytes): BodyRead,
) -> Response {
    let (caller, wait, request): (_, _, RollbackBody) = match change_request(&daemon, &headers, query, bytes) {
        Ok(parts) => parts,
        Err(e) => return e.into_response(),
    };
    let mode = if request.plan_only { Mode::Plan } else { Mode::Apply };
    match actions::rollback(&daemon, &caller, &id, mode).await {
        Ok(started) => answer(started, wait || request.plan_only).await,
        Err(e) => e.into_response(),
    }
}

/// Approves pending run `id` as the caller; the approval that completes it
/// starts the apply (through the usual drift checks), whose record is the
/// answer with `?wait=true`.
async fn approve(
    State(daemon): Shared,
    headers: HeaderMap,
    Segment(id): Segment,
    query: WaitParam,
    BodyRead(bytes): BodyRead,
) -> Response {
    decide(&daemon, &headers, &id, query, bytes, true).await
}

/// Rejects pending run `id` as the caller: it will never be applied.
async fn reject(
    State(daemon): Shared,
    headers: HeaderMap,
    Segment(id): Segment,
    query: WaitParam,
    BodyRead(bytes): BodyRead,
) -> Response {
    decide(&daemon, &headers, &id, query, bytes, false).await
}

async fn decide(
    daemon: &Arc<Daemon>,
    headers: &HeaderMap,
    id: &str,
    query: WaitParam,
    bytes: Result<Bytes, ApiError>,
    approving: bool,
) -> Response {
    let (caller, wait, request): (_, _, DecisionBody) = match change_request(daemon, headers, query, bytes) {
        Ok(parts) => parts,
        Err(e) => return e.into_response(),
    };
    match actions::decide(daemon, &caller, id, approving, request.reason).await {
        Ok(actions::Decision::Recorded(record)) => Json(record).into_response(),
        Ok(actions::Decision::Applying(started)) => answer(started, wait).await,
        Err(e) => e.into_response(),
    }
}
