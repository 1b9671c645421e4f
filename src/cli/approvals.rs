//! `ebb approve RUN` and `ebb reject RUN`: the two-person rule from the
//! command line, through the daemon (approvers are its API tokens: the one in
//! `$EBB_TOKEN`, else the highest-ranked in ebb.yaml). The approval that
//! completes a plan applies it, and this prints that apply.

use std::io::Write;

use clap::Args;
use serde_json::json;

use super::daemon_commands::daemon;
use super::plan::print_json;
use super::{OutputFormat, show};
use crate::Error;
use crate::config::LoadedConfig;
use crate::exit::Exit;
use crate::history::{RunRecord, RunState};

#[derive(Debug, Args)]
pub struct ApproveArgs {
    /// The pending run (its id, or a unique prefix of it).
    pub run: String,
    #[arg(long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

#[derive(Debug, Args)]
pub struct RejectArgs {
    /// The pending run.
    pub run: String,
    /// Why, kept in history.
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    #[arg(long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

pub async fn approve(config: &LoadedConfig, args: ApproveArgs) -> Result<Exit, Error> {
    let path = format!("/runs/{}/approve", args.run);
    let record: RunRecord = daemon(config)?.post(&path, &[("wait", "true".to_owned())], json!({})).await?;
    print(&record, args.output)?;
    if record.status == RunState::Pending {
        let approval = record.approval.as_ref();
        let (have, need) = approval.map_or((0, 0), |a| (a.approvals.len(), a.required as usize));
        eprintln!("approved ({have} of {need}); run {} waits for {} more", record.id, need.saturating_sub(have));
        return Ok(Exit::Done);
    }
    Ok(Exit::from(record.status))
}

pub async fn reject(config: &LoadedConfig, args: RejectArgs) -> Result<Exit, Error> {
    let path = format!("/runs/{}/reject", args.run);
    let record: RunRecord = daemon(config)?.post(&path, &[], json!({ "reason": args.reason })).await?;
    print(&record, args.output)?;
    Ok(Exit::Done)
}

fn print(record: &RunRecord, output: OutputFormat) -> Result<(), Error> {
    match output {
        OutputFormat::Json => print_json(record)?,
        OutputFormat::Table => std::io::stdout().lock().write_all(show::render(record).as_bytes())?,
    }
    Ok(())
}
