//! Failures talking to a cluster, each carrying what an operator needs to act on
//! it, and whether retrying could help.

use std::time::Duration;

use crate::time::HumanDuration;

#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error("cluster {cluster}: cannot reach {bootstrap} within {timeout}: {detail}")]
    Unreachable { cluster: String, bootstrap: String, timeout: HumanDuration, detail: String },

    /// The broker refused the connection: TLS, SASL or a protocol mismatch (see `kafka::ConnectFailure`).
    #[error("cluster {cluster}: cannot connect to {bootstrap}: {problem}")]
    Refused { cluster: String, bootstrap: String, problem: String },

    #[error("cluster {cluster}: topic {topic:?} does not exist")]
    UnknownTopic { cluster: String, topic: String },

    #[error("cluster {cluster}: topic {topic:?} has no partition {partition} (it has {count})")]
    UnknownPartition { cluster: String, topic: String, partition: i32, count: usize },

    #[error("cluster {cluster}: consumer group {group:?} does not exist (no members and no committed offsets)")]
    UnknownGroup { cluster: String, group: String },

    #[error("cluster {cluster}: invalid client setting: {detail}")]
    InvalidSetting { cluster: String, detail: String },

    #[error("cluster {cluster}: {operation} failed: {detail}")]
    Request { cluster: String, operation: &'static str, detail: String, retryable: bool },

    /// A cloud management API answered with an error.
    #[error("cluster {cluster}: {action} failed: {answer}")]
    Cloud { cluster: String, action: &'static str, answer: Box<CloudAnswer>, retryable: bool },

    #[error("cluster {cluster}: {operation} did not finish within {}", humanize(.timeout))]
    Timeout { cluster: String, operation: &'static str, timeout: Duration },

    /// A request ebb will not send: a name or an offset Kafka's rules forbid.
    #[error("cluster {cluster}: not sent: {detail}")]
    NotSent { cluster: String, detail: String },
}

/// A cloud API's error answer: its code, message and request id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudAnswer {
    pub code: String,
    pub message: String,
    pub request_id: Option<String>,
}

impl std::fmt::Display for CloudAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)?;
        match &self.request_id {
            Some(id) => write!(f, " (request id {id})"),
            None => Ok(()),
        }
    }
}

fn humanize(d: &Duration) -> String {
    format!("{:.1}s", d.as_secs_f64())
}

impl ProviderError {
    /// Errors that may succeed if tried again: timeouts, leader changes, throttling.
    pub fn is_retryable(&self) -> bool {
        match self {
            ProviderError::Request { retryable, .. } | ProviderError::Cloud { retryable, .. } => *retryable,
            ProviderError::Timeout { .. } | ProviderError::Unreachable { .. } => true,
            ProviderError::UnknownTopic { .. }
            | ProviderError::UnknownPartition { .. }
            | ProviderError::UnknownGroup { .. }
            | ProviderError::InvalidSetting { .. }
            | ProviderError::Refused { .. }
            | ProviderError::NotSent { .. } => false,
        }
    }
}
