//! What the two cloud API clients share: an endpoint parsed once (its `Host`
//! is signed), an HTTP client bounded by the cluster's timeout, transport
//! failures as provider errors that never print the URL's secrets, and the
//! retry loop for throttling and server trouble.

use std::future::Future;
use std::time::Duration;

use super::{ProviderError, ProviderResult};
use crate::retry::{Backoff, retry};

/// A cloud API's address.
pub struct Endpoint {
    /// Scheme, host and port, no trailing `/`.
    pub base: String,
    /// `host[:port]`, as the `Host` header carries it.
    pub host: String,
}

impl Endpoint {
    pub fn parse(cluster: &str, endpoint: &str) -> ProviderResult<Self> {
        let invalid = |detail: String| ProviderError::InvalidSetting { cluster: cluster.to_owned(), detail };
        let url = reqwest::Url::parse(endpoint).map_err(|e| invalid(format!("endpoint {endpoint:?}: {e}")))?;
        let host = match (url.host_str(), url.port()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            (Some(host), None) => host.to_owned(),
            (None, _) => return Err(invalid(format!("endpoint {endpoint:?} has no host"))),
        };
        Ok(Endpoint { base: endpoint.trim_end_matches('/').to_owned(), host })
    }
}

/// An HTTP client whose every request ends within `timeout`.
pub fn client(cluster: &str, timeout: Duration) -> ProviderResult<reqwest::Client> {
    reqwest::Client::builder()
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .timeout(timeout)
        .build()
        .map_err(|e| ProviderError::InvalidSetting { cluster: cluster.to_owned(), detail: format!("HTTP client: {e}") })
}

/// A failure to send or read: retryable when the connection failed or timed out.
pub fn transport(cluster: &str, action: &'static str, endpoint: &Endpoint, error: reqwest::Error) -> ProviderError {
    let retryable = error.is_connect() || error.is_timeout();
    ProviderError::Request {
        cluster: cluster.to_owned(),
        operation: action,
        detail: format!("{} ({})", error.without_url(), endpoint.base),
        retryable,
    }
}

/// An answer the client cannot read, naming the action.
pub fn unexpected(cluster: &str, action: &'static str, api: &str, detail: impl std::fmt::Display) -> ProviderError {
    ProviderError::Request {
        cluster: cluster.to_owned(),
        operation: action,
        detail: format!("unexpected answer from the {api} API: {detail}"),
        retryable: false,
    }
}

/// Runs `attempt` until it succeeds, fails for good, or another try would
/// end past `timeout`; waits 200 ms after the first failure, doubling to 5 s.
pub async fn with_retries<T, F, Fut>(
    cluster: &str,
    action: &'static str,
    timeout: Duration,
    attempt: F,
) -> ProviderResult<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ProviderResult<T>>,
{
    let backoff = Backoff::within(timeout, Duration::from_millis(200), Duration::from_secs(5));
    let log =
        |e: &ProviderError, _: Duration| tracing::debug!(cluster, action, error = %e, "retrying a cloud API call");
    retry(backoff, ProviderError::is_retryable, log, attempt).await
}
