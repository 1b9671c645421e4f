//! `ebb cluster describe`: what an operator checks before touching a cluster —
//! every topic's log start and log end per partition, and every group's state,
//! committed offsets and lag.

use std::io::Write;

use clap::Args;

use super::OutputFormat;
use crate::Error;
use crate::config::LoadedConfig;
use crate::exit::Exit;
use crate::provider::AnyProvider;
use crate::provider::cluster_report::{ClusterReport, build_report, tables};

#[derive(Debug, Args)]
pub struct DescribeArgs {
    /// Cluster name from ebb.yaml (may be omitted when there is only one).
    #[arg(long)]
    pub cluster: Option<String>,
    /// Only these topics (repeatable). Default: every topic but Kafka's internal ones.
    #[arg(long = "topic", value_name = "TOPIC")]
    pub topics: Vec<String>,
    /// Only these consumer groups (repeatable). Default: every group.
    #[arg(long = "group", value_name = "GROUP")]
    pub groups: Vec<String>,
    #[arg(long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

pub async fn describe(config: &LoadedConfig, args: DescribeArgs) -> Result<Exit, Error> {
    let (name, cluster) = match &args.cluster {
        Some(name) => (name.as_str(), config.cluster(name)?),
        None => config.default_cluster()?,
    };
    let provider = super::connect::keep_until_exit(AnyProvider::connect(name, cluster)?);
    let report = build_report(&*provider, &args.topics, &args.groups).await?;
    let mut out = std::io::stdout().lock();
    match args.output {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &report).map_err(std::io::Error::from)?;
            writeln!(out)?;
        }
        OutputFormat::Table => out.write_all(render(&report).as_bytes())?,
    }
    Ok(Exit::Done)
}

fn render(report: &ClusterReport) -> String {
    let (topics, groups) = tables(report);
    let mut out = format!("Cluster {}\n\n", report.cluster);
    if topics.is_empty() {
        out.push_str("No topics.\n");
    } else {
        out.push_str(&topics.render());
    }
    out.push('\n');
    if groups.is_empty() {
        out.push_str("No consumer groups.\n");
    } else {
        out.push_str(&groups.render());
    }
    out
}
