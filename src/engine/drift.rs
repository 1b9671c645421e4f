//! What may have changed between making a plan and applying it (SPEC §4): the
//! runbook file, a group's committed offsets on any partition in the plan, a
//! group that became active. `--force` overrides drift, never the gates.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::provider::{Provider, ProviderError, TopicPartition};

use super::gate;
use super::plan::{Plan, StepDetail, StepStatus};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "drift", rename_all = "snake_case")]
pub enum Drift {
    /// The file's SHA-256 differs, or (`now` null) the file is gone.
    RunbookChanged {
        path: String,
        planned_sha256: String,
        now_sha256: Option<String>,
    },
    OffsetMoved {
        group: String,
        topic: String,
        partition: i32,
        planned: Option<i64>,
        now: Option<i64>,
    },
    /// The group was inactive when planned and has live members now (the gate
    /// refuses this whatever `--force` says).
    GroupActive {
        group: String,
        activity: String,
    },
}

impl fmt::Display for Drift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |o: &Option<i64>| o.map_or_else(|| "none".to_owned(), |o| o.to_string());
        match self {
            Drift::RunbookChanged { path, now_sha256: None, .. } => write!(f, "runbook file {path} is gone"),
            Drift::RunbookChanged { path, .. } => write!(f, "runbook file {path} changed since the plan was made"),
            Drift::OffsetMoved { group, topic, partition, planned, now } => write!(
                f,
                "group {group:?} committed offset on {topic}:{partition} moved from {} to {} since the plan was made",
                show(planned),
                show(now)
            ),
            Drift::GroupActive { activity, .. } => {
                write!(f, "{activity} now (the reset will be refused while it has members, --force or not)")
            }
        }
    }
}

/// Committed offsets of one group, as read for the drift check.
pub type Committed = BTreeMap<TopicPartition, i64>;

/// Compares the plan with the cluster and the runbook file as they are now.
pub async fn find<P: Provider>(
    plan: &Plan,
    provider: &P,
    sha256_now: Option<&str>,
) -> Result<Vec<Drift>, ProviderError> {
    let mut drift = Vec::new();
    if sha256_now != Some(plan.runbook_sha256.as_str()) {
        drift.push(Drift::RunbookChanged {
            path: plan.runbook_path.clone(),
            planned_sha256: plan.runbook_sha256.clone(),
            now_sha256: sha256_now.map(str::to_owned),
        });
    }
    for step in &plan.steps {
        let (StepStatus::Planned, StepDetail::ResetOffsets(reset)) = (step.status, &step.detail) else { continue };
        let now = committed(provider, &reset.group, &reset.topics()).await?;
        let planned = reset
            .changes
            .iter()
            .map(|c| (c.planned.topic_partition(), c.planned.current))
            .chain(reset.unchanged.iter().map(|u| (TopicPartition::new(u.topic.clone(), u.partition), u.current)));
        for (tp, planned) in planned {
            let current = now.get(&tp).copied();
            if current != planned {
                drift.push(Drift::OffsetMoved {
                    group: reset.group.clone(),
                    topic: tp.topic,
                    partition: tp.partition,
                    planned,
                    now: current,
                });
            }
        }
        let was_inactive = matches!(reset.group_state.as_deref(), Some("Empty" | "Dead"));
        if was_inactive && reset.wait_for_inactive.is_none() {
            let described = provider.describe_group(&reset.group).await?;
            if !described.state.is_inactive() {
                drift.push(Drift::GroupActive { group: reset.group.clone(), activity: gate::activity(&described) });
            }
        }
    }
    Ok(drift)
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
