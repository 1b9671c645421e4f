//! Counting the requests ebb sends, per broker and per API, from librdkafka's
//! own statistics. Off by default; tests and benchmarks switch it on to show
//! that round trips grow with the number of brokers, not partitions.

use std::collections::BTreeMap;

/// Requests sent so far: broker id → API name (`ListOffsets`, `OffsetFetch`…) → count.
/// Connections to bootstrap addresses, before ebb knows broker ids, are not
/// included; the group coordinator connection counts for the broker it reaches.
pub type RequestCounts = BTreeMap<i32, BTreeMap<String, i64>>;

/// How many `api` requests went to each broker between two snapshots.
pub fn sent_between(before: &RequestCounts, after: &RequestCounts, api: &str) -> BTreeMap<i32, i64> {
    after
        .iter()
        .map(|(broker, apis)| {
            let now = apis.get(api).copied().unwrap_or(0);
            let then = before.get(broker).and_then(|a| a.get(api)).copied().unwrap_or(0);
            (*broker, now - then)
        })
        .filter(|(_, n)| *n > 0)
        .collect()
}
