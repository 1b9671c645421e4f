//! `ebb cluster-status`: a coordinated deployment (docs/HA.md) as its state
//! topic tells it — replicas, who owns which partition, and the lag of each
//! replica's view — read straight from the coordination cluster.

use std::io::Write;

use clap::Args;

use super::OutputFormat;
use super::usage_error::UsageError;
use crate::Error;
use crate::config::{ClusterConfig, LoadedConfig};
use crate::coordination::status;
use crate::exit::Exit;

#[derive(Debug, Args)]
pub struct ClusterStatusArgs {
    #[arg(long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

pub async fn cluster_status(config: &LoadedConfig, args: ClusterStatusArgs) -> Result<Exit, Error> {
    let Some(settings) = config.config.coordination.clone() else {
        return Err(UsageError::NotCoordinated.into());
    };
    let ClusterConfig::Kafka(cluster) = config.cluster(&settings.cluster)?.clone() else {
        unreachable!("ebb.yaml's checks admit only a kafka cluster for coordination")
    };
    let deployment = settings.id.clone();
    let read = {
        let (cluster, deployment) = (cluster.clone(), deployment.clone());
        tokio::task::spawn_blocking(move || status::read(&cluster, &deployment)).await
    };
    let unread = |why: String| UsageError::CoordinationUnread {
        cluster: settings.cluster.clone(),
        why: cluster.redactor().redact(&why),
    };
    let (view, partitions) = read.map_err(|e| unread(e.to_string()))?.map_err(unread)?;
    let clusters: Vec<String> = config.config.clusters.keys().cloned().collect();
    let now = chrono::Utc::now();
    let report = status::status(&view, &deployment, partitions, settings.session.duration, &clusters, now);
    let mut out = std::io::stdout().lock();
    match args.output {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &report).map_err(std::io::Error::from)?;
            writeln!(out)?;
        }
        OutputFormat::Table => out.write_all(status::render(&report, now).as_bytes())?,
    }
    Ok(Exit::Done)
}
