//! The error a command ends with. Each kind is a type of its own, defined
//! where it arises; its exit code comes from the one mapping in `exit.rs`:
//! 3 for refusals made before anything changed, 1 for the rest.

use super::daemon_client_error::DaemonClientError;
use super::plan_file_error::PlanFileError;
use super::usage_error::UsageError;
use crate::config::ConfigError;
use crate::daemon::ServeError;
use crate::exit::Exit;
use crate::history::{PlanMismatch, StoreError};
use crate::provider::{ConnectError, ProviderError};
use crate::runbook::params::ParamErrors;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Provider(#[from] ProviderError),
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error(transparent)]
    Runbook(#[from] crate::engine::CompileError),
    #[error(transparent)]
    Params(#[from] ParamErrors),
    #[error(transparent)]
    History(#[from] StoreError),
    #[error(transparent)]
    Rollback(#[from] crate::runs::RollbackError),
    #[error(transparent)]
    PlanFile(#[from] PlanFileError),
    /// A plan file that is not the plan ebb made under its run id.
    #[error("refused: {0}")]
    PlanMismatch(#[from] PlanMismatch),
    #[error(transparent)]
    Daemon(#[from] DaemonClientError),
    #[error(transparent)]
    Serve(#[from] ServeError),
    #[error(transparent)]
    Usage(#[from] UsageError),
    #[error("cannot write output: {0}")]
    Output(#[from] std::io::Error),
}

impl Error {
    pub fn exit(&self) -> Exit {
        match self {
            Error::PlanMismatch(_) | Error::Daemon(DaemonClientError::Differs { .. }) => Exit::Refused,
            _ => Exit::Failed,
        }
    }
}
