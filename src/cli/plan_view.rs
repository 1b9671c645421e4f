//! Plans and applied runs for people (SPEC §4): per mutating step a table and
//! a summary line, then one line for the whole run.

use std::fmt::Write;

use super::table::Table;
use crate::engine::apply::Outcome;
use crate::engine::{
    Applied, AppliedStep, Plan, PlanStatus, PlannedStep, PurgeApplied, PurgeOutcome, ResetPlan, RunStatus, StepDetail,
    StepStatus,
};
use crate::steps::purge_messages::PurgePlan;

const PURGE_HEADER: [&str; 6] = ["PARTITION", "LOG-START", "NEW-LOG-START", "DELETED", "CAPPED-BY", "NOTE"];

const RESET_HEADER: [&str; 9] =
    ["TOPIC", "PARTITION", "CURRENT", "TARGET", "LOG-START", "LOG-END", "LAG-BEFORE", "LAG-AFTER", "NOTE"];

fn status_name(status: StepStatus) -> String {
    serde_json::to_value(status).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

fn opt(value: Option<i64>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| v.to_string())
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
        render_step(&mut out, step);
    }
    if !plan.notes.is_empty() {
        out.push('\n');
    }
    for note in &plan.notes {
        let _ = writeln!(out, "note: {note}");
    }
    out.push('\n');
    let _ = match plan.status {
        PlanStatus::Planned if plan.has_changes() => {
            writeln!(out, "Plan: {} partition(s) to change.", plan.change_count())
        }
        PlanStatus::Planned => writeln!(out, "No changes."),
        PlanStatus::Refused => writeln!(out, "Refused: nothing will change."),
        PlanStatus::Failed => writeln!(out, "Failed: nothing will change."),
    };
    out
}

fn render_step(out: &mut String, step: &PlannedStep) {
    let _ = write!(out, "step {} ({}): {}", step.id, step.detail.kind(), status_name(step.status));
    match &step.detail {
        StepDetail::ComputeOffsets { output: Some(output) } => {
            let partitions = output["partitions"].as_array().map_or(0, Vec::len);
            let _ = write!(out, ", {partitions} partition(s) of group {}", output["group"]);
        }
        StepDetail::Notify { to, message: Some(message) } => {
            let _ = write!(out, ", to {to}: {message}");
        }
        _ => {}
    }
    out.push('\n');
    if let Some(reason) = &step.reason {
        let _ = writeln!(out, "  {reason}");
    }
    if let StepDetail::ResetOffsets(reset) = &step.detail
        && !reset.group.is_empty()
    {
        render_reset(out, &step.id, reset);
    }
    if let StepDetail::PurgeMessages(purge) = &step.detail
        && !purge.topic.is_empty()
    {
        render_purge(out, &step.id, purge);
    }
    for warning in &step.warnings {
        let _ = writeln!(out, "warning: {warning}");
    }
}

fn render_reset(out: &mut String, id: &str, reset: &ResetPlan) {
    let mut table = Table::new(RESET_HEADER.to_vec());
    for c in reset.changes.iter().map(|c| &c.planned) {
        table.row(vec![
            c.topic.clone(),
            c.partition.to_string(),
            opt(c.current),
            c.target.to_string(),
            c.log_start.to_string(),
            c.log_end.to_string(),
            opt(c.lag_before),
            c.lag_after.to_string(),
            c.note.clone().unwrap_or_else(|| "-".to_owned()),
        ]);
    }
    if !table.is_empty() {
        out.push_str(&table.render());
    }
    let _ = writeln!(
        out,
        "{id}: {} partition(s) change in group {:?} (skip {}, rewind {}), {} unchanged",
        reset.changes.len(),
        reset.group,
        reset.total_skip,
        reset.total_rewind,
        reset.unchanged.len()
    );
}

