//! The runbooks: each one's schedule in words and as cron, its next fires in
//! its own time zone, whether it is paused, its last run; pause and resume;
//! and on a runbook's page a params form typed from the runbook's params,
//! to plan it (any role) or apply it (operator).

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde_json::Value;

use super::page::{ConsoleError, Section, answer, link, page, status_badge, time};
use super::run::{action_button, to_started};
use super::visitor::{Submitted, Visitor, checked_form};
use crate::config::Role;
use crate::daemon::actions;
use crate::daemon::path_segment::Segment;
use crate::daemon::runbook_set::RunbookEntry;
use crate::daemon::runner::Work;
use crate::daemon::state::Daemon;
use crate::history::{RunQuery, Store};
use crate::runbook::spec::{ParamSpec, ParamType, RunbookSpec};

/// Next fires shown on a runbook's own page.
const NEXT_FIRES: usize = 5;

/// The schedule in words and as cron, with its zone.
fn schedule_cell(spec: &RunbookSpec) -> Markup {
    html! {
        @match &spec.schedule {
            None => span.muted { "on demand" },
            Some(schedule) => {
                @if let Some(words) = crate::schedule::in_words(&schedule.cron) { (words) br; }
                code { (schedule.cron) } " " span.muted { (schedule.timezone.as_deref().unwrap_or("UTC")) }
            }
        }
    }
}

/// The next `count` fires of `entry`, in its own time zone.
fn next_fires(daemon: &Daemon, entry: &RunbookEntry, count: usize) -> Vec<String> {
    let Some(zone) = entry.zone() else { return Vec::new() };
    let fires = daemon.scheduler().next_fires(&entry.name, count);
    fires.iter().map(|t| t.with_timezone(&zone).format("%Y-%m-%d %H:%M:%S %Z").to_string()).collect()
}

fn last_run(daemon: &Daemon, name: &str) -> Markup {
    let newest = RunQuery { runbook: Some(name.to_owned()), limit: Some(1), ..RunQuery::default() };
    let last = daemon.store.list(&newest).ok().and_then(|runs| runs.into_iter().next());
    html! {
        @match last {
            Some(run) => { a href=(link("/ui/runs/", &run.id)) { (status_badge(run.status.name())) } " " span.muted { (time(&run.started_at)) } }
            None => span.muted { "never" },
        }
    }
}

fn pause_button(daemon: &Daemon, visitor: &Visitor, name: &str) -> Markup {
    let paused = daemon.scheduler().is_paused(name);
    let (action, label) = if paused { ("resume", "Resume") } else { ("pause", "Pause") };
    action_button(visitor, &format!("{}/{action}", link("/ui/runbooks/", name)), label, "", Role::Operator, html! {})
}

pub async fn list(State(daemon): State<Arc<Daemon>>, visitor: Visitor) -> Response {
    let runbooks = daemon.runbooks();
    let body = html! {
        h1 { "Runbooks" }
        div.scroll { table #runbooks {
            thead { tr { th { "NAME" } th { "CLUSTER" } th { "SCHEDULE" } th { "NEXT" } th { "STATE" } th { "LAST RUN" } th {} } }
            tbody {
                @for entry in runbooks.entries() {
                    @let spec = entry.spec();
                    tr {
                        td {
                            a href=(link("/ui/runbooks/", &entry.name)) { (entry.name) }
                            @if let Some(description) = spec.and_then(|s| s.description.as_deref()) { br; span.muted { (description) } }
                        }
                        td { @if let Some(spec) = spec { (spec.cluster) } }
                        td { @if let Some(spec) = spec { (schedule_cell(spec)) } }
                        td { @for fire in next_fires(&daemon, entry, 1) { (fire) } }
                        td {
                            @if !entry.problems.is_empty() { span.status.failed { "invalid" } " " }
                            @if spec.is_some_and(|s| s.schedule.is_some()) {
                                @if daemon.scheduler().is_paused(&entry.name) { span.status.expired { "paused" } } @else { span.status.succeeded { "scheduled" } }
                            }
                        }
                        td { (last_run(&daemon, &entry.name)) }
                        td { @if spec.is_some_and(|s| s.schedule.is_some()) { (pause_button(&daemon, &visitor, &entry.name)) } }
                    }
                }
            }
        } }
        @for (file, problems) in runbooks.nameless() {
            div.notice.bad { "A runbook file that cannot be read: " code { (file.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default()) } @for p in problems { div.lines { (p) } } }
        }
    };
    answer(page("Runbooks", Section::Runbooks, Some(&visitor), None, body))
}

