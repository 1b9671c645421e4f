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

    /// Takes in one message of the state topic as it came: a value this ebb
    /// cannot read (a newer one wrote it) changes nothing.
    pub fn absorb_message(&mut self, key: &str, value: Option<&[u8]>) {
        let record = value.and_then(|v| StateRecord::parse(key, v));
        if value.is_none() || record.is_some() {
            self.absorb(key, record);
        }
    }

    /// Notes that `topic`'s `partition` has been read up to `next` (never back).
    pub fn read_up_to(&mut self, topic: &str, partition: i32, next: i64) {
        let known = self.positions.entry((topic.to_owned(), partition)).or_insert(next);
        *known = (*known).max(next);
    }

    /// Notes a consumer's positions: transaction markers move them without a message.
    pub fn read_up_to_positions(&mut self, positions: &rdkafka::TopicPartitionList) {
        for element in positions.elements() {
            if let rdkafka::Offset::Offset(next) = element.offset() {
                self.read_up_to(element.topic(), element.partition(), next);
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
        view.read_up_to("t", 0, 5);
        view.read_up_to("t", 0, 3);
        view.absorb_message("replica/b", Some(b"not json"));
        assert!(view.replicas.is_empty(), "an unreadable value changes nothing");
        view.ends.insert(("t".into(), 0), 7);
        assert!(view.has_read("t", 0, 5) && !view.has_read("t", 0, 6) && !view.has_read("t", 1, 1));
        assert!(view.has_read("t", 1, 0), "an empty partition is read");
        assert_eq!(view.lag(), 2);
    }
}
