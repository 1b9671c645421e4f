//! `query_messages`: the records of one topic in a window of time or offsets,
//! filtered, counted, and kept up to a limit (SPEC §3.1). Positions become
//! offset ranges before anything is read (a time window through
//! ListOffsets-by-timestamp), so a scan never reads outside them. Every match is
//! counted; only `limit` are kept (the oldest or newest by timestamp), so
//! memory stays bounded whatever the window; `download` streams every match to
//! a JSON Lines file.

use std::collections::{BTreeMap, BinaryHeap};
use std::io::Write;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::provider::{Message, OffsetRange, Provider, ProviderError, TopicPartition};
use crate::record_filter::{Expression, RecordView};
use crate::runbook::spec::ContainsIn;
use crate::step::confined_files::{FileAccess, FileRefused};
use crate::step::progress::{ProgressSink, REPORT_EVERY};

/// Where to read.
#[derive(Debug, Clone, PartialEq)]
pub enum Position {
    /// From the first record at or after `from` to the first at or after `to`
    /// (epoch ms); log start and log end when absent.
    Window { from: Option<i64>, to: Option<i64> },
    /// One record.
    Exact { partition: i32, offset: i64 },
    /// `[from, to)`; log start and log end when absent.
    Offsets { from: Option<i64>, to: Option<i64> },
    /// The newest N records of each partition.
    Last(u64),
}

/// Text to find in a key or value, compiled once: found in the record's
/// bytes, so a scan never copies a record to look into it.
#[derive(Debug, Clone)]
pub struct Needle {
    pub text: String,
    matcher: regex::bytes::Regex,
}

impl Needle {
    pub fn new(text: &str, case_insensitive: bool) -> Result<Self, regex::Error> {
        let matcher =
            regex::bytes::RegexBuilder::new(&regex::escape(text)).case_insensitive(case_insensitive).build()?;
        Ok(Needle { text: text.to_owned(), matcher })
    }

    fn found_in(&self, bytes: &[u8]) -> bool {
        self.matcher.is_match(bytes)
    }
}

/// Filters, all of which a record must pass.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub contains: Option<Needle>,
    pub contains_in: ContainsIn,
    /// A `where:` expression, evaluated after the other filters pass.
    pub expression: Option<Expression>,
    pub key: Option<String>,
    pub value_regex: Option<Regex>,
    pub headers: BTreeMap<String, String>,
    pub case_insensitive: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    Asc,
    Desc,
}

/// A resolved `query_messages` step.
#[derive(Debug, Clone)]
pub struct QueryMessages {
    pub topic: String,
    pub partitions: Option<Vec<i32>>,
    pub position: Position,
    pub filter: Filter,
    pub limit: usize,
    pub order: Order,
    pub download: Download,
    /// The step's id and where to report how far the scan got.
    pub progress: Option<(String, ProgressSink)>,
}

/// Where a query's `download` goes.
#[derive(Debug, Clone, Default)]
pub enum Download {
    #[default]
    None,
    /// To `named`, confined by `files`.
    To { named: String, overwrite: bool, files: FileAccess },
    /// Asked for, but this run may not write files.
    Skipped,
}

/// Matches in one partition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionMatches {
    pub partition: i32,
    pub first_match: i64,
    pub last_match: i64,
    pub matches: u64,
    /// The matches as runs of consecutive offsets, `[start, end)`, in order:
    /// what `past_matches` moves a group over. At most [`MOST_RUNS`] are kept.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub runs: Vec<[i64; 2]>,
    /// More runs than [`MOST_RUNS`] were found, so `runs` holds only the first ones.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub runs_cut: bool,
}

/// Runs of matches kept per partition: enough for any poison stretch, and
/// a bound on what a query keeps whatever it reads.
pub const MOST_RUNS: usize = 1_000;

impl PartitionMatches {
    /// Adds a match at `offset` to the runs. Records arrive in offset order
    /// within a partition; one that does not is placed where it belongs.
    fn add_to_runs(&mut self, offset: i64) {
        let end = self.runs.last().map(|run| run[1]);
        match end {
            Some(end) if end == offset => {
                if let Some(run) = self.runs.last_mut() {
                    run[1] += 1;
                }
            }
            Some(end) if end > offset => self.place(offset),
            _ if self.runs.len() >= MOST_RUNS => self.runs_cut = true,
            _ => self.runs.push([offset, offset + 1]),
        }
    }

