//! A planned reset's drift (SPEC §4): a committed offset in its scope that
//! moved since the plan, or a group that was inactive then and has members now.

use std::collections::BTreeMap;

use crate::provider::{Provider, ProviderError, TopicPartition};
use crate::step::Drift;

use super::gate;
use super::reset_plan::ResetPlan;

/// Committed offsets of one group, as read for the drift check.
pub type Committed = BTreeMap<TopicPartition, i64>;

/// Compares a planned reset with the group as it is now.
pub async fn find<P: Provider>(reset: &ResetPlan, provider: &P) -> Result<Vec<Drift>, ProviderError> {
    let now = committed(provider, &reset.group, &reset.topics()).await?;
    let planned = reset
        .changes
        .iter()
        .map(|c| (c.planned.topic_partition(), c.planned.current))
        .chain(reset.unchanged.iter().map(|u| (TopicPartition::new(u.topic.clone(), u.partition), u.current)));
    let mut drift = offsets_moved(&reset.group, planned, &now);
    let was_inactive = matches!(reset.group_state.as_deref(), Some("Empty" | "Dead"));
    if was_inactive && reset.wait_for_inactive.is_none() {
        let described = provider.describe_group(&reset.group).await?;
        if !described.state.is_inactive() {
            drift.push(Drift::GroupActive { group: reset.group.clone(), activity: gate::activity(&described) });
        }
    }
    Ok(drift)
}

/// Each partition whose committed offset (`None`: no commit) is not what the plan found.
pub fn offsets_moved(
    group: &str,
    planned: impl IntoIterator<Item = (TopicPartition, Option<i64>)>,
    now: &Committed,
) -> Vec<Drift> {
    planned
        .into_iter()
        .filter_map(|(tp, planned)| {
            let current = now.get(&tp).copied();
            (current != planned).then(|| Drift::OffsetMoved {
                group: group.to_owned(),
                topic: tp.topic,
                partition: tp.partition,
                planned,
                now: current,
            })
        })
        .collect()
}

/// A group's committed offsets on `topics`.
pub async fn committed<P: Provider>(provider: &P, group: &str, topics: &[String]) -> Result<Committed, ProviderError> {
    Ok(provider
        .committed_offsets(group, Some(topics))
        .await?
        .into_iter()
        .map(|c| (TopicPartition::new(c.topic, c.partition), c.offset))
        .collect())
}
