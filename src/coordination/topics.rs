//! The deployment's two topics, made on first start when missing: compacted
//! (a key's latest value is what counts; tombstones remove), compressed, with
//! the cluster's default replication. A deployment's partition count is fixed
//! by its state topic; the runs topic must have the same.

use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::types::RDKafkaErrorCode;

use super::names::Names;
use crate::config::KafkaClusterConfig;

/// Makes the topics if missing; returns the partition count they have.
pub async fn ensure(cluster: &KafkaClusterConfig, deployment: &str, partitions: i32) -> Result<i32, String> {
    let names = Names::new(deployment, partitions);
    let admin: AdminClient<DefaultClientContext> = crate::provider::kafka::settings::producer(cluster)
        .create()
        .map_err(|e| format!("cannot make an admin client: {e}"))?;
    let timeout = cluster.timeout.duration.max(Duration::from_secs(10));
    let options = AdminOptions::new().request_timeout(Some(timeout)).operation_timeout(Some(timeout));
    let (state, runs) = (names.state_topic(), names.runs_topic());
    fn compacted(name: &str, partitions: i32) -> NewTopic<'_> {
        NewTopic::new(name, partitions, TopicReplication::Fixed(-1))
            .set("cleanup.policy", "compact")
            .set("compression.type", "zstd")
            .set("min.compaction.lag.ms", "60000")
            // A replica away for up to a week still sees the runs retention removed.
            .set("delete.retention.ms", "604800000")
    }
    let made = admin
        .create_topics(&[compacted(&state, partitions), compacted(&runs, partitions)], &options)
        .await
        .map_err(|e| format!("cannot create the topics {state} and {runs}: {e}"))?;
    for result in made {
        match result {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((topic, code)) => return Err(format!("cannot create topic {topic}: {code}")),
        }
    }
    let cluster = cluster.clone();
    tokio::task::spawn_blocking(move || partition_counts(&cluster, &state, &runs)).await.map_err(|e| e.to_string())?
}

fn partition_counts(cluster: &KafkaClusterConfig, state: &str, runs: &str) -> Result<i32, String> {
    let client: BaseConsumer =
        crate::provider::kafka::settings::base(cluster).create().map_err(|e| format!("cannot make a client: {e}"))?;
    let deadline = std::time::Instant::now() + cluster.timeout.duration.max(Duration::from_secs(10));
    loop {
        let count = |topic: &str| -> Result<usize, String> {
            let metadata = client
                .fetch_metadata(Some(topic), cluster.timeout.duration)
                .map_err(|e| format!("cannot read the metadata of {topic}: {e}"))?;
            Ok(metadata.topics().first().map_or(0, |t| if t.error().is_some() { 0 } else { t.partitions().len() }))
        };
        let (s, r) = (count(state)?, count(runs)?);
        if s > 0 && s == r {
            return Ok(s as i32);
        }
        if s > 0 && r > 0 {
            return Err(format!("topics {state} ({s} partitions) and {runs} ({r}) must have as many partitions"));
        }
        if std::time::Instant::now() > deadline {
            return Err(format!("topics {state} and {runs} did not appear in time"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
