//! Keeping to a cloud API's rate limit: each action has a least interval
//! between two calls, and a caller waits for its turn. Calls of one action
//! from many tasks are spaced out in the order they asked.

use std::collections::HashMap;
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

#[derive(Default)]
pub struct Pacer {
    next_turn: Mutex<HashMap<&'static str, Instant>>,
}

impl Pacer {
    /// Waits until `action` may be called again, `interval` after the turn before.
    pub async fn wait_turn(&self, action: &'static str, interval: Duration) {
        let turn = {
            let mut next = self.next_turn.lock().await;
            let now = Instant::now();
            let turn = next.get(action).copied().filter(|t| *t > now).unwrap_or(now);
            next.insert(action, turn + interval);
            turn
        };
        tokio::time::sleep_until(turn).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn calls_of_one_action_are_spaced_and_other_actions_are_not_held_up() {
        let pacer = Pacer::default();
        let started = Instant::now();
        for _ in 0..3 {
            pacer.wait_turn("Fetch", Duration::from_secs(1)).await;
        }
        assert_eq!(started.elapsed(), Duration::from_secs(2), "three calls at 1/s take two seconds");
        let before = Instant::now();
        pacer.wait_turn("Describe", Duration::from_millis(10)).await;
        assert_eq!(before.elapsed(), Duration::ZERO);
    }
}
