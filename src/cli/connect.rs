//! A provider for the cluster a runbook or plan names.

use std::mem::ManuallyDrop;

use crate::Error;
use crate::config::{ClusterConfig, LoadedConfig};
use crate::provider::kafka::KafkaProvider;

pub fn provider(config: &LoadedConfig, cluster: &str) -> Result<KafkaProvider, Error> {
    match config.cluster(cluster)? {
        ClusterConfig::Kafka(kafka) => Ok(KafkaProvider::connect(cluster, kafka)?),
        other => Err(Error::Usage(format!(
            "cluster {cluster} uses the {} provider, which this build of ebb cannot plan or apply on yet",
            other.provider_name()
        ))),
    }
}

/// The provider, never torn down: the process exits without destroying its
/// clients, because librdkafka joins its threads on destroy (100–200 ms) and
/// every request a command makes has been answered by the time it ends
/// (commits are synchronous).
pub fn keep_until_exit(provider: KafkaProvider) -> ManuallyDrop<KafkaProvider> {
    ManuallyDrop::new(provider)
}
