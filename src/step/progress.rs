//! How far a long read has got, for whoever shows it: the CLI draws a bar on a
//! terminal; elsewhere nobody listens and nothing is drawn.

use std::sync::Arc;

pub trait Progress: Send + Sync + std::fmt::Debug {
    /// Step `step` has read `done` of the `total` records it will read.
    fn advance(&self, step: &str, done: u64, total: u64);
    /// Step `step` has finished reading.
    fn finish(&self, step: &str, done: u64, total: u64);
}

pub type ProgressSink = Arc<dyn Progress>;

/// Records between two reports: often enough to look live, rarely enough to cost nothing.
pub const REPORT_EVERY: u64 = 4096;