    /// An offset that came out of order: into the run that holds or touches
    /// it (joining two runs it closes the gap between), or a run of its own.
    fn place(&mut self, offset: i64) {
        let at = self.runs.partition_point(|run| run[1] < offset);
        let Some(run) = self.runs.get_mut(at) else { return };
        if run[0] <= offset && offset < run[1] {
            return;
        }
        if run[1] == offset {
            run[1] += 1;
            let end = run[1];
            if self.runs.get(at + 1).is_some_and(|next| next[0] == end) {
                let next = self.runs.remove(at + 1);
                self.runs[at][1] = next[1];
            }
        } else if run[0] == offset + 1 {
            run[0] = offset;
        } else if self.runs.len() >= MOST_RUNS {
            self.runs_cut = true;
        } else {
            self.runs.insert(at, [offset, offset + 1]);
        }
    }
}

/// `steps.<id>.output` of a query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueryOutput {
    pub topic: String,
    /// The kept matches, in `order`.
    pub messages: Vec<Value>,
    /// Every match, kept or not.
    pub count: u64,
    /// Records read.
    pub scanned: u64,
    /// Partitions with matches, by partition.
    pub partitions: Vec<PartitionMatches>,
    /// Where every match was written, when the query downloads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub downloaded: Option<Downloaded>,
    /// Records the `where:` expression could not be evaluated on (counted as no match).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub where_errors: u64,
    /// Why it could not, for the first such record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_where_error: Option<String>,
    /// What the read noticed: records deleted before they could be read, a
    /// partition that ended short of its range at an open transaction.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub read_notes: Vec<String>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// A download written: the file, and how many records it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Downloaded {
    pub path: String,
    pub records: u64,
}

impl QueryOutput {
    /// Runs of consecutive matches per partition, for `past_matches`, and
    /// the partitions where more were found than kept.
    pub fn runs(&self) -> (BTreeMap<TopicPartition, Vec<[i64; 2]>>, Vec<TopicPartition>) {
        let tp = |p: &PartitionMatches| TopicPartition::new(self.topic.clone(), p.partition);
        let runs = self.partitions.iter().map(|p| (tp(p), p.runs.clone())).collect();
        let cut = self.partitions.iter().filter(|p| p.runs_cut).map(tp).collect();
        (runs, cut)
    }

    /// First and last match per partition, for `at_messages` and `after_messages`.
    pub fn matches(&self) -> BTreeMap<TopicPartition, (i64, i64)> {
        self.partitions
            .iter()
            .map(|p| (TopicPartition::new(self.topic.clone(), p.partition), (p.first_match, p.last_match)))
            .collect()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error(transparent)]
    Provider(#[from] ProviderError),
    #[error("{topic}:{partition} has no offset {offset}: its log holds [{log_start}, {log_end})")]
    OffsetOutOfRange { topic: String, partition: i32, offset: i64, log_start: i64, log_end: i64 },
    #[error("from_offset {from} is after to_offset {to}")]
    Backwards { from: i64, to: i64 },
    #[error("the window starts at {from} (`from`), after it ends at {to} (`to`)")]
    WindowBackwards { from: String, to: String },
    #[error("partition {partition} is not among the partitions the query reads")]
    PartitionNotInScope { partition: i32 },
    #[error("cannot write {path}: {reason}")]
    Download { path: String, reason: String },
}

impl Filter {
    /// Whether `m` passes every filter; `Err` when the `where:` expression
    /// cannot be evaluated on it (which counts as no match).
    pub fn judge(&self, m: &Message) -> Result<bool, String> {
        if !self.accepts(m) {
            return Ok(false);
        }
        match &self.expression {
            Some(expression) => expression.evaluate(&RecordView {
                key: m.key.as_deref(),
                value: m.value.as_deref(),
                headers: &m.headers,
                partition: m.partition,
                offset: m.offset,
                timestamp: m.timestamp,
            }),
            None => Ok(true),
        }
    }

