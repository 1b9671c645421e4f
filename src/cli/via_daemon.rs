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

/// The runbook's name: the argument itself, or the `name` in the file it names.
fn runbook_name(arg: &str) -> String {
    let path = Path::new(arg);
    if path.is_file()
        && let Ok(text) = crate::bounded_read::read_text(path, crate::bounded_read::CONFIG_FILE_LIMIT)
        && let (Some(root), _) = crate::runbook::yaml::parse(&text)
        && let Some(name) = root.get("name").and_then(crate::runbook::yaml::Node::as_str)
    {
        return name.to_owned();
    }
    arg.to_owned()
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
    let name = runbook_name(runbook);
    let given = parse_sets(sets).map_err(|e| Error::Usage(e.to_string()))?;
    let wait = [("wait", "true".to_owned())];
    if yes {
        let record: RunRecord = client.post(&format!("/runbooks/{name}/runs"), &wait, params_body(&given)).await?;
        print_record(&record, output)?;
        return Ok(exit_code(&record));
    }
    let planned: RunRecord = client.post(&format!("/runbooks/{name}/plan"), &[], params_body(&given)).await?;
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
    let body = json!({ "plan_id": planned.id });
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
