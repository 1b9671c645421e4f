//! `ebb purge TOPIC`: a topic's oldest records deleted as
//! `kafka-delete-records` deletes them, through a one-step `purge_messages`
//! runbook — never past what the protected groups have consumed, with the
//! same confirmation and history as a runbook.

use clap::{ArgGroup, Args};
use serde_json::{Map, Value, json};

use super::one_off::{self, ApplyFlags, OneStep, literal, parsed};
use super::usage_error::UsageError;
use crate::Error;
use crate::config::LoadedConfig;
use crate::exit::Exit;
use crate::time::{HumanDuration, TimeSpec};

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("before").required(true).args([
    "before_offset", "older_than", "before_datetime", "consumed_by", "everything",
])))]
pub struct PurgeArgs {
    /// The topic to purge (its cleanup.policy must include delete).
    pub topic: String,
    /// Purge only these partitions (comma-separated or repeated).
    #[arg(long, value_name = "P", value_delimiter = ',')]
    pub partition: Vec<u16>,
    /// Delete records below this offset in every partition.
    #[arg(long, value_name = "N")]
    pub before_offset: Option<i64>,
    /// Delete records older than this (`1d`, `12h`).
    #[arg(long, value_name = "DURATION")]
    pub older_than: Option<String>,
    /// Delete records before this time (RFC 3339, epoch ms, or `-1d`).
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    pub before_datetime: Option<String>,
    /// Delete what every one of these groups has consumed (comma-separated).
    #[arg(long, value_name = "GROUP", value_delimiter = ',')]
    pub consumed_by: Vec<String>,
    /// Delete up to the log end, as far as protection allows.
    #[arg(long)]
    pub everything: bool,
    /// Groups whose unconsumed records are kept: `all` (default: every group
    /// with commits on the topic), `none`, or comma-separated group names.
    #[arg(long, value_name = "all|none|GROUP,…")]
    pub protect: Option<String>,
    /// Delete even what the protected groups have not consumed yet.
    #[arg(long)]
    pub allow_unconsumed: bool,
    /// Refuse if more than this many records would be deleted in total.
    #[arg(long, value_name = "N")]
    pub max_delete: Option<u64>,
    /// Refuse if any partition would lose more than this percentage (0–100) of its records.
    #[arg(long, value_name = "PERCENT", value_parser = clap::value_parser!(u64).range(0..=100))]
    pub max_delete_percent: Option<u64>,
    /// With --older-than or --before-datetime: refuse when timestamps are out of order around a cut.
    #[arg(long)]
    pub strict_time: bool,
    #[command(flatten)]
    pub apply: ApplyFlags,
}

fn before(args: &PurgeArgs) -> Result<Value, Error> {
    Ok(if let Some(offset) = args.before_offset {
        json!({ "offset": offset })
    } else if let Some(age) = &args.older_than {
        json!({ "older_than": parsed("--older-than", age, HumanDuration::parse)? })
    } else if let Some(time) = &args.before_datetime {
        json!({ "datetime": parsed("--before-datetime", time, TimeSpec::parse)? })
    } else if !args.consumed_by.is_empty() {
        json!({ "committed_by": args.consumed_by.iter().map(|g| literal(g)).collect::<Vec<_>>() })
    } else {
        json!({ "high_watermark": true })
    })
}

/// The `purge_messages` step the flags describe.
pub fn step(args: &PurgeArgs) -> Result<OneStep, Error> {
    let mut fields = Map::new();
    fields.insert("topic".into(), literal(&args.topic));
    if !args.partition.is_empty() {
        fields.insert("partitions".into(), json!(args.partition));
    }
    fields.insert("before".into(), before(args)?);
    match args.protect.as_deref().map(str::trim) {
        None => {}
        Some(keyword @ ("all" | "none")) => {
            fields.insert("protect_groups".into(), json!(keyword));
        }
        Some(groups) => {
            let groups: Vec<Value> = groups.split(',').map(str::trim).filter(|g| !g.is_empty()).map(literal).collect();
            // An empty list would protect nothing: say `none` for that, never by accident.
            if groups.is_empty() {
                return Err(UsageError::BadFlag {
                    flag: "--protect",
                    given: args.protect.clone().unwrap_or_default(),
                    reason: "name groups, or `all`, or `none` to protect nothing".to_owned(),
                }
                .into());
            }
            fields.insert("protect_groups".into(), Value::Array(groups));
        }
    }
    if args.allow_unconsumed {
        fields.insert("allow_unconsumed".into(), json!(true));
    }
    if let Some(n) = args.max_delete {
        fields.insert("max_delete".into(), json!(n));
    }
    if let Some(n) = args.max_delete_percent {
        fields.insert("max_delete_percent".into(), json!(n));
    }
    if args.strict_time {
        fields.insert("strict_time".into(), json!(true));
    }
    Ok(OneStep { verb: "purge", kind: "purge_messages", fields })
}

pub async fn purge(config: &LoadedConfig, args: PurgeArgs) -> Result<Exit, Error> {
    let step = step(&args)?;
    let compiled = one_off::compile(config, args.apply.cluster.as_deref(), &step)?;
    one_off::plan_or_run(config, &compiled, one_off::file_access(config, &[]), &args.apply).await
}
