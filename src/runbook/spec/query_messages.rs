//! `query_messages`: find messages by time window, offsets or position, filter
//! them, keep some and count all (SPEC §3.1). Read-only.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::values::{Count, Partition, Templated};
use crate::time::TimeSpec;

/// Read messages of one topic and keep those that match every filter.
///
/// Position: exactly one of a time window (`from`/`to`), one message
/// (`partition` + `offset`), an offset range (`from_offset`/`to_offset`), or `last`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QueryMessagesSpec {
    /// Topic to read.
    pub topic: String,
    /// Partitions to read; default all.
    #[serde(default)]
    pub partitions: Option<Vec<Templated<Partition>>>,
    /// Start of a time window: RFC 3339, epoch milliseconds, `now` or relative like `-1h`.
    #[serde(default)]
    pub from: Option<Templated<TimeSpec>>,
    /// End of a time window (exclusive); default now.
    #[serde(default)]
    pub to: Option<Templated<TimeSpec>>,
    /// One exact message: its partition (with `offset`).
    #[serde(default)]
    pub partition: Option<Templated<Partition>>,
    /// One exact message: its offset (with `partition`).
    #[serde(default)]
    pub offset: Option<Templated<i64>>,
    /// First offset to read in each partition; default log start.
    #[serde(default)]
    pub from_offset: Option<Templated<i64>>,
    /// Offset to stop before in each partition; default log end.
    #[serde(default)]
    pub to_offset: Option<Templated<i64>>,
    /// The newest N messages of each partition.
    #[serde(default)]
    pub last: Option<Templated<Count>>,
    /// Keep messages whose key or value (see `contains_in`) contains this text.
    #[serde(default)]
    pub contains: Option<String>,
    /// Where `contains` looks: `key`, `value` or `both` (default).
    #[serde(default)]
    pub contains_in: Option<ContainsIn>,
    /// Keep messages for which this Common Expression Language (CEL)
    /// expression is true. It sees `key` and `value` (text), `json` (the value
    /// parsed as JSON, else null), `headers` (name → text), `partition`,
    /// `offset`, `timestamp` and the run's `params`; e.g.
    /// `json.amount == 50 && headers["source"] == params.source`. Not a
    /// template. A record it cannot be evaluated on counts as no match.
    #[serde(default, rename = "where")]
    pub where_: Option<String>,
    /// Keep messages whose key is exactly this.
    #[serde(default)]
    pub key: Option<String>,
    /// Keep messages whose value matches this regular expression.
    #[serde(default)]
    pub value_regex: Option<String>,
    /// Keep messages that carry every one of these headers with these values.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Compare `contains`, `key`, `value_regex` and header values without regard to case.
    #[serde(default)]
    pub case_insensitive: Option<Templated<bool>>,
    /// Messages kept in the output (default 100); `count` still counts every match.
    #[serde(default)]
    pub limit: Option<Templated<Count>>,
    /// Order of the kept messages by timestamp; default `asc`.
    #[serde(default)]
    pub order: Option<Order>,
    /// Stream every match to this file as JSON Lines, in ebb.yaml's
    /// `downloads_dir` (or an absolute path in `allow_paths`).
    #[serde(default)]
    pub download: Option<String>,
    /// Replace the `download` file if it exists; without this an existing file is an error.
    #[serde(default)]
    pub overwrite: bool,
}

/// The parts of a record `contains` looks in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContainsIn {
    /// The key only.
    Key,
    /// The value only.
    Value,
    /// The key or the value.
    #[default]
    Both,
}

/// Timestamp order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Order {
    /// Oldest first.
    Asc,
    /// Newest first.
    Desc,
}