fn render_purge(out: &mut String, id: &str, purge: &PurgePlan) {
    let mut table = Table::new(PURGE_HEADER.to_vec());
    let mut rows: Vec<_> = purge.rows().collect();
    rows.sort_by_key(|r| r.partition);
    for r in rows {
        table.row(vec![
            r.partition.to_string(),
            r.log_start.to_string(),
            r.new_log_start.to_string(),
            r.deleted.to_string(),
            r.capped_by.clone().unwrap_or_else(|| "-".to_owned()),
            r.note.clone().unwrap_or_else(|| "-".to_owned()),
        ]);
    }
    if !table.is_empty() {
        let _ =
            writeln!(out, "topic {} (IRREVERSIBLE: deleted records cannot be restored or rolled back)", purge.topic);
        out.push_str(&table.render());
    }
    let protection = if purge.allow_unconsumed {
        "allow_unconsumed: protection off".to_owned()
    } else if purge.protected_by.is_empty() {
        "no group protects it".to_owned()
    } else {
        format!("protected by {}", purge.protected_by.join(", "))
    };
    let _ = writeln!(
        out,
        "{id}: delete {} record(s) from {} partition(s) of topic {:?}, {} untouched; {protection}",
        purge.total_deleted,
        purge.changes.len(),
        purge.topic,
        purge.untouched.len()
    );
}

fn render_purge_applied(out: &mut String, purge: &PurgeApplied) {
    let mut table = Table::new(vec!["PARTITION", "LOG-START-BEFORE", "TARGET", "LOG-START-AFTER", "DELETED", "RESULT"]);
    for r in &purge.results {
        let result = match r.outcome {
            PurgeOutcome::Deleted => "deleted".to_owned(),
            PurgeOutcome::Unchanged => "unchanged".to_owned(),
            PurgeOutcome::NotDeleted => match &r.error {
                Some(e) => format!("NOT DELETED ({e})"),
                None => "NOT DELETED".to_owned(),
            },
            PurgeOutcome::Unverified => "unverified".to_owned(),
        };
        table.row(vec![
            r.partition.to_string(),
            r.log_start_before.to_string(),
            r.target.to_string(),
            opt(r.log_start_after),
            r.deleted.to_string(),
            result,
        ]);
    }
    let _ = writeln!(out, "topic {}", purge.topic);
    out.push_str(&table.render());
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
        .filter_map(|s| s.reset.as_ref())
        .flat_map(|r| &r.results)
        .filter(|r| r.outcome == Outcome::Committed)
        .count();
    let deleted: i64 =
        applied.steps.iter().filter_map(|s| s.purge.as_ref()).flat_map(|p| &p.results).map(|r| r.deleted).sum();
    let _ = match applied.status {
        RunStatus::Succeeded if deleted > 0 => writeln!(
            out,
            "Succeeded: {committed} partition(s) committed and verified; {deleted} record(s) deleted and verified."
        ),
        RunStatus::Succeeded => writeln!(out, "Succeeded: {committed} partition(s) committed and verified."),
        RunStatus::Refused => writeln!(out, "Refused: {}", applied.reason.as_deref().unwrap_or("")),
        RunStatus::Failed => writeln!(out, "Failed: {}", applied.reason.as_deref().unwrap_or("")),
    };
    out
}

/// Each applied step: its status, what it committed or deleted, and why it stopped.
pub fn render_applied_steps(out: &mut String, steps: &[AppliedStep]) {
    for step in steps {
        let took = match (step.started_at, step.finished_at) {
            (Some(start), Some(end)) => format!(" in {} ms", (end - start).num_milliseconds()),
            _ => String::new(),
        };
        let _ = writeln!(out, "\nstep {} ({}): {}{took}", step.id, step.kind, status_name(step.status));
        if let Some(reset) = &step.reset
            && !reset.results.is_empty()
        {
            let mut table = Table::new(vec!["TOPIC", "PARTITION", "BEFORE", "TARGET", "AFTER", "RESULT"]);
            for r in &reset.results {
                let result = match r.outcome {
                    Outcome::Committed => "committed",
                    Outcome::Unchanged => "unchanged",
                    Outcome::NotCommitted => "NOT COMMITTED",
                    Outcome::Unverified => "unverified",
                };
                table.row(vec![
                    r.topic.clone(),
                    r.partition.to_string(),
                    opt(r.before),
                    r.target.to_string(),
                    opt(r.after),
                    result.to_owned(),
                ]);
            }
            out.push_str(&table.render());
        }
        if let Some(purge) = &step.purge
            && !purge.results.is_empty()
        {
            render_purge_applied(out, purge);
        }
        if let Some(reason) = &step.reason {
            let _ = writeln!(out, "  {reason}");
        }
    }
}
