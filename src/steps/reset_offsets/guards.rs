//! `max_skip`, `max_rewind` and `max_partitions`: limits on how far a reset may
//! move a group. Skip and rewind add up the moves of partitions that have a
//! committed offset (a first commit moves nothing); the partition count is of
//! partitions whose committed offset changes.

use crate::step::StepError;

use super::reset_plan::Guards;

/// What a reset would do, in totals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Movement {
    pub skip: i64,
    pub rewind: i64,
    pub partitions: usize,
}

impl Movement {
    /// From each changing partition's committed offset (if any) and target.
    pub fn of(changes: impl IntoIterator<Item = (Option<i64>, i64)>) -> Self {
        let mut movement = Movement { skip: 0, rewind: 0, partitions: 0 };
        for (current, target) in changes {
            if current == Some(target) {
                continue;
            }
            movement.partitions += 1;
            match current {
                Some(c) if target > c => movement.skip += target - c,
                Some(c) => movement.rewind += c - target,
                None => {}
            }
        }
        movement
    }
}

/// Refuses when the movement passes any guard, naming every one it passes.
pub fn check(guards: &Guards, group: &str, movement: Movement) -> Result<(), StepError> {
    let over = |limit: Option<u64>, value: u64| limit.filter(|l| value > *l);
    let mut broken = Vec::new();
    if let Some(limit) = over(guards.max_skip, movement.skip.unsigned_abs()) {
        broken.push(format!("skip {} message(s), above max_skip {limit}", movement.skip));
    }
    if let Some(limit) = over(guards.max_rewind, movement.rewind.unsigned_abs()) {
        broken.push(format!("rewind {} message(s), above max_rewind {limit}", movement.rewind));
    }
    if let Some(limit) = over(guards.max_partitions, movement.partitions as u64) {
        broken.push(format!("change {} partition(s), above max_partitions {limit}", movement.partitions));
    }
    if broken.is_empty() {
        Ok(())
    } else {
        Err(StepError::Refused(format!(
            "the reset of group {group:?} would {}; nothing was changed",
            broken.join(" and ")
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn movement_counts_moves_of_committed_partitions_only() {
        let m = Movement::of([(Some(10), 25), (Some(40), 30), (None, 7), (Some(5), 5)]);
        assert_eq!(m, Movement { skip: 15, rewind: 10, partitions: 3 });
    }

    #[test]
    fn every_broken_guard_is_named() {
        let guards = Guards { max_skip: Some(10), max_rewind: Some(10), max_partitions: Some(2) };
        let m = Movement { skip: 15, rewind: 10, partitions: 3 };
        let message = check(&guards, "billing", m).unwrap_err().to_string();
        assert!(message.contains("skip 15 message(s), above max_skip 10"), "{message}");
        assert!(!message.contains("max_rewind"), "at the limit is allowed: {message}");
        assert!(message.contains("change 3 partition(s), above max_partitions 2"), "{message}");
        assert!(check(&Guards::default(), "billing", m).is_ok());
    }
}
