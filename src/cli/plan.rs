//! `ebb plan RUNBOOK`: run the read-only steps, reduce the mutating ones to
//! exact changes, print the plan (table or JSON) and optionally save it for
//! `ebb apply`. Exit 0, or 2 with `--detailed-exitcode` when there are changes;
//! 3 when a guard or check refused; 1 on errors.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use super::{OutputFormat, connect, plan_view, progress_bar, runbook_arg};
use crate::Error;
use crate::config::LoadedConfig;
use crate::engine::{Mode, Plan, PlanStatus, RunInfo, compile};
use crate::history::{DataDir, RunRecord, Store};
use crate::provider::AnyProvider;
use crate::runbook::Catalog;
use crate::runbook::params::parse_sets;

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// A runbook file, or the name of a runbook in the runbooks directory.
    pub runbook: String,
    /// Set a param (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
    /// Save the plan as JSON, for `ebb apply`.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t)]
    pub output: OutputFormat,
    /// Exit 2 when the plan has changes (0 when it has none).
    #[arg(long)]
    pub detailed_exitcode: bool,
}

/// Compiles and plans a runbook as run `run`; shared by `plan` and `run`.
pub async fn make_plan(
    config: &LoadedConfig,
    runbook: &str,
    sets: &[String],
    run: &RunInfo,
) -> Result<(Plan, AnyProvider), Error> {
    let path = runbook_arg::locate(runbook, config)?;
    let given = parse_sets(sets).map_err(|e| Error::Usage(e.to_string()))?;
    let compiled = compile(&path, &Catalog::from_config(&config.config), &given)?;
    let provider = connect::provider(config, &compiled.spec.cluster)?;
    let run = run
        .clone()
        .with_files(crate::step::confined_files::FileAccess::from_config(&config.config))
        .with_progress(progress_bar::ProgressBar::on_terminal());
    let plan = crate::engine::plan(&compiled, &provider, &run).await;
    Ok((plan, provider))
}

/// Saves a run that ends without applying anything (a plan, a refusal, a
/// plan without changes, a declined prompt). Nothing changed, so a store that
/// cannot be written is a warning, not an error.
pub fn record_unapplied(data: &DataDir, record: &RunRecord) {
    if let Err(e) = Store::save(data, record) {
        eprintln!("warning: run {} is not in history: {e}", record.id);
    }
}

/// The exit code a plan alone ends with.
pub fn plan_exit_code(plan: &Plan, detailed: bool) -> ExitCode {
    match plan.status {
        PlanStatus::Planned if detailed && plan.has_changes() => ExitCode::from(2),
        PlanStatus::Planned => ExitCode::SUCCESS,
        PlanStatus::Refused => ExitCode::from(3),
        PlanStatus::Failed => ExitCode::from(1),
    }
}

pub fn save(plan: &Plan, path: &Path) -> Result<(), Error> {
    let text = serde_json::to_string_pretty(plan).map_err(std::io::Error::from)?;
    std::fs::write(path, text + "\n")
        .map_err(|e| Error::Usage(format!("cannot write the plan to {}: {e}", path.display())))
}

/// Writes `value` as pretty JSON to stdout. Stdout is line-buffered, so the
/// writer is buffered here: a 10,000-partition plan is a few writes, not one
/// write per line (about 100,000).
pub fn print_json<T: serde::Serialize>(value: &T) -> Result<(), Error> {
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    serde_json::to_writer_pretty(&mut out, value).map_err(std::io::Error::from)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

pub async fn plan(config: &LoadedConfig, args: PlanArgs) -> Result<ExitCode, Error> {
    let data = DataDir::from_config(&config.config);
    if let Some(api) = data.held_by_daemon() {
        let plan = super::via_daemon::plan(config, &api, &args.runbook, &args.sets).await?;
        print_plan(&plan, &args)?;
        report_stop(&plan);
        return Ok(plan_exit_code(&plan, args.detailed_exitcode));
    }
    let run = RunInfo::cli(Mode::Plan);
    let (plan, provider) = make_plan(config, &args.runbook, &args.sets, &run).await?;
    let _provider = connect::keep_until_exit(provider);
    // Recording (open the store, write, flush) and printing are independent:
    // they run side by side, and the command ends when both are done.
    std::thread::scope(|side| {
        side.spawn(|| record_unapplied(&data, &RunRecord::planned(&run, &plan)));
        print_plan(&plan, &args)
    })?;
    report_stop(&plan);
    Ok(plan_exit_code(&plan, args.detailed_exitcode))
}

fn print_plan(plan: &Plan, args: &PlanArgs) -> Result<(), Error> {
    if let Some(path) = &args.out {
        save(plan, path)?;
    }
    match args.output {
        OutputFormat::Json => print_json(plan)?,
        OutputFormat::Table => {
            let mut out = std::io::stdout().lock();
            out.write_all(plan_view::render_plan(plan).as_bytes())?;
            if let Some(path) = &args.out {
                writeln!(out, "Saved to {}; apply it with: ebb apply {}", path.display(), path.display())?;
            }
        }
    }
    Ok(())
}

/// Says on stderr why a plan stopped, so scripts see it whatever the output format.
pub fn report_stop(plan: &Plan) {
    let word = match plan.status {
        PlanStatus::Planned => return,
        PlanStatus::Refused => "refused",
        PlanStatus::Failed => "error",
    };
    if let Some(step) = plan.steps.last() {
        eprintln!("{word}: step `{}`: {}", step.id, step.reason.as_deref().unwrap_or("stopped"));
    }
}
