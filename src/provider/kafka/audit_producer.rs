//! The audit stream's Kafka sink: CloudEvents produced to a topic in
//! structured mode (the event is the value, `content-type:
//! application/cloudevents+json`), keyed by run id so one run's events stay
//! in order. A write counts once every in-sync replica has it.

use std::time::Duration;

use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};

use crate::config::KafkaClusterConfig;

pub struct AuditProducer {
    producer: FutureProducer,
    topic: String,
    timeout: Duration,
    redactor: crate::config::Redactor,
}

impl AuditProducer {
    pub fn new(cluster: &KafkaClusterConfig, topic: &str) -> Result<Self, String> {
        let producer: FutureProducer = super::settings::producer(cluster)
            .create()
            .map_err(|e| format!("cannot make a producer: {}", cluster.redactor().redact(&e.to_string())))?;
        Ok(AuditProducer {
            producer,
            topic: topic.to_owned(),
            timeout: cluster.timeout.duration,
            redactor: cluster.redactor(),
        })
    }

    /// Produces one event and waits for its acknowledgement.
    pub async fn send(&self, key: &str, event: &[u8]) -> Result<(), String> {
        let headers =
            OwnedHeaders::new().insert(Header { key: "content-type", value: Some("application/cloudevents+json") });
        let record = FutureRecord::to(&self.topic).key(key).payload(event).headers(headers);
        self.producer.send(record, self.timeout).await.map(|_| ()).map_err(|(e, _)| {
            format!("producing to topic {:?} failed: {}", self.topic, self.redactor.redact(&e.to_string()))
        })
    }
}
