//! `compute_offsets`: target offsets for one group over a scope of partitions,
//! with the semantics of `kafka-consumer-groups.sh --reset-offsets`: targets are
//! clamped to [log start, log end] (each clamp noted); `to_current` keeps the
//! committed offset as it is, even outside the log (noted), and gives log end
//! where there is none; a time with no message at or after it gives
//! log end (noted); `shift_by` needs a committed offset on every partition.
//!
//! Scope: the partitions the group has committed offsets on (Apache's
//! `--all-topics`), or every partition of the named topics, narrowed to a
//! partition list applied to each topic. Read-only: nothing here commits.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::provider::{CommittedOffset, Provider, ProviderError, TopicDescription, TopicPartition, Watermarks};

/// How targets are chosen, with every value resolved.
#[derive(Debug, Clone, PartialEq)]
pub enum Targeting {
    Earliest,
    Latest,
    Current,
    Offset(i64),
    Shift(i64),
    /// The first offset at or after this time (epoch ms); `to_datetime` and `by_duration`.
    Time(i64),
    /// Given offsets (`offsets`, `from_file`); their partitions are the default scope.
    Given(BTreeMap<TopicPartition, i64>),
    /// Another group's committed offsets; its partitions are the default scope.
    FromGroup(String),
    /// Last match + 1 per partition with matches (`after_messages`).
    AfterMatches(BTreeMap<TopicPartition, i64>),
    /// First match per partition with matches (`at_messages`).
    AtMatches(BTreeMap<TopicPartition, i64>),
    /// Runs of consecutive matches per partition, `[start, end)`: a group
    /// whose committed offset is in one moves to its end.
    PastMatches(BTreeMap<TopicPartition, Vec<[i64; 2]>>),
}

/// A resolved `compute_offsets` step.
#[derive(Debug, Clone, PartialEq)]
pub struct ComputeOffsets {
    pub group: String,
    pub topics: Option<Vec<String>>,
    pub partitions: Option<Vec<i32>>,
    pub targeting: Targeting,
}

/// One partition's target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionTarget {
    pub topic: String,
    pub partition: i32,
    /// The group's committed offset, if any.
    pub current: Option<i64>,
    pub target: i64,
    pub log_start: i64,
    pub log_end: i64,
    pub lag_before: Option<i64>,
    pub lag_after: i64,
    pub note: Option<String>,
}

impl PartitionTarget {
    pub fn topic_partition(&self) -> TopicPartition {
        TopicPartition::new(self.topic.clone(), self.partition)
    }

    /// Whether committing the target would change anything.
    pub fn changes(&self) -> bool {
        self.current != Some(self.target)
    }
}

/// The step's output: `steps.<id>.output` in templates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComputeOutput {
    pub group: String,
    pub partitions: Vec<PartitionTarget>,
    /// Messages skipped forward in total, over partitions with a committed offset.
    pub total_skip: i64,
    /// Messages rewound in total, over partitions with a committed offset.
    pub total_rewind: i64,
    /// What a person should know before this moves anything: a strategy
    /// meant to replay (`to_datetime`, `by_duration`) that moves partitions
    /// forward, past messages the group has not read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ComputeError {
    #[error(transparent)]
    Provider(#[from] ProviderError),
    #[error(
        "shift_by needs a committed offset, but group {group:?} has none on {topic}-{partition} (use to_offset or to_datetime there)"
    )]
    NoCommittedOffset { group: String, topic: String, partition: i32 },
    #[error("group {group:?} has no committed offsets, so there is no default scope: name `topics`")]
    EmptyScope { group: String },
}

