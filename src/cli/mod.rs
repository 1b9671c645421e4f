//! The command line: argument types (clap) and one function per command. Each
//! command loads `ebb.yaml`, does its work through the library, and prints
//! either a table for people or JSON for machines.

mod apply;
mod approvals;
mod audit_delivery;
mod cluster;
mod cluster_status;
mod completions;
mod connect;
mod daemon;
mod daemon_client;
mod daemon_client_error;
mod daemon_commands;
mod error;
mod history;
mod history_repair;
mod init;
mod offsets_delete;
mod one_off;
mod paint;
mod plan;
mod plan_file_error;
mod plan_view;
mod progress_bar;
mod purge;
mod query;
mod reset;
mod rollback;
mod run;
mod runbook_arg;
mod schema;
mod show;
mod terminal_width;
mod usage_error;
mod validate;
mod via_daemon;

pub use error::Error;
pub use paint::{Tone, colour_on, paint};
pub use schema::schema_text;

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::exit::Exit;

#[derive(Debug, Parser)]
#[command(name = "ebb", version, about = "Declarative YAML runbooks for Apache Kafka maintenance")]
pub struct Cli {
    /// Path to ebb.yaml (default: $EBB_CONFIG, then ./ebb.yaml).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Log lines as text or as JSON objects (on stderr; level from $EBB_LOG).
    #[arg(long, global = true, value_enum, default_value_t)]
    pub log_format: LogFormat,

    /// Time zone for the times plans and runs show (IANA name; default UTC).
    #[arg(long, global = true, value_name = "ZONE", value_parser = crate::schedule::parse_timezone)]
    pub tz: Option<chrono_tz::Tz>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Look at a cluster: topics, watermarks, consumer groups and their lag.
    #[command(subcommand)]
    Cluster(ClusterCommand),
    /// A deployment of several daemons (coordination: in ebb.yaml): replicas, who owns what, their lag.
    ClusterStatus(cluster_status::ClusterStatusArgs),
    /// Dry run: read the cluster and print what a runbook would change.
    Plan(plan::PlanArgs),
    /// Plan a runbook, show the plan, and apply it after confirmation.
    Run(run::RunArgs),
    /// Apply a plan saved with `ebb plan --out`, unless the cluster drifted.
    Apply(apply::ApplyArgs),
    /// Stored runs, newest first: plans, applies and rollbacks.
    History(history::HistoryArgs),
    /// One stored run: its plan, each step's outcome, and its rollback snapshot.
    Show(show::ShowArgs),
    /// Restore the offsets a run changed, from the snapshot it took before committing.
    Rollback(rollback::RollbackArgs),
    /// Move a group's offsets (like kafka-consumer-groups --reset-offsets), planned, confirmed and recorded.
    Reset(reset::ResetArgs),
    /// Find messages in a topic (like kcat), filtered where they are read; recorded as a plan.
    Query(query::QueryArgs),
    /// Delete a topic's oldest records (like kafka-delete-records), never what a group has not consumed.
    Purge(purge::PurgeArgs),
    /// A group's committed offsets: delete them (like kafka-consumer-groups --delete-offsets), recorded for rollback.
    #[command(subcommand)]
    Offsets(OffsetsCommand),
    /// Run runbooks on their schedules and serve the HTTP API, until SIGTERM or SIGINT.
    Daemon(daemon::DaemonArgs),
    /// The daemon's runbooks: schedule, next fires (its zone and UTC), paused, last run.
    Runbooks(daemon_commands::RunbooksArgs),
    /// Have the daemon run a runbook now (apply, as `ebb run --yes` would).
    Trigger(daemon_commands::TriggerArgs),
    /// Stop the daemon firing a runbook's schedule until resumed.
    Pause(daemon_commands::PauseArgs),
    /// Let the daemon fire a paused runbook's schedule again.
    Resume(daemon_commands::PauseArgs),
    /// Approve a pending plan (two-person rule); the approval that completes it applies it.
    Approve(approvals::ApproveArgs),
    /// Reject a pending plan: it will never be applied.
    Reject(approvals::RejectArgs),
    /// Check runbooks and print every problem with file:line:column.
    Validate(validate::ValidateArgs),
    /// Print the JSON Schema of runbook files (for editors and CI).
    Schema,
    /// Write a commented ebb.yaml for one cluster and a first runbook.
    Init(init::InitArgs),
    /// Print shell completions (bash, zsh, fish, elvish, powershell).
    Completions(completions::CompletionsArgs),
    /// Print the man page (roff).
    Man,
}

