//! `ebb plan RUNBOOK`: run the read-only steps, reduce the mutating ones to
//! exact changes, print the plan (table or JSON) and optionally save it for
//! `ebb apply`. Exit 0, or 2 with `--detailed-exitcode` when there are changes;
//! 3 when a guard or check refused; 1 on errors.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;

use super::plan_file_error::PlanFileError;
use super::{OutputFormat, connect, plan_view, progress_bar, runbook_arg};
use crate::Error;
use crate::config::LoadedConfig;
use crate::engine::{CompiledRunbook, Mode, Plan, PlanStatus, RunInfo, compile};
use crate::exit::Exit;
use crate::history::DataDir;
use crate::provider::AnyProvider;
use crate::runbook::Catalog;
use crate::runbook::params::parse_sets;
use crate::runs::{self, Unapplied};
use crate::step::confined_files::FileAccess;

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

/// Compiles a runbook file (or the name of one) with `--set` params; shared by `plan` and `run`.
pub fn compile_arg(config: &LoadedConfig, runbook: &str, sets: &[String]) -> Result<CompiledRunbook, Error> {
    let path = runbook_arg::locate(runbook, config)?;
    let given = parse_sets(sets)?;
    Ok(compile(&path, &Catalog::from_config(&config.config).lenient(), &given)?)
}

/// Plans a compiled runbook as run `run` (whose file access the caller
/// gives), with progress on a terminal.
pub async fn plan_compiled(
    config: &LoadedConfig,
    compiled: &CompiledRunbook,
    run: &RunInfo,
) -> Result<(Plan, AnyProvider), Error> {
    for warning in &compiled.warnings {
        eprintln!("warning: {warning}");
    }
    let provider = connect::provider(config, &compiled.spec.cluster)?;
    let run = run.clone().with_progress(progress_bar::ProgressBar::on_terminal());
    let plan = crate::engine::plan(compiled, &provider, &run).await;
    Ok((plan, provider))
}

/// Says on stderr that a run which changed nothing is not in history.
pub fn warn_unsaved(unapplied: Unapplied) {
    if let Some(e) = unapplied.unsaved {
        eprintln!("warning: run {} is not in history: {e}", unapplied.record.id);
    }
}

pub fn save(plan: &Plan, path: &Path) -> Result<(), Error> {
    let text = serde_json::to_string_pretty(plan).map_err(std::io::Error::from)?;
    std::fs::write(path, text + "\n").map_err(|source| PlanFileError::Write { path: path.to_owned(), source })?;
    Ok(())
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

pub async fn plan(config: &LoadedConfig, args: PlanArgs) -> Result<Exit, Error> {
    let data = DataDir::from_config(&config.config);
    if let Some(api) = data.held_by_daemon() {
        let plan = super::via_daemon::plan(config, &api, &args.runbook, &args.sets).await?;
        print_plan(&plan, args.out.as_deref(), args.output)?;
        report_stop(&plan);
        return Ok(Exit::of_plan(&plan, args.detailed_exitcode));
    }
    let compiled = compile_arg(config, &args.runbook, &args.sets)?;
    let files = FileAccess::from_config(&config.config);
    let print = |plan: &Plan| print_plan(plan, args.out.as_deref(), args.output);
    let plan = plan_and_record(config, &compiled, files, &data, &print).await?;
    Ok(Exit::of_plan(&plan, args.detailed_exitcode))
}

/// Plans `compiled` as a plan-only run, records it and prints it with
/// `print`; shared by `plan`, `query` and the one-offs' `--dry-run`.
/// Recording (open the store, write, flush) and printing are independent:
/// they run side by side, and the command ends when both are done.
pub async fn plan_and_record(
    config: &LoadedConfig,
    compiled: &CompiledRunbook,
    files: FileAccess,
    data: &DataDir,
    print: &(dyn Fn(&Plan) -> Result<(), Error> + Sync),
) -> Result<Plan, Error> {
    let run = RunInfo::cli(Mode::Plan).with_files(files);
    let (plan, provider) = plan_compiled(config, compiled, &run).await?;
    let _provider = connect::keep_until_exit(provider);
    std::thread::scope(|side| {
        side.spawn(|| warn_unsaved(runs::record_unapplied(data, &run, &plan)));
        print(&plan)
    })?;
    report_stop(&plan);
    Ok(plan)
}

/// Prints `plan` as `output`, saving it to `out` first when asked.
pub fn print_plan(plan: &Plan, out: Option<&Path>, output: OutputFormat) -> Result<(), Error> {
    if let Some(path) = out {
        save(plan, path)?;
    }
    match output {
        OutputFormat::Json => print_json(plan)?,
        OutputFormat::Table => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(plan_view::render_plan(plan).as_bytes())?;
            if let Some(path) = out {
                writeln!(stdout, "Saved to {}; apply it with: ebb apply {}", path.display(), path.display())?;
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
