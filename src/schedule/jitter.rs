//! Deterministic jitter: a delay drawn from a hash of the runbook's name and
//! the slot, so runbooks that share a cron spread out, and a daemon restarted
//! in between gives a slot the same delay it would have had.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

/// The delay of `runbook`'s run for `slot`: below `jitter`, and below the
/// time to the next slot so that a delayed run never passes the next one.
pub fn jitter_delay(
    runbook: &str,
    slot: DateTime<Utc>,
    next_slot: Option<DateTime<Utc>>,
    jitter: Duration,
) -> Duration {
    let until_next = next_slot.and_then(|next| (next - slot).to_std().ok()).unwrap_or(jitter);
    let bound_ms = jitter.min(until_next).as_millis() as u64;
    if bound_ms == 0 {
        return Duration::ZERO;
    }
    let digest = Sha256::digest(format!("{runbook}\n{}", slot.timestamp_millis()).as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    Duration::from_millis(u64::from_be_bytes(first) % bound_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minute: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_795_000_000 + minute * 60, 0).unwrap()
    }

    #[test]
    fn the_same_runbook_and_slot_always_get_the_same_delay() {
        let jitter = Duration::from_secs(30);
        let first = jitter_delay("nightly-purge", at(0), Some(at(15)), jitter);
        for _ in 0..3 {
            assert_eq!(jitter_delay("nightly-purge", at(0), Some(at(15)), jitter), first);
        }
        assert!(first < jitter);
    }

    #[test]
    fn delays_spread_across_runbooks_and_slots() {
        let jitter = Duration::from_secs(60);
        let delays: std::collections::BTreeSet<Duration> =
            (0..50).map(|i| jitter_delay(&format!("runbook-{i}"), at(i), Some(at(i + 15)), jitter)).collect();
        assert!(delays.len() > 45, "delays repeat: {delays:?}");
        assert!(delays.iter().all(|d| *d < jitter));
    }

    #[test]
    fn a_delay_stays_below_the_next_slot() {
        // Slots every 10 s, jitter 5 min: every delay is below 10 s.
        for i in 0..100 {
            let slot = DateTime::from_timestamp(1_795_000_000 + i * 10, 0).unwrap();
            let next = DateTime::from_timestamp(1_795_000_000 + i * 10 + 10, 0).unwrap();
            assert!(jitter_delay("fast", slot, Some(next), Duration::from_secs(300)) < Duration::from_secs(10));
        }
        assert_eq!(jitter_delay("none", at(0), Some(at(1)), Duration::ZERO), Duration::ZERO);
    }
}
