//! `ebb daemon`: run the scheduler and the HTTP API until SIGTERM or SIGINT.

use std::process::ExitCode;

use clap::Args;

use crate::Error;
use crate::config::LoadedConfig;
use crate::daemon::{DaemonOptions, serve};
use crate::time::HumanDuration;

#[derive(Debug, Args)]
pub struct DaemonArgs {
    /// Address to listen on (default: daemon.listen in ebb.yaml, else 127.0.0.1:8480); port 0 picks a free one.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// How long running steps get to finish on SIGTERM/SIGINT (default: daemon.grace, else 30s).
    #[arg(long, value_name = "DURATION", value_parser = parse_grace)]
    pub grace: Option<HumanDuration>,
}

fn parse_grace(text: &str) -> Result<HumanDuration, String> {
    HumanDuration::parse(text).map_err(|e| e.to_string())
}

pub async fn daemon(config: LoadedConfig, args: DaemonArgs) -> Result<ExitCode, Error> {
    serve(config, DaemonOptions { listen: args.listen, grace: args.grace.map(|g| g.duration) }).await?;
    Ok(ExitCode::SUCCESS)
}
