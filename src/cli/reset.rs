//! `ebb reset GROUP`: a group's offsets moved as `kafka-consumer-groups
//! --reset-offsets` moves them, through a one-step `reset_offsets` runbook —
//! the same gate, guards, confirmation, history and rollback as a runbook.

use clap::{ArgGroup, Args};
use serde_json::{Map, Value, json};

use super::one_off::{self, ApplyFlags, OneStep, literal, parsed};
use super::usage_error::UsageError;
use crate::Error;
use crate::config::LoadedConfig;
use crate::exit::Exit;
use crate::time::{HumanDuration, TimeSpec};

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("scope").required(true).args(["topic", "all_topics"])))]
#[command(group(ArgGroup::new("strategy").required(true).args([
    "to_earliest", "to_latest", "to_current", "to_offset", "shift_by", "to_datetime", "by_duration", "from_group", "from_file",
])))]
pub struct ResetArgs {
    /// The consumer group to move.
    pub group: String,
    /// A topic, with partitions after a colon: `orders` or `orders:0,2` (repeatable).
    #[arg(long, value_name = "TOPIC[:P,P]")]
    pub topic: Vec<String>,
    /// Every topic the group has committed offsets on.
    #[arg(long)]
    pub all_topics: bool,
    /// To each partition's log start.
    #[arg(long)]
    pub to_earliest: bool,
    /// To each partition's log end.
    #[arg(long)]
    pub to_latest: bool,
    /// Where the group is now (a no-op where it has a commit; log end where not).
    #[arg(long)]
    pub to_current: bool,
    /// To this offset in every partition (clamped to the log).
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub to_offset: Option<i64>,
    /// By this many messages from the committed offset (negative rewinds).
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub shift_by: Option<i64>,
    /// To the first message at or after this time (RFC 3339, epoch ms, or `-2h`).
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    pub to_datetime: Option<String>,
    /// To the first message at or after now minus this (`30m`, `PT2H`).
    #[arg(long, value_name = "DURATION")]
    pub by_duration: Option<String>,
    /// To another group's committed offsets.
    #[arg(long, value_name = "GROUP")]
    pub from_group: Option<String>,
    /// To the offsets in a CSV file of `topic,partition,offset` rows (Apache's export).
    #[arg(long, value_name = "FILE")]
    pub from_file: Option<String>,
    /// Refuse if the offsets would move forward by more than this many messages in total.
    #[arg(long, value_name = "N")]
    pub max_skip: Option<u64>,
    /// Refuse if the offsets would move back by more than this many messages in total.
    #[arg(long, value_name = "N")]
    pub max_rewind: Option<u64>,
    /// Wait up to this long for an active group to become empty instead of refusing at once.
    #[arg(long, value_name = "DURATION")]
    pub wait_for_inactive: Option<String>,
    #[command(flatten)]
    pub apply: ApplyFlags,
}

/// A `--topic` value: the topic, and the partitions after its colon.
pub fn topic_scope(text: &str) -> Result<(String, Option<Vec<i64>>), Error> {
    let bad = |reason: &str| UsageError::BadFlag { flag: "--topic", given: text.to_owned(), reason: reason.to_owned() };
    let Some((topic, list)) = text.rsplit_once(':') else { return Ok((text.to_owned(), None)) };
    let partitions: Result<Vec<i64>, _> = list.split(',').map(|p| p.trim().parse::<u16>().map(i64::from)).collect();
    match partitions {
        Ok(partitions) if !topic.is_empty() => Ok((topic.to_owned(), Some(partitions))),
        _ => Err(bad("write TOPIC or TOPIC:P,P with partition numbers").into()),
    }
}

fn strategy(args: &ResetArgs) -> Result<Value, Error> {
    Ok(if args.to_earliest {
        json!({ "to_earliest": true })
    } else if args.to_latest {
        json!({ "to_latest": true })
    } else if args.to_current {
        json!({ "to_current": true })
    } else if let Some(offset) = args.to_offset {
        json!({ "to_offset": offset })
    } else if let Some(shift) = args.shift_by {
        json!({ "shift_by": shift })
    } else if let Some(time) = &args.to_datetime {
        json!({ "to_datetime": parsed("--to-datetime", time, TimeSpec::parse)? })
    } else if let Some(duration) = &args.by_duration {
        json!({ "by_duration": parsed("--by-duration", duration, HumanDuration::parse)? })
    } else if let Some(group) = &args.from_group {
        json!({ "from_group": literal(group) })
    } else if let Some(file) = &args.from_file {
        json!({ "from_file": literal(file) })
    } else {
        unreachable!("clap requires one strategy")
    })
}

/// The `reset_offsets` step the flags describe.
pub fn step(args: &ResetArgs) -> Result<OneStep, Error> {
    let mut fields = Map::new();
    fields.insert("group".into(), literal(&args.group));
    let mut partitions: Option<Vec<i64>> = None;
    let mut topics = Vec::new();
    let scopes: Vec<(String, Option<Vec<i64>>)> =
        args.topic.iter().map(|t| topic_scope(t)).collect::<Result<_, _>>()?;
    // One `partitions` list applies to every topic: a topic without a list beside one with it would be narrowed.
    if scopes.iter().any(|(_, p)| p.is_some()) && scopes.iter().any(|(_, p)| p.is_none()) {
        return Err(UsageError::BadFlag {
            flag: "--topic",
            given: args.topic.join(" "),
            reason: "give partitions for every topic or for none; reset the others in a second command".to_owned(),
        }
        .into());
    }
    for (text, (topic, listed)) in args.topic.iter().zip(scopes) {
        if let Some(listed) = listed {
            if partitions.as_ref().is_some_and(|p| *p != listed) {
                return Err(UsageError::BadFlag {
                    flag: "--topic",
                    given: text.clone(),
                    reason: "every topic must list the same partitions (or none); reset the others in a second command"
                        .to_owned(),
                }
                .into());
            }
            partitions = Some(listed);
        }
        topics.push(literal(&topic));
    }
    if !topics.is_empty() {
        fields.insert("topics".into(), Value::Array(topics));
    }
    if let Some(partitions) = partitions {
        fields.insert("partitions".into(), json!(partitions));
    }
    fields.insert("strategy".into(), strategy(args)?);
    if let Some(n) = args.max_skip {
        fields.insert("max_skip".into(), json!(n));
    }
    if let Some(n) = args.max_rewind {
        fields.insert("max_rewind".into(), json!(n));
    }
    if let Some(wait) = &args.wait_for_inactive {
        let wait = parsed("--wait-for-inactive", wait, HumanDuration::parse)?;
        fields.insert("wait_for_inactive".into(), wait);
    }
    Ok(OneStep { verb: "reset", kind: "reset_offsets", fields })
}

pub async fn reset(config: &LoadedConfig, args: ResetArgs) -> Result<Exit, Error> {
    let step = step(&args)?;
    let compiled = one_off::compile(config, args.apply.cluster.as_deref(), &step)?;
    let files = one_off::file_access(config, &args.from_file.iter().map(String::as_str).collect::<Vec<_>>());
    one_off::plan_or_run(config, &compiled, files, &args.apply).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_topic_takes_its_partitions_after_a_colon() {
        assert_eq!(topic_scope("orders").unwrap(), ("orders".to_owned(), None));
        assert_eq!(topic_scope("orders:0,2").unwrap(), ("orders".to_owned(), Some(vec![0, 2])));
        assert!(topic_scope("orders:").is_err());
        assert!(topic_scope(":1").is_err());
        assert!(topic_scope("orders:x").is_err());
    }
}
