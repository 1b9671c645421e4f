//! The gate of `delete_offsets`: the coordinator refuses to delete a group's
//! offsets on a topic while a live member consumes it, so ebb looks first and
//! refuses naming those members. Members on other topics do not stop it.

use crate::provider::{GroupDescription, GroupMember, Provider};
use crate::step::StepError;
use crate::steps::reset_offsets::gate::member;

/// The live members assigned partitions of any of `topics`.
pub fn members_on<'a>(described: &'a GroupDescription, topics: &[String]) -> Vec<&'a GroupMember> {
    described.members.iter().filter(|m| m.topics.iter().any(|t| topics.contains(t))).collect()
}

/// Who consumes `topics` now, as a sentence; `None` when nobody does.
pub fn consumers(described: &GroupDescription, topics: &[String]) -> Option<String> {
    let members = members_on(described, topics);
    if members.is_empty() {
        return None;
    }
    let list: Vec<String> = members.iter().map(|m| format!("{} ({})", member(m), m.topics.join(", "))).collect();
    Some(format!(
        "group {:?} is {} and {} member(s) consume these topics: {}",
        described.group,
        described.state,
        members.len(),
        list.join(", ")
    ))
}

/// What a plan says when members consume the topics: apply will refuse.
pub fn plan_warning(described: &GroupDescription, topics: &[String]) -> Option<String> {
    consumers(described, topics).map(|who| format!("{who}: apply will refuse unless they stop by then"))
}

/// Refuses while a live member consumes any of `topics`.
pub async fn check<P: Provider>(provider: &P, group: &str, topics: &[String]) -> Result<GroupDescription, StepError> {
    let described = provider.describe_group(group).await?;
    match consumers(&described, topics) {
        Some(who) => Err(StepError::Refused(format!(
            "{who}; the broker keeps a group's offsets on a topic it consumes: stop those consumers (or move them off \
             the topics) and try again"
        ))),
        None => Ok(described),
    }
}
