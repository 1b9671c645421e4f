//! The bytes a scan may hold at once: each fetch takes its most from the
//! budget before it is sent, settles to what came, and gives it back when the
//! last record batch of its answer has been shown. A fetch waits while the
//! budget is spent, so a scan's memory stays bounded however fast the broker is.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

pub struct Budget {
    left: Mutex<i64>,
    returned: Condvar,
    total: i64,
    /// Fetches waiting for bytes to be given back.
    waiting: AtomicUsize,
}

/// Bytes taken from a budget, given back when dropped.
pub struct Held {
    budget: Arc<Budget>,
    bytes: i64,
}

impl Budget {
    pub fn new(total: i64) -> Arc<Self> {
        Arc::new(Budget { left: Mutex::new(total), returned: Condvar::new(), total, waiting: AtomicUsize::new(0) })
    }

    /// Takes `bytes`, waiting while too little is left, unless nothing is held
    /// at all (so one fetch larger than the whole budget still goes). `None`
    /// once `stop` is set.
    pub fn take(self: &Arc<Self>, bytes: i64, stop: &AtomicBool) -> Option<Held> {
        let mut left = self.left.lock().unwrap_or_else(|p| p.into_inner());
        self.waiting.fetch_add(1, Ordering::Relaxed);
        while *left < bytes && *left < self.total {
            if stop.load(Ordering::Relaxed) {
                self.waiting.fetch_sub(1, Ordering::Relaxed);
                return None;
            }
            left = self.returned.wait_timeout(left, Duration::from_millis(50)).unwrap_or_else(|p| p.into_inner()).0;
        }
        self.waiting.fetch_sub(1, Ordering::Relaxed);
        *left -= bytes;
        Some(Held { budget: Arc::clone(self), bytes })
    }

    /// Whether a fetch waits for the records already read to be shown: the
    /// scan then goes at the visitor's pace, not the broker's.
    pub fn is_spent(&self) -> bool {
        self.waiting.load(Ordering::Relaxed) > 0
    }

    #[cfg(test)]
    fn left(&self) -> i64 {
        *self.left.lock().unwrap()
    }
}

impl Held {
    /// Holds `bytes` instead: what the answer took, more or less than asked.
    pub fn settle(&mut self, bytes: i64) {
        let mut left = self.budget.left.lock().unwrap_or_else(|p| p.into_inner());
        *left += self.bytes - bytes;
        self.bytes = bytes;
        self.budget.returned.notify_all();
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.settle(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_are_held_settled_and_given_back() {
        let budget = Budget::new(100);
        let stop = AtomicBool::new(false);
        let mut held = budget.take(60, &stop).unwrap();
        assert_eq!(budget.left(), 40);
        held.settle(10);
        assert_eq!(budget.left(), 90);
        drop(held);
        assert_eq!(budget.left(), 100);
        let big = budget.take(250, &stop).expect("alone, more than the budget goes");
        assert_eq!(budget.left(), -150);
        drop(big);
    }

    #[test]
    fn a_take_waits_for_bytes_given_back_or_for_stop() {
        let budget = Budget::new(100);
        let stop = Arc::new(AtomicBool::new(false));
        let held = budget.take(80, &stop).unwrap();
        let (b, s) = (Arc::clone(&budget), Arc::clone(&stop));
        let waiting = std::thread::spawn(move || b.take(50, &s).is_some());
        std::thread::sleep(Duration::from_millis(150));
        assert!(!waiting.is_finished(), "20 left of 100: the take waits");
        assert!(budget.is_spent());
        drop(held);
        assert!(waiting.join().unwrap());

        let held = budget.take(80, &stop).unwrap();
        let (b, s) = (Arc::clone(&budget), Arc::clone(&stop));
        let waiting = std::thread::spawn(move || b.take(50, &s).is_some());
        stop.store(true, Ordering::Relaxed);
        assert!(!waiting.join().unwrap(), "stopped, nothing taken");
        drop(held);
    }
}
