//! Why the CLI could not get an answer from the daemon that holds the
//! history store, or what the daemon refused.

use std::path::PathBuf;

use reqwest::StatusCode;

#[derive(Debug, thiserror::Error)]
pub enum DaemonClientError {
    #[error(
        "the daemon at {base} holds the history store, and there is no token to ask it with: set EBB_TOKEN, or add \
         a token under daemon.tokens in ebb.yaml"
    )]
    NoToken { base: String },
    #[error("cannot read {} to trust the daemon: {source}", .path.display())]
    TrustUnreadable { path: PathBuf, source: std::io::Error },
    #[error("{} holds no PEM certificate to trust the daemon with", .path.display())]
    NoCertificate { path: PathBuf },
    #[error("cannot make an HTTP client: {0}")]
    Client(reqwest::Error),
    /// `source` carries no URL: a query may hold params.
    #[error("the daemon at {base} holds the history store, but cannot be reached: {source}")]
    Unreachable { base: String, source: reqwest::Error },
    #[error("the daemon at {base} answered {status}: {message}")]
    NotFound { base: String, status: StatusCode, message: String },
    /// The daemon's copy of the runbook is not the file given; nothing ran (exit 3).
    #[error("refused: the daemon at {base} answered {status}: {message}")]
    Differs { base: String, status: StatusCode, message: String },
    #[error("the daemon at {base} answered {status}: {message}")]
    Answered { base: String, status: StatusCode, message: String },
    #[error("the daemon at {base} answered something ebb cannot read: {source}")]
    Unreadable { base: String, source: serde_json::Error },
    #[error("the daemon made no plan: {reason}")]
    NoPlan { reason: String },
}
