//! Names no other test, and no earlier run on the same broker, has used.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// `prefix-<pid>-<n>-<time>`: valid as a topic or group name.
pub fn unique(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let micros = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_micros() % 1_000_000).unwrap_or(0);
    format!("{prefix}-{}-{n}-{micros}", std::process::id())
}
