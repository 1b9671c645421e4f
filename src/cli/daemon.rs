//! `ebb daemon`: run the scheduler and the HTTP API until SIGTERM or SIGINT.

use clap::Args;

use crate::Error;
use crate::config::LoadedConfig;
use crate::daemon::{DaemonOptions, serve};
use crate::exit::Exit;
use crate::time::HumanDuration;

#[derive(Debug, Args)]
pub struct DaemonArgs {
    /// Address to listen on (default: daemon.listen in ebb.yaml, else 127.0.0.1:8480); port 0 picks a free one.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// How long running steps get to finish on SIGTERM/SIGINT (default: daemon.grace, else 30s).
    #[arg(long, value_name = "DURATION", value_parser = HumanDuration::parse)]
    pub grace: Option<HumanDuration>,
}

pub async fn daemon(config: LoadedConfig, args: DaemonArgs) -> Result<Exit, Error> {
    serve(config, DaemonOptions { listen: args.listen, grace: args.grace.map(|g| g.duration) }).await?;
    Ok(Exit::Done)
}
