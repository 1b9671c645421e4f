//! A provider for the cluster a runbook or plan names.

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
