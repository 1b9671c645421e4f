//! The peer tools besides Apache Kafka's own (which `scripts/kafka tool` runs):
//! kcat from Debian, and kafkactl built from the Go module proxy by
//! `scripts/bench`. A missing tool is reported in the results, never silently left out.

use std::path::PathBuf;
use std::process::Command;

use ebb_testkit::TestCluster;

use crate::support::Workdir;

pub struct Tools {
    pub kcat: Option<String>,
    pub kafkactl: Option<PathBuf>,
    /// Why a tool is missing, for the results.
    pub missing: Vec<String>,
}

impl Tools {
    pub fn find() -> Self {
        let mut missing = Vec::new();
        let kcat = match Command::new("kcat").arg("-V").output() {
            Ok(o) if o.status.success() => {
                Some(String::from_utf8_lossy(&o.stdout).lines().next().unwrap_or("kcat").to_owned())
            }
            _ => {
                missing.push("kcat is not installed (Debian: apt-get install kcat): its rows are missing".to_owned());
                None
            }
        };
        let kafkactl = std::env::var_os("EBB_KAFKACTL").map(PathBuf::from).filter(|p| p.is_file());
        if kafkactl.is_none() {
            missing.push(
                "kafkactl was not built (scripts/bench builds it, EBB_KAFKACTL names it): its rows are missing"
                    .to_owned(),
            );
        }
        Tools { kcat, kafkactl, missing }
    }

    /// kafkactl's version line.
    pub fn kafkactl_version(&self) -> Option<String> {
        let path = self.kafkactl.as_ref()?;
        let output = Command::new(path).arg("version").output().ok()?;
        Some(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    }
}

/// Environment that points kafkactl at `cluster` through a configuration file in `dir`.
pub fn kafkactl_env(dir: &Workdir, cluster: &TestCluster) -> Vec<(String, String)> {
    let brokers: String = cluster.bootstrap.split(',').map(|b| format!("      - {b}\n")).collect();
    let config = dir.file("kafkactl.yml", &format!("contexts:\n  default:\n    brokers:\n{brokers}"));
    let writable = dir.0.join("kafkactl-current.yml").display().to_string();
    vec![("KAFKA_CTL_CONFIG".to_owned(), config), ("KAFKA_CTL_WRITABLE_CONFIG".to_owned(), writable)]
}
