//! One audit sink: a webhook (POST, `application/cloudevents+json`) or a
//! Kafka topic. A sink whose settings cannot work fails each delivery saying
//! why, and its events wait in the outbox.

use std::time::Duration;

use crate::config::{AuditSink, ClusterConfig, LoadedConfig, Secret};
use crate::provider::kafka::audit_producer::AuditProducer;

/// Per attempt: connect, send, and read the status.
const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(5);

pub struct Sink {
    name: String,
    to: Target,
}

enum Target {
    Webhook { url: Secret, client: reqwest::Client },
    Kafka(AuditProducer),
    Unusable(String),
}

impl Sink {
    pub fn new(config: &AuditSink, loaded: &LoadedConfig) -> Self {
        let to = match (&config.webhook, &config.kafka) {
            (Some(webhook), _) => Target::Webhook {
                url: webhook.url.clone(),
                client: reqwest::Client::builder()
                    .timeout(WEBHOOK_TIMEOUT)
                    .connect_timeout(WEBHOOK_TIMEOUT)
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .unwrap_or_default(),
            },
            (None, Some(kafka)) => match (
                loaded.require(&format!("clusters.{}.", kafka.cluster)),
                loaded.config.clusters.get(&kafka.cluster),
            ) {
                (Err(e), _) => Target::Unusable(e.to_string()),
                (Ok(()), Some(ClusterConfig::Kafka(cluster))) => match AuditProducer::new(cluster, &kafka.topic) {
                    Ok(producer) => Target::Kafka(producer),
                    Err(why) => Target::Unusable(why),
                },
                (Ok(()), _) => Target::Unusable(format!("cluster {:?} is not a kafka cluster", kafka.cluster)),
            },
            (None, None) => Target::Unusable("no webhook or kafka given".to_owned()),
        };
        Sink { name: config.name.clone(), to }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Sends one event (`run` is its run id, the Kafka key).
    pub async fn send(&self, run: &str, event: &[u8]) -> Result<(), String> {
        match &self.to {
            Target::Webhook { url, client } => {
                let sent = client
                    .post(url.expose())
                    .header(reqwest::header::CONTENT_TYPE, "application/cloudevents+json")
                    .body(event.to_vec())
                    .send()
                    .await;
                match sent {
                    Ok(response) if response.status().is_success() => Ok(()),
                    Ok(response) => Err(format!("the webhook answered HTTP {}", response.status())),
                    // The URL is a secret: the error is told without it.
                    Err(e) => Err(format!("the webhook cannot be reached: {}", kind(&e.without_url()))),
                }
            }
            Target::Kafka(producer) => producer.send(run, event).await,
            Target::Unusable(why) => Err(why.clone()),
        }
    }
}

fn kind(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    }
}
