//! Plans waiting for their approvers, each with what it would change and
//! how the cluster has moved since it was planned (the drift the apply
//! would check), with approve and reject at hand.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::response::Response;
use maud::{Markup, html};

use super::page::{Section, answer, page, time};
use super::run::{action_button, reason_input};
use super::step_html;
use super::visitor::Visitor;
use crate::config::Role;
use crate::daemon::state::Daemon;
use crate::history::{RunQuery, RunRecord, RunState, Store};
use crate::provider::{AnyProvider, Provider, ProviderError, TopicPartition};
use crate::step::StepStatus;
use crate::steps::{PlannedStep, StepDetail};
use crate::text_table::Table;

/// Pending plans shown at once.
const MOST: usize = 50;
/// How long the live checks may take (all plans are checked at once).
const LIVE_CHECK: Duration = Duration::from_secs(5);

/// Each planned partition beside the cluster now: a reset's or deletion's
/// committed offset, a purge's log start, as planned and as read now.
async fn live_table(step: &PlannedStep, provider: &AnyProvider) -> Result<Option<Table>, ProviderError> {
    let dash = crate::text_table::dash;
    if step.detail.change_count() == 0 {
        return Ok(None);
    }
    match &step.detail {
        StepDetail::ResetOffsets(reset) => {
            let topics: std::collections::BTreeSet<String> =
                reset.changes.iter().map(|c| c.planned.topic.clone()).collect();
            let topics: Vec<String> = topics.into_iter().collect();
            let now = committed(provider, &reset.group, topics).await?;
            let mut table = Table::new(vec!["TOPIC", "PARTITION", "COMMITTED-AT-PLAN", "COMMITTED-NOW", "TARGET"]);
            for c in reset.changes.iter().map(|c| &c.planned) {
                let live = now.get(&(c.topic.clone(), c.partition)).copied();
                table.row(vec![
                    c.topic.clone(),
                    c.partition.to_string(),
                    dash(c.current),
                    dash(live),
                    c.target.to_string(),
                ]);
            }
            Ok(Some(table))
        }
        StepDetail::DeleteOffsets(deletion) => {
            let now = committed(provider, &deletion.group, deletion.topics()).await?;
            let mut table = Table::new(vec!["TOPIC", "PARTITION", "COMMITTED-AT-PLAN", "COMMITTED-NOW"]);
            for d in &deletion.deletions {
                let live = now.get(&(d.topic.clone(), d.partition)).copied();
                table.row(vec![d.topic.clone(), d.partition.to_string(), d.offset.to_string(), dash(live)]);
            }
            Ok(Some(table))
        }
        StepDetail::PurgeMessages(purge) => {
            let partitions: Vec<TopicPartition> =
                purge.changes.iter().map(|c| TopicPartition::new(purge.topic.clone(), c.partition)).collect();
            let now: BTreeMap<i32, i64> =
                provider.watermarks(&partitions).await?.into_iter().map(|w| (w.partition, w.log_start)).collect();
            let mut table = Table::new(vec!["PARTITION", "LOG-START-AT-PLAN", "LOG-START-NOW", "NEW-LOG-START"]);
            for c in &purge.changes {
                let live = now.get(&c.partition).copied();
                table.row(vec![
                    c.partition.to_string(),
                    c.log_start.to_string(),
                    dash(live),
                    c.new_log_start.to_string(),
                ]);
            }
            Ok(Some(table))
        }
        _ => Ok(None),
    }
}

async fn committed(
    provider: &AnyProvider,
    group: &str,
    topics: Vec<String>,
) -> Result<BTreeMap<(String, i32), i64>, ProviderError> {
    let offsets = provider.committed_offsets(group, Some(&topics)).await?;
    Ok(offsets.into_iter().map(|c| ((c.topic, c.partition), c.offset)).collect())
}

/// How the cluster is now beside what `record`'s plan saw: each step's
/// partitions as planned and as read now, and the drift the apply would find.
async fn live_diff(daemon: &Daemon, record: &RunRecord) -> Result<Markup, String> {
    let Some(plan) = &record.plan else { return Ok(html! {}) };
    let provider = daemon.provider(&plan.cluster).map_err(|e| e.to_string())?;
    let mut tables = Vec::new();
    let mut drift = Vec::new();
    for step in plan.steps.iter().filter(|s| s.status == StepStatus::Planned) {
        tables.extend(live_table(step, &provider).await.map_err(|e| e.to_string())?);
        drift.extend(crate::steps::drift(step, &provider).await.map_err(|e| e.to_string())?);
    }
    Ok(html! {
        h3 { "Live now" }
        @for table in &tables { (step_html::table_html(table)) }
        @if drift.is_empty() {
            p.notice.live { "The cluster is as planned (no drift): the approval that completes the count applies this plan." }
        } @else {
            div.notice.warn.live {
                "The cluster moved since the plan; the apply will refuse unless re-planned:"
                @for d in &drift { div.lines { (d.to_string()) } }
            }
        }
    })
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
    // Every plan is checked against its cluster at once, all within one bound.
    let sections = futures_util::future::join_all(pending.iter().map(|r| pending_plan(&daemon, &visitor, r))).await;
    let body = html! {
        h1 { "Pending plans" }
        @if pending.is_empty() { p.muted #none-pending { "No plan is waiting for approval." } }
        @for section in sections { (section) }
    };
    answer(page("Pending", Section::Pending, Some(&visitor), None, body))
}

async fn pending_plan(daemon: &Daemon, visitor: &Visitor, record: &RunRecord) -> Markup {
    let base = format!("/ui/runs/{}", record.id);
    let live = match tokio::time::timeout(LIVE_CHECK, live_diff(daemon, record)).await {
        Ok(Ok(live)) => live,
        Ok(Err(why)) => html! { p.notice.warn.live { "Cannot compare with the cluster now: " (why) } },
        Err(_) => html! { p.notice.warn.live { "The cluster did not answer in time to compare." } },
    };
    html! {
        section.step.pending-plan {
            h2 { a href=(base) { "Run " (record.id) } " — " (record.runbook) }
            @if let Some(approval) = &record.approval {
                p { "Planned by " strong { (approval.planned_by) } " · needs " (approval.required) " approval(s), "
                    (approval.approvals.len()) " so far · expires " (time(&approval.expires_at)) }
            }
            @if let Some(plan) = &record.plan {
                @for step in plan.steps.iter().filter(|s| s.detail.is_mutating()) { (step_html::planned(step)) }
            }
            (live)
            div.actions {
                (action_button(visitor, &format!("{base}/approve"), "Approve", "primary", Role::Operator, html! {}))
                (action_button(visitor, &format!("{base}/reject"), "Reject", "danger", Role::Operator, reason_input()))
            }
        }
    }
}
