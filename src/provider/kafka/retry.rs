//! Retrying requests that failed for a passing reason (a coordinator still being
//! found or loaded, a leader moving, a new topic's leaders not yet elected), with
//! backoff, until the cluster's timeout is spent. Anything else fails at once.

use std::time::Duration;

use rdkafka::error::RDKafkaErrorCode;

use super::errors::is_retryable_code;
use crate::retry::{Backoff, retry_blocking};

/// A failed attempt: the librdkafka code that decides whether to retry, and the error to report.
pub struct Failed<E> {
    pub code: Option<RDKafkaErrorCode>,
    pub error: E,
}

pub fn within<T, E>(timeout: Duration, attempt: impl FnMut() -> Result<T, Failed<E>>) -> Result<T, E> {
    let backoff = Backoff::within(timeout, Duration::from_millis(50), Duration::from_secs(1));
    let passing = |failed: &Failed<E>| failed.code.is_some_and(is_retryable_code);
    let log = |failed: &Failed<E>, _: Duration| tracing::debug!(code = ?failed.code, "retrying a Kafka request");
    retry_blocking(backoff, passing, log, attempt).map_err(|failed| failed.error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_passing_failures_and_stops_at_the_first_fatal_one() {
        let mut calls = 0;
        let result: Result<u32, &str> = within(Duration::from_secs(5), || {
            calls += 1;
            match calls {
                1 => Err(Failed { code: Some(RDKafkaErrorCode::NotCoordinator), error: "passing" }),
                2 => Err(Failed { code: Some(RDKafkaErrorCode::LeaderNotAvailable), error: "passing" }),
                _ => Ok(7),
            }
        });
        assert_eq!((result, calls), (Ok(7), 3));

        let mut calls = 0;
        let result: Result<u32, &str> = within(Duration::from_secs(5), || {
            calls += 1;
            Err(Failed { code: Some(RDKafkaErrorCode::GroupAuthorizationFailed), error: "fatal" })
        });
        assert_eq!((result, calls), (Err("fatal"), 1));
    }

    #[test]
    fn gives_up_when_the_timeout_is_spent() {
        let started = std::time::Instant::now();
        let result: Result<(), &str> = within(Duration::from_millis(300), || {
            Err(Failed { code: Some(RDKafkaErrorCode::RequestTimedOut), error: "late" })
        });
        assert_eq!(result, Err("late"));
        assert!(started.elapsed() < Duration::from_secs(3));
    }
}
