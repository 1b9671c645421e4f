//! What a deployment's parts are called on the coordination cluster, and
//! which partition owns a target cluster. Every replica derives the same
//! names from the same `coordination.id`.

use sha2::{Digest, Sha256};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names {
    pub deployment: String,
    pub partitions: i32,
}

impl Names {
    pub fn new(deployment: &str, partitions: i32) -> Self {
        Names { deployment: deployment.to_owned(), partitions }
    }

    /// The group every replica joins: its assignment of the state topic's
    /// partitions is who owns what.
    pub fn group(&self) -> String {
        format!("ebb.{}", self.deployment)
    }

    /// Compacted: replicas, ownership claims, schedule cursors.
    pub fn state_topic(&self) -> String {
        format!("ebb.{}.state", self.deployment)
    }

    /// Compacted: every run's record, as it stands.
    pub fn runs_topic(&self) -> String {
        format!("ebb.{}.runs", self.deployment)
    }

    /// The transactional id of partition `partition`'s owner: a new owner's
    /// `init_transactions` fences the one before.
    pub fn owner_transactional_id(&self, partition: i32) -> String {
        format!("ebb.{}.owner.{partition}", self.deployment)
    }

    /// The transactional id offset commits to `group` on `cluster` go under,
    /// so a newer committer fences an older one.
    pub fn commit_transactional_id(&self, cluster: &str, group: &str) -> String {
        format!("ebb.{}.commit.{cluster}.{group}", self.deployment)
    }

    /// The partition that owns target cluster `cluster`: the first eight bytes
    /// of its name's SHA-256, modulo the partitions, the same on every replica
    /// and every version of ebb.
    pub fn partition_of(&self, cluster: &str) -> i32 {
        let digest = Sha256::digest(cluster.as_bytes());
        let head = u64::from_be_bytes(digest[..8].try_into().expect("eight bytes"));
        (head % self.partitions.max(1) as u64) as i32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clusters_partition_is_stable_and_in_range() {
        let names = Names::new("prod", 12);
        assert_eq!(names.partition_of("main"), names.partition_of("main"));
        let spread: std::collections::BTreeSet<i32> = (0..200).map(|i| names.partition_of(&format!("c{i}"))).collect();
        assert_eq!(spread.len(), 12, "200 names reach every partition");
        assert!(spread.iter().all(|p| (0..12).contains(p)));
        // Pinned: a change here would move every deployment's ownership on upgrade.
        assert_eq!(names.partition_of("local"), 4);
        assert_eq!(Names::new("other", 12).partition_of("local"), 4, "the deployment does not change it");
        assert_eq!(names.group(), "ebb.prod");
        assert_eq!(names.commit_transactional_id("main", "g"), "ebb.prod.commit.main.g");
    }
}
