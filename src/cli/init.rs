//! `ebb init --bootstrap HOST:PORT`: a commented ebb.yaml for one Kafka
//! cluster and a first runbook, in a new directory or one without them. An
//! existing file is never replaced.

use std::path::{Path, PathBuf};

use clap::Args;

use super::usage_error::UsageError;
use crate::Error;
use crate::exit::Exit;

const EBB_YAML: &str = include_str!("init/ebb.yaml");
const FIRST_RUNBOOK: &str = include_str!("init/first-runbook.yaml");

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The cluster's bootstrap servers: `host:port`, comma-separated for several.
    #[arg(long, value_name = "HOST:PORT")]
    pub bootstrap: String,
    /// Where to write ebb.yaml and runbooks/ (default: the current directory).
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,
}

/// `host:port[,host:port…]`, each host a name or an address and each port a number.
fn checked_bootstrap(text: &str) -> Result<&str, Error> {
    let good = |server: &str| {
        server.rsplit_once(':').is_some_and(|(host, port)| {
            !host.is_empty()
                && host.chars().all(|c| c.is_ascii_alphanumeric() || ".-_[]:".contains(c))
                && port.parse::<u16>().is_ok_and(|p| p > 0)
        })
    };
    if text.split(',').all(good) {
        Ok(text)
    } else {
        Err(UsageError::BadFlag {
            flag: "--bootstrap",
            given: text.to_owned(),
            reason: "write host:port[,host:port…]".into(),
        }
        .into())
    }
}

pub fn init(args: InitArgs) -> Result<Exit, Error> {
    let bootstrap = checked_bootstrap(args.bootstrap.trim())?;
    let config = args.dir.join("ebb.yaml");
    let runbook = args.dir.join("runbooks").join("lag.yaml");
    for path in [&config, &runbook] {
        if path.exists() {
            return Err(UsageError::WouldReplace { path: path.clone() }.into());
        }
    }
    let write = |path: &Path, text: &str| -> Result<(), Error> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|source| UsageError::CannotWrite { path: parent.to_owned(), source })?;
        }
        std::fs::write(path, text).map_err(|source| UsageError::CannotWrite { path: path.to_owned(), source })?;
        Ok(())
    };
    write(&config, &EBB_YAML.replace("{{BOOTSTRAP}}", bootstrap))?;
    write(&runbook, FIRST_RUNBOOK)?;
    println!("Wrote {} and {}.", config.display(), runbook.display());
    println!("Next: ebb --config {} cluster describe", config.display());
    println!("      ebb --config {} plan lag --set group=GROUP", config.display());
    Ok(Exit::Done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bootstrap_servers_are_host_and_port() {
        assert!(checked_bootstrap("127.0.0.1:9092").is_ok());
        assert!(checked_bootstrap("kafka-1.example:9092,kafka-2.example:9093").is_ok());
        assert!(checked_bootstrap("[::1]:9092").is_ok());
        assert!(checked_bootstrap("localhost").is_err());
        assert!(checked_bootstrap("a:9092\nruns: x").is_err());
        assert!(checked_bootstrap("a:0").is_err());
    }
}
