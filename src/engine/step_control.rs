//! A step's `timeout` and `retries`: each attempt is bounded by the timeout;
//! retryable failures are tried again after a backoff that doubles; a refusal
//! or any other failure ends the step at once.

use std::future::Future;
use std::time::Duration;

use crate::runbook::spec::RetrySpec;
use crate::time::HumanDuration;

use crate::retry::{Backoff, retry};
use crate::step::StepError;

const DEFAULT_BACKOFF: Duration = Duration::from_secs(1);

/// Runs `attempt` under the step's timeout and retries.
pub async fn controlled<T, F, Fut>(
    timeout: Option<&HumanDuration>,
    retries: Option<&RetrySpec>,
    mut attempt: F,
) -> Result<T, StepError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, StepError>>,
{
    let attempts = retries.map_or(1, |r| r.attempts.max(1));
    let first = retries.and_then(|r| r.backoff.as_ref()).map_or(DEFAULT_BACKOFF, |b| b.duration);
    let log = |e: &StepError, pause: Duration| tracing::warn!(error = %e, "step failed; retrying after {pause:?}");
    let bounded = move || {
        let attempt = attempt();
        async move {
            match timeout {
                Some(limit) => tokio::time::timeout(limit.duration, attempt)
                    .await
                    .unwrap_or_else(|_| Err(StepError::Timeout(limit.text.clone()))),
                None => attempt.await,
            }
        }
    };
    retry(Backoff::attempts(attempts, first), StepError::is_retryable, log, bounded).await
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;
    use crate::provider::ProviderError;

    fn retries(attempts: u32) -> RetrySpec {
        RetrySpec { attempts, backoff: Some(HumanDuration::parse("10ms").unwrap()) }
    }

    fn passing() -> StepError {
        StepError::Provider(ProviderError::Request {
            cluster: "c".into(),
            operation: "listing offsets",
            detail: "leader moved".into(),
            retryable: true,
        })
    }

    #[tokio::test]
    async fn retryable_failures_are_retried_up_to_the_attempts() {
        let calls = AtomicU32::new(0);
        let result = controlled(None, Some(&retries(3)), || async {
            if calls.fetch_add(1, Ordering::SeqCst) < 2 { Err(passing()) } else { Ok(5) }
        })
        .await;
        assert_eq!((result.unwrap(), calls.load(Ordering::SeqCst)), (5, 3));

        let calls = AtomicU32::new(0);
        let result: Result<(), _> = controlled(None, Some(&retries(2)), || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(passing())
        })
        .await;
        assert!(result.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn refusals_and_fatal_errors_are_never_retried() {
        for error in [StepError::Refused("group is Stable".into()), StepError::Incomplete("bad".into())] {
            let calls = AtomicU32::new(0);
            let message = error.to_string();
            let mut error = Some(error);
            let result: Result<(), _> = controlled(None, Some(&retries(5)), || {
                calls.fetch_add(1, Ordering::SeqCst);
                let e = error.take().unwrap_or_else(|| StepError::Incomplete("again".into()));
                async move { Err(e) }
            })
            .await;
            assert_eq!(result.unwrap_err().to_string(), message);
            assert_eq!(calls.load(Ordering::SeqCst), 1);
        }
    }

    #[tokio::test]
    async fn an_attempt_past_the_timeout_fails_as_retryable() {
        let limit = HumanDuration::parse("50ms").unwrap();
        let calls = AtomicU32::new(0);
        let result: Result<(), _> = controlled(Some(&limit), Some(&retries(2)), || async {
            calls.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_secs(5)).await;
            Ok(())
        })
        .await;
        assert_eq!(result.unwrap_err().to_string(), "did not finish within 50ms");
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }
}
