//! Metadata read a moment ago answers again. One command asks the same
//! question several times within milliseconds (a reset plan reads the
//! committed offsets, the scope's topics, the coordinator's brokers and the
//! partition leaders), and at 10,000 partitions each answer costs the broker
//! tens of milliseconds. Like Kafka's own clients, ebb keeps the last answer
//! and forgets it on any failed call, so a moved leader or a deleted topic is
//! read afresh on the retry; unlike them it keeps it for one second only, so
//! a long-lived daemon never plans from stale partition counts.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::wire::metadata::ClusterMetadata;

/// How long an answer is reused.
pub const REUSE_FOR: Duration = Duration::from_secs(1);

#[derive(Default)]
pub struct RecentMetadata {
    last: Mutex<Option<Kept>>,
}

struct Kept {
    read_at: Instant,
    /// Whether the request asked for every topic (`None`).
    all_topics: bool,
    metadata: ClusterMetadata,
}

impl RecentMetadata {
    /// The kept answer, narrowed to `topics`, when it is fresh and holds each
    /// of them whole: known, and a leader for every partition. A question
    /// for every topic is answered only by an answer for every topic.
    pub fn get(&self, topics: Option<&[&str]>) -> Option<ClusterMetadata> {
        let last = self.last.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let kept = last.as_ref().filter(|k| k.read_at.elapsed() < REUSE_FOR)?;
        let Some(names) = topics else {
            return kept.all_topics.then(|| kept.metadata.clone());
        };
        let mut narrowed = ClusterMetadata { brokers: kept.metadata.brokers.clone(), topics: Vec::new() };
        for name in names {
            let topic = kept.metadata.topics.iter().find(|t| t.name == *name)?;
            if topic.error != 0 || topic.partitions.iter().any(|p| p.leader < 0) {
                return None;
            }
            narrowed.topics.push(topic.clone());
        }
        Some(narrowed)
    }

    /// Keeps a fresh answer to a request for `topics`.
    pub fn keep(&self, topics: Option<&[&str]>, metadata: &ClusterMetadata) {
        let kept = Kept { read_at: Instant::now(), all_topics: topics.is_none(), metadata: metadata.clone() };
        *self.last.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(kept);
    }

    /// Drops the kept answer: a call failed, and the next one reads afresh.
    pub fn forget(&self) {
        *self.last.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::kafka::wire::Broker;
    use crate::provider::kafka::wire::metadata::{PartitionMetadata, TopicMetadata};

    fn topic(name: &str, leaders: &[i32], error: i16) -> TopicMetadata {
        let partitions = leaders
            .iter()
            .enumerate()
            .map(|(id, leader)| PartitionMetadata { id: id as i32, leader: *leader, replicas: vec![1] })
            .collect();
        TopicMetadata { name: name.to_owned(), error, partitions }
    }

    fn cluster() -> ClusterMetadata {
        ClusterMetadata {
            brokers: vec![Broker { id: 1, address: "127.0.0.1:9092".to_owned() }],
            topics: vec![topic("a", &[1, 1], 0), topic("b", &[1], 0), topic("leaderless", &[1, -1], 0)],
        }
    }

    #[test]
    fn a_fresh_answer_serves_any_subset_of_its_whole_topics() {
        let recent = RecentMetadata::default();
        assert_eq!(recent.get(Some(&["a"])), None, "nothing kept yet");
        recent.keep(Some(&["a", "b", "leaderless"]), &cluster());
        let narrowed = recent.get(Some(&["b", "a"])).expect("both are kept");
        assert_eq!(narrowed.topics.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), ["b", "a"]);
        assert_eq!(narrowed.brokers, cluster().brokers);
        assert_eq!(recent.get(Some(&["a", "c"])), None, "a topic not kept is read afresh");
        assert_eq!(recent.get(Some(&["leaderless"])), None, "a partition without a leader is read afresh");
        assert_eq!(recent.get(None), None, "an answer for some topics is not one for every topic");
    }

    #[test]
    fn an_error_a_failure_or_a_second_go_by_and_it_is_read_afresh() {
        let recent = RecentMetadata::default();
        let mut missing = cluster();
        missing.topics.push(topic("gone", &[], 3));
        recent.keep(None, &missing);
        assert_eq!(recent.get(None), Some(missing.clone()), "every topic answers every topic");
        assert_eq!(recent.get(Some(&["gone"])), None, "an unknown topic is asked again");
        recent.forget();
        assert_eq!(recent.get(Some(&["a"])), None, "forgotten after a failed call");
        recent.keep(None, &missing);
        if let Some(kept) = recent.last.lock().unwrap().as_mut() {
            kept.read_at = Instant::now() - REUSE_FOR;
        }
        assert_eq!(recent.get(Some(&["a"])), None, "kept one second only");
    }
}
