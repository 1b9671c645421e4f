//! A one-broker cluster of a test's own that clients reach only through a
//! [`FaultProxy`]: the broker advertises the proxy's address on a listener of
//! its own, so every connection librdkafka or ebb's wire client makes, the
//! first and every reconnection, goes through the proxy. Apache's tools, the
//! oracle, use the broker's plain listener and see the cluster as it is.

use super::broker::{PrivateCluster, TestCluster, cluster_config};
use super::fault_proxy::FaultProxy;
use ebb::config::KafkaClusterConfig;

pub struct ProxiedCluster {
    pub proxy: FaultProxy,
    /// The broker's own listener, around the proxy.
    pub direct: String,
    /// Through the proxy.
    pub bootstrap: String,
    broker: PrivateCluster,
}

impl ProxiedCluster {
    pub fn start(name: &str) -> Self {
        let proxy = FaultProxy::bind();
        let port = proxy.addr().port().to_string();
        let broker = PrivateCluster::start_with(name, 1, &["--proxied", &port]);
        let listener = std::fs::read_to_string(broker.dir().join("proxied")).expect("scripts/kafka wrote D/proxied");
        proxy.forward_to(listener.trim().parse().expect("D/proxied holds host:port"));
        let bootstrap = proxy.addr().to_string();
        ProxiedCluster { proxy, direct: broker.cluster.bootstrap.clone(), bootstrap, broker }
    }

    /// `ebb.yaml` settings that reach the broker through the proxy.
    pub fn config(&self) -> KafkaClusterConfig {
        cluster_config(&self.bootstrap)
    }

    /// The cluster as the oracle and the seeders reach it, around the proxy.
    pub fn direct(&self) -> &TestCluster {
        &self.broker.cluster
    }
}
