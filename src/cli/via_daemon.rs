//! `ebb run` and `ebb rollback` while a daemon holds the history store: the
//! daemon plans, applies and records; the CLI shows and asks as it does alone.
//! `run` without `--yes` asks the daemon for a plan, shows it, and after a
//! `yes` has the daemon apply exactly that plan (`plan_id`, drift-checked).

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use serde_json::json;

use super::daemon_client::{DaemonClient, params_body};
use super::plan::print_json;
use super::{OutputFormat, plan_view, show};
use crate::Error;
use crate::config::LoadedConfig;
use crate::engine::PlanStatus;
use crate::history::{RunRecord, RunState};
use crate::runbook::params::parse_sets;

/// The exit code of a run the daemon finished (as `ebb run` would end).
fn exit_code(record: &RunRecord) -> ExitCode {
    match record.status {
        RunState::Succeeded => ExitCode::SUCCESS,
        RunState::Refused => ExitCode::from(3),
        RunState::Running | RunState::Failed | RunState::Interrupted => ExitCode::from(1),
    }
}

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
        .map_err(|e| Error::Usage(format!("cannot read {}: {e}", path.display())))?;
    let name = match crate::runbook::yaml::parse(&text) {
        (Some(root), _) => root.get("name").and_then(crate::runbook::yaml::Node::as_str).map(str::to_owned),
        _ => None,
    };
    let Some(name) = name else {
        return Err(Error::Usage(format!("{} has no runbook `name`; `ebb validate` says why", path.display())));
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
    let given = parse_sets(sets).map_err(|e| Error::Usage(e.to_string()))?;
    let planned: RunRecord =
        client.post(&format!("/runbooks/{name}/plan"), &[], with_sha(params_body(&given), &sha256)).await?;
    planned.plan.ok_or_else(|| {
        Error::Usage(format!("the daemon made no plan: {}", planned.reason.as_deref().unwrap_or("no reason given")))
    })
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
) -> Result<ExitCode, Error> {
    if force {
        return Err(Error::Usage(
            "the daemon holds the history store and applies saved plans without --force; make a new plan instead"
                .to_owned(),
        ));
    }
    let client = DaemonClient::new(config, api)?;
    let stored: Option<RunRecord> = client.get_if_found(&format!("/runs/{}", plan.run_id)).await?;
    let plan = crate::history::check_plan_file(file, &plan.run_id, stored.as_ref())
        .map_err(|e| Error::Refused(e.to_string()))?;
    let wait = [("wait", "true".to_owned())];
    let body = json!({ "plan_id": plan.run_id, "runbook_sha256": plan.runbook_sha256 });
    let record: RunRecord = client.post(&format!("/runbooks/{}/runs", plan.runbook), &wait, body).await?;
    print_record(&record, output)?;
    Ok(exit_code(&record))
}

pub async fn run(
    config: &LoadedConfig,
    api: &str,
    runbook: &str,
    sets: &[String],
    yes: bool,
    output: OutputFormat,
) -> Result<ExitCode, Error> {
    let client = DaemonClient::new(config, api)?;
    let (name, sha256) = runbook_asked(runbook)?;
    let given = parse_sets(sets).map_err(|e| Error::Usage(e.to_string()))?;
    let wait = [("wait", "true".to_owned())];
    if yes {
        let body = with_sha(params_body(&given), &sha256);
        let record: RunRecord = client.post(&format!("/runbooks/{name}/runs"), &wait, body).await?;
        print_record(&record, output)?;
        return Ok(exit_code(&record));
    }
    let planned: RunRecord =
        client.post(&format!("/runbooks/{name}/plan"), &[], with_sha(params_body(&given), &sha256)).await?;
    let Some(plan) = planned.plan.as_ref() else {
        print_record(&planned, output)?;
        return Ok(exit_code(&planned));
    };
    if plan.status != PlanStatus::Planned || !plan.has_changes() {
        print_record(&planned, output)?;
        return Ok(exit_code(&planned));
    }
    if output == OutputFormat::Table {
        std::io::stdout().lock().write_all(plan_view::render_plan(plan).as_bytes())?;
    }
    if !std::io::stdin().is_terminal() {
        return Err(Error::Usage(format!(
            "not applied: stdin is not a terminal, so ebb cannot ask; pass --yes to apply (the plan is run {})",
            planned.id
        )));
    }
    let mut out = std::io::stdout().lock();
    write!(out, "Apply {} change(s) to cluster {}? Type yes to apply: ", plan.change_count(), plan.cluster)?;
    out.flush()?;
    drop(out);
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    if answer.trim() != "yes" {
        println!("Not applied: nothing was changed.");
        return Ok(ExitCode::from(1));
    }
    let body = with_sha(json!({ "plan_id": planned.id }), &sha256);
    let record: RunRecord = client.post(&format!("/runbooks/{name}/runs"), &wait, body).await?;
    print_record(&record, output)?;
    Ok(exit_code(&record))
}

pub async fn rollback(
    config: &LoadedConfig,
    api: &str,
    run: &str,
    yes: bool,
    plan_only: bool,
    output: OutputFormat,
) -> Result<ExitCode, Error> {
    if !yes && !plan_only {
        return Err(Error::Usage(
            "the daemon holds the history store, so the rollback goes through it: pass --plan-only to see the \
             rollback plan, or --yes to apply it"
                .to_owned(),
        ));
    }
    let client = DaemonClient::new(config, api)?;
    let wait = [("wait", "true".to_owned())];
    let record: RunRecord =
        client.post(&format!("/runs/{run}/rollback"), &wait, json!({ "plan_only": plan_only })).await?;
    print_record(&record, output)?;
    Ok(exit_code(&record))
}
