//! `purge_messages` planned: where each partition's new log start goes
//! (SPEC §3.4). The `before` point is found first, then held back by what the
//! protecting groups have consumed, then by the log itself: a point below the
//! log start deletes nothing, and a computed point past the log end stops at
//! it. Only reads; the engine's apply does the deleting.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::provider::{Provider, ProviderError, TopicPartition, Watermarks};

use super::protection::{self, Cap, Caps, Protection};
use super::time_order::{self, Cut, TimeOrder};

/// Where the new log start goes, before protection.
#[derive(Debug, Clone, PartialEq)]
pub enum PurgePoint {
    /// This offset in every partition.
    Offset(i64),
    /// Per partition.
    Offsets(BTreeMap<i32, i64>),
    /// The first record at or after this time (epoch ms); the log end when none is.
    Time(i64),
    /// The lowest committed offset among these groups.
    CommittedBy(Vec<String>),
    /// The log end: everything protection allows.
    HighWatermark,
}

/// A resolved `purge_messages` step.
#[derive(Debug, Clone)]
pub struct PurgeMessages {
    pub topic: String,
    pub partitions: Option<Vec<i32>>,
    pub before: PurgePoint,
    pub protection: Protection,
    pub allow_unconsumed: bool,
    pub max_delete: Option<u64>,
    pub max_delete_percent: Option<u64>,
    pub strict_time: bool,
}

/// A planned purge. Irreversible once applied.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PurgePlan {
    pub topic: String,
    /// Partitions that lose records.
    pub changes: Vec<PurgeChange>,
    /// Partitions in scope that keep every record, each with the reason.
    #[serde(default)]
    pub untouched: Vec<PurgeChange>,
    pub total_deleted: i64,
    /// As the runbook asked; apply reads the groups' offsets again under it.
    #[serde(default)]
    pub protect_groups: Protection,
    /// The groups that protected the topic when planned.
    #[serde(default)]
    pub protected_by: Vec<String>,
    #[serde(default)]
    pub allow_unconsumed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_delete: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_delete_percent: Option<u64>,
    /// With a time cut-off: out-of-order timestamps around a cut refuse rather than warn.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub strict_time: bool,
    /// The cut-off time of a `datetime` or `older_than` purge (epoch ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cut_off_ms: Option<i64>,
    /// Always true: deleted records cannot be brought back, and rollback says so.
    pub irreversible: bool,
}

/// One partition of a purge plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurgeChange {
    pub topic: String,
    pub partition: i32,
    pub log_start: i64,
    pub log_end: i64,
    /// Where `before` put the new log start, before protection; `None` when
    /// `committed_by` found no committed offset on the partition.
    pub requested: Option<i64>,
    pub new_log_start: i64,
    pub deleted: i64,
    /// The group whose committed offset (or lack of one) held the purge back.
    pub capped_by: Option<String>,
    pub note: Option<String>,
    /// With `allow_unconsumed`: the groups that lose records they have not consumed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unconsumed_by: Vec<String>,
    /// With a time cut-off: the timestamps read around this partition's cut.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_order: Option<TimeOrder>,
}

impl PurgeChange {
    pub fn topic_partition(&self) -> TopicPartition {
        TopicPartition::new(self.topic.clone(), self.partition)
    }
}

impl PurgePlan {
    /// Every partition in the plan, deleting or not.
    pub fn rows(&self) -> impl Iterator<Item = &PurgeChange> {
        self.changes.iter().chain(&self.untouched)
    }

    /// Groups that lose records they have not consumed (only with `allow_unconsumed`), with their partitions.
    pub fn unconsumed(&self) -> BTreeMap<&str, Vec<i32>> {
        let mut lost: BTreeMap<&str, Vec<i32>> = BTreeMap::new();
        for row in &self.changes {
            for group in &row.unconsumed_by {
                lost.entry(group.as_str()).or_default().push(row.partition);
            }
        }
        lost
    }