    /// Whether `m` passes the filters other than `where:`.
    fn accepts(&self, m: &Message) -> bool {
        let fold = |bytes: &[u8]| -> String {
            let text = String::from_utf8_lossy(bytes);
            if self.case_insensitive { text.to_lowercase() } else { text.into_owned() }
        };
        let wanted = |text: &str| if self.case_insensitive { text.to_lowercase() } else { text.to_owned() };
        if let Some(needle) = &self.contains {
            let look_in_key = self.contains_in != ContainsIn::Value;
            let look_in_value = self.contains_in != ContainsIn::Key;
            let in_key = look_in_key && m.key.as_deref().is_some_and(|k| needle.found_in(k));
            let in_value = look_in_value && m.value.as_deref().is_some_and(|v| needle.found_in(v));
            if !in_key && !in_value {
                return false;
            }
        }
        if let Some(key) = &self.key
            && m.key.as_deref().is_none_or(|k| fold(k) != wanted(key))
        {
            return false;
        }
        if let Some(regex) = &self.value_regex
            && !m.value.as_deref().is_some_and(|v| regex.is_match(&String::from_utf8_lossy(v)))
        {
            return false;
        }
        self.headers.iter().all(|(name, value)| m.headers.iter().any(|(n, v)| n == name && fold(v) == wanted(value)))
    }
}

/// A kept match. Its rank is (timestamp, partition, offset), negated for
/// `desc`, so in either order the heap's top is the match to drop first and
/// the kept matches sort into output order by rank.
struct Kept {
    rank: (i64, i64, i64),
    json: Value,
}

impl PartialEq for Kept {
    fn eq(&self, other: &Self) -> bool {
        self.rank == other.rank
    }
}

impl Eq for Kept {}

impl PartialOrd for Kept {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Kept {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.rank.cmp(&other.rank)
    }
}

struct Collector {
    order: Order,
    limit: usize,
    /// At most `limit` matches; the top is the first to drop.
    kept: BinaryHeap<Kept>,
    count: u64,
    partitions: BTreeMap<i32, PartitionMatches>,
    download: Option<std::io::BufWriter<std::fs::File>>,
    download_error: Option<String>,
}

impl Collector {
    fn take(&mut self, m: &Message) {
        self.count += 1;
        let entry = self.partitions.entry(m.partition).or_insert(PartitionMatches {
            partition: m.partition,
            first_match: m.offset,
            last_match: m.offset,
            matches: 0,
            runs: Vec::new(),
            runs_cut: false,
        });
        entry.add_to_runs(m.offset);
        entry.first_match = entry.first_match.min(m.offset);
        entry.last_match = entry.last_match.max(m.offset);
        entry.matches += 1;
        let json = message_json(m);
        if let Some(file) = &mut self.download
            && self.download_error.is_none()
            && let Err(e) = writeln!(file, "{json}")
        {
            self.download_error = Some(e.to_string());
        }
        if self.limit == 0 {
            return;
        }
        let rank = (m.timestamp.unwrap_or(-1), i64::from(m.partition), m.offset);
        let rank = match self.order {
            Order::Asc => rank,
            Order::Desc => (-rank.0, -rank.1, -rank.2),
        };
        self.kept.push(Kept { rank, json });
        if self.kept.len() > self.limit {
            self.kept.pop();
        }
    }

