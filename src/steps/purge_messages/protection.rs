//! Which consumer groups keep a purge away from their unconsumed records, and
//! how far that lets each partition go: up to the lowest committed offset among
//! them. A protecting group with no committed offset on a partition has not
//! said what it consumed there, so nothing may be deleted on it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use futures_util::StreamExt;

use crate::provider::{Provider, ProviderResult};

/// How many groups' offsets are read at once.
const GROUPS_AT_ONCE: usize = 8;

/// The groups whose unconsumed records a purge keeps.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Protection {
    /// Every group with a committed offset on any partition of the topic.
    #[default]
    All,
    /// No group.
    None,
    /// These groups, whether or not they have committed anything.
    Groups(Vec<String>),
}

/// How far a purge may go on one partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cap {
    /// The lowest committed offset among the groups, and the group it belongs to.
    At { offset: i64, group: String },
    /// These groups have no committed offset on the partition.
    Blocked { groups: Vec<String> },
}

/// The caps of one topic's partitions under a protection.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Caps {
    /// The protecting groups, sorted.
    pub groups: Vec<String>,
    /// Each asked partition's cap; none when no group protects the topic.
    pub by_partition: BTreeMap<i32, Cap>,
    /// Groups that have no committed offset on any partition of the topic.
    pub without_commits: Vec<String>,
}

impl Caps {
    pub fn get(&self, partition: i32) -> Option<&Cap> {
        self.by_partition.get(&partition)
    }
}

/// Reads the committed offsets of the protecting groups on `topic` and caps each partition.
pub async fn caps<P: Provider>(
    provider: &P,
    topic: &str,
    partitions: &[i32],
    protection: &Protection,
) -> ProviderResult<Caps> {
    let topics = [topic.to_owned()];
    let named: Vec<String> = match protection {
        Protection::None => return Ok(Caps::default()),
        Protection::Groups(groups) => groups.clone(),
        Protection::All => provider.list_groups().await?.into_iter().map(|g| g.group).collect(),
    };
    // A few groups at a time: a cluster may have hundreds.
    let topics = &topics;
    let reads: Vec<(String, ProviderResult<Vec<crate::provider::CommittedOffset>>)> =
        futures_util::stream::iter(named.into_iter().map(|group| async move {
            let offsets = provider.committed_offsets(&group, Some(topics)).await;
            (group, offsets)
        }))
        .buffered(GROUPS_AT_ONCE)
        .collect()
        .await;
    let mut committed: BTreeMap<String, BTreeMap<i32, i64>> = BTreeMap::new();
    let mut without_commits = Vec::new();
    for (group, offsets) in reads {
        let offsets: BTreeMap<i32, i64> = offsets?.into_iter().map(|c| (c.partition, c.offset)).collect();
        match protection {
            Protection::All if offsets.is_empty() => continue,
            _ if offsets.is_empty() => without_commits.push(group.clone()),
            _ => {}
        }
        committed.insert(group, offsets);
    }
    let mut by_partition = BTreeMap::new();
    if !committed.is_empty() {
        for &partition in partitions {
            by_partition.insert(partition, cap_of(&committed, partition));
        }
    }
    Ok(Caps { groups: committed.into_keys().collect(), by_partition, without_commits })
}

/// The cap of one partition from each group's committed offsets.
fn cap_of(committed: &BTreeMap<String, BTreeMap<i32, i64>>, partition: i32) -> Cap {
    let blocked: Vec<String> =
        committed.iter().filter(|(_, offsets)| !offsets.contains_key(&partition)).map(|(g, _)| g.clone()).collect();
    if !blocked.is_empty() {
        return Cap::Blocked { groups: blocked };
    }
    let (group, offset) = committed
        .iter()
        .map(|(group, offsets)| (group, offsets[&partition]))
        .min_by_key(|(group, offset)| (*offset, *group))
        .expect("at least one group");
    Cap::At { offset, group: group.clone() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commits(entries: &[(&str, &[(i32, i64)])]) -> BTreeMap<String, BTreeMap<i32, i64>> {
        entries.iter().map(|(g, offsets)| (g.to_string(), offsets.iter().copied().collect())).collect()
    }

    #[test]
    fn the_lowest_committed_offset_caps_and_names_its_group() {
        let c = commits(&[("billing", &[(0, 40), (1, 90)]), ("audit", &[(0, 70), (1, 20)])]);
        assert_eq!(cap_of(&c, 0), Cap::At { offset: 40, group: "billing".into() });
        assert_eq!(cap_of(&c, 1), Cap::At { offset: 20, group: "audit".into() });
    }

    #[test]
    fn a_group_without_a_commit_on_the_partition_blocks_it() {
        let c = commits(&[("billing", &[(0, 40)]), ("audit", &[(0, 70), (1, 20)]), ("ledger", &[(0, 5)])]);
        assert_eq!(cap_of(&c, 1), Cap::Blocked { groups: vec!["billing".into(), "ledger".into()] });
        assert_eq!(cap_of(&c, 0), Cap::At { offset: 5, group: "ledger".into() });
    }
}