#[derive(Debug, Subcommand)]
pub enum ClusterCommand {
    /// Topics with log start and log end per partition, and each group's lag.
    Describe(cluster::DescribeArgs),
}

#[derive(Debug, Subcommand)]
pub enum OffsetsCommand {
    /// Delete a group's committed offsets on topics, planned, confirmed and recorded; rollback commits them again.
    Delete(offsets_delete::DeleteOffsetsArgs),
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    #[default]
    Table,
    Json,
}

/// Runs one parsed command line to completion.
pub async fn run(cli: Cli) -> Result<Exit, Error> {
    let defaults = crate::step::ViewSettings::default();
    plan_view::set_settings(crate::step::ViewSettings {
        width: terminal_width::terminal_width().unwrap_or(defaults.width),
        zone: cli.tz.unwrap_or(defaults.zone),
        colour: paint::colour_on(&std::io::stdout()),
        ..defaults
    });
    let config_path = cli.config.clone();
    let records_runs = matches!(
        cli.command,
        Command::Plan(_)
            | Command::Run(_)
            | Command::Apply(_)
            | Command::Rollback(_)
            | Command::Reset(_)
            | Command::Query(_)
            | Command::Purge(_)
            | Command::Offsets(_)
    );
    let exit = commands(cli).await;
    if records_runs {
        audit_delivery::after_command(config_path.as_deref()).await;
    }
    exit
}

async fn commands(cli: Cli) -> Result<Exit, Error> {
    match cli.command {
        Command::Cluster(ClusterCommand::Describe(args)) => {
            let config = crate::config::load(cli.config.as_deref())?;
            cluster::describe(&config, args).await
        }
        Command::ClusterStatus(args) => {
            cluster_status::cluster_status(&crate::config::load(cli.config.as_deref())?, args).await
        }
        Command::Plan(args) => plan::plan(&crate::config::load(cli.config.as_deref())?, args).await,
        Command::Run(args) => run::run(&crate::config::load(cli.config.as_deref())?, args).await,
        Command::Apply(args) => apply::apply(&crate::config::load(cli.config.as_deref())?, args).await,
        Command::History(args) => history::history(&crate::config::load(cli.config.as_deref())?, args).await,
        Command::Show(args) => show::show(&crate::config::load(cli.config.as_deref())?, args).await,
        Command::Rollback(args) => rollback::rollback(&crate::config::load(cli.config.as_deref())?, args).await,
        Command::Reset(args) => reset::reset(&crate::config::load(cli.config.as_deref())?, args).await,
        Command::Query(args) => query::query(&crate::config::load(cli.config.as_deref())?, args).await,
        Command::Purge(args) => purge::purge(&crate::config::load(cli.config.as_deref())?, args).await,
        Command::Offsets(OffsetsCommand::Delete(args)) => {
            offsets_delete::delete(&crate::config::load(cli.config.as_deref())?, args).await
        }
        Command::Daemon(args) => daemon::daemon(crate::config::load(cli.config.as_deref())?, args).await,
        Command::Runbooks(args) => daemon_commands::runbooks(&crate::config::load(cli.config.as_deref())?, args).await,
        Command::Trigger(args) => daemon_commands::trigger(&crate::config::load(cli.config.as_deref())?, args).await,
        Command::Pause(args) => daemon_commands::pause(&crate::config::load(cli.config.as_deref())?, args, true).await,
        Command::Resume(args) => {
            daemon_commands::pause(&crate::config::load(cli.config.as_deref())?, args, false).await
        }
        Command::Approve(args) => approvals::approve(&crate::config::load(cli.config.as_deref())?, args).await,
        Command::Reject(args) => approvals::reject(&crate::config::load(cli.config.as_deref())?, args).await,
        Command::Validate(args) => validate::validate(cli.config, args),
        Command::Schema => schema::print(),
        Command::Init(args) => init::init(args),
        Command::Completions(args) => completions::completions(args),
        Command::Man => completions::man(),
    }
}