    fn messages(&mut self) -> Vec<Value> {
        std::mem::take(&mut self.kept).into_sorted_vec().into_iter().map(|k| k.json).collect()
    }
}

/// A record as JSON: text where it is UTF-8, else base64 with `encoding: base64`.
pub fn message_json(m: &Message) -> Value {
    let all_text = m.key.as_deref().is_none_or(|k| std::str::from_utf8(k).is_ok())
        && m.value.as_deref().is_none_or(|v| std::str::from_utf8(v).is_ok())
        && m.headers.iter().all(|(_, v)| std::str::from_utf8(v).is_ok());
    let show = |bytes: &[u8]| -> Value {
        if all_text {
            Value::String(String::from_utf8_lossy(bytes).into_owned())
        } else {
            Value::String(base64::engine::general_purpose::STANDARD.encode(bytes))
        }
    };
    let headers: Map<String, Value> = m.headers.iter().map(|(k, v)| (k.clone(), show(v))).collect();
    let mut json = json!({
        "topic": m.topic,
        "partition": m.partition,
        "offset": m.offset,
        "timestamp": m.timestamp,
        "key": m.key.as_deref().map(show),
        "value": m.value.as_deref().map(show),
        "headers": headers,
        "size": m.size(),
    });
    if !all_text {
        json["encoding"] = "base64".into();
    }
    json
}

impl QueryMessages {
    /// The offset ranges the query reads, one per partition with anything to read.
    pub async fn ranges<P: Provider>(&self, provider: &P) -> Result<Vec<OffsetRange>, QueryError> {
        let described = provider.topic(&self.topic).await?;
        let scope: Vec<TopicPartition> = match &self.partitions {
            Some(wanted) => wanted.iter().map(|p| TopicPartition::new(self.topic.clone(), *p)).collect(),
            None => described.topic_partitions().collect(),
        };
        let marks = provider.watermarks(&scope).await?;
        let scope = &scope;
        let lookup = |time: Option<i64>| async move {
            match time {
                Some(ms) => provider.offsets_for_timestamp(scope, ms).await.map(Some),
                None => Ok(None),
            }
        };
        let mut ranges = Vec::with_capacity(scope.len());
        match &self.position {
            Position::Window { from, to } => {
                if let (Some(f), Some(t)) = (from, to)
                    && f > t
                {
                    let text = |ms: i64| {
                        chrono::DateTime::from_timestamp_millis(ms)
                            .map_or_else(|| ms.to_string(), |t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                    };
                    return Err(QueryError::WindowBackwards { from: text(*f), to: text(*t) });
                }
                let (starts, ends) = (lookup(*from).await?, lookup(*to).await?);
                for (i, w) in marks.iter().enumerate() {
                    let start = starts.as_ref().map_or(w.log_start, |s| s[i].offset.unwrap_or(w.log_end));
                    let end = ends.as_ref().map_or(w.log_end, |e| e[i].offset.unwrap_or(w.log_end));
                    ranges.push(self.range(w.partition, start.max(w.log_start), end.min(w.log_end)));
                }
            }
            Position::Exact { partition, offset } => {
                let w = marks
                    .iter()
                    .find(|w| w.partition == *partition)
                    .ok_or(QueryError::PartitionNotInScope { partition: *partition })?;
                if *offset < w.log_start || *offset >= w.log_end {
                    return Err(self.out_of_range(*partition, *offset, w.log_start, w.log_end));
                }
                ranges.push(self.range(*partition, *offset, offset + 1));
            }
            Position::Offsets { from, to } => {
                if let (Some(from), Some(to)) = (from, to)
                    && from > to
                {
                    return Err(QueryError::Backwards { from: *from, to: *to });
                }
                for w in &marks {
                    for offset in [from, to].into_iter().flatten() {
                        if *offset > w.log_end {
                            return Err(self.out_of_range(w.partition, *offset, w.log_start, w.log_end));
                        }
                    }
                    let start = from.unwrap_or(w.log_start).max(w.log_start);
                    ranges.push(self.range(w.partition, start, to.unwrap_or(w.log_end)));
                }
            }
            Position::Last(n) => {
                for w in &marks {
                    let start = (w.log_end - i64::try_from(*n).unwrap_or(i64::MAX)).max(w.log_start);
                    ranges.push(self.range(w.partition, start, w.log_end));
                }
            }
        }
        ranges.retain(|r| r.start < r.end);
        Ok(ranges)
    }

    fn range(&self, partition: i32, start: i64, end: i64) -> OffsetRange {
        OffsetRange { topic: self.topic.clone(), partition, start, end }
    }

    fn out_of_range(&self, partition: i32, offset: i64, log_start: i64, log_end: i64) -> QueryError {
        QueryError::OffsetOutOfRange { topic: self.topic.clone(), partition, offset, log_start, log_end }
    }

    /// The records a provider that searches server-side (DMS) found for a
    /// keyword in a time window, each as a one-record range inside `ranges`;
    /// `None` when the provider cannot search or the query is not a
    /// case-sensitive keyword (≤ 50 characters) over a time window. The filter
    /// still runs on every record fetched, so the result is exactly a scan's.
    async fn searched<P: Provider>(
        &self,
        provider: &P,
        ranges: &[OffsetRange],
    ) -> Result<Option<Vec<OffsetRange>>, QueryError> {
        let (Position::Window { from, to }, Some(needle)) = (&self.position, &self.filter.contains) else {
            return Ok(None);
        };
        if self.filter.case_insensitive || needle.text.chars().count() > 50 || ranges.is_empty() {
            return Ok(None);
        }
        let to_ms = to.map_or(i64::MAX / 2, |t| t - 1);
        let Some(found) = provider.search(&self.topic, from.unwrap_or(0), to_ms, &needle.text).await? else {
            return Ok(None);
        };
        let mut hits: Vec<OffsetRange> = found
            .into_iter()
            .filter(|(p, o)| ranges.iter().any(|r| r.partition == *p && r.start <= *o && *o < r.end))
            .map(|(p, o)| self.range(p, o, o + 1))
            .collect();
        hits.sort_by_key(|r| (r.partition, r.start));
        Ok(Some(hits))
    }

    pub async fn run<P: Provider>(&self, provider: &P) -> Result<QueryOutput, QueryError> {
        let ranges = self.ranges(provider).await?;
        let ranges = self.searched(provider, &ranges).await?.unwrap_or(ranges);
        let refused = |e: FileRefused| QueryError::Download { path: crate::shown::quoted(&e.path), reason: e.reason };
        // Dropped unfinished if the scan fails: then nothing is left behind.
        let mut pending = match &self.download {
            Download::To { named, overwrite, files } => Some(files.create(named, *overwrite).map_err(refused)?),
            Download::None | Download::Skipped => None,
        };
        let download = match &mut pending {
            Some(pending) => Some(std::io::BufWriter::new(pending.file().try_clone().map_err(|e| {
                QueryError::Download { path: pending.target().display().to_string(), reason: e.to_string() }
            })?)),
            None => None,
        };
        let collector = Arc::new(Mutex::new(Collector {
            order: self.order,
            limit: self.limit,
            kept: BinaryHeap::new(),
            count: 0,
            partitions: BTreeMap::new(),
            download,
            download_error: None,
        }));
        let filter = self.filter.clone();
        let sink = Arc::clone(&collector);
        let total: u64 = ranges.iter().map(|r| (r.end - r.start).max(0) as u64).sum();
        let progress = self.progress.clone();
        if let Some((step, report)) = &progress {
            report.advance(step, 0, total);
        }
        let read = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let where_errors = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let first_where_error: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
        let (errors, first_error) = (Arc::clone(&where_errors), Arc::clone(&first_where_error));
        let counter = Arc::clone(&read);
        let scanned = provider
            .scan_noting(
                &ranges,
                Arc::new(move |m: &Message| {
                    let done = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                    if let Some((step, report)) = &progress
                        && done.is_multiple_of(REPORT_EVERY)
                    {
                        report.advance(step, done, total);
                    }
                    match filter.judge(m) {
                        Ok(true) => sink.lock().unwrap_or_else(|p| p.into_inner()).take(m),
                        Ok(false) => {}
                        Err(why) => {
                            if errors.fetch_add(1, std::sync::atomic::Ordering::Relaxed) == 0 {
                                // The reason may quote the record: escaped and cut short.
                                let why = crate::shown::bare(&why);
                                let at = format!("{}:{} at offset {}: {why}", m.topic, m.partition, m.offset);
                                *first_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(at);
                            }
                        }
                    }
                    true
                }),
            )
            .await;
        if let Some((step, report)) = &self.progress {
            report.finish(step, read.load(std::sync::atomic::Ordering::Relaxed), total);
        }
        let scanned = scanned?;
        let mut collector = collector.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(file) = &mut collector.download
            && let Err(e) = file.flush()
        {
            collector.download_error.get_or_insert(e.to_string());
        }
        if let (Some(reason), Some(pending)) = (collector.download_error.take(), &pending) {
            return Err(QueryError::Download { path: pending.target().display().to_string(), reason });
        }
        collector.download = None;
        let downloaded = match pending {
            Some(pending) => {
                let path = pending.finish().map_err(refused)?;
                Some(Downloaded { path: path.display().to_string(), records: collector.count })
            }
            None => None,
        };
        Ok(QueryOutput {
            topic: self.topic.clone(),
            messages: collector.messages(),
            count: collector.count,
            scanned: scanned.read,
            read_notes: scanned.notes,
            partitions: collector.partitions.values().cloned().collect(),
            downloaded,
            where_errors: where_errors.load(std::sync::atomic::Ordering::Relaxed),
            first_where_error: first_where_error.lock().unwrap_or_else(|p| p.into_inner()).take(),
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn matches_group_into_runs_of_consecutive_offsets() {
        let mut p = super::PartitionMatches {
            partition: 0,
            first_match: 0,
            last_match: 0,
            matches: 0,
            runs: vec![],
            runs_cut: false,
        };
        for offset in [10, 11, 3, 12, 20, 5, 4, 11, 9] {
            p.add_to_runs(offset);
        }
        assert_eq!(p.runs, [[3, 6], [9, 13], [20, 21]], "out of order placed where it belongs");
        for offset in (100..).step_by(2).take(super::MOST_RUNS) {
            p.add_to_runs(offset);
        }
        assert!(p.runs_cut && p.runs.len() == super::MOST_RUNS);
    }
}
