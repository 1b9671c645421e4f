//! `coordination:` in ebb.yaml: several daemons run as one deployment,
//! coordinated through a Kafka cluster (docs/HA.md). Without it a daemon runs
//! alone on its sled store, as it always has.

use serde::Deserialize;

use crate::time::HumanDuration;

/// Partitions of the state and runs topics: the units of ownership. Fixed
/// for a deployment's life, since a cluster's partition is its name's hash.
pub const DEFAULT_PARTITIONS: i32 = 12;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoordinationConfig {
    /// A `kafka` cluster in `clusters` that holds the deployment's group and topics.
    pub cluster: String,
    /// The deployment's id, the same on every replica: it names the group
    /// `ebb.<id>`, the topics `ebb.<id>.state` and `ebb.<id>.runs`, and the
    /// transactional ids. Lowercase letters, digits, `-` and `_`.
    pub id: String,
    /// This replica's own name, different on each: lowercase letters, digits,
    /// `-` and `_`. Default: the host's name and the daemon's port.
    #[serde(default)]
    pub replica: Option<String>,
    /// The address other replicas forward API runs to. Default: the daemon's
    /// listen address as it was bound.
    #[serde(default)]
    pub advertise: Option<String>,
    /// How long a replica may go without reaching the coordination cluster
    /// before it stops acting and another takes its work. Default 10s; 6s to 5m.
    #[serde(default = "default_session")]
    pub session: HumanDuration,
    /// Partitions of the topics when ebb creates them. Default 12.
    #[serde(default = "default_partitions")]
    pub partitions: i32,
}

fn default_session() -> HumanDuration {
    HumanDuration::parse("10s").expect("a valid duration")
}

fn default_partitions() -> i32 {
    DEFAULT_PARTITIONS
}

/// Whether `name` may be a deployment or replica name: it becomes part of
/// topic names and transactional ids.
fn good_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

impl CoordinationConfig {
    /// What is wrong with the section, if anything; `clusters` pairs each
    /// cluster's name with whether it is a `kafka` one.
    pub fn problems(&self, clusters: &[(&str, bool)]) -> Vec<String> {
        let mut problems = Vec::new();
        match clusters.iter().find(|(name, _)| *name == self.cluster) {
            None => problems.push(format!("coordination.cluster: no cluster {:?} in clusters", self.cluster)),
            Some((_, false)) => problems.push(format!(
                "coordination.cluster: {:?} is not a kafka cluster; replicas coordinate over the Kafka protocol",
                self.cluster
            )),
            Some((_, true)) => {}
        }
        if !good_name(&self.id) {
            problems.push("coordination.id: 1 to 64 lowercase letters, digits, `-` and `_`".to_owned());
        }
        if self.replica.as_deref().is_some_and(|r| !good_name(r)) {
            problems.push("coordination.replica: 1 to 64 lowercase letters, digits, `-` and `_`".to_owned());
        }
        let session = self.session.duration;
        if session < std::time::Duration::from_secs(6) || session > std::time::Duration::from_secs(300) {
            problems.push("coordination.session: between 6s and 5m (Kafka's group session bounds)".to_owned());
        }
        if !(1..=1000).contains(&self.partitions) {
            problems.push("coordination.partitions: between 1 and 1000".to_owned());
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> CoordinationConfig {
        serde_yaml::from_str(text).unwrap()
    }

    #[test]
    fn names_session_and_cluster_are_checked() {
        let clusters = [("main", true), ("tencent", false)];
        let good = parse("cluster: main\nid: prod-ebb\nreplica: r1\n");
        assert!(good.problems(&clusters).is_empty(), "{:?}", good.problems(&clusters));
        assert_eq!(good.session.duration, std::time::Duration::from_secs(10));
        assert_eq!(good.partitions, DEFAULT_PARTITIONS);
        let bad = parse("cluster: tencent\nid: Prod.Ebb\nreplica: \"a b\"\nsession: 1s\npartitions: 0\n");
        let problems = bad.problems(&clusters).join("\n");
        for wanted in ["not a kafka cluster", "coordination.id", "coordination.replica", "session", "partitions"] {
            assert!(problems.contains(wanted), "{wanted}: {problems}");
        }
        let unknown = parse("cluster: elsewhere\nid: x\n");
        assert!(unknown.problems(&clusters)[0].contains("no cluster \"elsewhere\""));
    }
}