/// The input for one param, typed from its declaration.
fn param_input(name: &str, param: &ParamSpec) -> Markup {
    let field = format!("param.{name}");
    let default = param.default.as_ref().map(|d| match d {
        Value::String(text) => text.clone(),
        Value::Array(items) => {
            items.iter().map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned)).collect::<Vec<_>>().join(",")
        }
        other => other.to_string(),
    });
    let id = format!("param-{name}");
    html! {
        label for=(id) { (name) @if param.required { " *" } br; span.muted { (kind_name(param.kind)) @if let Some(d) = &param.description { " — " (d) } } }
        @match param.kind {
            ParamType::Bool => select id=(id) name=(field) {
                @if default.is_none() { option value="" { "(choose)" } }
                @for choice in ["true", "false"] {
                    option value=(choice) selected[default.as_deref() == Some(choice)] { (choice) }
                }
            },
            ParamType::Int => input id=(id) type="number" step="1" name=(field) value=[default] required[param.required];,
            ParamType::Duration => input id=(id) type="text" name=(field) value=[default] placeholder="e.g. 90s, 2h, 7d" required[param.required];,
            ParamType::Time => input id=(id) type="text" name=(field) value=[default] placeholder="RFC 3339, epoch ms, now or -2h" required[param.required];,
            ParamType::List => input id=(id) type="text" name=(field) value=[default] placeholder="comma-separated" required[param.required];,
            ParamType::String => input id=(id) type="text" name=(field) value=[default] required[param.required];,
        }
    }
}

fn kind_name(kind: ParamType) -> &'static str {
    match kind {
        ParamType::String => "text",
        ParamType::Int => "whole number",
        ParamType::Bool => "true or false",
        ParamType::Duration => "duration",
        ParamType::Time => "time",
        ParamType::List => "list",
    }
}

pub async fn one(State(daemon): State<Arc<Daemon>>, visitor: Visitor, Segment(name): Segment) -> Response {
    let runbooks = daemon.runbooks();
    let Some(entry) = runbooks.get(&name) else {
        return ConsoleError::not_found(format!("no runbook named {name}")).shown_to(&visitor);
    };
    let spec = entry.spec();
    let operator = visitor.session.caller.role >= Role::Operator;
    let body = html! {
        h1 { "Runbook " (entry.name) }
        @if !entry.problems.is_empty() {
            div.notice.bad { "The file as it is now does not validate" @if spec.is_some() { "; the last good version still runs" } ":"
                @for p in &entry.problems { div.lines { (p) } } }
        }
        @if let Some(spec) = spec {
            dl.facts {
                @if let Some(d) = &spec.description { dt { "Description" } dd { (d) } }
                dt { "Cluster" } dd { a href=(link("/ui/clusters/", &spec.cluster)) { (spec.cluster) } }
                dt { "Schedule" } dd { (schedule_cell(spec)) }
                @if spec.schedule.is_some() {
                    dt { "State" } dd { @if daemon.scheduler().is_paused(&entry.name) { "paused" } @else { "scheduled" } " " (pause_button(&daemon, &visitor, &entry.name)) }
                    dt { "Next fires" } dd { @for fire in next_fires(&daemon, entry, NEXT_FIRES) { (fire) br; } }
                }
                @if let Some(approval) = &spec.approval {
                    dt { "Approval" } dd { (approval.required) " approval(s) needed before an apply" }
                }
                dt { "Steps" } dd { @for step in &spec.steps { code { (step.id) } " (" (step.kind.name()) ") " } }
                dt { "Last run" } dd { (last_run(&daemon, &entry.name)) " · " a href=(link("/ui/runs?runbook=", &entry.name)) { "all runs" } }
                dt { "File" } dd.muted { (entry.path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default()) " in the runbooks directory" }
            }
            h2 { "Plan or run" }
            form.grid #run-form method="post" action={ (link("/ui/runbooks/", &entry.name)) "/plan" } {
                input type="hidden" name="csrf" value=(visitor.session.csrf);
                @for (param, declared) in &spec.params { (param_input(param, declared)) }
                span {}
                div.actions {
                    button #plan type="submit" { "Plan (dry run)" }
                    @if operator {
                        button.primary #apply type="submit" formaction={ (link("/ui/runbooks/", &entry.name)) "/apply" } { "Apply" }
                    } @else {
                        button.primary #apply type="submit" disabled title="needs the operator role" formaction={ (link("/ui/runbooks/", &entry.name)) "/apply" } { "Apply" }
                    }
                }
            }
        }
    };
    answer(page(&format!("Runbook {name}"), Section::Runbooks, Some(&visitor), None, body))
}

