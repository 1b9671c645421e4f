//! In a coordinated deployment (docs/HA.md), an API request that starts or
//! decides a run on a cluster another replica owns is passed to that
//! replica, whose address is in the state topic, and its answer passed
//! back: a caller may ask any replica. Reads are answered where they are
//! asked, from the replica's own store. A request is passed on once at most:
//! if the cluster moved again meanwhile, the caller is told to ask again.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::api_error::ApiError;
use super::state::Daemon;
use crate::config::Role;
use crate::history::Store;

/// Marks a request one replica passed to another.
const FORWARDED_BY: &str = "x-ebb-forwarded-by";
/// A run asked for with `?wait=true` is answered when it ends.
const LONGEST_WAIT: Duration = Duration::from_secs(3600);

pub async fn to_owner(State(daemon): State<Arc<Daemon>>, request: Request, next: Next) -> Response {
    let Some(coordination) = daemon.coordination().cloned() else { return next.run(request).await };
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let Some(cluster) = cluster_of(&daemon, request.uri().path()) else { return next.run(request).await };
    // Only a known caller is passed on; the handler here refuses the rest as usual.
    if coordination.owns(&cluster) || daemon.tokens.authorize(request.headers(), Role::Viewer).is_err() {
        return next.run(request).await;
    }
    if request.headers().contains_key(FORWARDED_BY) {
        return ApiError::unavailable(format!(
            "cluster {cluster} changed hands while this request was passed on; ask again"
        ))
        .into_response();
    }
    let owner = coordination.owner_of(&cluster).filter(|(replica, _)| *replica != coordination.replica);
    let Some((replica, Some(address))) = owner else {
        return ApiError::unavailable(format!("no replica owns cluster {cluster} now; ask again in a few seconds"))
            .into_response();
    };
    // A token that came over TLS never leaves over plain HTTP.
    if coordination.address.starts_with("https://") && !address.starts_with("https://") {
        return ApiError::unavailable(format!(
            "replica {replica}, which owns cluster {cluster}, advertises a plain-HTTP address; ask it directly"
        ))
        .into_response();
    }
    tracing::info!(cluster, owner = %replica, path = request.uri().path(), "passing the request to the cluster's owner");
    pass_on(request, &address, &replica, &coordination.replica).await
}

/// The cluster a POST to `path` would act on: a runbook's, or a run's.
fn cluster_of(daemon: &Daemon, path: &str) -> Option<String> {
    let segments: Vec<&str> = path.split('/').collect();
    match segments.as_slice() {
        ["", "api", "v1", "runbooks", name, _action] => {
            let name = crate::percent_encoding::percent_decode(name);
            daemon.runbooks().get(&name).and_then(|e| e.spec().map(|s| s.cluster.clone()))
        }
        ["", "api", "v1", "runs", id, _action] => {
            let id = crate::percent_encoding::percent_decode(id);
            daemon.store.find(&id).ok().map(|r| r.cluster)
        }
        _ => None,
    }
}

fn client() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .timeout(LONGEST_WAIT)
            .connect_timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("a client with these settings")
    })
}

async fn pass_on(request: Request, address: &str, owner: &str, me: &str) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, super::BODY_LIMIT).await else {
        return ApiError::bad_request(format!("the body is larger than {} bytes", super::BODY_LIMIT)).into_response();
    };
    let target = parts.uri.path_and_query().map_or(parts.uri.path(), |p| p.as_str());
    let mut outgoing = client().post(format!("{}{target}", address.trim_end_matches('/'))).body(body);
    for name in [header::AUTHORIZATION, header::CONTENT_TYPE] {
        if let Some(value) = parts.headers.get(&name) {
            outgoing = outgoing.header(name, value);
        }
    }
    let answer = match outgoing.header(FORWARDED_BY, me).send().await {
        Ok(answer) => answer,
        Err(e) => {
            return ApiError::new(
                StatusCode::BAD_GATEWAY,
                "owner_unreachable",
                format!("replica {owner}, which owns this cluster, did not answer: {}", e.without_url()),
            )
            .into_response();
        }
    };
    let status = StatusCode::from_u16(answer.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let content_type = answer.headers().get(header::CONTENT_TYPE).cloned();
    let bytes = answer.bytes().await.unwrap_or_default();
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = status;
    if let Some(value) = content_type {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    if let Ok(value) = HeaderValue::from_str(owner) {
        response.headers_mut().insert("x-ebb-answered-by", value);
    }
    response
}