impl ComputeOffsets {
    pub async fn run<P: Provider>(&self, provider: &P) -> Result<ComputeOutput, ComputeError> {
        let own = provider.committed_offsets(&self.group, self.topics.as_deref()).await?;
        let source = match &self.targeting {
            Targeting::FromGroup(other) => Some(provider.committed_offsets(other, self.topics.as_deref()).await?),
            _ => None,
        };
        let scope = self.scope(provider, &own, source.as_deref()).await?;
        if scope.is_empty() {
            return Err(ComputeError::EmptyScope { group: self.group.clone() });
        }
        let marks = provider.watermarks(&scope).await?;
        let by_time = match self.targeting {
            Targeting::Time(ms) => Some(provider.offsets_for_timestamp(&scope, ms).await?),
            _ => None,
        };
        let current: BTreeMap<TopicPartition, i64> = own.iter().map(|c| (tp(c), c.offset)).collect();
        let source: Option<BTreeMap<TopicPartition, i64>> =
            source.map(|s| s.iter().map(|c| (tp(c), c.offset)).collect());

        let mut partitions = Vec::with_capacity(scope.len());
        for (i, (tp, marks)) in scope.iter().zip(&marks).enumerate() {
            let current = current.get(tp).copied();
            let wanted = match &self.targeting {
                Targeting::Earliest => Wanted::Exact(marks.log_start),
                Targeting::Latest => Wanted::Exact(marks.log_end),
                // Apache keeps the committed offset as it is, even outside the log.
                Targeting::Current => match current {
                    Some(c) if c < marks.log_start => Wanted::Noted(c, format!("below log start {}", marks.log_start)),
                    Some(c) if c > marks.log_end => Wanted::Noted(c, format!("past log end {}", marks.log_end)),
                    Some(c) => Wanted::Exact(c),
                    None => Wanted::Noted(marks.log_end, "no committed offset: log end".to_owned()),
                },
                Targeting::Offset(n) => Wanted::Clamp(*n),
                Targeting::Shift(n) => match current {
                    Some(c) => Wanted::Clamp(c.saturating_add(*n)),
                    None => {
                        return Err(ComputeError::NoCommittedOffset {
                            group: self.group.clone(),
                            topic: tp.topic.clone(),
                            partition: tp.partition,
                        });
                    }
                },
                Targeting::Time(ms) => match by_time.as_ref().and_then(|t| t[i].offset) {
                    Some(offset) => Wanted::Clamp(offset),
                    None => Wanted::Noted(marks.log_end, format!("no message at or after {}: log end", show_ms(*ms))),
                },
                Targeting::Given(given) => match given.get(tp) {
                    Some(offset) => Wanted::Clamp(*offset),
                    None => Wanted::Keep("no offset given"),
                },
                Targeting::FromGroup(_) => match source.as_ref().and_then(|s| s.get(tp)) {
                    Some(offset) => Wanted::Clamp(*offset),
                    None => Wanted::Keep("the source group has no committed offset"),
                },
                Targeting::AfterMatches(matches) => match matches.get(tp) {
                    Some(last) => Wanted::Clamp(last.saturating_add(1)),
                    None => Wanted::Keep("no matching message"),
                },
                Targeting::AtMatches(matches) => match matches.get(tp) {
                    Some(first) => Wanted::Clamp(*first),
                    None => Wanted::Keep("no matching message"),
                },
                Targeting::PastMatches(runs) => {
                    let on = current.and_then(|c| runs.get(tp)?.iter().find(|[start, end]| *start <= c && c < *end));
                    match on {
                        Some([_, end]) => Wanted::Clamp(*end),
                        None => Wanted::Keep("the group is not on a match"),
                    }
                }
            };
            let (target, mut note) = match wanted {
                Wanted::Exact(offset) => (offset, None),
                Wanted::Noted(offset, note) => (offset, Some(note)),
                Wanted::Clamp(offset) => clamp(offset, marks),
                Wanted::Keep(reason) => match current {
                    Some(c) => (c, Some(format!("{reason}: unchanged"))),
                    None => continue,
                },
            };
            // A replay that would skip: the time's first message is past where the group is.
            if let (Targeting::Time(_), Some(c)) = (&self.targeting, current)
                && target > c
            {
                let forward = format!("forward past {} unread message(s)", target - c);
                note = Some(note.map_or(forward.clone(), |n| format!("{n}; {forward}")));
            }
            partitions.push(PartitionTarget {
                topic: tp.topic.clone(),
                partition: tp.partition,
                current,
                target,
                log_start: marks.log_start,
                log_end: marks.log_end,
                lag_before: current.map(|c| marks.log_end - c),
                lag_after: marks.log_end - target,
                note,
            });
        }
        let moves = partitions.iter().filter_map(|p| p.current.map(|c| p.target - c));
        let (total_skip, total_rewind) =
            moves.fold((0, 0), |(skip, rewind), d| if d > 0 { (skip + d, rewind) } else { (skip, rewind - d) });
        let mut warnings = Vec::new();
        if matches!(self.targeting, Targeting::Time(_)) {
            let forward: Vec<&PartitionTarget> =
                partitions.iter().filter(|p| p.current.is_some_and(|c| p.target > c)).collect();
            if !forward.is_empty() {
                let skipped: i64 = forward.iter().map(|p| p.target - p.current.unwrap_or(p.target)).sum();
                warnings.push(format!(
                    "a replay by time moves {} partition(s) of group {:?} forward, past {skipped} message(s) it has not read: the time is after where the group is (add max_skip: 0 to refuse this)",
                    forward.len(),
                    self.group
                ));
            }
        }
        Ok(ComputeOutput { group: self.group.clone(), partitions, total_skip, total_rewind, warnings })
    }

