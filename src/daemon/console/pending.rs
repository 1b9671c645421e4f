//! Plans waiting for their approvers, each with what it would change and
//! how the cluster has moved since it was planned (the drift the apply
//! would check), with approve and reject at hand.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::response::Response;
use maud::{Markup, html};

use super::page::{Section, answer, page, time};
use super::run::{action_button, console_view};
use super::step_html;
use super::visitor::Visitor;
use crate::config::Role;
use crate::daemon::actions;
use crate::daemon::state::Daemon;
use crate::history::{RunQuery, RunRecord, RunState, Store};
use crate::step::StepStatus;
use crate::view_document::ViewDocument;

/// Pending plans shown at once.
const MOST: usize = 50;
/// How long the live check of one plan may take.
const LIVE_CHECK: Duration = Duration::from_secs(5);

/// How the cluster differs now from what `record`'s plan saw.
async fn live_diff(daemon: &Daemon, record: &RunRecord) -> Markup {
    let Some(plan) = &record.plan else { return html! {} };
    let provider = match daemon.provider(&plan.cluster) {
        Ok(provider) => provider,
        Err(e) => return html! { p.notice.warn { "Cannot reach the cluster to compare: " (e.to_string()) } },
    };
    let mut drift = Vec::new();
    for step in plan.steps.iter().filter(|s| s.status == StepStatus::Planned) {
        match tokio::time::timeout(LIVE_CHECK, crate::steps::drift(step, &provider)).await {
            Ok(Ok(found)) => drift.extend(found),
            Ok(Err(e)) => return html! { p.notice.warn { "Cannot compare with the cluster now: " (e.to_string()) } },
            Err(_) => return html! { p.notice.warn { "The cluster did not answer in time to compare." } },
        }
    }
    html! {
        @if drift.is_empty() {
            p.notice.live { "Live now: the cluster is as planned (no drift)." }
        } @else {
            div.notice.warn.live {
                "Live now: the cluster moved since the plan; the apply will refuse unless re-planned:"
                @for d in &drift { div.lines { (d.to_string()) } }
            }
        }
    }
}

pub async fn list(State(daemon): State<Arc<Daemon>>, visitor: Visitor) -> Response {
    let query = RunQuery { status: Some(RunState::Pending), limit: Some(MOST), ..RunQuery::default() };
    let pending: Vec<RunRecord> = daemon
        .store
        .list(&query)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|summary| daemon.store.get(&summary.id).ok().flatten())
        .collect();
    let mut sections = Vec::with_capacity(pending.len());
    for record in &pending {
        sections.push(pending_plan(&daemon, &visitor, record).await);
    }
    let body = html! {
        h1 { "Pending plans" }
        @if pending.is_empty() { p.muted #none-pending { "No plan is waiting for approval." } }
        @for section in sections { (section) }
    };
    answer(page("Pending", Section::Pending, Some(&visitor), None, body))
}

async fn pending_plan(daemon: &Daemon, visitor: &Visitor, record: &RunRecord) -> Markup {
    let base = format!("/ui/runs/{}", record.id);
    let live = live_diff(daemon, record).await;
    html! {
        section.step.pending-plan {
            h2 { a href=(base) { "Run " (record.id) } " — " (record.runbook) }
            @if let Some(approval) = &record.approval {
                p { "Planned by " strong { (approval.planned_by) } " · needs " (approval.required) " approval(s), "
                    (approval.approvals.len()) " so far · expires " (time(&approval.expires_at)) }
            }
            @if let Some(plan) = &record.plan {
                @for step in plan.steps.iter().filter(|s| s.detail.is_mutating()) {
                    (step_html::document(&{
                        let mut doc = ViewDocument::default();
                        crate::steps::view(step, &console_view(), &mut doc);
                        doc
                    }))
                }
            }
            (live)
            div.actions {
                (action_button(visitor, &format!("{base}/approve"), "Approve", "primary", Role::Operator, html! {}))
                (action_button(visitor, &format!("{base}/reject"), "Reject", "danger", Role::Operator,
                    html! { input type="text" name="reason" maxlength=(actions::REASON_MOST) placeholder="why (optional)"; }))
            }
        }
    }
}
