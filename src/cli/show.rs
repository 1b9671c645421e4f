//! `ebb show RUN`: one run from history — how it started, its plan, what each
//! step of the apply did, why it stopped, and the snapshot a rollback
//! restores. RUN is an id or a unique start of one. `--output json` prints the
//! stored record (`ebb.run/v1`, docs/HISTORY.md).

use std::fmt::Write as _;
use std::io::Write;

use chrono::SecondsFormat;
use clap::Args;

use super::daemon_client::DaemonClient;
use super::plan::print_json;
use super::{OutputFormat, plan_view};
use crate::Error;
use crate::config::LoadedConfig;
use crate::exit::Exit;
use crate::history::{DataDir, RunRecord, Store};

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// A run id (or the start of one) from `ebb history`.
    pub run: String,
    #[arg(long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

pub async fn show(config: &LoadedConfig, args: ShowArgs) -> Result<Exit, Error> {
    let data = DataDir::from_config(&config.config);
    let record: RunRecord = match data.held_by_daemon() {
        Some(api) => DaemonClient::new(config, &api)?.get(&format!("/runs/{}", args.run), &[]).await?,
        None => data.open()?.find(&args.run)?,
    };
    match args.output {
        OutputFormat::Json => print_json(&record)?,
        OutputFormat::Table => std::io::stdout().lock().write_all(render(&record).as_bytes())?,
    }
    Ok(Exit::Done)
}

pub fn render(record: &RunRecord) -> String {
    let mut out = String::new();
    let time = |t: &chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(SecondsFormat::Millis, true);
    let _ = writeln!(out, "Run {}", record.id);
    let _ = writeln!(out, "  runbook   {} (sha256 {})", record.runbook, record.runbook_sha256);
    let _ = writeln!(out, "  cluster   {}", record.cluster);
    let mut trigger = record.trigger.name().to_owned();
    if let Some(slot) = &record.slot {
        let _ = write!(trigger, " (slot {})", time(slot));
    }
    if let Some(of) = &record.rollback_of {
        let _ = write!(trigger, " of run {of}");
    }
    let _ = writeln!(out, "  trigger   {trigger}");
    let _ = writeln!(out, "  mode      {}", record.mode.name());
    let _ = writeln!(out, "  status    {}", record.status.name());
    let _ = writeln!(out, "  started   {}", time(&record.started_at));
    if let Some(end) = &record.finished_at {
        let seconds = (*end - record.started_at).num_milliseconds() as f64 / 1000.0;
        let _ = writeln!(out, "  finished  {} ({seconds:.1}s)", time(end));
    }
    if !record.params.is_empty() {
        let params: Vec<String> = record.params.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let _ = writeln!(out, "  params    {}", params.join(" "));
    }
    if let Some(plan_id) = &record.plan_id {
        let _ = writeln!(out, "  plan      made by run {plan_id}");
    }
    let command_line = record.plan.as_ref().and_then(|p| p.command_line.as_ref());
    if let Some(command_line) = command_line {
        let _ = writeln!(out, "  command   {}", crate::shown::terminal_safe(&command_line.line));
    }
    if let Some(reason) = &record.reason {
        let _ = writeln!(out, "  reason    {}", reason.replace('\n', "\n            "));
    }
    if let Some(actor) = &record.actor {
        let _ = writeln!(out, "  actor     {actor}");
    }
    if let Some(approval) = &record.approval {
        let _ = writeln!(
            out,
            "  approval  {} approver(s) with role {} other than the planner, by {}",
            approval.required,
            approval.role,
            time(&approval.expires_at)
        );
        let _ = writeln!(out, "  planned   by {}", approval.planned_by);
        for decision in &approval.approvals {
            let _ = writeln!(out, "  approved  by {} at {}", decision.by, time(&decision.at));
        }
        if let Some(rejected) = &approval.rejected {
            let why = rejected.reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default();
            let _ = writeln!(out, "  rejected  by {} at {}{why}", rejected.by, time(&rejected.at));
        }
        if let Some(run) = &approval.applied_in {
            let _ = writeln!(out, "  applied   in run {run}");
        }
    }
    if let Some(plan) = &record.plan {
        out.push('\n');
        out.push_str(&plan_view::render_plan(plan));
    }
    if let Some(apply) = &record.apply {
        let _ = writeln!(out, "\nApply{}:", if apply.forced { " (--force)" } else { "" });
        for drift in &apply.drift {
            let _ = writeln!(out, "  drift: {drift}");
        }
        plan_view::render_applied_steps(&mut out, &apply.steps);
    }
    let snapshot = crate::history::snapshot_table(record);
    if !snapshot.is_empty() {
        let _ = writeln!(out, "\nSnapshot (what `ebb rollback {}` restores):", record.id);
        out.push_str(&snapshot.render());
    }
    if let Some(command_line) = command_line {
        let _ = writeln!(out, "\nAs a runbook (save it in the runbooks directory to run it by name or on a schedule):");
        out.push_str(&crate::shown::terminal_safe(&command_line.runbook));
    }
    out
}
