//! `ebb apply PLANFILE`: apply a plan saved by `ebb plan --out`, after checking
//! that nothing it relied on has drifted (exit 3 naming each drift; `--force`
//! overrides drift, never the group-state gate or the guards).

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;

use super::plan::print_json;
use super::plan_file_error::PlanFileError;
use super::{OutputFormat, connect, plan_view};
use crate::Error;
use crate::config::LoadedConfig;
use crate::engine::plan::PLAN_FORMAT;
use crate::engine::{Applied, Mode, Plan, RunInfo, RunStatus};
use crate::exit::Exit;
use crate::history::{DataDir, Store, check_plan_file};
use crate::provider::AnyProvider;
use crate::runs::apply_recorded;

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A plan saved with `ebb plan --out`.
    pub plan: PathBuf,
    /// Apply even though the cluster or the runbook drifted since the plan.
    #[arg(long)]
    pub force: bool,
    #[arg(long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

/// A plan file: its JSON as written, and read as a plan.
pub fn read_plan(path: &Path) -> Result<(serde_json::Value, Plan), Error> {
    let path_buf = || path.to_owned();
    let text = crate::bounded_read::read_text(path, crate::bounded_read::DATA_FILE_LIMIT)
        .map_err(|source| PlanFileError::Read { path: path_buf(), source })?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|source| PlanFileError::NotJson { path: path_buf(), source })?;
    if value["format"] != PLAN_FORMAT {
        return Err(PlanFileError::WrongFormat { path: path_buf(), found: value["format"].to_string() }.into());
    }
    let plan =
        serde_json::from_value(value.clone()).map_err(|source| PlanFileError::Invalid { path: path_buf(), source })?;
    Ok((value, plan))
}

/// Applies a plan as run `run`, recorded in history, and prints the outcome;
/// shared by `apply`, `run` and `rollback`.
pub async fn apply_and_report(
    plan: &Plan,
    provider: &AnyProvider,
    run: &RunInfo,
    force: bool,
    output: OutputFormat,
    data: &DataDir,
) -> Result<(Applied, Exit), Error> {
    let sha256_now = crate::runs::runbook_sha256_now(plan);
    let recorded = apply_recorded(plan, provider, sha256_now.as_deref(), run, force, data, &data.locks()).await?;
    let applied = recorded.applied;
    if output == OutputFormat::Table {
        std::io::stdout().lock().write_all(plan_view::render_applied(&applied).as_bytes())?;
    }
    if let Some(reason) = &applied.reason {
        let word = if applied.status == RunStatus::Refused { "refused" } else { "error" };
        eprintln!("{word}: {}", reason.lines().next().unwrap_or_default());
    }
    if let Some(e) = recorded.unsaved {
        eprintln!("warning: run {} is not in history as it ended: {e}", applied.run_id);
    }
    let code = Exit::from(applied.status);
    Ok((applied, code))
}

/// Applies the plan that history stored under the file's run id, once the
/// file proves to be a faithful copy of it (a hand-edited plan is refused,
/// exit 3, whatever `--force` says).
pub async fn apply(config: &LoadedConfig, args: ApplyArgs) -> Result<Exit, Error> {
    let (file, plan) = read_plan(&args.plan)?;
    let data = DataDir::from_config(&config.config);
    if let Some(api) = data.held_by_daemon() {
        return super::via_daemon::apply(config, &api, &file, &plan, args.force, args.output).await;
    }
    let stored = data.get(&plan.run_id)?;
    let plan = check_plan_file(&file, &plan.run_id, stored.as_ref())?;
    if plan.approval.is_some() {
        eprintln!("{}", super::run::unapproved(&plan));
        return Ok(Exit::Refused);
    }
    let provider = connect::keep_until_exit(connect::provider(config, &plan.cluster)?);
    let notifier = std::sync::Arc::new(crate::notify::Notifier::from_config(config));
    let run = RunInfo::cli(Mode::Apply).with_notifier(notifier);
    let (applied, code) = apply_and_report(&plan, &provider, &run, args.force, args.output, &data).await?;
    if args.output == OutputFormat::Json {
        print_json(&applied)?;
    }
    Ok(code)
}
