//! A provider for the cluster a runbook or plan names.

use std::mem::ManuallyDrop;

use crate::Error;
use crate::config::LoadedConfig;
use crate::provider::AnyProvider;

pub fn provider(config: &LoadedConfig, cluster: &str) -> Result<AnyProvider, Error> {
    Ok(crate::provider::connect_named(config, cluster)?)
}

/// The provider, never torn down: the process exits without destroying its
/// clients, because librdkafka joins its threads on destroy (100–200 ms) and
/// every request a command makes has been answered by the time it ends
/// (commits are synchronous).
pub fn keep_until_exit(provider: AnyProvider) -> ManuallyDrop<AnyProvider> {
    ManuallyDrop::new(provider)
}
