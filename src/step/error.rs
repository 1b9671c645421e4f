//! Why a step did not finish: failed (exit 1) or refused by a gate, guard or
//! check (exit 3). Only failures that may pass are retried; a refusal never is.

use crate::provider::ProviderError;
use crate::runbook::templates::RenderError;

/// A failure of one step kind's own (a compute with no scope, a query
/// position out of range…), kept whole for its message and source.
pub type KindFailure = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum StepError {
    #[error(transparent)]
    Provider(#[from] ProviderError),
    #[error(transparent)]
    Render(#[from] RenderError),
    /// A field whose rendered value is wrong: a bad name, a number out of range.
    /// Its message leaves the step out: a plan, a record and `ebb plan` name
    /// the step beside it, once.
    #[error("field `{field}`: {reason}")]
    Field { step: String, field: String, reason: String },
    /// A step that cannot run as written in this run (an earlier step it needs is missing).
    #[error("{reason}")]
    Unresolved { step: String, reason: String },
    /// A kind's own failure.
    #[error(transparent)]
    Kind(KindFailure),
    /// A change that did not happen in full; the message names each partition's outcome.
    #[error("{0}")]
    Incomplete(String),
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// A gate, guard or check said no: nothing was changed.
    #[error("{0}")]
    Refused(String),
    #[error("did not finish within {0}")]
    Timeout(String),
}

/// The run could not be saved where the journal keeps it, so an apply stops
/// before its next change.
#[derive(Debug, thiserror::Error)]
#[error("cannot record the run in history, so it stops before changing more: {0}")]
pub struct JournalError(pub KindFailure);

impl StepError {
    /// A step's field that rendered to something unusable.
    pub fn field(step: &str, field: &str, reason: impl std::fmt::Display) -> Self {
        StepError::Field { step: step.to_owned(), field: field.to_owned(), reason: reason.to_string() }
    }

    /// A step that cannot run as written.
    pub fn unresolved(step: &str, reason: impl std::fmt::Display) -> Self {
        StepError::Unresolved { step: step.to_owned(), reason: reason.to_string() }
    }

    pub fn is_refusal(&self) -> bool {
        matches!(self, StepError::Refused(_))
    }

    /// Time-outs, leader changes, a coordinator still loading, throttling.
    pub fn is_retryable(&self) -> bool {
        match self {
            StepError::Provider(e) => e.is_retryable(),
            StepError::Timeout(_) => true,
            _ => false,
        }
    }
}
