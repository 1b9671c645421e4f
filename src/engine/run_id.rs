//! Run ids: ULIDs (48-bit milliseconds, then 80 random bits, Crockford base32),
//! so ids sort by start time as text.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A new id for a run starting at `millis` (Unix epoch milliseconds).
pub fn new_run_id(millis: i64) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.write_u32(std::process::id());
    let high = hasher.finish();
    hasher.write_u64(high);
    let low = hasher.finish();
    let random = (u128::from(high) << 16 | u128::from(low & 0xffff)) & ((1 << 80) - 1);
    let value = (u128::from(millis.max(0) as u64 & ((1 << 48) - 1)) << 80) | random;
    (0..26).rev().map(|i| ALPHABET[((value >> (i * 5)) & 31) as usize] as char).collect()
}

/// The first ten characters of every id of a run started at `millis`: ids of
/// runs started at or after that instant sort at or after it.
pub fn time_prefix(millis: i64) -> String {
    let value = millis.max(0) as u64 & ((1 << 48) - 1);
    (0..10).rev().map(|i| ALPHABET[((value >> (i * 5)) & 31) as usize] as char).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_26_characters_unique_and_sort_by_time() {
        let a = new_run_id(1_763_686_800_000);
        let b = new_run_id(1_763_686_800_000);
        let c = new_run_id(1_763_686_800_001);
        assert_eq!(a.len(), 26);
        assert_ne!(a, b);
        assert!(a[..10] == b[..10] && a < c && b < c, "{a} {b} {c}");
        assert!(a.chars().all(|ch| ALPHABET.contains(&(ch as u8))));
        assert_eq!(time_prefix(1_763_686_800_000), a[..10]);
        assert!(time_prefix(1_763_686_800_001) > a && time_prefix(1_763_686_800_001) <= c);
    }
}
