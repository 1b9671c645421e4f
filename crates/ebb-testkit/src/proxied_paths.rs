//! A one-broker cluster of a test's own that each of several clients reaches
//! through a [`FaultProxy`] of its own: the broker has one proxied listener
//! per client, each advertising its own proxy, so cutting one proxy cuts one
//! client off and leaves the others alone. The replicas of a coordinated
//! deployment use it for their coordination traffic.

use super::broker::{PrivateCluster, TestCluster};
use super::fault_proxy::FaultProxy;

pub struct ProxiedPaths {
    pub proxies: Vec<FaultProxy>,
    broker: PrivateCluster,
}

impl ProxiedPaths {
    pub fn start(name: &str, paths: usize) -> Self {
        let proxies: Vec<FaultProxy> = (0..paths).map(|_| FaultProxy::bind()).collect();
        let ports: Vec<String> = proxies.iter().map(|p| p.addr().port().to_string()).collect();
        let broker = PrivateCluster::start_with(name, 1, &["--proxied", &ports.join(",")]);
        let listeners = std::fs::read_to_string(broker.dir().join("proxied")).expect("scripts/kafka wrote D/proxied");
        let listeners: Vec<&str> = listeners.lines().collect();
        assert_eq!(listeners.len(), paths, "one proxied listener per path");
        for (proxy, listener) in proxies.iter().zip(listeners) {
            proxy.forward_to(listener.trim().parse().expect("D/proxied holds host:port lines"));
        }
        ProxiedPaths { proxies, broker }
    }

    /// Path `i`'s bootstrap address: through its proxy only.
    pub fn bootstrap(&self, i: usize) -> String {
        self.proxies[i].addr().to_string()
    }

    /// The cluster as the oracle reaches it, around every proxy.
    pub fn direct(&self) -> &TestCluster {
        &self.broker.cluster
    }
}
