//! The group-state gate of `reset_offsets` (SPEC §3.3): offsets are committed
//! only while the group is Empty, Dead or unknown to the cluster. Otherwise
//! the reset is refused, naming the state and every member, or, with
//! `wait_for_inactive`, the group is polled until it empties or time runs out.

use std::time::{Duration, Instant};

use crate::provider::{GroupDescription, GroupMember, Provider};
use crate::time::HumanDuration;

use crate::step::StepError;

const POLL_EVERY: Duration = Duration::from_secs(1);

/// Waits up to `wait` for the group to have no live members.
pub async fn wait_until_inactive<P: Provider>(
    provider: &P,
    group: &str,
    wait: Option<Duration>,
) -> Result<GroupDescription, StepError> {
    let deadline = Instant::now() + wait.unwrap_or_default();
    loop {
        let described = provider.describe_group(group).await?;
        if described.state.is_inactive() {
            return Ok(described);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(StepError::Refused(refusal(&described, wait)));
        }
        tracing::info!(group, state = %described.state, "waiting for the group to become inactive");
        tokio::time::sleep(POLL_EVERY.min(left)).await;
    }
}

/// What a plan says about a group that still has members: apply waits for it
/// (`wait_for_inactive`) or refuses unless it is inactive by then.
pub fn plan_warning(described: &GroupDescription, wait: Option<&HumanDuration>) -> Option<String> {
    if described.state.is_inactive() {
        return None;
    }
    let then = match wait {
        Some(w) => format!("apply will wait up to {} for it to become inactive", w.text),
        None => "apply will refuse unless it is inactive by then".to_owned(),
    };
    Some(format!("{}: {then}", activity(described)))
}

/// The group's state and every member's client id and host.
pub fn activity(described: &GroupDescription) -> String {
    let members = if described.members.is_empty() {
        String::new()
    } else {
        let list: Vec<String> = described.members.iter().map(member).collect();
        format!(" with {} member(s): {}", described.members.len(), list.join(", "))
    };
    format!("group {:?} is {}{members}", described.group, described.state)
}

/// A member as messages name it: its client id and host, which come from
/// the client itself, escaped and cut short.
pub fn member(m: &GroupMember) -> String {
    format!("{} on {}", crate::shown::bare(&m.client_id), crate::shown::bare(&m.host))
}

/// Why an active group cannot be reset.
pub fn refusal(described: &GroupDescription, waited: Option<Duration>) -> String {
    let waited = match waited {
        Some(w) if !w.is_zero() => format!(" after waiting {:.0}s", w.as_secs_f64()),
        _ => String::new(),
    };
    format!(
        "{}{waited}; offsets can only be reset while it has no live members: stop its consumers (or set wait_for_inactive) and try again",
        activity(described)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::{GroupMember, GroupState};

    #[test]
    fn the_refusal_names_state_and_members() {
        let described = GroupDescription {
            group: "billing".into(),
            state: GroupState::Stable,
            group_type: "consumer".into(),
            members: vec![
                GroupMember {
                    member_id: "m1".into(),
                    client_id: "billing-1".into(),
                    host: "10.0.0.5".into(),
                    topics: vec![],
                },
                GroupMember {
                    member_id: "m2".into(),
                    client_id: "billing-2".into(),
                    host: "10.0.0.6".into(),
                    topics: vec![],
                },
            ],
        };
        let message = refusal(&described, Some(Duration::from_secs(30)));
        assert!(message.starts_with("group \"billing\" is Stable with 2 member(s): billing-1 on 10.0.0.5, billing-2 on 10.0.0.6 after waiting 30s"), "{message}");
    }
}
