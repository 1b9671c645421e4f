//! Who is looking at a console page: the session named by the request's
//! cookie, or a trip to the login page. And the checks a form that changes
//! something must pass: its CSRF token, and a request from the console's own
//! origin.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::page::ConsoleError;
use super::sessions::{Session, same_text};
use crate::daemon::state::Daemon;

/// The cookie's name: over TLS with the `__Host-` prefix, which browsers
/// accept only on a Secure cookie for the whole site and no domain.
pub fn cookie_name(daemon: &Daemon) -> &'static str {
    if served_over_tls(daemon) { "__Host-ebb_session" } else { "ebb_session" }
}

pub fn served_over_tls(daemon: &Daemon) -> bool {
    daemon.config.config.daemon.as_ref().is_some_and(|d| d.tls.is_some())
}

/// A logged-in person.
pub struct Visitor {
    pub session_id: String,
    pub session: Session,
}

/// The value of cookie `name` among the request's cookies.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value)
}

impl FromRequestParts<Arc<Daemon>> for Visitor {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, daemon: &Arc<Daemon>) -> Result<Self, Self::Rejection> {
        let found = cookie(&parts.headers, cookie_name(daemon))
            .and_then(|id| daemon.sessions.find(id).map(|session| Visitor { session_id: id.to_owned(), session }));
        found.ok_or_else(|| {
            // Under `/ui`, the router sees the path without it; the original has it.
            let original = parts.extensions.get::<axum::extract::OriginalUri>().map_or(&parts.uri, |o| &o.0);
            let here = original.path_and_query().map(|p| p.as_str()).unwrap_or("/ui");
            if parts.method == axum::http::Method::GET {
                Redirect::to(&format!("/ui/login?next={}", crate::percent_encoding::percent_encode(here, b"-._~")))
                    .into_response()
            } else {
                ConsoleError::new(StatusCode::UNAUTHORIZED, "your session has ended: log in again").into_response()
            }
        })
    }
}

/// Whether the request came from a page of this console: browsers send
/// `Sec-Fetch-Site` and, on a POST, `Origin`; either naming another site fails.
pub fn from_own_origin(headers: &HeaderMap) -> bool {
    let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = text(axum::http::HeaderName::from_static("sec-fetch-site"))
        && !matches!(site, "same-origin" | "none")
    {
        return false;
    }
    match (text(header::ORIGIN), text(header::HOST)) {
        (None, _) => true,
        (Some(origin), Some(host)) => {
            let bare = origin.strip_prefix("https://").or_else(|| origin.strip_prefix("http://"));
            bare == Some(host)
        }
        (Some(_), None) => false,
    }
}

/// A posted form as the handlers take it: its fields, or why they could not be read.
pub type Submitted = Result<axum::Form<Vec<(String, String)>>, axum::extract::rejection::FormRejection>;

/// The form's fields once its CSRF token and origin are checked; an
/// unreadable form has no token, so it is refused like one without.
pub fn checked_form(
    visitor: &Visitor,
    headers: &HeaderMap,
    form: Submitted,
) -> Result<Vec<(String, String)>, ConsoleError> {
    let form = form.map(|axum::Form(fields)| fields).unwrap_or_default();
    let token = form.iter().find(|(name, _)| name == "csrf").map(|(_, value)| value.as_str());
    let token_good = token.is_some_and(|t| same_text(t, &visitor.session.csrf));
    if !token_good || !from_own_origin(headers) {
        return Err(ConsoleError::new(
            StatusCode::FORBIDDEN,
            "this form did not come from this console (its CSRF token or origin is wrong); nothing was changed",
        ));
    }
    Ok(form)
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(*name, HeaderValue::from_static(value));
        }
        headers
    }

    #[test]
    fn cookies_are_found_by_exact_name() {
        let h = headers(&[("cookie", "a=1; ebb_session=xyz"), ("cookie", "other=2")]);
        assert_eq!(cookie(&h, "ebb_session"), Some("xyz"));
        assert_eq!(cookie(&h, "other"), Some("2"));
        assert_eq!(cookie(&h, "ebb"), None);
    }

    #[test]
    fn only_the_consoles_own_origin_passes() {
        assert!(from_own_origin(&headers(&[("host", "127.0.0.1:8480"), ("origin", "http://127.0.0.1:8480")])));
        assert!(from_own_origin(&headers(&[("host", "127.0.0.1:8480"), ("sec-fetch-site", "same-origin")])));
        assert!(from_own_origin(&headers(&[("host", "h")])), "a client that sends neither");
        assert!(!from_own_origin(&headers(&[("host", "127.0.0.1:8480"), ("origin", "http://evil.example")])));
        assert!(!from_own_origin(&headers(&[("host", "127.0.0.1:8480"), ("origin", "null")])));
        assert!(!from_own_origin(&headers(&[("host", "h"), ("sec-fetch-site", "cross-site")])));
        assert!(!from_own_origin(&headers(&[("host", "h"), ("sec-fetch-site", "same-site")])));
    }
}
