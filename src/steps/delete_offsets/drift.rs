//! A planned deletion's drift: a committed offset in its scope that moved (or
//! appeared, or went) since the plan, or members that now consume its topics.

use crate::provider::{Provider, ProviderError, TopicPartition};
use crate::step::Drift;
use crate::steps::reset_offsets::drift::{committed, offsets_moved};

use super::deletion_plan::DeletionPlan;
use super::gate;

pub async fn find<P: Provider>(plan: &DeletionPlan, provider: &P) -> Result<Vec<Drift>, ProviderError> {
    let now = committed(provider, &plan.group, &plan.topics()).await?;
    let planned = plan
        .deletions
        .iter()
        .map(|d| (d.topic_partition(), Some(d.offset)))
        .chain(plan.absent.iter().map(|a| (TopicPartition::new(a.topic.clone(), a.partition), None)));
    let mut drift = offsets_moved(&plan.group, planned, &now);
    let described = provider.describe_group(&plan.group).await?;
    if let Some(who) = gate::consumers(&described, &plan.topics()) {
        drift.push(Drift::GroupActive { group: plan.group.clone(), activity: who });
    }
    Ok(drift)
}
