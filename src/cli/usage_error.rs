//! A command asked for something it cannot do as asked: a flag's value, a
//! runbook that is not there, a prompt without a terminal, an action the
//! daemon's hold on the store rules out.

use std::path::PathBuf;

use crate::time::TimeError;

#[derive(Debug, thiserror::Error)]
pub enum UsageError {
    #[error(
        "ebb.yaml has no coordination: section; cluster-status describes a deployment of several daemons (docs/HA.md)"
    )]
    NotCoordinated,
    /// The coordination cluster could not be read; the reason, redacted.
    #[error("coordination cluster {cluster}: {why}")]
    CoordinationUnread { cluster: String, why: String },
    #[error("--status {given:?} is not a run status (one of: {known})")]
    UnknownStatus { given: String, known: String },
    #[error("--since: {0}")]
    Since(TimeError),
    #[error("no runbook file {arg:?} and no runbook named {arg:?} in {} (runbooks there: {known})", .dir.display())]
    NoRunbook { arg: String, dir: PathBuf, known: String },
    #[error("cannot read {}: {source}", .path.display())]
    RunbookUnreadable { path: PathBuf, source: std::io::Error },
    #[error("{} has no runbook `name`; `ebb validate` says why", .path.display())]
    RunbookUnnamed { path: PathBuf },
    /// `ebb run` without `--yes` where nobody can answer; the daemon's plan, if one was made.
    #[error("not applied: stdin is not a terminal, so ebb cannot ask; pass --yes to apply {}", match .plan_run {
        Some(id) => format!("(the plan is run {id})"),
        None => "this plan".to_owned(),
    })]
    NoTerminal { plan_run: Option<String> },
    #[error("the daemon at {api} holds the history store; stop it before checking or repairing the store")]
    RepairUnderDaemon { api: String },
    #[error("name the cluster with --cluster (clusters in ebb.yaml: {})", if .known.is_empty() {
        "none".to_owned()
    } else {
        .known.join(", ")
    })]
    WhichCluster { known: Vec<String> },
    #[error(
        "the daemon at {api} holds the history store and runs only its own runbooks, so this one-off cannot be \
         recorded: write it as a runbook in the daemon's runbooks directory and run it by name, or stop the daemon"
    )]
    OneOffUnderDaemon { api: String },
    #[error("{} exists; ebb init never replaces a file (choose another --dir)", .path.display())]
    WouldReplace { path: PathBuf },
    #[error("cannot write {}: {source}", .path.display())]
    CannotWrite { path: PathBuf, source: std::io::Error },
    #[error(
        "no daemon holds the history store in {}: start `ebb daemon` with this ebb.yaml first",
        .data_dir.display()
    )]
    NoDaemon { data_dir: PathBuf },
    #[error("{flag} {given:?}: {reason}")]
    BadFlag { flag: &'static str, given: String, reason: String },
    #[error("the daemon holds the history store and applies saved plans without --force; make a new plan instead")]
    ForceUnderDaemon,
    #[error(
        "the daemon holds the history store, so the rollback goes through it: pass --plan-only to see the rollback \
         plan, or --yes to apply it"
    )]
    RollbackUnderDaemon,
}
