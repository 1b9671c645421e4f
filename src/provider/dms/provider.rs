//! The `Provider` trait over the DMS for Kafka REST API (SPEC §7): watermarks
//! from the topic partitions listing, committed offsets and group state from
//! ShowGroups, records from ShowInstanceMessages (a time window for offsets by
//! time, partition + offset for content), resets through
//! ResetMessageOffsetWithEngine one partition at a time, purges through
//! DeleteKafkaTopicMessages one request per topic.

use std::collections::{BTreeMap, BTreeSet};

use reqwest::Method;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::api::{Call, HuaweiApi};
use crate::config::DmsClusterConfig;
use crate::provider::cloud_http;
use crate::provider::paging::{all_pages, describe_topics};
use crate::provider::per_topic::{int_of, topics_of, watermarks_by_topic};
use crate::provider::{
    CleanupPolicy, CommittedOffset, GroupDescription, GroupListing, GroupMember, Message, OffsetForTime, OffsetRange,
    PartitionInfo, Provider, ProviderError, ProviderResult, RecordsDeleted, TopicDescription, TopicPartition, Visitor,
    Watermarks,
};

/// Items asked for in one page of a listing.
const PAGE: i64 = 50;
/// How far past now a time window reaches when it has no end.
const OPEN_END_MS: i64 = 366 * 24 * 3600 * 1000;

pub struct DmsProvider {
    cluster: String,
    api: HuaweiApi,
}

#[derive(Deserialize)]
struct PartitionPage {
    #[serde(default)]
    total: Option<i64>,
    partitions: Vec<Map<String, Value>>,
}

#[derive(Deserialize)]
struct TopicPage {
    #[serde(default)]
    total: Option<i64>,
    topics: Vec<TopicEntry>,
}

#[derive(Deserialize)]
struct TopicEntry {
    name: String,
    #[serde(default)]
    topic_other_configs: Vec<TopicConfig>,
}

#[derive(Deserialize)]
struct TopicConfig {
    name: String,
    value: Value,
}

#[derive(Deserialize)]
struct GroupAnswer {
    group: GroupDetail,
}

#[derive(Deserialize)]
struct GroupDetail {
    group_id: String,
    state: String,
    #[serde(default)]
    members: Option<Vec<MemberEntry>>,
    #[serde(default)]
    group_message_offsets: Option<Vec<Map<String, Value>>>,
}

#[derive(Deserialize)]
struct MemberEntry {
    member_id: String,
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    host: String,
}

#[derive(Deserialize)]
struct GroupPage {
    #[serde(default)]
    total: Option<i64>,
    groups: Vec<GroupEntry>,
}

#[derive(Deserialize)]
struct GroupEntry {
    group_id: String,
    state: String,
}

#[derive(Deserialize)]
struct MessagePage {
    messages: Vec<Map<String, Value>>,
    #[serde(default)]
    total: Option<i64>,
}

#[derive(Deserialize)]
struct Deleted {
    partitions: Vec<Map<String, Value>>,
}

impl DmsProvider {
    pub fn connect(cluster: &str, config: &DmsClusterConfig) -> ProviderResult<Self> {
        Ok(DmsProvider { cluster: cluster.to_owned(), api: HuaweiApi::new(cluster, config)? })
    }

