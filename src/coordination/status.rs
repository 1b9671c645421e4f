//! `ebb cluster-status`: the deployment as its state topic tells it, read
//! straight from the coordination cluster (no daemon needed): each replica,
//! when it was last heard from, what it owns and how far behind its tail
//! is; each partition's owner and term, and the target clusters it holds.

use std::time::Duration;

use chrono::{DateTime, Utc};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};
use serde::Serialize;

use super::names::Names;
use super::view::View;
use crate::config::KafkaClusterConfig;
use crate::text_table::Table;

#[derive(Debug, Clone, Serialize)]
pub struct ClusterStatus {
    pub deployment: String,
    pub group: String,
    pub partitions: i32,
    pub replicas: Vec<ReplicaStatus>,
    pub ownership: Vec<PartitionStatus>,
    /// Groups and topics runs hold now.
    pub locks: Vec<super::records::LockRecord>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReplicaStatus {
    pub replica: String,
    pub address: String,
    pub seen_at: DateTime<Utc>,
    /// Heard from within two sessions.
    pub alive: bool,
    pub owned: Vec<i32>,
    /// Records of the coordination topics it had yet to read when it last said.
    pub lag: i64,
    pub version: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PartitionStatus {
    pub partition: i32,
    pub owner: Option<String>,
    pub term: u64,
    pub claimed_at: Option<DateTime<Utc>>,
    /// The clusters of ebb.yaml whose work this partition holds.
    pub clusters: Vec<String>,
}

/// Reads the state topic to its end. Blocks.
pub fn read(cluster: &KafkaClusterConfig, deployment: &str) -> Result<(View, i32), String> {
    let timeout = cluster.timeout.duration;
    let mut config = crate::provider::kafka::settings::base(cluster);
    config.set("isolation.level", "read_committed").set("group.id", format!("ebb.{deployment}.status"));
    let consumer: BaseConsumer = config.create().map_err(|e| format!("cannot make a client: {e}"))?;
    let topic = Names::new(deployment, 1).state_topic();
    let metadata = consumer.fetch_metadata(Some(&topic), timeout).map_err(|e| format!("cannot read metadata: {e}"))?;
    let partitions = metadata
        .topics()
        .first()
        .filter(|t| t.error().is_none() && !t.partitions().is_empty())
        .map(|t| t.partitions().len() as i32)
        .ok_or_else(|| format!("topic {topic} does not exist: no replica of deployment {deployment} has started"))?;
    let mut ends = Vec::new();
    let mut list = TopicPartitionList::new();
    for partition in 0..partitions {
        let (_, high) = consumer
            .fetch_watermarks(&topic, partition, timeout)
            .map_err(|e| format!("cannot read the end of {topic}:{partition}: {e}"))?;
        ends.push(high);
        list.add_partition_offset(&topic, partition, Offset::Beginning).map_err(|e| e.to_string())?;
    }
    consumer.assign(&list).map_err(|e| e.to_string())?;
    let mut view = View::default();
    let deadline = std::time::Instant::now() + timeout.max(Duration::from_secs(10));
    let done = |view: &View| (0..partitions).all(|p| view.has_read(&topic, p, ends[p as usize]));
    while !done(&view) {
        if std::time::Instant::now() > deadline {
            return Err(format!("topic {topic} could not be read to its end in time"));
        }
        if let Some(Ok(message)) = consumer.poll(Duration::from_millis(100)) {
            let key = message.key().map(|k| String::from_utf8_lossy(k).into_owned()).unwrap_or_default();
            view.absorb_message(&key, message.payload());
            view.read_up_to(&topic, message.partition(), message.offset() + 1);
        }
        if let Ok(positions) = consumer.position() {
            view.read_up_to_positions(&positions);
        }
    }
    Ok((view, partitions))
}

/// The status `view` shows, at `now`; `clusters` are the target clusters of ebb.yaml.
pub fn status(
    view: &View,
    deployment: &str,
    partitions: i32,
    session: Duration,
    clusters: &[String],
    now: DateTime<Utc>,
) -> ClusterStatus {
    let names = Names::new(deployment, partitions);
    let alive_within = chrono::Duration::from_std(session * 2).unwrap_or_default();
    let replicas = view
        .replicas
        .values()
        .map(|r| ReplicaStatus {
            replica: r.replica.clone(),
            address: r.address.clone(),
            seen_at: r.seen_at,
            alive: now - r.seen_at <= alive_within,
            owned: r.owned.clone(),
            lag: r.lag,
            version: r.version.clone(),
        })
        .collect();
    let ownership = (0..partitions)
        .map(|partition| {
            let claim = view.claims.get(&partition);
            PartitionStatus {
                partition,
                owner: claim.map(|c| c.replica.clone()),
                term: claim.map_or(0, |c| c.term),
                claimed_at: claim.map(|c| c.at),
                clusters: clusters.iter().filter(|c| names.partition_of(c) == partition).cloned().collect(),
            }
        })
        .collect();
    let locks = view.locks.values().cloned().collect();
    ClusterStatus { deployment: deployment.to_owned(), group: names.group(), partitions, replicas, ownership, locks }
}

pub fn render(status: &ClusterStatus, now: DateTime<Utc>) -> String {
    let mut out =
        format!("Deployment {} (group {}, {} partitions)\n\n", status.deployment, status.group, status.partitions);
    let mut replicas = Table::new(vec!["REPLICA", "ADDRESS", "LAST-SEEN", "ALIVE", "OWNS", "LAG", "VERSION"]);
    for r in &status.replicas {
        let owns: Vec<String> = r.owned.iter().map(i32::to_string).collect();
        replicas.row(vec![
            crate::shown::bare(&r.replica),
            crate::shown::bare(&r.address),
            format!("{}s ago", (now - r.seen_at).num_seconds().max(0)),
            if r.alive { "yes" } else { "no" }.to_owned(),
            if owns.is_empty() { "-".to_owned() } else { owns.join(",") },
            r.lag.to_string(),
            crate::shown::bare(&r.version),
        ]);
    }
    if replicas.is_empty() {
        out.push_str("No replicas have said they are alive.\n");
    } else {
        out.push_str(&replicas.render());
    }
    out.push('\n');
    let mut partitions = Table::new(vec!["PARTITION", "OWNER", "TERM", "CLAIMED", "CLUSTERS"]);
    for p in &status.ownership {
        partitions.row(vec![
            p.partition.to_string(),
            p.owner.as_deref().map_or_else(|| "-".to_owned(), crate::shown::bare),
            p.term.to_string(),
            p.claimed_at.map_or_else(|| "-".to_owned(), |at| at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            if p.clusters.is_empty() { "-".to_owned() } else { p.clusters.join(",") },
        ]);
    }
    out.push_str(&partitions.render());
    out.push('\n');
    if status.locks.is_empty() {
        out.push_str("No run holds a lock.\n");
    } else {
        let mut locks = Table::new(vec!["CLUSTER", "LOCKED", "RUN", "REPLICA", "SINCE"]);
        for l in &status.locks {
            locks.row(vec![
                crate::shown::bare(&l.cluster),
                crate::shown::bare(&l.target),
                crate::shown::bare(&l.run_id),
                crate::shown::bare(&l.replica),
                l.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            ]);
        }
        out.push_str(&locks.render());
    }
    out
}
