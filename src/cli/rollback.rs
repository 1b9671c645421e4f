//! `ebb rollback RUN`: plan the restore of every group a run reset to the
//! snapshot taken before it committed, show it, and apply it like `ebb run`
//! (after a `yes`, or with `--yes`); `--plan-only` stops at the plan. Purges
//! cannot be undone and the plan says so. Recorded with trigger `rollback`.

use std::io::Write;

use clap::Args;

use super::plan::{print_json, report_stop, warn_unsaved};
use super::run::show_confirm_apply;
use super::{OutputFormat, connect, plan_view};
use crate::Error;
use crate::config::LoadedConfig;
use crate::engine::{Mode, RunInfo};
use crate::exit::Exit;
use crate::history::{DataDir, Store};
use crate::runs::{self, plan_rollback};

#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// The run to undo: an id (or the start of one) from `ebb history`.
    pub run: String,
    /// Apply without asking (required when stdin is not a terminal).
    #[arg(long, conflicts_with = "plan_only")]
    pub yes: bool,
    /// Show the rollback plan and stop.
    #[arg(long)]
    pub plan_only: bool,
    #[arg(long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

pub async fn rollback(config: &LoadedConfig, args: RollbackArgs) -> Result<Exit, Error> {
    let data = DataDir::from_config(&config.config);
    if let Some(api) = data.held_by_daemon() {
        return super::via_daemon::rollback(config, &api, &args.run, args.yes, args.plan_only, args.output).await;
    }
    let record = data.open()?.find(&args.run)?;
    let provider = connect::keep_until_exit(connect::provider(config, &record.cluster)?);
    let mode = if args.plan_only { Mode::Plan } else { Mode::Apply };
    let run = RunInfo::rollback(mode, &record.id);
    let plan = plan_rollback(&record, &*provider, &run).await?;
    if !args.plan_only {
        return show_confirm_apply(&plan, &provider, &run, args.yes, args.output, &data).await;
    }
    warn_unsaved(runs::record_unapplied(&data, &run, &plan));
    match args.output {
        OutputFormat::Json => print_json(&plan)?,
        OutputFormat::Table => std::io::stdout().lock().write_all(plan_view::render_plan(&plan).as_bytes())?,
    }
    report_stop(&plan);
    Ok(Exit::of_plan(&plan, false))
}