    fn get<'a>(&self, operation: &'static str, path: Vec<&'a str>, query: Vec<(&'static str, String)>) -> Call<'a> {
        Call { operation, method: Method::GET, path, query, body: None }
    }

    /// Every topic of the instance, as ShowInstanceTopics lists them.
    async fn topic_entries(&self) -> ProviderResult<Vec<TopicEntry>> {
        let (project, instance) = (self.api.project_id.as_str(), self.api.instance_id.as_str());
        all_pages(|skip| async move {
            let path = vec!["v2", project, "instances", instance, "topics"];
            let query = vec![("offset", skip.to_string()), ("limit", PAGE.to_string())];
            let page: TopicPage = self.api.call(&self.get("ShowInstanceTopics", path, query)).await?;
            Ok((page.topics, page.total))
        })
        .await
    }

    /// Every partition of `topic` with its watermarks, sorted.
    async fn partitions(&self, topic: &str) -> ProviderResult<Vec<Watermarks>> {
        let (project, instance) = (self.api.project_id.as_str(), self.api.instance_id.as_str());
        let entries = all_pages(|skip| async move {
            let path = vec!["v2", project, "kafka", "instances", instance, "topics", topic, "partitions"];
            let query = vec![("offset", skip.to_string()), ("limit", PAGE.to_string())];
            let page: PartitionPage = match self.api.call(&self.get("ListTopicPartitions", path, query)).await {
                Err(ProviderError::Cloud { answer, .. }) if answer.message.contains("not exist") => {
                    return Err(self.unknown_topic(topic));
                }
                other => other?,
            };
            Ok((page.partitions, page.total))
        })
        .await?;
        if entries.is_empty() {
            return Err(self.unknown_topic(topic));
        }
        let mut marks =
            entries.iter().map(|entry| self.partition_entry(topic, entry)).collect::<ProviderResult<Vec<_>>>()?;
        marks.sort_by_key(|w| w.partition);
        Ok(marks)
    }

    fn partition_entry(&self, topic: &str, entry: &Map<String, Value>) -> ProviderResult<Watermarks> {
        let int = |key: &str| entry.get(key).and_then(int_of);
        let (Some(partition), Some(start), Some(last)) = (int("partition"), int("start_offset"), int("last_offset"))
        else {
            return Err(
                self.unexpected("ListTopicPartitions", "a partition without partition, start_offset or last_offset")
            );
        };
        Ok(Watermarks {
            topic: topic.to_owned(),
            partition: partition as i32,
            log_start: start,
            log_end: log_end(start, last, int("message_count")),
        })
    }

    async fn group(&self, group: &str) -> ProviderResult<Option<GroupDetail>> {
        let (project, instance) = (self.api.project_id.as_str(), self.api.instance_id.as_str());
        let path = vec!["v2", project, "instances", instance, "management", "groups", group];
        match self.api.call::<GroupAnswer>(&self.get("ShowGroups", path, Vec::new())).await {
            Ok(answer) => Ok(Some(answer.group)),
            Err(ProviderError::Cloud { answer, .. }) if answer.message.contains("not exist") => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The record at `offset` of `partition`, or `None` when there is none.
    async fn message_at(&self, topic: &str, partition: i32, offset: i64) -> ProviderResult<Option<Message>> {
        let (project, instance) = (self.api.project_id.as_str(), self.api.instance_id.as_str());
        let path = vec!["v2", project, "instances", instance, "messages"];
        let query = vec![
            ("topic", topic.to_owned()),
            ("partition", partition.to_string()),
            ("message_offset", offset.to_string()),
            ("download", "false".to_owned()),
        ];
        let page: MessagePage = self.api.call(&self.get("ShowInstanceMessages", path, query)).await?;
        let found = page.messages.iter().find(|m| m.get("message_offset").and_then(int_of) == Some(offset));
        found.map(|m| self.message(topic, m)).transpose()
    }

    fn message(&self, topic: &str, entry: &Map<String, Value>) -> ProviderResult<Message> {
        let int = |key: &str| entry.get(key).and_then(int_of);
        let bytes = |key: &str| entry.get(key).and_then(Value::as_str).map(|s| s.as_bytes().to_vec());
        let (Some(partition), Some(offset)) = (int("partition"), int("message_offset")) else {
            return Err(self.unexpected("ShowInstanceMessages", "a message without partition or message_offset"));
        };
        Ok(Message {
            topic: topic.to_owned(),
            partition: partition as i32,
            offset,
            timestamp: int("timestamp"),
            key: bytes("key"),
            value: bytes("value"),
            headers: Vec::new(),
        })
    }

    /// The positions (partition, offset) of `topic`'s records timed within
    /// `[start, end]` (and holding `keyword`), oldest first, a page at a time
    /// until `enough` says so or the window is exhausted.
    async fn window(
        &self,
        topic: &str,
        start: i64,
        end: i64,
        keyword: Option<&str>,
        enough: impl Fn(&BTreeSet<(i32, i64)>) -> bool,
    ) -> ProviderResult<BTreeSet<(i32, i64)>> {
        let (project, instance) = (self.api.project_id.as_str(), self.api.instance_id.as_str());
        let mut seen = BTreeSet::new();
        for page_number in 0.. {
            let path = vec!["v2", project, "instances", instance, "messages"];
            let mut query = vec![
                ("topic", topic.to_owned()),
                ("start_time", start.to_string()),
                ("end_time", end.to_string()),
                ("asc", "true".to_owned()),
                ("limit", PAGE.to_string()),
                ("offset", page_number.to_string()),
            ];
            if let Some(keyword) = keyword {
                query.push(("keyword", keyword.to_owned()));
            }
            let page: MessagePage = self.api.call(&self.get("ShowInstanceMessages", path, query)).await?;
            let mut new = 0;
            for entry in &page.messages {
                let int = |key: &str| entry.get(key).and_then(int_of);
                let (Some(partition), Some(offset)) = (int("partition"), int("message_offset")) else {
                    return Err(
                        self.unexpected("ShowInstanceMessages", "a message without partition or message_offset")
                    );
                };
                if seen.insert((partition as i32, offset)) {
                    new += 1;
                }
            }
            // Pages may count from 0 or from 1: a repeated first page is not the end.
            let exhausted = (page.messages.len() as i64) < PAGE
                || page.total.is_some_and(|t| seen.len() as i64 >= t)
                || (new == 0 && page_number >= 1);
            if exhausted || enough(&seen) {
                break;
            }
        }
        Ok(seen)
    }

    fn unknown_topic(&self, topic: &str) -> ProviderError {
        ProviderError::UnknownTopic { cluster: self.cluster.clone(), topic: topic.to_owned() }
    }

    fn unexpected(&self, operation: &'static str, detail: &str) -> ProviderError {
        cloud_http::unexpected(&self.cluster, operation, "DMS", detail)
    }
}

/// The log end from a partition listing. Whether `last_offset` is the log end
/// or the last record's offset is not documented; `message_count` tells them
/// apart (`last - start` records, or `last - start + 1`). When it cannot, the
/// log end reading wins, as it is Kafka's own.
fn log_end(start: i64, last: i64, count: Option<i64>) -> i64 {
    match count {
        Some(count) if count > 0 && last - start + 1 == count => last + 1,
        Some(0) => last.max(start),
        _ => last,
    }
}

impl Provider for DmsProvider {
    fn cluster(&self) -> &str {
        &self.cluster
    }

    async fn topics(&self) -> ProviderResult<Vec<TopicDescription>> {
        let names = self.topic_entries().await?.into_iter().map(|t| t.name).collect();
        describe_topics(self, names).await
    }

    async fn topic(&self, name: &str) -> ProviderResult<TopicDescription> {
        let partitions = self
            .partitions(name)
            .await?
            .into_iter()
            .map(|w| PartitionInfo { partition: w.partition, leader: None, replicas: Vec::new() })
            .collect();
        Ok(TopicDescription { name: name.to_owned(), partitions })
    }

    async fn watermarks(&self, partitions: &[TopicPartition]) -> ProviderResult<Vec<Watermarks>> {
        watermarks_by_topic(&self.cluster, partitions, |topic| async move { self.partitions(&topic).await }).await
    }

    /// A time-window query from `timestamp_ms` on, oldest first, paged until
    /// every asked partition has a record (or the window is exhausted); the
    /// lowest offset seen per partition.
    async fn offsets_for_timestamp(
        &self,
        partitions: &[TopicPartition],
        timestamp_ms: i64,
    ) -> ProviderResult<Vec<OffsetForTime>> {
        let end = chrono::Utc::now().timestamp_millis().max(timestamp_ms) + OPEN_END_MS;
        let mut first: BTreeMap<TopicPartition, i64> = BTreeMap::new();
        for topic in topics_of(partitions) {
            let wanted: BTreeSet<i32> =
                partitions.iter().filter(|tp| tp.topic == topic).map(|tp| tp.partition).collect();
            let seen = self
                .window(&topic, timestamp_ms, end, None, |seen| {
                    wanted.iter().all(|p| seen.range((*p, i64::MIN)..=(*p, i64::MAX)).next().is_some())
                })
                .await?;
            for (partition, offset) in seen {
                if wanted.contains(&partition) {
                    first.entry(TopicPartition::new(topic.clone(), partition)).or_insert(offset);
                }
            }
        }
        Ok(partitions
            .iter()
            .map(|tp| OffsetForTime {
                topic: tp.topic.clone(),
                partition: tp.partition,
                offset: first.get(tp).copied(),
            })
            .collect())
    }

    /// DMS searches a keyword server-side: every page of the time window with
    /// the keyword, positions only (their content is fetched by offset).
    async fn search(
        &self,
        topic: &str,
        from_ms: i64,
        to_ms: i64,
        keyword: &str,
    ) -> ProviderResult<Option<Vec<(i32, i64)>>> {
        let to_ms = to_ms.min(chrono::Utc::now().timestamp_millis() + OPEN_END_MS);
        let found = self.window(topic, from_ms, to_ms, Some(keyword), |_| false).await?;
        Ok(Some(found.into_iter().collect()))
    }

    async fn committed_offsets(&self, group: &str, topics: Option<&[String]>) -> ProviderResult<Vec<CommittedOffset>> {
        let Some(detail) = self.group(group).await? else { return Ok(Vec::new()) };
        let mut offsets = Vec::new();
        for entry in detail.group_message_offsets.unwrap_or_default() {
            let (Some(Value::String(topic)), Some(partition), Some(offset)) = (
                entry.get("topic"),
                entry.get("partition").and_then(int_of),
                entry.get("message_current_offset").and_then(int_of),
            ) else {
                return Err(
                    self.unexpected("ShowGroups", "an offset without topic, partition or message_current_offset")
                );
            };
            if offset >= 0 && topics.is_none_or(|t| t.contains(topic)) {
                offsets.push(CommittedOffset { topic: topic.clone(), partition: partition as i32, offset });
            }
        }
        offsets.sort_by(|a, b| (&a.topic, a.partition).cmp(&(&b.topic, b.partition)));
        Ok(offsets)
    }

    async fn describe_group(&self, group: &str) -> ProviderResult<GroupDescription> {
        let Some(detail) = self.group(group).await? else {
            return Ok(GroupDescription::unknown(group));
        };
        let members = detail
            .members
            .unwrap_or_default()
            .into_iter()
            .map(|m| GroupMember { member_id: m.member_id, client_id: m.client_id, host: m.host, topics: Vec::new() })
            .collect();
        Ok(GroupDescription::classic(detail.group_id, &detail.state, members))
    }

    async fn list_groups(&self) -> ProviderResult<Vec<GroupListing>> {
        let (project, instance) = (self.api.project_id.as_str(), self.api.instance_id.as_str());
        let groups = all_pages(|skip| async move {
            let path = vec!["v2", project, "instances", instance, "groups"];
            let query = vec![("offset", skip.to_string()), ("limit", PAGE.to_string())];
            let page: GroupPage = self.api.call(&self.get("ListInstanceConsumerGroups", path, query)).await?;
            Ok((page.groups, page.total))
        })
        .await?;
        let mut listings: Vec<GroupListing> =
            groups.into_iter().map(|g| GroupListing::classic(g.group_id, &g.state)).collect();
        listings.sort_by(|a, b| a.group.cmp(&b.group));
        Ok(listings)
    }

    /// One ResetMessageOffsetWithEngine per partition; a failure stops there,
    /// leaving the partitions before it reset (the caller reads them back).
    async fn commit_offsets(&self, group: &str, offsets: &[(TopicPartition, i64)]) -> ProviderResult<()> {
        let (project, instance) = (self.api.project_id.as_str(), self.api.instance_id.as_str());
        for (tp, offset) in offsets {
            let call = Call {
                operation: "ResetMessageOffsetWithEngine",
                method: Method::PUT,
                path: vec!["v2", "kafka", project, "instances", instance, "groups", group, "reset-message-offset"],
                query: Vec::new(),
                body: Some(json!({ "topic": tp.topic, "partition": tp.partition, "message_offset": offset })),
            };
            self.api.call::<Value>(&call).await?;
        }
        Ok(())
    }

    /// Each record's content by partition and offset, one request a record.
    async fn scan(&self, ranges: &[OffsetRange], visit: Visitor) -> ProviderResult<u64> {
        let mut read = 0;
        for range in ranges {
            for offset in range.start..range.end {
                if let Some(message) = self.message_at(&range.topic, range.partition, offset).await? {
                    read += 1;
                    if !visit(&message) {
                        return Ok(read);
                    }
                }
            }
        }
        Ok(read)
    }

    async fn delete_records(&self, below: &[(TopicPartition, i64)]) -> ProviderResult<Vec<RecordsDeleted>> {
        let (project, instance) = (self.api.project_id.as_str(), self.api.instance_id.as_str());
        let mut outcomes = Vec::with_capacity(below.len());
        for topic in topics_of(&below.iter().map(|(tp, _)| tp.clone()).collect::<Vec<_>>()) {
            let asked: Vec<(i32, i64)> =
                below.iter().filter(|(tp, _)| tp.topic == topic).map(|(tp, o)| (tp.partition, *o)).collect();
            let partitions: Vec<Value> = asked.iter().map(|(p, o)| json!({ "partition": p, "offset": o })).collect();
            let call = Call {
                operation: "DeleteKafkaTopicMessages",
                method: Method::POST,
                path: vec!["v2", project, "kafka", "instances", instance, "topics", &topic, "messages", "delete"],
                query: Vec::new(),
                body: Some(json!({ "partitions": partitions })),
            };
            let deleted: Deleted = self.api.call(&call).await?;
            for (partition, offset) in asked {
                let entry =
                    deleted.partitions.iter().find(|e| e.get("partition").and_then(int_of) == Some(partition.into()));
                let outcome = match entry {
                    Some(e) if e.get("result").and_then(Value::as_str) == Some("success") => Ok(offset),
                    Some(e) => Err(format!(
                        "{} (error code {})",
                        e.get("result").and_then(Value::as_str).unwrap_or("failed"),
                        e.get("error_code").map_or_else(|| "none".to_owned(), Value::to_string)
                    )),
                    None => Err("the answer does not mention this partition".to_owned()),
                };
                outcomes.push(RecordsDeleted { topic: topic.clone(), partition, outcome });
            }
        }
        Ok(outcomes)
    }

    /// From the topic listing's `topic_other_configs`; `delete`, Kafka's
    /// default, when the listing does not carry it.
    async fn cleanup_policy(&self, topic: &str) -> ProviderResult<CleanupPolicy> {
        let entries = self.topic_entries().await?;
        let entry = entries.into_iter().find(|t| t.name == topic).ok_or_else(|| self.unknown_topic(topic))?;
        let policy = entry.topic_other_configs.iter().find(|c| c.name == "cleanup.policy").map(|c| match &c.value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        });
        Ok(CleanupPolicy { topic: topic.to_owned(), policy: policy.unwrap_or_else(|| "delete".into()) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_offset_is_read_as_log_end_or_last_record_as_the_count_shows() {
        assert_eq!(log_end(10, 20, Some(10)), 20, "last_offset is the log end");
        assert_eq!(log_end(10, 19, Some(10)), 20, "last_offset is the last record");
        assert_eq!(log_end(10, 10, Some(0)), 10, "empty, log end reading");
        assert_eq!(log_end(10, 9, Some(0)), 10, "empty, last record reading");
        assert_eq!(log_end(10, 20, None), 20, "no count: Kafka's reading");
    }
}
