//! `ebb query TOPIC`: find messages as kcat would, through a one-step
//! `query_messages` runbook — filters run where the records are read, the
//! kept matches are shown as a table (or JSON, or JSON Lines), and the run is
//! recorded in history like any plan.

use std::io::Write;

use clap::{Args, ValueEnum};
use serde_json::{Map, Value, json};

use super::one_off::{self, OneStep, literal, parsed};
use super::plan::{plan_and_record, print_json};
use super::plan_view;
use super::usage_error::UsageError;
use crate::Error;
use crate::config::LoadedConfig;
use crate::engine::Plan;
use crate::exit::Exit;
use crate::history::DataDir;
use crate::steps::StepDetail;
use crate::time::TimeSpec;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum QueryFormat {
    /// The plan's table: counts, each partition's matches, the kept messages.
    #[default]
    Table,
    /// The query's output as one JSON object.
    Json,
    /// Each kept message as one JSON object per line.
    Jsonl,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Order {
    Asc,
    Desc,
}

/// Without a position (a time window, one message, an offset range or
/// `--last`), the whole topic is read, up to now.
#[derive(Debug, Args)]
pub struct QueryArgs {
    /// The topic to read.
    pub topic: String,
    /// Read only this partition (repeatable); with --offset, the one partition of that message.
    #[arg(long, value_name = "P")]
    pub partition: Vec<u16>,
    /// One exact message: its offset (with one --partition).
    #[arg(long, value_name = "O", requires = "partition")]
    pub offset: Option<i64>,
    /// Start of a time window: RFC 3339, epoch ms, `now` or relative like `-1h`.
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    pub from: Option<String>,
    /// End of the time window (exclusive); default now.
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    pub to: Option<String>,
    /// First offset to read in each partition.
    #[arg(long, value_name = "N")]
    pub from_offset: Option<i64>,
    /// Offset to stop before in each partition.
    #[arg(long, value_name = "N")]
    pub to_offset: Option<i64>,
    /// The newest N messages of each partition.
    #[arg(long, value_name = "N")]
    pub last: Option<u64>,
    /// Keep messages whose key or value contains this text.
    #[arg(long, value_name = "TEXT")]
    pub contains: Option<String>,
    /// Where --contains looks: the key, the value, or both (the default).
    #[arg(long, value_name = "key|value|both", requires = "contains")]
    pub contains_in: Option<ContainsInArg>,
    /// Keep messages for which this CEL expression is true, e.g.
    /// `json.amount == 50 && headers["source"] == "legacy"`.
    #[arg(long = "where", value_name = "EXPRESSION")]
    pub where_: Option<String>,
    /// Keep messages whose key is exactly this.
    #[arg(long, value_name = "KEY")]
    pub key: Option<String>,
    /// Keep messages whose value matches this regular expression.
    #[arg(long, value_name = "REGEX")]
    pub regex: Option<String>,
    /// Keep messages with this header and value (repeatable; all must match).
    #[arg(long, value_name = "NAME=VALUE")]
    pub header: Vec<String>,
    /// Compare --contains, --key, --regex and headers without regard to case.
    #[arg(long, short = 'i')]
    pub ignore_case: bool,
    /// Messages kept in the output (default 100); the count still counts every match.
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,
    /// Order of the kept messages by time.
    #[arg(long, value_enum)]
    pub order: Option<Order>,
    /// Write every match to this file as JSON Lines (a new file; see --overwrite).
    #[arg(long, value_name = "FILE")]
    pub download: Option<String>,
    /// Replace the --download file if it exists.
    #[arg(long, requires = "download")]
    pub overwrite: bool,
    /// The cluster in ebb.yaml (default: the only one there).
    #[arg(long, value_name = "NAME")]
    pub cluster: Option<String>,
    #[arg(long, value_enum, default_value_t)]
    pub output: QueryFormat,
}

/// The `query_messages` step the flags describe.
pub fn step(args: &QueryArgs) -> Result<OneStep, Error> {
    let mut fields = Map::new();
    fields.insert("topic".into(), literal(&args.topic));
    match (args.offset, args.partition.as_slice()) {
        (Some(offset), [partition]) => {
            fields.insert("partition".into(), json!(partition));
            fields.insert("offset".into(), json!(offset));
        }
        (Some(_), _) => {
            return Err(UsageError::BadFlag {
                flag: "--offset",
                given: args.offset.unwrap_or_default().to_string(),
                reason: "one message is named by one --partition and its --offset".to_owned(),
            }
            .into());
        }
        (None, []) => {}
        (None, partitions) => {
            fields.insert("partitions".into(), json!(partitions));
        }
    }
    if let Some(from) = &args.from {
        fields.insert("from".into(), parsed("--from", from, TimeSpec::parse)?);
    }
    if let Some(to) = &args.to {
        fields.insert("to".into(), parsed("--to", to, TimeSpec::parse)?);
    }
    let numbers = [("from_offset", args.from_offset.map(Value::from)), ("to_offset", args.to_offset.map(Value::from))];
    let counts = [("last", args.last), ("limit", args.limit)];
    for (field, value) in numbers.into_iter().chain(counts.map(|(f, v)| (f, v.map(Value::from)))) {
        if let Some(value) = value {
            fields.insert(field.into(), value);
        }
    }
    let positioned = ["partition", "from", "to", "from_offset", "to_offset", "last"];
    if !positioned.iter().any(|field| fields.contains_key(*field)) {
        // No position given: the whole topic, up to now.
        fields.insert("from".into(), json!(0));
    }
    // Not a template: kept exactly as typed.
    if let Some(expression) = &args.where_ {
        fields.insert("where".into(), Value::String(expression.clone()));
    }
    let texts =
        [("contains", &args.contains), ("key", &args.key), ("value_regex", &args.regex), ("download", &args.download)];
    for (field, value) in texts {
        if let Some(value) = value {
            fields.insert(field.into(), literal(value));
        }
    }
    if let Some(place) = args.contains_in {
        let place = match place {
            ContainsInArg::Key => "key",
            ContainsInArg::Value => "value",
            ContainsInArg::Both => "both",
        };
        fields.insert("contains_in".into(), json!(place));
    }
    let mut headers = Map::new();
    for pair in &args.header {
        let Some((name, value)) = pair.split_once('=') else {
            return Err(UsageError::BadFlag {
                flag: "--header",
                given: pair.clone(),
                reason: "write NAME=VALUE".to_owned(),
            }
            .into());
        };
        headers.insert(name.to_owned(), literal(value));
    }
    if !headers.is_empty() {
        fields.insert("headers".into(), Value::Object(headers));
    }
    if args.ignore_case {
        fields.insert("case_insensitive".into(), json!(true));
    }
    if let Some(order) = args.order {
        fields.insert("order".into(), json!(if order == Order::Asc { "asc" } else { "desc" }));
    }
    if args.overwrite {
        fields.insert("overwrite".into(), json!(true));
    }
    Ok(OneStep { verb: "query", kind: "query_messages", fields })
}

pub async fn query(config: &LoadedConfig, args: QueryArgs) -> Result<Exit, Error> {
    let step = step(&args)?;
    let compiled = one_off::compile(config, args.cluster.as_deref(), &step)?;
    let data = DataDir::from_config(&config.config);
    one_off::refuse_under_daemon(&data)?;
    let files = one_off::file_access(config, &args.download.iter().map(String::as_str).collect::<Vec<_>>());
    let print = |plan: &Plan| print_found(plan, args.output);
    let plan = plan_and_record(config, &compiled, files, &data, &print).await?;
    Ok(Exit::of_plan(&plan, false))
}

fn print_found(plan: &Plan, output: QueryFormat) -> Result<(), Error> {
    let found = plan.steps.iter().find_map(|step| match &step.detail {
        StepDetail::QueryMessages { output: Some(found) } => Some(found),
        _ => None,
    });
    match (output, found) {
        (QueryFormat::Table, _) => {
            std::io::stdout().lock().write_all(plan_view::render_plan(plan).as_bytes())?;
        }
        // The query stopped (no such topic, a bad position…): the plan says why, as JSON.
        (_, None) => print_json(plan)?,
        (QueryFormat::Json, Some(found)) => print_json(&json!({ "run_id": plan.run_id, "query": found }))?,
        (QueryFormat::Jsonl, Some(found)) => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            for message in &found.messages {
                serde_json::to_writer(&mut out, message).map_err(std::io::Error::from)?;
                writeln!(out)?;
            }
            out.flush()?;
        }
    }
    Ok(())
}

/// `--contains-in`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ContainsInArg {
    Key,
    Value,
    Both,
}
