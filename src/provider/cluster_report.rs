//! What an operator checks before touching a cluster — every topic's log
//! start and log end per partition, and every group's state, members,
//! committed offsets and lag — read once and shown as two tables by
//! `ebb cluster describe` and by the console's cluster page.

use std::collections::HashMap;

use serde::Serialize;

use super::{GroupMember, GroupState, Provider, ProviderError, TopicPartition};
use crate::text_table::Table;

#[derive(Debug, Serialize)]
pub struct ClusterReport {
    pub cluster: String,
    pub topics: Vec<TopicReport>,
    pub groups: Vec<GroupReport>,
}

#[derive(Debug, Serialize)]
pub struct TopicReport {
    pub topic: String,
    pub partitions: Vec<PartitionReport>,
}

#[derive(Debug, Serialize)]
pub struct PartitionReport {
    pub partition: i32,
    pub leader: Option<i32>,
    pub log_start: i64,
    pub log_end: i64,
}

#[derive(Debug, Serialize)]
pub struct GroupReport {
    pub group: String,
    pub state: GroupState,
    pub members: Vec<GroupMember>,
    pub offsets: Vec<GroupOffsetReport>,
}

#[derive(Debug, Serialize)]
pub struct GroupOffsetReport {
    pub topic: String,
    pub partition: i32,
    pub committed: i64,
    pub log_end: Option<i64>,
    pub lag: Option<i64>,
}

/// Reads everything the report shows: one metadata request, one batched
/// watermark lookup, and per group one listing and one offset fetch.
pub async fn build_report<P: Provider>(
    provider: &P,
    topics: &[String],
    groups: &[String],
) -> Result<ClusterReport, ProviderError> {
    let described = if topics.is_empty() {
        provider.topics().await?
    } else {
        let mut described = Vec::with_capacity(topics.len());
        for topic in topics {
            described.push(provider.topic(topic).await?);
        }
        described
    };
    let partitions: Vec<TopicPartition> = described.iter().flat_map(|t| t.topic_partitions()).collect();
    let watermarks = provider.watermarks(&partitions).await?;
    let log_ends: HashMap<(&str, i32), i64> =
        watermarks.iter().map(|w| ((w.topic.as_str(), w.partition), w.log_end)).collect();

    let topic_reports = described
        .iter()
        .map(|t| TopicReport {
            topic: t.name.clone(),
            partitions: t
                .partitions
                .iter()
                .zip(watermarks.iter().filter(|w| w.topic == t.name))
                .map(|(p, w)| PartitionReport {
                    partition: p.partition,
                    leader: p.leader,
                    log_start: w.log_start,
                    log_end: w.log_end,
                })
                .collect(),
        })
        .collect();

    let group_names: Vec<String> = if groups.is_empty() {
        provider.list_groups().await?.into_iter().map(|g| g.group).collect()
    } else {
        groups.to_vec()
    };
    let topic_scope = (!topics.is_empty()).then_some(topics);
    let mut group_reports = Vec::with_capacity(group_names.len());
    for group in group_names {
        let description = provider.describe_group(&group).await?;
        let committed = provider.committed_offsets(&group, topic_scope).await?;
        let named = !groups.is_empty();
        if named && description.state == GroupState::Dead && description.members.is_empty() && committed.is_empty() {
            return Err(ProviderError::UnknownGroup { cluster: provider.cluster().to_owned(), group });
        }
        let offsets = committed
            .into_iter()
            .map(|c| {
                let log_end = log_ends.get(&(c.topic.as_str(), c.partition)).copied();
                GroupOffsetReport {
                    lag: log_end.map(|end| (end - c.offset).max(0)),
                    topic: c.topic,
                    partition: c.partition,
                    committed: c.offset,
                    log_end,
                }
            })
            .collect();
        group_reports.push(GroupReport { group, state: description.state, members: description.members, offsets });
    }
    Ok(ClusterReport { cluster: provider.cluster().to_owned(), topics: topic_reports, groups: group_reports })
}

/// The report's two tables: topics' partitions, and groups' offsets.
pub fn tables(report: &ClusterReport) -> (Table, Table) {
    let mut topics = Table::new(vec!["TOPIC", "PARTITION", "LEADER", "LOG-START", "LOG-END", "MESSAGES"]);
    for topic in &report.topics {
        for p in &topic.partitions {
            topics.row(vec![
                topic.topic.clone(),
                p.partition.to_string(),
                p.leader.map_or("-".to_owned(), |l| l.to_string()),
                p.log_start.to_string(),
                p.log_end.to_string(),
                (p.log_end - p.log_start).to_string(),
            ]);
        }
    }
    let mut groups = Table::new(vec!["GROUP", "STATE", "MEMBERS", "TOPIC", "PARTITION", "COMMITTED", "LOG-END", "LAG"]);
    for group in &report.groups {
        let state = group.state.to_string();
        let members = group.members.len().to_string();
        if group.offsets.is_empty() {
            groups.row(vec![
                group.group.clone(),
                state.clone(),
                members.clone(),
                "-".into(),
                "-".into(),
                "-".into(),
                "-".into(),
                "-".into(),
            ]);
        }
        for o in &group.offsets {
            groups.row(vec![
                group.group.clone(),
                state.clone(),
                members.clone(),
                o.topic.clone(),
                o.partition.to_string(),
                o.committed.to_string(),
                o.log_end.map_or("-".to_owned(), |v| v.to_string()),
                o.lag.map_or("-".to_owned(), |v| v.to_string()),
            ]);
        }
    }
    (topics, groups)
}
