//! What a replica knows of the state topic, as its tail has read it: the
//! replicas, each partition's latest claim, each runbook's schedule cursor,
//! and how far it has read each partition of both topics.

use std::collections::BTreeMap;

use super::records::{ClaimRecord, CursorRecord, LockRecord, ReplicaRecord, StateRecord, lock_key};

#[derive(Debug, Default, Clone)]
pub struct View {
    pub replicas: BTreeMap<String, ReplicaRecord>,
    pub claims: BTreeMap<i32, ClaimRecord>,
    pub cursors: BTreeMap<String, CursorRecord>,
    /// Groups and topics runs are changing, by their key.
    pub locks: BTreeMap<String, LockRecord>,
    /// The next offset the tail reads, by topic and partition.
    pub positions: BTreeMap<(String, i32), i64>,
    /// The end of each partition when last asked, for the lag.
    pub ends: BTreeMap<(String, i32), i64>,
}

impl View {
    /// Takes in one record of the state topic; `None` is a tombstone of `key`.
    pub fn absorb(&mut self, key: &str, record: Option<StateRecord>) {
        match record {
            Some(StateRecord::Replica(r)) if key.strip_prefix("replica/") == Some(r.replica.as_str()) => {
                self.replicas.insert(r.replica.clone(), r);
            }
            Some(StateRecord::Replica(_)) => {}
            Some(StateRecord::Claim(c)) => {
                // Terms only grow: a late write of an older claim is not news.
                // A claim filed under another partition's key is not believed.
                let under_its_key = key.strip_prefix("claim/") == Some(c.partition.to_string().as_str());
                if under_its_key && self.claims.get(&c.partition).is_none_or(|known| known.term <= c.term) {
                    self.claims.insert(c.partition, c);
                }
            }
            Some(StateRecord::Cursor(c)) if key.strip_prefix("cursor/") == Some(c.runbook.as_str()) => {
                self.cursors.insert(c.runbook.clone(), c);
            }
            Some(StateRecord::Cursor(_)) => {}
            Some(StateRecord::Lock(l)) if key == lock_key(&l.cluster, &l.target) => {
                self.locks.insert(key.to_owned(), l);
            }
            Some(StateRecord::Lock(_)) => {}
            None => {
                if let Some(replica) = key.strip_prefix("replica/") {
                    self.replicas.remove(replica);
                } else if let Some(runbook) = key.strip_prefix("cursor/") {
                    self.cursors.remove(runbook);
                } else if key.starts_with("lock/") {
                    self.locks.remove(key);
                }
            }
        }
    }

    /// Whether the tail has read `topic`'s `partition` up to `end`.
    pub fn has_read(&self, topic: &str, partition: i32, end: i64) -> bool {
        end <= 0 || self.positions.get(&(topic.to_owned(), partition)).is_some_and(|at| *at >= end)
    }

    /// Records known to be in the topics and not yet read.
    pub fn lag(&self) -> i64 {
        self.ends.iter().map(|(tp, end)| (end - self.positions.get(tp).copied().unwrap_or(0)).max(0)).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn claim(partition: i32, term: u64, replica: &str) -> StateRecord {
        StateRecord::Claim(ClaimRecord {
            partition,
            replica: replica.into(),
            incarnation: "i".into(),
            term,
            at: Utc::now(),
        })
    }

    #[test]
    fn the_newest_claim_wins_and_tombstones_remove() {
        let mut view = View::default();
        view.absorb("claim/1", Some(claim(1, 2, "a")));
        view.absorb("claim/1", Some(claim(1, 1, "b")));
        assert_eq!(view.claims[&1].replica, "a", "an older term does not take a partition back");
        view.absorb("claim/1", Some(claim(1, 3, "b")));
        assert_eq!(view.claims[&1].replica, "b");
        view.absorb("claim/1", Some(claim(2, 9, "x")));
        assert!(!view.claims.contains_key(&2), "a claim under another partition's key is not believed");
        let replica = ReplicaRecord {
            replica: "a".into(),
            incarnation: "i".into(),
            address: "http://127.0.0.1:1".into(),
            seen_at: Utc::now(),
            owned: vec![],
            lag: 0,
            version: "0".into(),
        };
        view.absorb("replica/a", Some(StateRecord::Replica(replica)));
        assert!(view.replicas.contains_key("a"));
        view.absorb("replica/a", None);
        assert!(view.replicas.is_empty());
        view.positions.insert(("t".into(), 0), 5);
        view.ends.insert(("t".into(), 0), 7);
        assert!(view.has_read("t", 0, 5) && !view.has_read("t", 0, 6) && !view.has_read("t", 1, 1));
        assert!(view.has_read("t", 1, 0), "an empty partition is read");
        assert_eq!(view.lag(), 2);
    }
}
