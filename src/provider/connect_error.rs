//! Why there is no client for a cluster named in a runbook, plan or run:
//! ebb.yaml does not define it, or its client could not be made.

use crate::config::{ConfigError, LoadedConfig};

use super::{AnyProvider, ProviderError};

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Provider(#[from] ProviderError),
}

/// A client for cluster `name` as `config` defines it.
pub fn connect_named(config: &LoadedConfig, name: &str) -> Result<AnyProvider, ConnectError> {
    Ok(AnyProvider::connect(name, config.cluster(name)?)?)
}
