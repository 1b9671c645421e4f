//! Logging in exchanges an API token (from `daemon.tokens` in ebb.yaml) for
//! a session cookie: HttpOnly, SameSite=Strict, Secure over TLS, lasting
//! `daemon.console.session`. Logging out ends the session on the server too.

use std::sync::Arc;

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;

use super::page::{ConsoleError, Section, answer, page};
use super::visitor::{Submitted, Visitor, checked_form, cookie, cookie_name, from_own_origin, served_over_tls};
use crate::daemon::state::Daemon;

#[derive(Debug, Default, Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// Where to go after logging in: a console path, never another site.
fn confined_next(next: Option<&str>) -> &str {
    match next {
        Some(next)
            if (next == "/ui" || next.starts_with("/ui/") || next.starts_with("/ui?"))
                && !next.contains("//")
                && !next.contains('\\')
                && !next.chars().any(char::is_control) =>
        {
            next
        }
        _ => "/ui/runbooks",
    }
}

fn login_page(status: StatusCode, next: &str, problem: Option<&str>) -> Response {
    let body = html! {
        div.login {
            h1 { "Log in to ebb" }
            @if let Some(problem) = problem {
                p.notice.bad #error { (problem) }
            }
            form method="post" action="/ui/login" {
                label for="token" { "API token (one of " code { "daemon.tokens" } " in ebb.yaml)" }
                input #token type="password" name="token" autocomplete="current-password" required autofocus;
                input type="hidden" name="next" value=(next);
                button.primary #login type="submit" { "Log in" }
            }
        }
    };
    (status, answer(page("Log in", Section::None, None, None, body))).into_response()
}

pub async fn show(Query(query): Query<NextQuery>) -> Response {
    login_page(StatusCode::OK, confined_next(query.next.as_deref()), None)
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    next: Option<String>,
}

pub async fn log_in(
    State(daemon): State<Arc<Daemon>>,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return ConsoleError::new(StatusCode::BAD_REQUEST, "the login form was not readable").into_response();
    };
    let next = confined_next(form.next.as_deref());
    if !from_own_origin(&headers) {
        return login_page(StatusCode::FORBIDDEN, next, Some("this login did not come from this console"));
    }
    let Some(caller) = daemon.tokens.identify(form.token.trim()) else {
        tracing::info!("console login refused: not a configured token");
        return login_page(StatusCode::UNAUTHORIZED, next, Some("that token is not one of daemon.tokens"));
    };
    tracing::info!(caller = %caller.name, "console login");
    // A login from a browser that had a session ends that one: one browser, one session.
    if let Some(old) = cookie(&headers, cookie_name(&daemon)) {
        daemon.sessions.close(old);
    }
    let (id, _) = daemon.sessions.open(caller);
    with_cookie(Redirect::to(next).into_response(), &daemon, &id, daemon.sessions.lasts().as_secs())
}

/// `response` setting the session cookie to `value` for `seconds` (0 ends it).
fn with_cookie(mut response: Response, daemon: &Daemon, value: &str, seconds: u64) -> Response {
    let mut cookie = format!("{}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={seconds}", cookie_name(daemon));
    if served_over_tls(daemon) {
        cookie.push_str("; Secure");
    }
    response.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_str(&cookie).expect("ASCII"));
    response
}

pub async fn log_out(
    State(daemon): State<Arc<Daemon>>,
    visitor: Visitor,
    headers: HeaderMap,
    form: Submitted,
) -> Response {
    if let Err(refused) = checked_form(&visitor, &headers, form) {
        return refused.shown_to(&visitor);
    }
    daemon.sessions.close(&visitor.session_id);
    with_cookie(Redirect::to("/ui/login").into_response(), &daemon, "", 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_login_only_console_paths() {
        assert_eq!(confined_next(Some("/ui/runs/01J")), "/ui/runs/01J");
        assert_eq!(confined_next(Some("/ui/runs?status=failed")), "/ui/runs?status=failed");
        for away in
            ["https://evil.example/", "//evil.example", "/ui//evil", "/\\evil", "/api/v1/runs", "/uix", "/ui/\n"]
        {
            assert_eq!(confined_next(Some(away)), "/ui/runbooks", "{away:?}");
        }
        assert_eq!(confined_next(None), "/ui/runbooks");
    }
}
