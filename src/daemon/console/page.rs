//! The frame every console page shares — its head, the navigation, who is
//! logged in and the logout button — and console errors as pages. Every
//! text goes through maud, which escapes it: nothing from Kafka, a runbook
//! or a request reaches the page as markup.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};

use super::assets;
use super::visitor::Visitor;
use crate::daemon::actions::role_name;
use crate::daemon::api_error::ApiError;

/// The navigation's sections; a page names the one it is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Runbooks,
    Runs,
    Pending,
    Clusters,
    None,
}

/// A whole page: `title`, in `section`, for `visitor`, around `body`.
/// `refresh`: reload every so many seconds (a run still going).
pub fn page(title: &str, section: Section, visitor: Option<&Visitor>, refresh: Option<u32>, body: Markup) -> Markup {
    let nav_link = |to: Section, href: &str, label: &str| {
        html! { a href=(href) class=[(section == to).then_some("here")] { (label) } }
    };
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="color-scheme" content="light dark";
                @if let Some(seconds) = refresh {
                    meta http-equiv="refresh" content=(seconds);
                }
                title { (title) " · ebb" }
                link rel="stylesheet" href=(assets::stylesheet_path());
            }
            body {
                header.top {
                    a.brand href="/ui/runbooks" { "ebb" }
                    @if let Some(visitor) = visitor {
                        nav {
                            (nav_link(Section::Runbooks, "/ui/runbooks", "Runbooks"))
                            (nav_link(Section::Runs, "/ui/runs", "Runs"))
                            (nav_link(Section::Pending, "/ui/pending", "Pending"))
                            (nav_link(Section::Clusters, "/ui/clusters", "Clusters"))
                        }
                        div.who {
                            span #who title={ "logged in until " (time(&visitor.session.ends_at)) } { (visitor.session.caller.name) " (" (role_name(visitor.session.caller.role)) ")" }
                            form.inline method="post" action="/ui/logout" {
                                input type="hidden" name="csrf" value=(visitor.session.csrf);
                                button #logout type="submit" { "Log out" }
                            }
                        }
                    }
                }
                main { (body) }
            }
        }
    }
}

/// A page's answer: 200 and HTML.
pub fn answer(markup: Markup) -> Response {
    Html(markup.into_string()).into_response()
}

/// A refusal or failure shown as a page.
#[derive(Debug)]
pub struct ConsoleError {
    pub status: StatusCode,
    pub message: String,
}

impl ConsoleError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ConsoleError { status, message: message.into() }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        ConsoleError::new(StatusCode::NOT_FOUND, message)
    }
}

impl From<ApiError> for ConsoleError {
    fn from(e: ApiError) -> Self {
        ConsoleError::new(e.status, e.message)
    }
}

impl From<crate::history::StoreError> for ConsoleError {
    fn from(e: crate::history::StoreError) -> Self {
        ApiError::from(e).into()
    }
}

impl ConsoleError {
    /// The error as a page with the navigation, for someone logged in.
    pub fn shown_to(self, visitor: &Visitor) -> Response {
        self.shown(Some(visitor))
    }

    fn shown(self, visitor: Option<&Visitor>) -> Response {
        let title = self.status.canonical_reason().unwrap_or("Error");
        let body = html! {
            h1 { (self.status.as_u16()) " " (title) }
            p.notice.bad #error { (self.message) }
            p { a href="/ui/runbooks" { "Back to the runbooks" } }
        };
        (self.status, Html(page(title, Section::None, visitor, None, body).into_string())).into_response()
    }
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        self.shown(None)
    }
}

/// A console address for a name: `prefix` and the name percent-encoded, so
/// a name with `/`, `?`, `#` or `&` in it stays one segment or value.
pub fn link(prefix: &str, name: &str) -> String {
    format!("{prefix}{}", crate::percent_encoding::percent_encode(name, b"-._~"))
}

/// A run's status as a coloured badge.
pub fn status_badge(status: &str) -> Markup {
    html! { span class={ "status " (status) } { (status) } }
}

/// A time as people read it, to the second, in UTC.
pub fn time(at: &chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
