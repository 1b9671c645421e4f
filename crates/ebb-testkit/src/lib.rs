//! Test support shared by the integration tests, the demo and the benchmarks:
//! a real Apache Kafka started once per process, helpers that build cluster
//! state (topics, records with chosen timestamps, committed offsets, deleted
//! records), and Apache's own tools as the oracle. Not part of ebb's interface.

pub mod apache;
pub mod broker;
mod broker_ops;
pub mod browser;
pub mod ckafka_emulator;
pub mod daemon_process;
pub mod dms_emulator;
pub mod emulator_server;
pub mod fault_proxy;
pub mod member;
pub mod names;
pub mod proxied;
pub mod proxied_paths;
pub mod secure;
pub mod seed;
pub mod strike_before_change;

pub use broker::{PrivateCluster, TestCluster, repo_root, shared_cluster, shared_three_broker_cluster};
pub use browser::Browser;
pub use daemon_process::DaemonProcess;
/// The WebDriver client the browser tests drive Chromium with.
pub use fantoccini;
pub use fault_proxy::{Fault, FaultProxy, OnRequest};
pub use member::LiveMember;
pub use names::unique;
pub use proxied::ProxiedCluster;
pub use proxied_paths::ProxiedPaths;
pub use secure::SecureListeners;
pub use seed::{Record, Seeder};
pub use strike_before_change::StrikeBeforeChange;
