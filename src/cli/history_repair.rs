//! `ebb history check` and `ebb history repair` (history/store_repair.rs):
//! the store's damage reported, and its readable runs salvaged. Both need the
//! store to themselves, so a daemon holding it must be stopped first.

use std::io::Write;

use super::OutputFormat;
use super::history::HistoryAction;
use super::plan::print_json;
use super::usage_error::UsageError;
use crate::Error;
use crate::config::LoadedConfig;
use crate::exit::Exit;
use crate::history::DataDir;

pub fn run(config: &LoadedConfig, action: HistoryAction) -> Result<Exit, Error> {
    let data = DataDir::from_config(&config.config);
    if let Some(api) = data.held_by_daemon() {
        return Err(UsageError::RepairUnderDaemon { api }.into());
    }
    match action {
        HistoryAction::Check { output } => {
            let report = data.check()?;
            match output {
                OutputFormat::Json => print_json(&report)?,
                OutputFormat::Table => std::io::stdout().lock().write_all(render_check(&report).as_bytes())?,
            }
            Ok(Exit::done_if(report.healthy()))
        }
        HistoryAction::Repair { output } => {
            let report = data.repair()?;
            match output {
                OutputFormat::Json => print_json(&report)?,
                OutputFormat::Table => std::io::stdout().lock().write_all(render_repair(&report).as_bytes())?,
            }
            Ok(Exit::done_if(report.lost.is_empty() && report.lost_unnamed == 0))
        }
    }
}

fn render_check(report: &crate::history::CheckReport) -> String {
    let mut out = format!("History store {}\n", report.store);
    if let Some(why) = &report.unopenable {
        out.push_str(&format!("DAMAGED: it cannot be opened: {why}\n"));
    } else {
        out.push_str(&format!("{} run(s) read back whole.\n", report.readable));
    }
    for (id, why) in &report.unreadable {
        out.push_str(&format!("DAMAGED: run {id} cannot be read: {why}\n"));
    }
    for id in &report.missing {
        out.push_str(&format!("DAMAGED: run {id} is listed but its record is gone\n"));
    }
    if let Some(fewer) = report.fewer_than_at_close {
        out.push_str(&format!(
            "DAMAGED: it holds {fewer} run(s) fewer than when it was last closed, and its files were changed since\n"
        ));
    }
    if !report.healthy() {
        out.push_str("Run `ebb history repair` to salvage every readable run into a fresh store.\n");
    }
    out
}

fn render_repair(report: &crate::history::RepairReport) -> String {
    let mut out = format!("History store {}\n", report.store);
    if report.nothing_to_repair {
        out.push_str(&format!("Nothing to repair: all {} run(s) read back whole.\n", report.salvaged));
        return out;
    }
    if report.read_from_files {
        out.push_str(
            "The store could not be opened, so its files were read byte by byte (runs retention had deleted may \
             come back; retention applies again).\n",
        );
    }
    out.push_str(&format!("Salvaged {} run(s) into a fresh store.\n", report.salvaged));
    if let Some(kept) = &report.damaged_kept_at {
        out.push_str(&format!("The damaged store is kept at {kept}.\n"));
    }
    if report.lost_unnamed > 0 {
        out.push_str(&format!(
            "LOST: {} more run(s) that the store held when last closed, and that nothing names any more.\n",
            report.lost_unnamed
        ));
    }
    if report.lost.is_empty() && report.lost_unnamed == 0 {
        out.push_str("No run was lost.\n");
    } else if !report.lost.is_empty() {
        out.push_str(&format!("LOST: {} run(s) whose record could not be read anywhere:\n", report.lost.len()));
        for id in &report.lost {
            out.push_str(&format!("  {id}\n"));
        }
    }
    out
}
