//! `ebb run RUNBOOK`: plan, show the plan, and apply that same plan — after a
//! `yes` on a terminal, or at once with `--yes`. Without a terminal `--yes` is
//! required, so a script never applies by accident. The run is one record in
//! history, whether it applied, stopped at the plan, or was declined.

use std::io::{BufRead, IsTerminal, Write};

use clap::Args;
use serde::Serialize;

use super::apply::apply_and_report;
use super::plan::{compile_arg, plan_compiled, print_json, report_stop, warn_unsaved};
use super::usage_error::UsageError;
use super::{OutputFormat, plan_view};
use crate::Error;
use crate::config::LoadedConfig;
use crate::engine::CompiledRunbook;
use crate::engine::{Applied, Mode, Plan, RunInfo};
use crate::exit::Exit;
use crate::history::DataDir;
use crate::provider::AnyProvider;
use crate::runs;
use crate::step::confined_files::FileAccess;

#[derive(Debug, Args)]
pub struct RunArgs {
    /// A runbook file, or the name of a runbook in the runbooks directory.
    pub runbook: String,
    /// Set a param (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
    /// Apply without asking (required when stdin is not a terminal).
    #[arg(long)]
    pub yes: bool,
    #[arg(long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

#[derive(Serialize)]
struct RunReport<'a> {
    plan: &'a Plan,
    applied: Option<&'a Applied>,
}

pub async fn run(config: &LoadedConfig, args: RunArgs) -> Result<Exit, Error> {
    let data = DataDir::from_config(&config.config);
    if let Some(api) = data.held_by_daemon() {
        return super::via_daemon::run(config, &api, &args.runbook, &args.sets, args.yes, args.output).await;
    }
    let compiled = compile_arg(config, &args.runbook, &args.sets)?;
    let files = FileAccess::from_config(&config.config);
    run_compiled(config, &compiled, files, args.yes, args.output, &data).await
}

/// Plans `compiled`, then shows, confirms and applies it; shared by `run`
/// and the one-offs.
pub async fn run_compiled(
    config: &LoadedConfig,
    compiled: &CompiledRunbook,
    files: FileAccess,
    yes: bool,
    output: OutputFormat,
    data: &DataDir,
) -> Result<Exit, Error> {
    let notifier = std::sync::Arc::new(crate::notify::Notifier::from_config(config));
    let run = RunInfo::cli(Mode::Apply).with_notifier(notifier).with_files(files);
    let (plan, provider) = plan_compiled(config, compiled, &run).await?;
    let provider = super::connect::keep_until_exit(provider);
    show_confirm_apply(&plan, &provider, &run, yes, output, data).await
}

/// Why a plan under the two-person rule is not applied from the command line
/// without a daemon: approvers are the daemon's API tokens.
pub fn unapproved(plan: &Plan) -> String {
    format!(
        "refused: runbook {} needs approval (approval: in the runbook); its plans are approved and applied through \
         the daemon (`ebb daemon`, then `ebb run` or the API, and `ebb approve RUN` by another token holder). \
         Nothing was changed",
        plan.runbook
    )
}

/// Shows `plan`, asks (unless `yes`), applies it as run `run` and reports;
/// shared by `run` and `rollback`.
pub async fn show_confirm_apply(
    plan: &Plan,
    provider: &AnyProvider,
    run: &RunInfo,
    yes: bool,
    output: OutputFormat,
    data: &DataDir,
) -> Result<Exit, Error> {
    let table = output == OutputFormat::Table;
    if table {
        std::io::stdout().lock().write_all(plan_view::render_plan(plan).as_bytes())?;
    }
    if !runs::goes_on_to_apply(plan, run) {
        warn_unsaved(runs::record_unapplied(data, run, plan));
        if !table {
            print_json(&RunReport { plan, applied: None })?;
        }
        report_stop(plan);
        return Ok(Exit::of_plan(plan, false));
    }
    if plan.approval.is_some() {
        // Kept as a plan: what was shown, and nothing changed.
        let mut as_plan = run.clone();
        as_plan.mode = Mode::Plan;
        warn_unsaved(runs::record_unapplied(data, &as_plan, plan));
        if !table {
            print_json(&RunReport { plan, applied: None })?;
        }
        eprintln!("{}", unapproved(plan));
        return Ok(Exit::Refused);
    }
    if !yes {
        let declined = |data: &DataDir, why| warn_unsaved(runs::record_declined(data, run, plan, why));
        if !std::io::stdin().is_terminal() {
            declined(data, runs::Decline::NoTerminal);
            return Err(UsageError::NoTerminal { plan_run: None }.into());
        }
        if !confirm(plan)? {
            declined(data, runs::Decline::AtPrompt);
            println!("Not applied: nothing was changed.");
            return Ok(Exit::Failed);
        }
    }
    if table {
        println!();
    }
    let (applied, code) = apply_and_report(plan, provider, run, false, output, data).await?;
    if !table {
        print_json(&RunReport { plan, applied: Some(&applied) })?;
    }
    Ok(code)
}

fn confirm(plan: &Plan) -> Result<bool, Error> {
    let mut out = std::io::stdout().lock();
    write!(out, "Apply {} change(s) to cluster {}? Type yes to apply: ", plan.change_count(), plan.cluster)?;
    out.flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(answer.trim() == "yes")
}
