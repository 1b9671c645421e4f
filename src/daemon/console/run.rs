//! One run, at a shareable address (`/ui/runs/{id}`): how it started and who
//! asked, its params, the approvals, each step's table as `ebb show` prints
//! it, the snapshot a rollback restores; and what may be done next — apply
//! a plan, plan a rollback (shown before it is applied), approve or reject.

use std::sync::Arc;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};

use super::page::{ConsoleError, Section, answer, link, page, status_badge, time};
use super::step_html;
use super::visitor::{Submitted, Visitor, checked_form};
use crate::config::Role;
use crate::daemon::actions::{self, Decision, role_name};
use crate::daemon::path_segment::Segment;
use crate::daemon::runner::Started;
use crate::daemon::state::Daemon;
use crate::engine::{Mode, PlanStatus};
use crate::history::{RunRecord, RunState, Store};

/// Seconds between reloads of a run still going.
const REFRESH: u32 = 2;

/// A form with one button that posts to `action`, disabled (and refused by
/// the server anyway) when the visitor's role is below `needs`.
pub fn action_button(visitor: &Visitor, action: &str, label: &str, class: &str, needs: Role, extra: Markup) -> Markup {
    let allowed = visitor.session.caller.role >= needs;
    html! {
        form.inline method="post" action=(action) {
            input type="hidden" name="csrf" value=(visitor.session.csrf);
            (extra)
            @if allowed {
                button type="submit" class=(class) { (label) }
            } @else {
                button type="submit" class=(class) disabled title={ "needs the " (role_name(needs)) " role" } { (label) }
            }
        }
    }
}

pub async fn show(State(daemon): State<Arc<Daemon>>, visitor: Visitor, Segment(id): Segment) -> Response {
    match daemon.store.find(&id) {
        Ok(record) => {
            let rule_now = daemon.runbooks().under_approval(&record.runbook);
            answer(run_page(&record, &visitor, rule_now))
        }
        Err(e) => match daemon.in_flight().into_iter().find(|(run_id, _, _)| *run_id == id) {
            Some((run_id, runbook, _)) => {
                let body = html! {
                    h1 { "Run " (run_id) }
                    p { "Runbook " a href=(link("/ui/runbooks/", &runbook)) { (runbook) } ": " (status_badge("running")) " making its plan…" }
                };
                answer(page(&format!("Run {run_id}"), Section::Runs, Some(&visitor), Some(REFRESH), body))
            }
            None => ConsoleError::from(e).shown_to(&visitor),
        },
    }
}

