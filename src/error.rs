//! The error a command ends with, and the exit code it maps to (SPEC §4):
//! 1 for errors, 3 for refusals by a gate, guard or stale plan.

use std::process::ExitCode;

use crate::config::ConfigError;
use crate::provider::ProviderError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Provider(#[from] ProviderError),
    #[error(transparent)]
    Runbook(#[from] crate::engine::CompileError),
    #[error(transparent)]
    History(#[from] crate::history::StoreError),
    #[error(transparent)]
    Rollback(#[from] crate::runs::RollbackError),
    #[error("{0}")]
    Usage(String),
    /// What was asked for does not exist (the daemon answered 404).
    #[error("{0}")]
    NotFound(String),
    /// Refused before anything was changed (exit 3).
    #[error("refused: {0}")]
    Refused(String),
    #[error("cannot write output: {0}")]
    Output(#[from] std::io::Error),
}

impl Error {
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Error::Refused(_) => ExitCode::from(3),
            _ => ExitCode::from(1),
        }
    }
}