    /// What later templates see as `steps.<id>.output`.
    pub fn output(&self) -> Value {
        json!({
            "topic": self.topic,
            "deleted": self.total_deleted,
            "partitions": self.changes.len(),
            "untouched": self.untouched.len(),
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PurgeError {
    #[error(transparent)]
    Provider(#[from] ProviderError),
    #[error(
        "topic {topic:?} has cleanup.policy={policy}: purge_messages needs `delete` in it (records of a compacted topic go only through compaction); nothing was deleted"
    )]
    NotDeletable { topic: String, policy: String },
    #[error("before: {detail}; nothing was deleted")]
    PastLogEnd { detail: String },
    #[error("before.offsets: {0}")]
    OffsetsScope(String),
    #[error("before: offset {offset} is negative; offsets start at 0")]
    Negative { offset: i64 },
    #[error("before.committed_by: group {group:?} has no committed offset on topic {topic:?}; check the group's name")]
    NoCommits { group: String, topic: String },
}

impl PurgeMessages {
    /// Plans the purge: reads the topic's policy, log bounds and the protecting
    /// groups' offsets. Nothing is written.
    pub async fn plan<P: Provider>(&self, provider: &P) -> Result<PurgePlan, PurgeError> {
        let policy = provider.cleanup_policy(&self.topic).await?;
        if !policy.allows_delete() {
            return Err(PurgeError::NotDeletable { topic: self.topic.clone(), policy: policy.policy });
        }
        let scope = self.scope(provider).await?;
        let asked: Vec<TopicPartition> = scope.iter().map(|p| TopicPartition::new(self.topic.clone(), *p)).collect();
        let marks = provider.watermarks(&asked).await?;
        let requested = self.requested(provider, &asked, &marks).await?;
        let caps = protection::caps(provider, &self.topic, &scope, &self.protection).await?;
        let mut plan = PurgePlan {
            topic: self.topic.clone(),
            protect_groups: self.protection.clone(),
            protected_by: caps.groups.clone(),
            allow_unconsumed: self.allow_unconsumed,
            max_delete: self.max_delete,
            max_delete_percent: self.max_delete_percent,
            strict_time: self.strict_time,
            irreversible: true,
            ..PurgePlan::default()
        };
        let mut rows: Vec<PurgeChange> =
            marks.iter().zip(requested).map(|(w, requested)| self.row(w, requested, &caps)).collect();
        if let PurgePoint::Time(cut_off_ms) = self.before {
            plan.cut_off_ms = Some(cut_off_ms);
            let cuts: Vec<Cut> = rows
                .iter()
                .filter_map(|r| {
                    let time_cut = r.requested?.clamp(r.log_start, r.log_end);
                    Some(Cut {
                        partition: r.partition,
                        log_start: r.log_start,
                        log_end: r.log_end,
                        deleted_below: r.new_log_start,
                        time_cut,
                    })
                })
                .collect();
            let mut found = time_order::check(provider, &self.topic, &cuts, cut_off_ms).await?;
            for row in &mut rows {
                row.time_order = found.remove(&row.partition);
            }
        }
        for row in rows {
            plan.total_deleted += row.deleted;
            if row.deleted > 0 { plan.changes.push(row) } else { plan.untouched.push(row) }
        }
        Ok(plan)
    }

    /// The partitions in scope: `partitions`, or those `offsets` names, or all.
    async fn scope<P: Provider>(&self, provider: &P) -> Result<Vec<i32>, PurgeError> {
        let named = match &self.before {
            PurgePoint::Offsets(offsets) => Some(offsets.keys().copied().collect::<Vec<i32>>()),
            _ => None,
        };
        match (&self.partitions, named) {
            (Some(partitions), Some(named)) => {
                let missing: Vec<String> =
                    partitions.iter().filter(|p| !named.contains(p)).map(i32::to_string).collect();
                let extra: Vec<String> = named.iter().filter(|p| !partitions.contains(p)).map(i32::to_string).collect();
                if !missing.is_empty() {
                    return Err(PurgeError::OffsetsScope(format!(
                        "no offset for partition(s) {} listed in `partitions`",
                        missing.join(", ")
                    )));
                }
                if !extra.is_empty() {
                    return Err(PurgeError::OffsetsScope(format!(
                        "partition(s) {} are not in `partitions`",
                        extra.join(", ")
                    )));
                }
                Ok(partitions.clone())
            }
            (Some(partitions), None) => Ok(partitions.clone()),
            (None, Some(named)) => Ok(named),
            (None, None) => Ok(provider.topic(&self.topic).await?.partitions.iter().map(|p| p.partition).collect()),
        }
    }

    /// Where `before` puts each partition's new log start (in the order of
    /// `marks`): `Err(note)` where it finds none.
    async fn requested<P: Provider>(
        &self,
        provider: &P,
        asked: &[TopicPartition],
        marks: &[Watermarks],
    ) -> Result<Vec<Result<i64, String>>, PurgeError> {
        let given = |offset_of: &dyn Fn(i32) -> i64| -> Result<Vec<Result<i64, String>>, PurgeError> {
            let mut past = Vec::new();
            for w in marks {
                let offset = offset_of(w.partition);
                if offset < 0 {
                    return Err(PurgeError::Negative { offset });
                }
                if offset > w.log_end {
                    past.push(format!(
                        "offset {offset} is past the log end of {}:{} ({})",
                        w.topic, w.partition, w.log_end
                    ));
                }
            }
            if !past.is_empty() {
                let shown = past.len().min(5);
                let more = if past.len() > shown { format!(" and {} more", past.len() - shown) } else { String::new() };
                return Err(PurgeError::PastLogEnd {
                    detail: format!(
                        "{}{more}. To purge up to the log end, use `high_watermark: true`",
                        past[..shown].join(", ")
                    ),
                });
            }
            Ok(marks.iter().map(|w| Ok(offset_of(w.partition))).collect())
        };
        match &self.before {
            PurgePoint::Offset(n) => given(&|_| *n),
            PurgePoint::Offsets(offsets) => given(&|p| offsets[&p]),
            PurgePoint::HighWatermark => Ok(marks.iter().map(|w| Ok(w.log_end)).collect()),
            PurgePoint::Time(ms) => {
                let found = provider.offsets_for_timestamp(asked, *ms).await?;
                Ok(marks.iter().zip(found).map(|(w, f)| Ok(f.offset.unwrap_or(w.log_end))).collect())
            }
            PurgePoint::CommittedBy(groups) => {
                let scope: Vec<i32> = marks.iter().map(|w| w.partition).collect();
                let caps = protection::caps(provider, &self.topic, &scope, &Protection::Groups(groups.clone())).await?;
                if let Some(group) = caps.without_commits.first() {
                    return Err(PurgeError::NoCommits { group: group.clone(), topic: self.topic.clone() });
                }
                Ok(marks
                    .iter()
                    .map(|w| match caps.get(w.partition) {
                        Some(Cap::At { offset, .. }) => Ok(*offset),
                        Some(Cap::Blocked { groups }) => {
                            Err(format!("committed_by: {} has no committed offset here", groups.join(", ")))
                        }
                        None => Err("committed_by names no group".to_owned()),
                    })
                    .collect())
            }
        }
    }

    fn row(&self, w: &Watermarks, requested: Result<i64, String>, caps: &Caps) -> PurgeChange {
        let mut row = PurgeChange {
            topic: w.topic.clone(),
            partition: w.partition,
            log_start: w.log_start,
            log_end: w.log_end,
            requested: requested.as_ref().ok().copied(),
            new_log_start: w.log_start,
            deleted: 0,
            capped_by: None,
            note: None,
            unconsumed_by: Vec::new(),
            time_order: None,
        };
        let target = match requested {
            Ok(target) => target,
            Err(note) => {
                row.note = Some(note);
                return row;
            }
        };
        let mut notes = Vec::new();
        let mut target = if target > w.log_end {
            notes.push(format!("clamped to the log end {}", w.log_end));
            w.log_end
        } else {
            target
        };
        match caps.get(w.partition) {
            Some(Cap::Blocked { groups }) if target > w.log_start => {
                let names = groups.join(", ");
                let has = if groups.len() == 1 { "has" } else { "have" };
                if self.allow_unconsumed {
                    notes.push(format!("{names} {has} no committed offset here, deleted anyway"));
                    row.unconsumed_by = groups.clone();
                } else {
                    row.capped_by = groups.first().cloned();
                    notes.push(format!("{names} {has} no committed offset here: nothing deleted"));
                    target = w.log_start;
                }
            }
            Some(Cap::At { offset, group }) if target > *offset && target > w.log_start => {
                if self.allow_unconsumed {
                    notes.push(format!("{} record(s) {group} has not consumed, deleted anyway", target - offset));
                    row.unconsumed_by = vec![group.clone()];
                } else {
                    row.capped_by = Some(group.clone());
                    notes.push(format!("{group} has consumed up to {offset}"));
                    target = *offset;
                }
            }
            _ => {}
        }
        if target <= w.log_start && notes.is_empty() {
            notes.push("the log already starts at or after this point".to_owned());
        }
        row.new_log_start = target.max(w.log_start);
        row.deleted = row.new_log_start - w.log_start;
        row.note = (!notes.is_empty()).then(|| notes.join("; "));
        row
    }
}
