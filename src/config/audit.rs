//! `audit:` in ebb.yaml: where every run's state changes go, as CloudEvents.

use serde::Deserialize;

use super::WebhookConfig;

/// The audit stream: sinks every run's state changes are delivered to, at
/// least once, through an outbox in the data dir.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditConfig {
    /// Where events go; each is delivered to every sink.
    pub sinks: Vec<AuditSink>,
    /// Events the outbox keeps while a sink cannot take them; past this the
    /// oldest are dropped (and counted). Default 100000.
    #[serde(default)]
    pub max_events: Option<u64>,
}

/// One sink, named (its delivery position is kept under its name).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditSink {
    /// Lowercase letters, digits and `-`.
    pub name: String,
    /// POST each event (`application/cloudevents+json`).
    #[serde(default)]
    pub webhook: Option<WebhookConfig>,
    /// Produce each event to a topic of a `kafka` cluster in `clusters`.
    #[serde(default)]
    pub kafka: Option<KafkaAuditSink>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaAuditSink {
    /// A cluster in `clusters` (provider `kafka`).
    pub cluster: String,
    /// The topic; it must exist.
    pub topic: String,
}

/// Events kept by default while a sink is down.
pub const DEFAULT_MAX_EVENTS: u64 = 100_000;

impl AuditConfig {
    /// What is wrong with the sinks, if anything.
    pub fn problems(&self, clusters: &[(&str, bool)]) -> Vec<String> {
        let mut problems = Vec::new();
        if self.sinks.is_empty() {
            problems.push("audit.sinks: name at least one sink".to_owned());
        }
        let mut seen = std::collections::BTreeSet::new();
        for (i, sink) in self.sinks.iter().enumerate() {
            let at = format!("audit.sinks[{i}]");
            let good_name = !sink.name.is_empty()
                && sink.name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if !good_name {
                problems.push(format!("{at}.name: lowercase letters, digits and `-`"));
            }
            if !seen.insert(sink.name.as_str()) {
                problems.push(format!("{at}.name: {:?} is used twice", sink.name));
            }
            match (&sink.webhook, &sink.kafka) {
                (Some(_), None) => {}
                (None, Some(kafka)) => match clusters.iter().find(|(name, _)| *name == kafka.cluster) {
                    None => problems.push(format!("{at}.kafka.cluster: no cluster {:?} in clusters", kafka.cluster)),
                    Some((_, false)) => problems.push(format!(
                        "{at}.kafka.cluster: {:?} is not a kafka cluster; audit events are produced over the Kafka protocol",
                        kafka.cluster
                    )),
                    Some((_, true)) => {
                        if let Err(e) = crate::kafka_names::check_topic(&kafka.topic) {
                            problems.push(format!("{at}.kafka.topic: {e}"));
                        }
                    }
                },
                _ => problems.push(format!("{at}: give exactly one of webhook or kafka")),
            }
        }
        problems
    }
}
