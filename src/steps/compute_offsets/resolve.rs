//! A `compute_offsets` step (or the compute inside an inline `reset_offsets`)
//! resolved for one run: names checked, times pinned to the run's start,
//! files read from where runbooks may read, earlier queries' matches taken.

use std::collections::BTreeMap;

use crate::provider::TopicPartition;
use crate::runbook::spec::values::Leaf;
use crate::runbook::spec::{ComputeOffsetsSpec, Partition, Strategy, Templated};
use crate::step::{Fields, StepError};
use crate::steps::Earlier;

use super::compute::{ComputeOffsets, Targeting};
use super::offsets_file::parse_offsets_file;

/// A `compute_offsets` step, resolved.
pub fn resolve(
    fields: &Fields<'_>,
    earlier: &Earlier<'_>,
    spec: &ComputeOffsetsSpec,
) -> Result<ComputeOffsets, StepError> {
    resolve_parts(fields, earlier, &spec.group, spec.topics.as_deref(), spec.partitions.as_deref(), &spec.strategy)
}

/// A compute from its parts: a group, its scope and a strategy.
pub fn resolve_parts(
    fields: &Fields<'_>,
    earlier: &Earlier<'_>,
    group: &str,
    topics: Option<&[String]>,
    partitions: Option<&[Templated<Partition>]>,
    strategy: &Strategy,
) -> Result<ComputeOffsets, StepError> {
    let group = fields.name("group", group, false)?;
    let targeting = match strategy {
        Strategy::ToEarliest(_) => Targeting::Earliest,
        Strategy::ToLatest(_) => Targeting::Latest,
        Strategy::ToCurrent(_) => Targeting::Current,
        Strategy::ToOffset(n) => Targeting::Offset(fields.leaf("strategy.to_offset", n)?),
        Strategy::ShiftBy(n) => Targeting::Shift(fields.leaf("strategy.shift_by", n)?),
        Strategy::ToDatetime(t) => {
            Targeting::Time(fields.leaf("strategy.to_datetime", t)?.resolve(fields.now).timestamp_millis())
        }
        Strategy::ByDuration(d) => {
            let d = fields.leaf("strategy.by_duration", d)?;
            let back = chrono::Duration::from_std(d.duration).unwrap_or(chrono::Duration::MAX);
            Targeting::Time((fields.now - back).timestamp_millis())
        }
        Strategy::Offsets(given) => {
            let mut offsets = BTreeMap::new();
            for (topic, partitions) in given {
                let topic = fields.name("strategy.offsets", topic, true)?;
                for (partition, offset) in &partitions.0 {
                    let field = format!("strategy.offsets.{topic}");
                    let partition = Partition::from_text(partition).map_err(|e| fields.invalid(&field, e))?.0;
                    let field = format!("{field}.{partition}");
                    offsets.insert(TopicPartition::new(topic.clone(), partition), fields.leaf(&field, offset)?);
                }
            }
            Targeting::Given(offsets)
        }
        Strategy::FromFile(path) => {
            let named = fields.text("strategy.from_file", path)?;
            let text = fields
                .files
                .read(&named, crate::bounded_read::DATA_FILE_LIMIT)
                .map_err(|e| fields.invalid("strategy.from_file", e))?;
            let offsets = parse_offsets_file(&text, &group)
                .map_err(|e| fields.unresolved(format!("{}: {e}", crate::shown::quoted(&named))))?;
            Targeting::Given(offsets)
        }
        Strategy::FromGroup(other) => Targeting::FromGroup(fields.name("strategy.from_group", other, false)?),
        Strategy::AfterMessages(query) => Targeting::AfterMatches(matches(fields, earlier, query, |(_, last)| last)?),
        Strategy::AtMessages(query) => Targeting::AtMatches(matches(fields, earlier, query, |(first, _)| first)?),
        Strategy::PastMatches(query) => Targeting::PastMatches(match earlier.queried(query) {
            Some(Some(output)) => {
                let (runs, cut) = output.runs();
                if let Some(tp) = cut.first() {
                    return Err(fields.unresolved(format!(
                        "`{query}` found more than {} separate runs of matches in {tp}, too many to know which one the group sits on: narrow the query",
                        crate::steps::query_messages::MOST_RUNS
                    )));
                }
                runs
            }
            Some(None) => BTreeMap::new(),
            None => return Err(fields.unresolved(format!("`{query}` is not an earlier query_messages step"))),
        }),
    };
    Ok(ComputeOffsets { group, topics: fields.topics(topics)?, partitions: fields.partitions(partitions)?, targeting })
}

/// First or last match per partition of an earlier query step.
fn matches(
    fields: &Fields<'_>,
    earlier: &Earlier<'_>,
    query: &str,
    pick: impl Fn((i64, i64)) -> i64,
) -> Result<BTreeMap<TopicPartition, i64>, StepError> {
    match earlier.queried(query) {
        Some(Some(output)) => Ok(output.matches().into_iter().map(|(tp, m)| (tp, pick(m))).collect()),
        Some(None) => Ok(BTreeMap::new()),
        None => Err(fields.unresolved(format!("`{query}` is not an earlier query_messages step"))),
    }
}
