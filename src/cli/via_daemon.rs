//! `ebb run` and `ebb rollback` while a daemon holds the history store: the
//! daemon plans, applies and records; the CLI shows and asks as it does alone.
//! `run` without `--yes` asks the daemon for a plan, shows it, and after a
//! `yes` has the daemon apply exactly that plan (`plan_id`, drift-checked).

use std::io::{IsTerminal, Write};
use std::path::Path;

use serde_json::json;

use super::daemon_client::{DaemonClient, params_body};
use super::daemon_client_error::DaemonClientError;
use super::plan::print_json;
use super::usage_error::UsageError;
use super::{OutputFormat, plan_view, show};
use crate::Error;
use crate::config::LoadedConfig;
use crate::engine::PlanStatus;
use crate::exit::Exit;
use crate::history::RunRecord;
use crate::runbook::params::parse_sets;

fn print_record(record: &RunRecord, output: OutputFormat) -> Result<(), Error> {
    match output {
        OutputFormat::Json => print_json(record),
        OutputFormat::Table => Ok(std::io::stdout().lock().write_all(show::render(record).as_bytes())?),
    }
}

/// The runbook the daemon is asked to run: its name (the argument itself, or
/// the `name` in the file it names), and for a file its SHA-256, which the
/// daemon compares with its own copy's so that it never runs something else.
fn runbook_asked(arg: &str) -> Result<(String, Option<String>), Error> {
    let path = Path::new(arg);
    if !path.is_file() {
        return Ok((arg.to_owned(), None));
    }
    let text = crate::bounded_read::read_text(path, crate::bounded_read::CONFIG_FILE_LIMIT)
        .map_err(|source| UsageError::RunbookUnreadable { path: path.to_owned(), source })?;
    let name = match crate::runbook::yaml::parse(&text) {
        (Some(root), _) => root.get("name").and_then(crate::runbook::yaml::Node::as_str).map(str::to_owned),
        _ => None,
    };
    let Some(name) = name else {
        return Err(UsageError::RunbookUnnamed { path: path.to_owned() }.into());
    };
    Ok((name, Some(crate::engine::sha256_hex(text.as_bytes()))))
}

/// A request body with the file's SHA-256 added, when a file was given.
fn with_sha(mut body: serde_json::Value, sha256: &Option<String>) -> serde_json::Value {
    if let Some(sha) = sha256 {
        body["runbook_sha256"] = json!(sha);
    }
    body
}

/// `ebb plan` while the daemon holds the store: the daemon plans its copy of
/// the runbook (refusing when the file given differs from it) and records the
/// plan, so that `ebb apply` can check a saved plan against it.
pub async fn plan(
    config: &LoadedConfig,
    api: &str,
    runbook: &str,
    sets: &[String],
) -> Result<crate::engine::Plan, Error> {
    let client = DaemonClient::new(config, api)?;
    let (name, sha256) = runbook_asked(runbook)?;
    let given = parse_sets(sets)?;
    let planned: RunRecord =
        client.post(&format!("/runbooks/{name}/plan"), &[], with_sha(params_body(&given), &sha256)).await?;
    let RunRecord { plan, reason, .. } = planned;
    let reason = || reason.unwrap_or_else(|| "no reason given".to_owned());
    Ok(plan.ok_or_else(|| DaemonClientError::NoPlan { reason: reason() })?)
}

/// `ebb apply PLANFILE` while the daemon holds the store: the file is checked
/// against the plan the daemon stored under its run id, then the daemon
/// applies that stored plan (drift-checked, as any saved plan).
pub async fn apply(
    config: &LoadedConfig,
    api: &str,
    file: &serde_json::Value,
    plan: &crate::engine::Plan,
    force: bool,
    output: OutputFormat,
) -> Result<Exit, Error> {
    if force {
        return Err(UsageError::ForceUnderDaemon.into());
    }
    let client = DaemonClient::new(config, api)?;
    let stored: Option<RunRecord> = client.get_if_found(&format!("/runs/{}", plan.run_id)).await?;
    let plan = crate::history::check_plan_file(file, &plan.run_id, stored.as_ref())?;
    let wait = [("wait", "true".to_owned())];
    let body = json!({ "plan_id": plan.run_id, "runbook_sha256": plan.runbook_sha256 });
    let record: RunRecord = client.post(&format!("/runbooks/{}/runs", plan.runbook), &wait, body).await?;
    print_record(&record, output)?;
    Ok(Exit::from(record.status))
}

pub async fn run(
    config: &LoadedConfig,
    api: &str,
    runbook: &str,
    sets: &[String],
    yes: bool,
    output: OutputFormat,
) -> Result<Exit, Error> {
    let client = DaemonClient::new(config, api)?;
    let (name, sha256) = runbook_asked(runbook)?;
    let given = parse_sets(sets)?;
    let wait = [("wait", "true".to_owned())];
    if yes {
        let body = with_sha(params_body(&given), &sha256);
        let record: RunRecord = client.post(&format!("/runbooks/{name}/runs"), &wait, body).await?;
        print_record(&record, output)?;
        return Ok(Exit::from(record.status));
    }
    let planned: RunRecord =
        client.post(&format!("/runbooks/{name}/plan"), &[], with_sha(params_body(&given), &sha256)).await?;
    let Some(plan) = planned.plan.as_ref() else {
        print_record(&planned, output)?;
        return Ok(Exit::from(planned.status));
    };
    if plan.status != PlanStatus::Planned || !plan.has_changes() {
        print_record(&planned, output)?;
        return Ok(Exit::from(planned.status));
    }
    if output == OutputFormat::Table {
        std::io::stdout().lock().write_all(plan_view::render_plan(plan).as_bytes())?;
    }
    let decline_path = format!("/runs/{}/decline", planned.id);
    let decline =
        |no_terminal: bool| client.post::<RunRecord>(&decline_path, &[], json!({ "no_terminal": no_terminal }));
    if !std::io::stdin().is_terminal() {
        decline(true).await?;
        return Err(UsageError::NoTerminal { plan_run: Some(planned.id.clone()) }.into());
    }
    let mut out = std::io::stdout().lock();
    write!(out, "Apply {} change(s) to cluster {}? Type yes to apply: ", plan.change_count(), plan.cluster)?;
    out.flush()?;
    drop(out);
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    if answer.trim() != "yes" {
        decline(false).await?;
        println!("Not applied: nothing was changed.");
        return Ok(Exit::Failed);
    }
    let body = with_sha(json!({ "plan_id": planned.id }), &sha256);
    let record: RunRecord = client.post(&format!("/runbooks/{name}/runs"), &wait, body).await?;
    print_record(&record, output)?;
    Ok(Exit::from(record.status))
}

pub async fn rollback(
    config: &LoadedConfig,
    api: &str,
    run: &str,
    yes: bool,
    plan_only: bool,
    output: OutputFormat,
) -> Result<Exit, Error> {
    if !yes && !plan_only {
        return Err(UsageError::RollbackUnderDaemon.into());
    }
    let client = DaemonClient::new(config, api)?;
    let wait = [("wait", "true".to_owned())];
    let record: RunRecord =
        client.post(&format!("/runs/{run}/rollback"), &wait, json!({ "plan_only": plan_only })).await?;
    print_record(&record, output)?;
    Ok(Exit::from(record.status))
}
