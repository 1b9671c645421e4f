//! The daemon from the command line, through its API: `ebb runbooks` (each
//! runbook's schedule, next fires in its own zone and in UTC, paused or not,
//! last run), `ebb trigger NAME`, `ebb pause NAME` and `ebb resume NAME`.
//! The daemon is the one holding this ebb.yaml's history store.

use std::io::Write;

use clap::Args;
use serde_json::{Value, json};

use super::daemon_client::{DaemonClient, params_body};
use super::plan::print_json;
use super::usage_error::UsageError;
use super::{OutputFormat, show};
use crate::Error;
use crate::config::LoadedConfig;
use crate::exit::Exit;
use crate::history::{DataDir, RunRecord};
use crate::runbook::params::parse_sets;
use crate::text_table::Table;

#[derive(Debug, Args)]
pub struct RunbooksArgs {
    #[arg(long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

#[derive(Debug, Args)]
pub struct TriggerArgs {
    /// The runbook's name, as the daemon knows it.
    pub name: String,
    /// Set a param (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
    /// Wait for the run to end, print it, and exit as `ebb run` would.
    #[arg(long)]
    pub wait: bool,
    #[arg(long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

#[derive(Debug, Args)]
pub struct PauseArgs {
    /// The runbook's name, as the daemon knows it.
    pub name: String,
}

/// The client for the daemon holding this ebb.yaml's store, or why there is none.
pub(super) fn daemon(config: &LoadedConfig) -> Result<DaemonClient, Error> {
    let data = DataDir::from_config(&config.config);
    match data.held_by_daemon() {
        Some(api) => DaemonClient::new(config, &api),
        None => Err(UsageError::NoDaemon { data_dir: config.config.data_dir.clone() }.into()),
    }
}

pub async fn runbooks(config: &LoadedConfig, args: RunbooksArgs) -> Result<Exit, Error> {
    let listed: Value = daemon(config)?.get("/runbooks", &[]).await?;
    match args.output {
        OutputFormat::Json => print_json(&listed)?,
        OutputFormat::Table => std::io::stdout().lock().write_all(render(&listed).as_bytes())?,
    }
    Ok(Exit::Done)
}

/// A value from the daemon, as a table cell: escaped, cut short, `-` when absent.
fn cell(value: &Value) -> String {
    match value {
        Value::Null => "-".to_owned(),
        Value::String(text) => crate::shown::bare(text),
        other => crate::shown::bare(&other.to_string()),
    }
}

fn render(listed: &Value) -> String {
    let mut table = Table::new(vec![
        "RUNBOOK",
        "CLUSTER",
        "SCHEDULE",
        "NEXT (ITS ZONE)",
        "NEXT (UTC)",
        "PAUSED",
        "LAST RUN",
        "STATUS",
    ]);
    for runbook in listed["runbooks"].as_array().into_iter().flatten() {
        let schedule = &runbook["schedule"];
        let when = if schedule.is_null() {
            "on demand".to_owned()
        } else {
            format!("{} {}", cell(&schedule["cron"]), cell(&schedule["timezone"]))
        };
        let valid = runbook["runnable"].as_bool().unwrap_or(false);
        table.row(vec![
            cell(&runbook["name"]),
            cell(&runbook["cluster"]),
            if valid { when } else { "invalid".to_owned() },
            cell(&schedule["next_fires_local"][0]),
            cell(&schedule["next_fires"][0]),
            schedule["paused"].as_bool().map_or_else(|| "-".to_owned(), |p| if p { "yes" } else { "no" }.to_owned()),
            cell(&runbook["last_run"]["id"]),
            cell(&runbook["last_run"]["status"]),
        ]);
    }
    let mut out = table.render();
    for invalid in listed["invalid_files"].as_array().into_iter().flatten() {
        out.push_str(&format!("invalid: {}\n", cell(&invalid["file"])));
    }
    out
}

pub async fn trigger(config: &LoadedConfig, args: TriggerArgs) -> Result<Exit, Error> {
    let client = daemon(config)?;
    let given = parse_sets(&args.sets)?;
    let path = format!("/runbooks/{}/runs", args.name);
    if !args.wait {
        let started: Value = client.post(&path, &[], params_body(&given)).await?;
        println!("started run {}", cell(&started["run_id"]));
        return Ok(Exit::Done);
    }
    let record: RunRecord = client.post(&path, &[("wait", "true".to_owned())], params_body(&given)).await?;
    match args.output {
        OutputFormat::Json => print_json(&record)?,
        OutputFormat::Table => std::io::stdout().lock().write_all(show::render(&record).as_bytes())?,
    }
    Ok(Exit::from(record.status))
}

pub async fn pause(config: &LoadedConfig, args: PauseArgs, paused: bool) -> Result<Exit, Error> {
    let verb = if paused { "pause" } else { "resume" };
    let answer: Value = daemon(config)?.post(&format!("/runbooks/{}/{verb}", args.name), &[], json!({})).await?;
    let state = if answer["paused"].as_bool() == Some(true) { "paused" } else { "running on its schedule" };
    println!("{} is {state}", cell(&answer["name"]));
    Ok(Exit::Done)
}