    /// The partitions in scope, sorted. Whether they exist is checked by the
    /// watermarks lookup that follows (one metadata request for all of them).
    async fn scope<P: Provider>(
        &self,
        provider: &P,
        own: &[CommittedOffset],
        source: Option<&[CommittedOffset]>,
    ) -> Result<Vec<TopicPartition>, ProviderError> {
        // Without `topics`, Apache's --all-topics: exactly the partitions with committed offsets.
        let committed: Vec<TopicPartition> = match (&self.targeting, source) {
            (Targeting::Given(given), _) => given.keys().cloned().collect(),
            (_, Some(source)) => source.iter().map(tp).collect(),
            _ => own.iter().map(tp).collect(),
        };
        let topics: BTreeSet<&str> = match &self.topics {
            Some(topics) => topics.iter().map(String::as_str).collect(),
            None => committed.iter().map(|t| t.topic.as_str()).collect(),
        };
        let scope: BTreeSet<TopicPartition> = match (&self.partitions, &self.topics) {
            (Some(wanted), _) => {
                topics.iter().flat_map(|topic| wanted.iter().map(move |p| TopicPartition::new(*topic, *p))).collect()
            }
            (None, Some(_)) => {
                let names: Vec<String> = topics.iter().map(|t| (*t).to_owned()).collect();
                let described = provider.topics_named(&names).await?;
                described.iter().flat_map(TopicDescription::topic_partitions).collect()
            }
            (None, None) => committed.into_iter().collect(),
        };
        Ok(scope.into_iter().collect())
    }
}

enum Wanted {
    /// Exactly this (a watermark).
    Exact(i64),
    /// This, with a note.
    Noted(i64, String),
    /// This, clamped to the log.
    Clamp(i64),
    /// The committed offset, unchanged, for this reason; left out when there is none.
    Keep(&'static str),
}

fn clamp(offset: i64, marks: &Watermarks) -> (i64, Option<String>) {
    if offset < marks.log_start {
        (marks.log_start, Some(format!("{offset} is below log start: clamped to {}", marks.log_start)))
    } else if offset > marks.log_end {
        (marks.log_end, Some(format!("{offset} is past log end: clamped to {}", marks.log_end)))
    } else {
        (offset, None)
    }
}

fn tp(c: &CommittedOffset) -> TopicPartition {
    TopicPartition::new(c.topic.clone(), c.partition)
}

fn show_ms(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map_or_else(|| ms.to_string(), |t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}
