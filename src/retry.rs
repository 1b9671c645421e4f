//! Trying again: one policy for every place ebb repeats a failed attempt
//! (Kafka requests, DeleteRecords, the cloud APIs, a step's `retries`,
//! webhooks). A failure that may pass is tried again after a pause that
//! doubles from `first` up to `most`, while the bound allows: a number of
//! attempts, or a deadline that the next attempt must start well before
//! (the pause must end before it). Anything else fails at once.

use std::future::Future;
use std::time::Duration;

// tokio's clock: the real one, or a test's paused one.
use tokio::time::Instant;

/// When to stop trying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Until {
    /// At most this many attempts in all.
    Attempts(u32),
    /// No pause that would end at or past this instant.
    Deadline(Instant),
}

/// The pauses between attempts, and when they stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pause: Duration,
    most: Duration,
    until: Until,
    tried: u32,
}

impl Backoff {
    /// Attempts until `timeout` from now is spent; pauses from `first`, doubling up to `most`.
    pub fn within(timeout: Duration, first: Duration, most: Duration) -> Self {
        Backoff { pause: first, most, until: Until::Deadline(Instant::now() + timeout), tried: 1 }
    }

    /// At most `attempts` attempts (at least one); pauses from `first`, doubling without bound.
    pub fn attempts(attempts: u32, first: Duration) -> Self {
        Backoff { pause: first, most: Duration::MAX, until: Until::Attempts(attempts.max(1)), tried: 1 }
    }

    /// The deadline, for a bound given as one.
    pub fn deadline(&self) -> Option<Instant> {
        match self.until {
            Until::Deadline(at) => Some(at),
            Until::Attempts(_) => None,
        }
    }

    /// Whether another attempt is allowed after the next pause.
    pub fn allows_another(&self) -> bool {
        match self.until {
            Until::Attempts(most) => self.tried < most,
            Until::Deadline(at) => Instant::now() + self.pause < at,
        }
    }

    /// The pause before the next attempt, counting it; `None` when none is allowed.
    pub fn next_pause(&mut self) -> Option<Duration> {
        if !self.allows_another() {
            return None;
        }
        let pause = self.pause;
        self.pause = self.pause.saturating_mul(2).min(self.most);
        self.tried += 1;
        Some(pause)
    }
}

/// Runs `attempt` until it succeeds, fails for good (`passing` says no), or
/// `backoff` allows no more; `before_retry` hears of each failure retried
/// and the pause that follows.
pub async fn retry<T, E, F, Fut>(
    mut backoff: Backoff,
    passing: impl Fn(&E) -> bool,
    before_retry: impl Fn(&E, Duration),
    mut attempt: F,
) -> Result<T, E>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    loop {
        match attempt().await {
            Ok(value) => return Ok(value),
            Err(e) => tokio::time::sleep(after_failure(&mut backoff, &passing, &before_retry, e)?).await,
        }
    }
}

/// [`retry`] for an attempt that blocks its thread (a librdkafka call).
pub fn retry_blocking<T, E>(
    mut backoff: Backoff,
    passing: impl Fn(&E) -> bool,
    before_retry: impl Fn(&E, Duration),
    mut attempt: impl FnMut() -> Result<T, E>,
) -> Result<T, E> {
    loop {
        match attempt() {
            Ok(value) => return Ok(value),
            Err(e) => std::thread::sleep(after_failure(&mut backoff, &passing, &before_retry, e)?),
        }
    }
}

/// After a failed attempt: the pause before the next one, or the error to end with.
fn after_failure<E>(
    backoff: &mut Backoff,
    passing: &impl Fn(&E) -> bool,
    before_retry: &impl Fn(&E, Duration),
    error: E,
) -> Result<Duration, E> {
    if !passing(&error) {
        return Err(error);
    }
    match backoff.next_pause() {
        Some(pause) => {
            before_retry(&error, pause);
            Ok(pause)
        }
        None => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    #[test]
    fn pauses_double_up_to_the_most_and_stop_at_the_attempts() {
        let mut backoff = Backoff::attempts(4, Duration::from_millis(10));
        let pauses: Vec<_> = std::iter::from_fn(|| backoff.next_pause()).collect();
        assert_eq!(pauses, [10, 20, 40].map(Duration::from_millis), "three pauses between four attempts");
        let mut capped = Backoff::within(Duration::from_secs(60), Duration::from_millis(400), Duration::from_secs(1));
        let pauses: Vec<_> = (0..3).filter_map(|_| capped.next_pause()).collect();
        assert_eq!(pauses, [400, 800, 1000].map(Duration::from_millis));
        assert_eq!(Backoff::attempts(0, Duration::ZERO).next_pause(), None, "one attempt at least, and no more");
    }

    /// Runs `outcome(call)` for each call under five attempts; returns the result and the calls made.
    fn counted(outcome: fn(u32) -> Result<u32, &'static str>) -> (Result<u32, &'static str>, u32) {
        let calls = Cell::new(0);
        let backoff = Backoff::attempts(5, Duration::from_millis(1));
        let result = retry_blocking(
            backoff,
            |e| *e == "passing",
            |_, _| {},
            || {
                calls.set(calls.get() + 1);
                outcome(calls.get())
            },
        );
        (result, calls.get())
    }

    #[test]
    fn passing_failures_are_retried_and_fatal_ones_end_at_once() {
        assert_eq!(counted(|call| if call < 3 { Err("passing") } else { Ok(7) }), (Ok(7), 3));
        assert_eq!(counted(|_| Err("fatal")), (Err("fatal"), 1));
        assert_eq!(counted(|_| Err("passing")), (Err("passing"), 5), "the attempts are the bound");
    }

    #[test]
    fn a_deadline_ends_the_retries_before_it_passes() {
        let started = std::time::Instant::now();
        let result: Result<(), &str> = retry_blocking(
            Backoff::within(Duration::from_millis(300), Duration::from_millis(50), Duration::from_secs(1)),
            |_| true,
            |_, _| {},
            || Err("late"),
        );
        assert_eq!(result, Err("late"));
        assert!(started.elapsed() < Duration::from_millis(300), "{:?}", started.elapsed());
    }

    #[tokio::test(start_paused = true)]
    async fn the_async_form_waits_between_attempts() {
        let calls = Cell::new(0);
        let started = tokio::time::Instant::now();
        let result: Result<u32, &str> = retry(
            Backoff::attempts(3, Duration::from_secs(1)),
            |_| true,
            |_, _| {},
            || {
                calls.set(calls.get() + 1);
                async { Err("passing") }
            },
        )
        .await;
        assert_eq!((result, calls.get()), (Err("passing"), 3));
        assert_eq!(started.elapsed(), Duration::from_secs(3), "paused 1 s, then 2 s");
    }
}
