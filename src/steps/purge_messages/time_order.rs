//! Timestamp order around a time-based purge's cut. The cut is the first
//! record at or after the cut-off, as the cluster finds it; records are
//! ordered by offset, and their timestamps need not be (several producers,
//! clients with wrong clocks). Up to `WINDOW` records on each side of the cut
//! are read: records below it newer than the cut-off would be deleted though
//! newer, and records above it older than the cut-off are kept though older.
//! Apache Kafka's own lookup never puts a newer record below the cut; a cloud
//! API's lookup may.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use crate::provider::{Message, OffsetRange, Provider, ProviderResult};

/// How many records are read on each side of a partition's cut.
pub const WINDOW: i64 = 1000;

/// What the records around one partition's cut say.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeOrder {
    /// Records read just below the cut (what is deleted).
    pub checked_below: u64,
    /// Of those, how many are newer than the cut-off, and the newest timestamp (epoch ms).
    pub newer_below: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub newest_below: Option<i64>,
    /// Records read from the cut up (what is kept).
    pub checked_above: u64,
    /// Of those, how many are older than the cut-off, and the oldest timestamp (epoch ms).
    pub older_above: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oldest_above: Option<i64>,
}

impl TimeOrder {
    /// Whether the timestamps around the cut are out of order.
    pub fn out_of_order(&self) -> bool {
        self.newer_below > 0 || self.older_above > 0
    }

    fn count(&mut self, timestamp: Option<i64>, below: bool, cut_off_ms: i64) {
        if below {
            self.checked_below += 1;
            if let Some(ts) = timestamp.filter(|ts| *ts > cut_off_ms) {
                self.newer_below += 1;
                self.newest_below = Some(self.newest_below.map_or(ts, |n| n.max(ts)));
            }
        } else {
            self.checked_above += 1;
            if let Some(ts) = timestamp.filter(|ts| *ts < cut_off_ms) {
                self.older_above += 1;
                self.oldest_above = Some(self.oldest_above.map_or(ts, |o| o.min(ts)));
            }
        }
    }
}

/// One partition's cut: where deletion stops, and where the time put it.
#[derive(Debug, Clone, Copy)]
pub struct Cut {
    pub partition: i32,
    pub log_start: i64,
    pub log_end: i64,
    /// The new log start: records below it are deleted.
    pub deleted_below: i64,
    /// The first record at or after the cut-off (`deleted_below` unless protection held it back).
    pub time_cut: i64,
}

/// Reads up to `WINDOW` records on each side of every cut and counts those out
/// of time order: one scan below the cuts, one above (a scan reads one range a partition).
pub async fn check<P: Provider>(
    provider: &P,
    topic: &str,
    cuts: &[Cut],
    cut_off_ms: i64,
) -> ProviderResult<BTreeMap<i32, TimeOrder>> {
    let range = |partition, start: i64, end: i64| {
        (start < end).then(|| OffsetRange { topic: topic.to_owned(), partition, start, end })
    };
    let below: Vec<OffsetRange> = cuts
        .iter()
        .filter_map(|c| range(c.partition, (c.deleted_below - WINDOW).max(c.log_start), c.deleted_below))
        .collect();
    let above: Vec<OffsetRange> =
        cuts.iter().filter_map(|c| range(c.partition, c.time_cut, (c.time_cut + WINDOW).min(c.log_end))).collect();
    let found: Arc<Mutex<BTreeMap<i32, TimeOrder>>> =
        Arc::new(Mutex::new(cuts.iter().map(|c| (c.partition, TimeOrder::default())).collect()));
    for (ranges, is_below) in [(below, true), (above, false)] {
        if ranges.is_empty() {
            continue;
        }
        let found = Arc::clone(&found);
        let visit = Arc::new(move |m: &Message| {
            let mut found = found.lock().unwrap_or_else(|p| p.into_inner());
            found.entry(m.partition).or_default().count(m.timestamp, is_below, cut_off_ms);
            true
        });
        provider.scan(&ranges, visit).await?;
    }
    let mut found = found.lock().unwrap_or_else(|p| p.into_inner());
    Ok(std::mem::take(&mut *found))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_counted_on_their_side_of_the_cut() {
        let mut order = TimeOrder::default();
        for (ts, below) in [(50, true), (150, true), (120, true), (200, false), (90, false), (80, false)] {
            order.count(Some(ts), below, 100);
        }
        assert_eq!((order.checked_below, order.newer_below, order.newest_below), (3, 2, Some(150)));
        assert_eq!((order.checked_above, order.older_above, order.oldest_above), (3, 2, Some(80)));
        assert!(order.out_of_order());
    }
}
