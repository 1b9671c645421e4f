//! The runs, newest first, filtered by runbook, status, trigger, group,
//! topic and time, a page at a time. A page reads only its own runs from the
//! store (and looks at no more than a bounded number), so it answers as
//! quickly with 100,000 runs in history as with ten.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, NaiveDateTime, Utc};
use maud::{Markup, html};
use serde::Deserialize;

use super::page::{ConsoleError, Section, answer, link, page, status_badge, time};
use super::visitor::Visitor;
use crate::daemon::state::Daemon;
use crate::engine::Trigger;
use crate::history::{RunQuery, RunState, Store};
use crate::percent_encoding::percent_encode;

/// Runs on a page.
pub const PAGE: usize = 50;
/// Runs a page looks at, at most, before it says where it stopped.
pub const SCAN_MOST: usize = 5_000;

#[derive(Debug, Default, Deserialize)]
pub struct RunsFilter {
    #[serde(default)]
    runbook: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    trigger: String,
    #[serde(default)]
    group: String,
    #[serde(default)]
    topic: String,
    /// Runs started at or after (RFC 3339, or a browser's `YYYY-MM-DDTHH:MM` in UTC).
    #[serde(default)]
    since: String,
    /// Runs started before.
    #[serde(default)]
    until: String,
    /// The page after the one that ended at this run id.
    #[serde(default)]
    older: String,
}

fn given(text: &str) -> Option<String> {
    Some(text.trim().to_owned()).filter(|t| !t.is_empty())
}

fn parse_time(field: &str, text: &str) -> Result<Option<DateTime<Utc>>, ConsoleError> {
    let Some(text) = given(text) else { return Ok(None) };
    if let Ok(at) = DateTime::parse_from_rfc3339(&text) {
        return Ok(Some(at.with_timezone(&Utc)));
    }
    for format in ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(at) = NaiveDateTime::parse_from_str(&text, format) {
            return Ok(Some(at.and_utc()));
        }
    }
    Err(ConsoleError::new(
        StatusCode::BAD_REQUEST,
        format!("{field}: not a time (RFC 3339, or YYYY-MM-DDTHH:MM in UTC)"),
    ))
}

impl RunsFilter {
    /// The store query this filter asks for.
    pub fn query(&self) -> Result<RunQuery, ConsoleError> {
        let bad = |what: &str| ConsoleError::new(StatusCode::BAD_REQUEST, what.to_owned());
        let status = match given(&self.status) {
            None => None,
            Some(text) => Some(RunState::parse(&text).ok_or_else(|| bad("status: not a run status"))?),
        };
        let trigger = match given(&self.trigger) {
            None => None,
            Some(text) => Some(Trigger::parse(&text).ok_or_else(|| bad("trigger: not a trigger"))?),
        };
        let older_than = given(&self.older);
        if older_than.as_ref().is_some_and(|id| id.len() > 26 || !id.chars().all(|c| c.is_ascii_alphanumeric())) {
            return Err(bad("older: not a run id"));
        }
        Ok(RunQuery {
            runbook: given(&self.runbook),
            status,
            trigger,
            group: given(&self.group),
            topic: given(&self.topic),
            since: parse_time("since", &self.since)?,
            before: parse_time("until", &self.until)?,
            older_than,
            limit: Some(PAGE),
            scan_most: Some(SCAN_MOST),
            ..RunQuery::default()
        })
    }

    /// This filter's link, continuing after run `older`.
    fn link(&self, older: Option<&str>) -> String {
        let mut parts = Vec::new();
        for (name, value) in [
            ("runbook", &self.runbook),
            ("status", &self.status),
            ("trigger", &self.trigger),
            ("group", &self.group),
            ("topic", &self.topic),
            ("since", &self.since),
            ("until", &self.until),
        ] {
            if !value.trim().is_empty() {
                parts.push(format!("{name}={}", percent_encode(value.trim(), b"-._~")));
            }
        }
        if let Some(older) = older {
            parts.push(format!("older={}", percent_encode(older, b"-._~")));
        }
        if parts.is_empty() { "/ui/runs".to_owned() } else { format!("/ui/runs?{}", parts.join("&")) }
    }
}

fn filters_form(filter: &RunsFilter) -> Markup {
    let choice = |name: &str, current: &str, options: Vec<&'static str>| {
        html! {
            select name=(name) {
                option value="" { "any" }
                @for option in options { option value=(option) selected[current == option] { (option) } }
            }
        }
    };
    html! {
        form.filters method="get" action="/ui/runs" {
            label { "runbook" input type="text" name="runbook" value=(filter.runbook) size="14"; }
            label { "status" (choice("status", &filter.status, RunState::ALL.iter().map(|s| s.name()).collect())) }
            label { "trigger" (choice("trigger", &filter.trigger, Trigger::ALL.iter().map(|t| t.name()).collect())) }
            label { "group" input type="text" name="group" value=(filter.group) size="14"; }
            label { "topic" input type="text" name="topic" value=(filter.topic) size="14"; }
            label { "since (UTC)" input type="datetime-local" name="since" value=(filter.since); }
            label { "until (UTC)" input type="datetime-local" name="until" value=(filter.until); }
            button type="submit" { "Filter" }
            a href="/ui/runs" { "clear" }
        }
    }
}

pub async fn list(
    State(daemon): State<Arc<Daemon>>,
    visitor: Visitor,
    filter: Result<Query<RunsFilter>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(filter)) = filter else {
        return ConsoleError::new(StatusCode::BAD_REQUEST, "the filter is not readable").shown_to(&visitor);
    };
    let found = filter.query().and_then(|query| Ok(daemon.store.page(&query)?));
    let runs = match found {
        Ok(runs) => runs,
        Err(e) => return e.shown_to(&visitor),
    };
    let cut_short = runs.runs.len() < PAGE && runs.resume_after.is_some();
    let body = html! {
        h1 { "Runs" }
        (filters_form(&filter))
        div.scroll { table #runs {
            thead { tr { th { "RUN" } th { "RUNBOOK" } th { "STATUS" } th { "MODE" } th { "TRIGGER" } th { "STARTED" } th { "CHANGES" } th { "GROUPS / TOPICS" } th { "REASON" } } }
            tbody {
                @for run in &runs.runs {
                    tr {
                        td { a href=(link("/ui/runs/", &run.id)) { code { (run.id) } } }
                        td { a href=(link("/ui/runbooks/", &run.runbook)) { (run.runbook) } }
                        td { (status_badge(run.status.name())) }
                        td { (run.mode.name()) }
                        td { (run.trigger.name()) }
                        td { (time(&run.started_at)) }
                        td.num { (run.changes) }
                        td { (run.groups.join(", ")) @if !run.groups.is_empty() && !run.topics.is_empty() { " / " } (run.topics.join(", ")) }
                        td.muted { (run.reason.as_deref().unwrap_or("")) }
                    }
                }
            }
        } }
        @if runs.runs.is_empty() && !cut_short { p.muted #no-runs { "No runs match." } }
        @if cut_short {
            p.notice { "Looked at " (SCAN_MOST) " runs without filling the page." }
        }
        div.pager {
            @if !filter.older.is_empty() { a #newest href=(filter.link(None)) { "← Newest" } }
            @if let Some(last) = &runs.resume_after { a #older href=(filter.link(Some(last))) { "Older →" } }
        }
    };
    answer(page("Runs", Section::Runs, Some(&visitor), None, body))
}
