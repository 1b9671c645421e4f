//! `ebb history`: stored runs, newest first, filtered by runbook, status and
//! start time. `--output json` prints `ebb.history/v1`: `{"format", "runs":
//! [summary…]}` (docs/HISTORY.md).

use std::io::Write;

use chrono::{SecondsFormat, Utc};
use clap::Args;
use serde::Serialize;

use super::OutputFormat;
use super::daemon_client::DaemonClient;
use super::plan::print_json;
use super::usage_error::UsageError;
use crate::Error;
use crate::config::LoadedConfig;
use crate::exit::Exit;
use crate::history::{DataDir, RunQuery, RunState, RunSummary, Store};
use crate::text_table::Table;
use crate::time::TimeSpec;

pub const HISTORY_FORMAT: &str = "ebb.history/v1";

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct HistoryArgs {
    #[command(subcommand)]
    pub action: Option<HistoryAction>,
    /// Only runs of this runbook.
    #[arg(long)]
    pub runbook: Option<String>,
    /// Only runs with this status: running, succeeded, failed, refused, interrupted, declined.
    #[arg(long)]
    pub status: Option<String>,
    /// Only runs whose steps read or changed this consumer group.
    #[arg(long)]
    pub group: Option<String>,
    /// Only runs whose steps read or changed this topic.
    #[arg(long)]
    pub topic: Option<String>,
    /// Only runs started at or after this time (RFC 3339, epoch ms, or relative like -24h).
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    pub since: Option<String>,
    /// At most this many runs.
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    #[arg(long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

/// What to do to the store itself, rather than list its runs.
#[derive(Debug, clap::Subcommand)]
pub enum HistoryAction {
    /// Read every run in the store and report any damage (exit 1 when found).
    Check {
        #[arg(long, value_enum, default_value_t)]
        output: OutputFormat,
    },
    /// Copy every readable run into a fresh store that replaces a damaged
    /// one (kept beside it, renamed), and name every run that was lost.
    Repair {
        #[arg(long, value_enum, default_value_t)]
        output: OutputFormat,
    },
}

#[derive(Serialize)]
struct HistoryReport<'a> {
    format: &'static str,
    runs: &'a [RunSummary],
}

#[derive(serde::Deserialize)]
struct RunList {
    runs: Vec<RunSummary>,
}

pub async fn history(config: &LoadedConfig, args: HistoryArgs) -> Result<Exit, Error> {
    if let Some(action) = args.action {
        return super::history_repair::run(config, action);
    }
    let status = match &args.status {
        None => None,
        Some(text) => Some(RunState::parse(text).ok_or_else(|| {
            let known: Vec<&str> = RunState::ALL.iter().map(|s| s.name()).collect();
            UsageError::UnknownStatus { given: text.clone(), known: known.join(", ") }
        })?),
    };
    let since = match &args.since {
        None => None,
        Some(text) => Some(TimeSpec::parse(text).map_err(UsageError::Since)?.resolve(Utc::now())),
    };
    let data = DataDir::from_config(&config.config);
    let runs = match data.held_by_daemon() {
        Some(api) => {
            let mut query = vec![("limit", args.limit.to_string())];
            query.extend(args.runbook.map(|r| ("runbook", r)));
            query.extend(status.map(|s| ("status", s.name().to_owned())));
            query.extend(since.map(|s| ("since", s.to_rfc3339())));
            query.extend(args.group.map(|g| ("group", g)));
            query.extend(args.topic.map(|t| ("topic", t)));
            DaemonClient::new(config, &api)?.get::<RunList>("/runs", &query).await?.runs
        }
        None => {
            let query = RunQuery {
                runbook: args.runbook,
                status,
                since,
                limit: Some(args.limit),
                group: args.group,
                topic: args.topic,
                ..RunQuery::default()
            };
            data.list(&query)?
        }
    };
    match args.output {
        OutputFormat::Json => print_json(&HistoryReport { format: HISTORY_FORMAT, runs: &runs })?,
        OutputFormat::Table => std::io::stdout().lock().write_all(render(&runs).as_bytes())?,
    }
    Ok(Exit::Done)
}

fn render(runs: &[RunSummary]) -> String {
    if runs.is_empty() {
        return "No runs in history.\n".to_owned();
    }
    let mut table = Table::new(vec![
        "RUN", "STARTED", "RUNBOOK", "CLUSTER", "TRIGGER", "MODE", "STATUS", "CHANGES", "DURATION", "GROUPS", "TOPICS",
    ]);
    let names = |names: &[String]| if names.is_empty() { "-".to_owned() } else { crate::shown::bare(&names.join(",")) };
    for run in runs {
        let duration = run.finished_at.map_or_else(
            || "-".to_owned(),
            |end| format!("{:.1}s", (end - run.started_at).num_milliseconds() as f64 / 1000.0),
        );
        table.row(vec![
            run.id.clone(),
            run.started_at.to_rfc3339_opts(SecondsFormat::Secs, true),
            run.runbook.clone(),
            run.cluster.clone(),
            run.trigger.name().to_owned(),
            run.mode.name().to_owned(),
            run.status.name().to_owned(),
            run.changes.to_string(),
            duration,
            names(&run.groups),
            names(&run.topics),
        ]);
    }
    table.render()
}
