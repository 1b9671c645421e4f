//! `ebb offsets delete GROUP --topic T[:P,P]`: a group's committed offsets
//! removed as `kafka-consumer-groups --delete-offsets` removes them, through a
//! one-step `delete_offsets` runbook — gated on the topics' consumers, with the
//! same confirmation, history and rollback as a runbook.

use clap::Args;
use serde_json::{Map, Value, json};

use super::one_off::{self, ApplyFlags, OneStep, literal};
use super::reset::topic_scope;
use super::usage_error::UsageError;
use crate::Error;
use crate::config::LoadedConfig;
use crate::exit::Exit;

#[derive(Debug, Args)]
pub struct DeleteOffsetsArgs {
    /// The consumer group whose committed offsets go.
    pub group: String,
    /// A topic, with partitions after a colon: `orders` or `orders:0,2` (repeatable).
    #[arg(long, value_name = "TOPIC[:P,P]", required = true)]
    pub topic: Vec<String>,
    #[command(flatten)]
    pub apply: ApplyFlags,
}

/// The `delete_offsets` step the flags describe.
pub fn step(args: &DeleteOffsetsArgs) -> Result<OneStep, Error> {
    let mut fields = Map::new();
    fields.insert("group".into(), literal(&args.group));
    let scopes: Vec<(String, Option<Vec<i64>>)> =
        args.topic.iter().map(|t| topic_scope(t)).collect::<Result<_, _>>()?;
    let lists: Vec<&Vec<i64>> = scopes.iter().filter_map(|(_, p)| p.as_ref()).collect();
    // One `partitions` list applies to every topic, as in a runbook.
    let same = lists.windows(2).all(|w| w[0] == w[1]);
    if !lists.is_empty() && (lists.len() != scopes.len() || !same) {
        return Err(UsageError::BadFlag {
            flag: "--topic",
            given: args.topic.join(" "),
            reason: "every topic must list the same partitions (or none); delete the others in a second command"
                .to_owned(),
        }
        .into());
    }
    fields.insert("topics".into(), Value::Array(scopes.iter().map(|(t, _)| literal(t)).collect()));
    if let Some(partitions) = lists.first() {
        fields.insert("partitions".into(), json!(partitions));
    }
    Ok(OneStep { verb: "delete-offsets", kind: "delete_offsets", fields })
}

pub async fn delete(config: &LoadedConfig, args: DeleteOffsetsArgs) -> Result<Exit, Error> {
    let step = step(&args)?;
    let compiled = one_off::compile(config, args.apply.cluster.as_deref(), &step)?;
    one_off::plan_or_run(config, &compiled, one_off::file_access(config, &[]), &args.apply).await
}
