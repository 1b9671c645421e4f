//! Why a step did not finish: failed (exit 1) or refused by a gate, guard or
//! check (exit 3). Only failures that may pass are retried; a refusal never is.

use crate::provider::ProviderError;
use crate::runbook::templates::RenderError;
use crate::steps::compute_offsets::ComputeError;
use crate::steps::purge_messages::PurgeError;
use crate::steps::query_messages::QueryError;

#[derive(Debug, thiserror::Error)]
pub enum StepError {
    #[error(transparent)]
    Provider(#[from] ProviderError),
    #[error(transparent)]
    Compute(#[from] ComputeError),
    #[error(transparent)]
    Query(#[from] QueryError),
    #[error(transparent)]
    Purge(#[from] PurgeError),
    #[error(transparent)]
    Render(#[from] RenderError),
    /// A value that only turned out wrong once rendered, or a step that cannot run.
    #[error("{0}")]
    Invalid(String),
    /// A gate, guard or check said no: nothing was changed.
    #[error("{0}")]
    Refused(String),
    #[error("did not finish within {0}")]
    Timeout(String),
}

impl StepError {
    pub fn is_refusal(&self) -> bool {
        matches!(self, StepError::Refused(_))
    }

    /// Time-outs, leader changes, a coordinator still loading, throttling.
    pub fn is_retryable(&self) -> bool {
        match self {
            StepError::Provider(e)
            | StepError::Compute(ComputeError::Provider(e))
            | StepError::Query(QueryError::Provider(e))
            | StepError::Purge(PurgeError::Provider(e)) => e.is_retryable(),
            StepError::Timeout(_) => true,
            _ => false,
        }
    }
}
