//! Plans and applied runs for people (SPEC §4): per mutating step a table and
//! a summary line, then one line for the whole run.

use std::fmt::Write;

use super::paint::{Tone, paint};
use crate::engine::{Applied, AppliedStep, Plan, PlanStatus, RunStatus};
use crate::step::ViewSettings;
use crate::steps;
use crate::steps::AppliedDetail;
use crate::steps::delete_offsets::DeletionOutcome;
use crate::steps::reset_offsets::Outcome;
use crate::view_document::ViewDocument;

/// How this command shows plans: set once from `--tz` and the terminal.
static SETTINGS: std::sync::OnceLock<ViewSettings> = std::sync::OnceLock::new();

/// Sets how plans are shown for the rest of the command.
pub fn set_settings(settings: ViewSettings) {
    let _ = SETTINGS.set(settings);
}

fn settings() -> ViewSettings {
    SETTINGS.get().copied().unwrap_or_default()
}

pub fn render_plan(plan: &Plan) -> String {
    let mut out = String::new();
    let what = match &plan.rollback_of {
        Some(of) => format!("Rollback plan for run {of} of runbook"),
        None => "Plan for runbook".to_owned(),
    };
    let _ = writeln!(
        out,
        "{what} {} on cluster {} (run {}, {})",
        plan.runbook,
        plan.cluster,
        plan.run_id,
        plan.created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    for step in &plan.steps {
        out.push('\n');
        let mut view = ViewDocument::default();
        steps::view(step, &settings(), &mut view);
        out.push_str(&view.text());
    }
    if !plan.notes.is_empty() {
        out.push('\n');
    }
    for note in &plan.notes {
        let _ = writeln!(out, "note: {note}");
    }
    out.push('\n');
    let tone = match plan.status {
        PlanStatus::Planned if plan.has_changes() => Tone::Change,
        PlanStatus::Planned => Tone::Good,
        PlanStatus::Refused | PlanStatus::Failed => Tone::Bad,
    };
    let _ = writeln!(out, "{}", paint(settings().colour, tone, &plan.outcome_line()));
    out
}

pub fn render_applied(applied: &Applied) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Apply of runbook {} on cluster {} (run {}, plan {})",
        applied.runbook, applied.cluster, applied.run_id, applied.plan_run_id
    );
    if applied.forced && !applied.drift.is_empty() {
        let _ = writeln!(out, "warning: applying despite drift (--force):");
        for drift in &applied.drift {
            let _ = writeln!(out, "  - {drift}");
        }
    }
    render_applied_steps(&mut out, &applied.steps);
    out.push('\n');
    let committed: usize = applied
        .steps
        .iter()
        .filter_map(AppliedStep::reset)
        .flat_map(|r| &r.results)
        .filter(|r| r.outcome == Outcome::Committed)
        .count();
    let deleted: i64 =
        applied.steps.iter().filter_map(AppliedStep::purge).flat_map(|p| &p.results).map(|r| r.deleted).sum();
    let uncommitted = applied
        .steps
        .iter()
        .filter_map(|s| match &s.detail {
            Some(AppliedDetail::DeleteOffsets(d)) => Some(d),
            _ => None,
        })
        .flat_map(|d| &d.results)
        .filter(|r| r.outcome == DeletionOutcome::Deleted)
        .count();
    let reason = applied.reason.as_deref().unwrap_or("");
    let mut done = Vec::new();
    if committed > 0 || (deleted == 0 && uncommitted == 0) {
        done.push(format!("{committed} partition(s) committed and verified"));
    }
    if deleted > 0 {
        done.push(format!("{deleted} record(s) deleted and verified"));
    }
    if uncommitted > 0 {
        done.push(format!("{uncommitted} committed offset(s) deleted and verified"));
    }
    let (tone, line) = match applied.status {
        RunStatus::Succeeded => (Tone::Good, format!("Succeeded: {}.", done.join("; "))),
        RunStatus::Refused => (Tone::Bad, format!("Refused: {reason}")),
        RunStatus::Failed => (Tone::Bad, format!("Failed: {reason}")),
    };
    let _ = writeln!(out, "{}", paint(settings().colour, tone, &line));
    out
}

/// Each applied step: its status, what it committed or deleted, and why it stopped.
pub fn render_applied_steps(out: &mut String, steps: &[AppliedStep]) {
    for step in steps {
        let took = match (step.started_at, step.finished_at) {
            (Some(start), Some(end)) => format!(" in {} ms", (end - start).num_milliseconds()),
            _ => String::new(),
        };
        let _ = writeln!(out, "\nstep {} ({}): {}{took}", step.id, step.kind, step.status.name());
        if let Some(detail) = &step.detail {
            let mut view = ViewDocument::default();
            steps::view_applied(detail, &mut view);
            out.push_str(&view.text());
        }
        if let Some(reason) = &step.reason {
            let _ = writeln!(out, "  {reason}");
        }
    }
}