/// The params a submitted form gives, typed as the runbook declares them;
/// empty fields are left out (the default applies).
fn params_from(form: &[(String, String)], spec: &RunbookSpec) -> Result<Vec<(String, Value)>, ConsoleError> {
    let mut params = Vec::new();
    for (field, text) in form {
        let Some(name) = field.strip_prefix("param.") else { continue };
        let Some(declared) = spec.params.get(name) else {
            return Err(ConsoleError::new(
                StatusCode::BAD_REQUEST,
                format!("the runbook has no param {}", crate::shown::quoted(name)),
            ));
        };
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        // Typed as `--set` and the API type text, by the one function that does it.
        let value = declared
            .kind
            .accept(&Value::from(text))
            .map_err(|why| ConsoleError::new(StatusCode::BAD_REQUEST, format!("param {name}: {why}")))?;
        params.push((name.to_owned(), value));
    }
    Ok(params)
}

/// The form's params, once its CSRF token is checked.
fn submitted(
    daemon: &Daemon,
    visitor: &Visitor,
    headers: &HeaderMap,
    name: &str,
    form: Submitted,
) -> Result<Vec<(String, Value)>, ConsoleError> {
    let form = checked_form(visitor, headers, form)?;
    let runbooks = daemon.runbooks();
    let spec = runbooks
        .get(name)
        .and_then(RunbookEntry::spec)
        .ok_or_else(|| ConsoleError::not_found(format!("no runnable runbook named {name}")))?;
    params_from(&form, spec)
}

pub async fn plan(
    State(daemon): State<Arc<Daemon>>,
    visitor: Visitor,
    headers: HeaderMap,
    Segment(name): Segment,
    form: Submitted,
) -> Response {
    let planned = async {
        let params = submitted(&daemon, &visitor, &headers, &name, form)?;
        Ok(actions::plan(&daemon, &visitor.session.caller, name.clone(), params, None).await?)
    };
    to_started(&visitor, planned.await, true).await
}

pub async fn apply(
    State(daemon): State<Arc<Daemon>>,
    visitor: Visitor,
    headers: HeaderMap,
    Segment(name): Segment,
    form: Submitted,
) -> Response {
    let started = async {
        let params = submitted(&daemon, &visitor, &headers, &name, form)?;
        let work = Work::Runbook { name: name.clone(), params, sha256: None };
        Ok(actions::apply(&daemon, &visitor.session.caller, work).await?)
    };
    to_started(&visitor, started.await, false).await
}

async fn set_paused(
    daemon: &Daemon,
    visitor: &Visitor,
    headers: &HeaderMap,
    name: &str,
    form: Submitted,
    paused: bool,
) -> Response {
    let set = checked_form(visitor, headers, form)
        .and_then(|_| actions::set_paused(daemon, &visitor.session.caller, name, paused).map_err(ConsoleError::from));
    match set {
        Ok(()) => Redirect::to(&link("/ui/runbooks/", name)).into_response(),
        Err(e) => e.shown_to(visitor),
    }
}

pub async fn pause(
    State(daemon): State<Arc<Daemon>>,
    visitor: Visitor,
    headers: HeaderMap,
    Segment(name): Segment,
    form: Submitted,
) -> Response {
    set_paused(&daemon, &visitor, &headers, &name, form, true).await
}

pub async fn resume(
    State(daemon): State<Arc<Daemon>>,
    visitor: Visitor,
    headers: HeaderMap,
    Segment(name): Segment,
    form: Submitted,
) -> Response {
    set_paused(&daemon, &visitor, &headers, &name, form, false).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> RunbookSpec {
        serde_yaml::from_str(
            "name: r\ncluster: local\nparams:\n  n: { type: int }\n  on: { type: bool }\n  topics: { type: list }\n  window: { type: duration }\n  who: { type: string }\nsteps: []\n",
        )
        .unwrap()
    }

    fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn form_fields_become_params_of_their_declared_types() {
        let fields = form(&[
            ("csrf", "x"),
            ("param.n", " 15 "),
            ("param.on", "false"),
            ("param.topics", "a, b"),
            ("param.window", "2h"),
            ("param.who", ""),
        ]);
        let params = params_from(&fields, &spec()).unwrap();
        assert_eq!(
            params,
            vec![
                ("n".to_owned(), Value::from(15)),
                ("on".to_owned(), Value::Bool(false)),
                ("topics".to_owned(), serde_json::json!(["a", "b"])),
                ("window".to_owned(), Value::from("2h")),
            ],
            "an empty field is left to its default"
        );
        let bad = params_from(&form(&[("param.n", "1.5")]), &spec()).unwrap_err();
        assert!(bad.message.contains("param n: expected a whole number"), "{}", bad.message);
        assert!(params_from(&form(&[("param.on", "yes")]), &spec()).is_err(), "a bool is true or false");
        let unknown = params_from(&form(&[("param.<b>", "1")]), &spec()).unwrap_err();
        assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    }
}
