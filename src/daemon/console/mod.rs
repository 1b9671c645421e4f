//! The web console at `/ui` (docs/CONSOLE.md): server-rendered pages over the
//! same actions as the API, for people. Every answer carries a strict
//! Content-Security-Policy — no script at all, styles only from the console's
//! own stylesheet — and is never cached or framed.

mod assets;
mod clusters;
mod login;
mod page;
mod pending;
mod run;
mod runbooks;
mod runs;
pub mod sessions;
mod step_html;
mod visitor;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use crate::daemon::state::Daemon;

pub use sessions::Sessions;

/// The policy every console answer carries: nothing runs, nothing loads
/// from elsewhere, forms post only here, no page frames it.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'none'; style-src 'self'; img-src 'self'; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

pub fn router() -> Router<Arc<Daemon>> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/ui/runbooks") }))
        .route("/login", get(login::show).post(login::log_in))
        .route("/logout", post(login::log_out))
        .route("/assets/{file}", get(assets::serve))
        .route("/runbooks", get(runbooks::list))
        .route("/runbooks/{name}", get(runbooks::one))
        .route("/runbooks/{name}/plan", post(runbooks::plan))
        .route("/runbooks/{name}/apply", post(runbooks::apply))
        .route("/runbooks/{name}/pause", post(runbooks::pause))
        .route("/runbooks/{name}/resume", post(runbooks::resume))
        .route("/runs", get(runs::list))
        .route("/runs/{id}", get(run::show))
        .route("/runs/{id}/apply", post(run::apply))
        .route("/runs/{id}/rollback", post(run::rollback))
        .route("/runs/{id}/approve", post(run::approve))
        .route("/runs/{id}/reject", post(run::reject))
        .route("/pending", get(pending::list))
        .route("/clusters", get(clusters::list))
        .route("/clusters/{name}", get(clusters::one))
        .fallback(|| async { page::ConsoleError::not_found("no such page").into_response() })
        .layer(axum::middleware::map_response(guarded))
        .layer(axum::middleware::from_fn(timed))
}

/// Says in `Server-Timing` how long the daemon took to answer (what the
/// console's benchmark reads), so a page's own cost shows apart from the network's.
async fn timed(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let started = std::time::Instant::now();
    let mut response = next.run(request).await;
    let took = format!("app;dur={:.2}", started.elapsed().as_secs_f64() * 1000.0);
    if let Ok(value) = HeaderValue::from_str(&took) {
        response.headers_mut().insert(header::HeaderName::from_static("server-timing"), value);
    }
    response
}

/// The headers every console answer carries.
async fn guarded(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    response
}