/// `rule_now`: the runbook is under `approval:` today, so none of its plans is applied without approvers.
fn run_page(record: &RunRecord, visitor: &Visitor, rule_now: bool) -> Markup {
    let running = record.status == RunState::Running;
    let body = html! {
        h1 { "Run " span #run-id { (record.id) } }
        dl.facts {
            dt { "Status" } dd #status { (status_badge(record.status.name())) }
            dt { "Runbook" } dd { a href=(link("/ui/runbooks/", &record.runbook)) { (record.runbook) } }
            dt { "Cluster" } dd { a href=(link("/ui/clusters/", &record.cluster)) { (record.cluster) } }
            dt { "Mode" } dd { (record.mode.name()) }
            dt { "Trigger" } dd {
                (record.trigger.name())
                @if let Some(slot) = &record.slot { " (slot " (time(slot)) ")" }
            }
            dt { "Actor" } dd #actor { (record.actor.as_deref().unwrap_or("-")) }
            dt { "Started" } dd { (time(&record.started_at)) }
            @if let Some(end) = &record.finished_at {
                dt { "Finished" } dd { (time(end)) " (" (format!("{:.1}", (*end - record.started_at).num_milliseconds() as f64 / 1000.0)) " s)" }
            }
            @if let Some(of) = &record.rollback_of {
                dt { "Rolls back" } dd { a href=(link("/ui/runs/", of)) { (of) } }
            }
            @if let Some(plan_id) = &record.plan_id {
                dt { "Plan made by" } dd { a href=(link("/ui/runs/", plan_id)) { (plan_id) } }
            }
            dt { "Runbook SHA-256" } dd.muted { (record.runbook_sha256) }
        }
        @if let Some(reason) = &record.reason {
            div.notice.bad #reason { div.lines { (reason) } }
        }
        (actions_for(record, visitor, rule_now))
        @if !record.params.is_empty() {
            h2 { "Params" }
            div.scroll { table #params {
                thead { tr { th { "NAME" } th { "VALUE" } } }
                tbody { @for (name, value) in &record.params { tr { td { (name) } td.text { (value.to_string()) } } } }
            } }
        }
        @if let Some(approval) = &record.approval {
            h2 { "Approval" }
            dl.facts #approval {
                dt { "Needs" } dd { (approval.required) " approval(s) by an " (approval.role) " other than the planner" }
                dt { "Planned by" } dd { (approval.planned_by) }
                dt { "Expires" } dd { (time(&approval.expires_at)) }
                @for decision in &approval.approvals {
                    dt { "Approved" } dd { "by " (decision.by) " at " (time(&decision.at)) }
                }
                @if let Some(rejected) = &approval.rejected {
                    dt { "Rejected" } dd { "by " (rejected.by) " at " (time(&rejected.at)) @if let Some(why) = &rejected.reason { ": " (why) } }
                }
                @if let Some(run) = &approval.applied_in {
                    dt { "Applied in" } dd { a href=(link("/ui/runs/", run)) { (run) } }
                }
            }
        }
        @if let Some(plan) = &record.plan {
            h2 #plan-title { @if plan.rollback_of.is_some() { "Rollback plan" } @else { "Plan" } }
            @for step in &plan.steps {
                div.step { (step_html::planned(step)) }
            }
            @for note in &plan.notes { p.notice.warn { (note) } }
            p #plan-outcome { (plan.outcome_line()) }
        }
        @if let Some(apply) = &record.apply {
            h2 { "Apply" @if apply.forced { " (forced despite drift)" } }
            @for drift in &apply.drift { p.notice.warn { "drift: " (drift.to_string()) } }
            @for step in &apply.steps {
                div.step.applied {
                    div.lines { "step " (step.id) " (" (step.kind) "): " (step.status.name()) }
                    @if let Some(detail) = &step.detail { (step_html::applied(detail)) }
                    @if let Some(reason) = &step.reason { div.lines { (reason) } }
                }
            }
        }
        @let snapshot = crate::history::snapshot_table(record);
        @if !snapshot.is_empty() {
            h2 { "Snapshot" }
            p.muted { "The offsets before the reset: what a rollback restores." }
            div #snapshot-table { (step_html::table_html(&snapshot)) }
        }
    };
    page(&format!("Run {}", record.id), Section::Runs, Some(visitor), running.then_some(REFRESH), body)
}

/// The optional reason a rejection carries.
pub fn reason_input() -> Markup {
    html! { input type="text" name="reason" maxlength=(actions::REASON_MOST) placeholder="why (optional)"; }
}

/// The buttons this run offers.
fn actions_for(record: &RunRecord, visitor: &Visitor, rule_now: bool) -> Markup {
    let base = format!("/ui/runs/{}", record.id);
    let appliable = record.mode == Mode::Plan
        && record.status == RunState::Succeeded
        && record.plan.as_ref().is_some_and(|p| p.status == PlanStatus::Planned && p.has_changes());
    // A plan under `approval:` is applied only once approved: the daemon refuses it as a saved plan.
    let under_rule = rule_now || record.plan.as_ref().is_some_and(|p| p.approval.is_some());
    let appliable = appliable && !under_rule;
    let undoable = record.mode == Mode::Apply && record.may_have_changed();
    let pending = record.status == RunState::Pending;
    let planner = record.approval.as_ref().is_some_and(|a| a.planned_by == visitor.session.caller.name);
    html! {
        @if appliable || undoable || pending {
            div.actions {
                @if appliable {
                    (action_button(visitor, &format!("{base}/apply"), "Apply this plan", "primary", Role::Operator, html! {}))
                }
                @if undoable {
                    (action_button(visitor, &format!("{base}/rollback"), "Plan rollback", "danger", Role::Operator, html! {}))
                }
                @if pending {
                    (action_button(visitor, &format!("{base}/approve"), "Approve", "primary", Role::Operator, html! {}))
                    (action_button(visitor, &format!("{base}/reject"), "Reject", "danger", Role::Operator, reason_input()))
                    @if planner { span.muted { "You planned this: another person must approve it." } }
                }
            }
        }
    }
}

