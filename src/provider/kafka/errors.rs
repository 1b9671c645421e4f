//! Turning librdkafka's errors into `ProviderError`s that say which cluster, what
//! ebb was doing, and whether a retry could help, with every secret scrubbed.

use rdkafka::error::{KafkaError, RDKafkaErrorCode};

use crate::config::Redactor;
use crate::provider::ProviderError;

use super::Inner;
use super::group_admin::AdminError;

/// The librdkafka error code behind an error, when there is one.
pub fn code_of(error: &KafkaError) -> Option<RDKafkaErrorCode> {
    match error {
        KafkaError::AdminOp(code)
        | KafkaError::ConsumerCommit(code)
        | KafkaError::Global(code)
        | KafkaError::GroupListFetch(code)
        | KafkaError::MetadataFetch(code)
        | KafkaError::OffsetFetch(code)
        | KafkaError::SetPartitionOffset(code) => Some(*code),
        other => other.rdkafka_error_code(),
    }
}

/// Codes after which the same request may well succeed.
pub fn is_retryable_code(code: RDKafkaErrorCode) -> bool {
    use RDKafkaErrorCode::*;
    matches!(
        code,
        RequestTimedOut
            | OperationTimedOut
            | NotLeaderForPartition
            | LeaderNotAvailable
            | NotCoordinator
            | CoordinatorNotAvailable
            | CoordinatorLoadInProgress
            | BrokerTransportFailure
            | AllBrokersDown
            | NetworkException
            | ThrottlingQuotaExceeded
            | NotEnoughReplicas
            | KafkaStorageError
            | FencedLeaderEpoch
            | UnknownLeaderEpoch
            | OffsetNotAvailable
            | UnstableOffsetCommit
            | RebalanceInProgress
            | NotController
    )
}

pub fn is_connectivity(code: RDKafkaErrorCode) -> bool {
    use RDKafkaErrorCode::*;
    matches!(
        code,
        OperationTimedOut | RequestTimedOut | BrokerTransportFailure | AllBrokersDown | Resolve | NetworkException
    )
}

impl Inner {
    /// An error from a request to the cluster.
    pub(super) fn request_error(&self, operation: &'static str, error: &KafkaError) -> ProviderError {
        let code = code_of(error);
        self.classify(operation, code, describe(error, code))
    }

    /// An error from one of librdkafka's admin calls (see `group_admin`).
    pub(super) fn admin_error(&self, operation: &'static str, error: AdminError) -> ProviderError {
        let detail = match error.code {
            Some(code) => format!("{code}: {}", error.message),
            None => error.message,
        };
        self.classify(operation, error.code, detail)
    }

    /// Time-outs, unreachable brokers, and everything else, retryable or not by its code.
    pub(super) fn classify(
        &self,
        operation: &'static str,
        code: Option<RDKafkaErrorCode>,
        detail: String,
    ) -> ProviderError {
        match code {
            Some(RDKafkaErrorCode::OperationTimedOut | RDKafkaErrorCode::RequestTimedOut) => {
                ProviderError::Timeout { cluster: self.cluster.clone(), operation, timeout: self.timeout.duration }
            }
            Some(c) if is_connectivity(c) => self.unreachable(c),
            _ => ProviderError::Request {
                cluster: self.cluster.clone(),
                operation,
                detail: self.redactor.redact(&detail),
                retryable: code.is_some_and(is_retryable_code),
            },
        }
    }

    /// An error from a per-partition or per-topic result code.
    pub(super) fn code_error(&self, operation: &'static str, subject: &str, code: RDKafkaErrorCode) -> ProviderError {
        ProviderError::Request {
            cluster: self.cluster.clone(),
            operation,
            detail: format!("{subject}: {code}"),
            retryable: is_retryable_code(code),
        }
    }

    /// An error from the first metadata request, where connectivity problems show.
    pub(super) fn metadata_error(&self, error: &KafkaError) -> ProviderError {
        match code_of(error) {
            // Before any broker has answered, a time-out means nobody is there.
            Some(code) if is_connectivity(code) => self.unreachable(code),
            _ => self.request_error("reading cluster metadata", error),
        }
    }

    fn unreachable(&self, code: RDKafkaErrorCode) -> ProviderError {
        ProviderError::Unreachable {
            cluster: self.cluster.clone(),
            bootstrap: self.redactor.redact(&self.bootstrap),
            timeout: self.timeout.clone(),
            detail: code.to_string(),
        }
    }
}

/// An error creating a client, which librdkafka reports for a bad property.
pub fn creation_error(cluster: &str, redactor: &Redactor, error: &KafkaError) -> ProviderError {
    let detail = match error {
        KafkaError::ClientConfig(_, description, key, _) => format!("property {key}: {description}"),
        other => other.to_string(),
    };
    ProviderError::InvalidSetting { cluster: cluster.to_owned(), detail: redactor.redact(&detail) }
}

fn describe(error: &KafkaError, code: Option<RDKafkaErrorCode>) -> String {
    match code {
        Some(code) => code.to_string(),
        None => error.to_string(),
    }
}
