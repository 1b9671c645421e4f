//! librdkafka settings for ebb's clients: the cluster's `bootstrap_servers` and
//! `properties` from `ebb.yaml`, on top of defaults that keep ebb's reads from
//! ever joining a group, committing on their own, or creating topics.

use rdkafka::ClientConfig;

use crate::config::KafkaClusterConfig;

/// Defaults ebb sets before the operator's `properties`, which may override them.
fn defaults(timeout_ms: u128) -> [(&'static str, String); 8] {
    [
        ("client.id", "ebb".to_owned()),
        ("enable.auto.commit", "false".to_owned()),
        ("enable.auto.offset.store", "false".to_owned()),
        ("allow.auto.create.topics", "false".to_owned()),
        // Log end means the high watermark, as in Apache Kafka's tools.
        ("isolation.level", "read_uncommitted".to_owned()),
        ("socket.connection.setup.timeout.ms", timeout_ms.max(1000).to_string()),
        ("reconnect.backoff.max.ms", "1000".to_owned()),
        ("topic.metadata.refresh.interval.ms", "60000".to_owned()),
    ]
}

/// Settings for the producer of the audit stream: the cluster's connection
/// and security `properties` (consumer-only ones would only be warned about),
/// every write acknowledged by all in-sync replicas, idempotent.
pub fn producer(cluster: &KafkaClusterConfig) -> ClientConfig {
    let mut config = ClientConfig::new();
    config.set("client.id", "ebb-audit");
    for (key, value) in &cluster.properties {
        let consumer_only = key.starts_with("enable.auto.") || key.starts_with("auto.") || key == "isolation.level";
        if !consumer_only {
            config.set(key, value);
        }
    }
    config
        .set("bootstrap.servers", &cluster.bootstrap_servers)
        .set("acks", "all")
        .set("enable.idempotence", "true")
        .set("message.timeout.ms", cluster.timeout.duration.as_millis().max(1000).to_string());
    config
}

/// `producer` settings made transactional under `id`: a newer producer with
/// the same id fences this one. Its transactions time out after `timeout`
/// (10 s at least), so one left open by a dead process does not hold readers.
pub fn transactional(producer: &ClientConfig, id: &str, timeout: std::time::Duration) -> ClientConfig {
    let mut config = producer.clone();
    config.set("transactional.id", id).set("transaction.timeout.ms", timeout.as_millis().max(10_000).to_string());
    config
}

/// Settings for a consumer that reads metadata and offsets but belongs to no group.
pub fn base(cluster: &KafkaClusterConfig) -> ClientConfig {
    let mut config = ClientConfig::new();
    for (key, value) in defaults(cluster.timeout.duration.as_millis()) {
        config.set(key, value);
    }
    for (key, value) in &cluster.properties {
        config.set(key, value);
    }
    config.set("bootstrap.servers", &cluster.bootstrap_servers);
    config
}

/// Whether the cluster's listener is plain TCP (no `security.protocol`, or PLAINTEXT).
pub fn is_plaintext(cluster: &KafkaClusterConfig) -> bool {
    cluster.properties.get("security.protocol").is_none_or(|p| p.eq_ignore_ascii_case("plaintext"))
}

/// Whether scans read committed records only, leaving out aborted
/// transactions, as Kafka's own consumer and tools do when asked: unless the
/// operator's `properties` say `isolation.level: read_uncommitted`.
pub fn scans_read_committed(cluster: &KafkaClusterConfig) -> bool {
    cluster.properties.get("isolation.level").is_none_or(|level| !level.eq_ignore_ascii_case("read_uncommitted"))
}

/// The client id ebb's requests carry: the operator's `client.id`, or `ebb`.
pub fn client_id(cluster: &KafkaClusterConfig) -> &str {
    cluster.properties.get("client.id").map_or("ebb", String::as_str)
}

/// Settings for a client that speaks for `group` (offset fetches and commits)
/// without ever subscribing, so it never joins the group as a member.
pub fn for_group(base: &ClientConfig, group: &str) -> ClientConfig {
    let mut config = base.clone();
    config.set("group.id", group);
    config
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::HumanDuration;

    #[test]
    fn operator_properties_override_defaults_but_not_bootstrap() {
        let cluster = KafkaClusterConfig {
            bootstrap_servers: "127.0.0.1:1".into(),
            properties: [
                ("client.id".to_owned(), "ops".to_owned()),
                ("bootstrap.servers".to_owned(), "elsewhere:9".to_owned()),
            ]
            .into_iter()
            .collect(),
            timeout: HumanDuration::parse("3s").unwrap(),
            from_files: Vec::new(),
        };
        let config = base(&cluster);
        assert_eq!(config.get("client.id"), Some("ops"));
        assert_eq!(config.get("bootstrap.servers"), Some("127.0.0.1:1"));
        assert_eq!(config.get("socket.connection.setup.timeout.ms"), Some("3000"));
        assert_eq!(config.get("enable.auto.commit"), Some("false"));
        assert_eq!(for_group(&config, "g").get("group.id"), Some("g"));
    }

    #[test]
    fn scans_read_committed_unless_the_operator_says_otherwise() {
        let cluster = |level: Option<&str>| KafkaClusterConfig {
            bootstrap_servers: "127.0.0.1:1".into(),
            properties: level.map(|l| ("isolation.level".to_owned(), l.to_owned())).into_iter().collect(),
            timeout: HumanDuration::parse("3s").unwrap(),
            from_files: Vec::new(),
        };
        assert!(scans_read_committed(&cluster(None)));
        assert!(scans_read_committed(&cluster(Some("read_committed"))));
        assert!(!scans_read_committed(&cluster(Some("READ_UNCOMMITTED"))));
    }
}