/// Where a form that starts a run leads: that run's page (once the run has
/// ended with `wait`, for plans), or the refusal as a page.
pub async fn to_started(visitor: &Visitor, started: Result<Started, ConsoleError>, wait: bool) -> Response {
    match started {
        Ok(started) => {
            let id = started.id.clone();
            if wait {
                let _ = started.task.await;
            }
            to_run(&id)
        }
        Err(e) => e.shown_to(visitor),
    }
}

fn to_run(id: &str) -> Response {
    Redirect::to(&format!("/ui/runs/{id}")).into_response()
}

pub async fn apply(
    State(daemon): State<Arc<Daemon>>,
    visitor: Visitor,
    headers: HeaderMap,
    Segment(id): Segment,
    form: Submitted,
) -> Response {
    let applied = async {
        checked_form(&visitor, &headers, form)?;
        Ok(actions::apply_saved(&daemon, &visitor.session.caller, &id).await?)
    };
    to_started(&visitor, applied.await, false).await
}

/// Plans the rollback of run `id` and shows that plan; applying it is a second step.
pub async fn rollback(
    State(daemon): State<Arc<Daemon>>,
    visitor: Visitor,
    headers: HeaderMap,
    Segment(id): Segment,
    form: Submitted,
) -> Response {
    let planned = async {
        checked_form(&visitor, &headers, form)?;
        // Under `approval:` the rollback is asked for as an apply, which makes it a
        // pending plan (shown, and applied only once someone else approves it).
        let under_rule = daemon.store.find(&id)?.plan.is_some_and(|p| p.approval.is_some());
        let mode = if under_rule { Mode::Apply } else { Mode::Plan };
        Ok(actions::rollback(&daemon, &visitor.session.caller, &id, mode).await?)
    };
    to_started(&visitor, planned.await, true).await
}

pub async fn approve(
    State(daemon): State<Arc<Daemon>>,
    visitor: Visitor,
    headers: HeaderMap,
    Segment(id): Segment,
    form: Submitted,
) -> Response {
    decide(&daemon, &visitor, &headers, &id, form, true).await
}

pub async fn reject(
    State(daemon): State<Arc<Daemon>>,
    visitor: Visitor,
    headers: HeaderMap,
    Segment(id): Segment,
    form: Submitted,
) -> Response {
    decide(&daemon, &visitor, &headers, &id, form, false).await
}

async fn decide(
    daemon: &Arc<Daemon>,
    visitor: &Visitor,
    headers: &HeaderMap,
    id: &str,
    form: Submitted,
    approving: bool,
) -> Response {
    let decided = async {
        let form = checked_form(visitor, headers, form)?;
        let reason = form.into_iter().find(|(n, _)| n == "reason").map(|(_, v)| v).filter(|r| !r.trim().is_empty());
        Ok::<_, ConsoleError>(actions::decide(daemon, &visitor.session.caller, id, approving, reason).await?)
    };
    match decided.await {
        Ok(Decision::Recorded(record)) => to_run(&record.id),
        Ok(Decision::Applying(started)) => to_started(visitor, Ok(started), false).await,
        Err(e) => e.shown_to(visitor),
    }
}
