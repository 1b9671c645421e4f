//! The `Provider` trait over the CKafka API (SPEC §7): watermarks and
//! partitions from DescribeTopicSyncReplica, committed offsets from
//! DescribeGroupOffsets, group state from DescribeGroupInfo, records from the
//! Fetch* actions (1 request/s each, 20 records a request), resets through
//! ModifyGroupOffsets (Strategy 2, when every partition of a topic goes to one
//! offset) or BatchModifyGroupOffsets (explicit per-partition targets). The
//! API has no action that deletes records.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::api::TencentApi;
use crate::config::CkafkaClusterConfig;
use crate::provider::cloud_http;
use crate::provider::paging::{all_pages, describe_topics};
use crate::provider::per_topic::{int_of, watermarks_by_topic};
use crate::provider::{
    CleanupPolicy, CommittedOffset, GroupDescription, GroupListing, GroupMember, Message, OffsetForTime, OffsetRange,
    PartitionInfo, Provider, ProviderError, ProviderResult, RecordsDeleted, TopicDescription, TopicPartition, Visitor,
    Watermarks,
};

/// Records asked for in one Fetch*List call (the API's maximum).
const RECORDS_PER_FETCH: i64 = 20;
/// Items asked for in one page of a listing.
const PAGE: i64 = 50;

pub struct CkafkaProvider {
    cluster: String,
    instance_id: String,
    api: TencentApi,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Answer<T> {
    result: T,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SyncReplicas {
    topic_in_sync_replica_list: Vec<Map<String, Value>>,
    total_count: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TopicList {
    topic_list: Vec<TopicName>,
    total_count: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TopicName {
    topic_name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GroupOffsets {
    topic_list: Option<Vec<TopicOffsets>>,
    total_count: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TopicOffsets {
    topic: String,
    partitions: Vec<PartitionOffset>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PartitionOffset {
    partition: i32,
    offset: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GroupInfo {
    group: String,
    state: String,
    #[serde(default)]
    error_code: Option<String>,
    #[serde(default)]
    members: Vec<MemberInfo>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MemberInfo {
    member_id: String,
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    client_host: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GroupPage {
    group_list: Vec<GroupEntry>,
    total_count: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GroupEntry {
    group: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Modified {
    return_code: Value,
    #[serde(default)]
    return_message: Option<String>,
}

impl CkafkaProvider {
    pub fn connect(cluster: &str, config: &CkafkaClusterConfig) -> ProviderResult<Self> {
        Ok(CkafkaProvider {
            cluster: cluster.to_owned(),
            instance_id: config.instance_id.clone(),
            api: TencentApi::new(cluster, config)?,
        })
    }

    /// Every partition of `topic` with its leader, replicas and watermarks.
    async fn sync_replicas(&self, topic: &str) -> ProviderResult<Vec<(PartitionInfo, Watermarks)>> {
        let entries = all_pages(|skip| async move {
            let params = json!({ "InstanceId": self.instance_id, "TopicName": topic, "Offset": skip, "Limit": PAGE });
            let page: Answer<SyncReplicas> = match self.api.call("DescribeTopicSyncReplica", &params).await {
                Err(ProviderError::Cloud { answer, .. }) if answer.code.starts_with("ResourceNotFound") => {
                    return Err(self.unknown_topic(topic));
                }
                other => other?,
            };
            Ok((page.result.topic_in_sync_replica_list, Some(page.result.total_count)))
        })
        .await?;
        if entries.is_empty() {
            return Err(self.unknown_topic(topic));
        }
        let mut partitions =
            entries.iter().map(|entry| self.replica_entry(topic, entry)).collect::<ProviderResult<Vec<_>>>()?;
        partitions.sort_by_key(|(info, _)| info.partition);
        Ok(partitions)
    }

    fn replica_entry(&self, topic: &str, entry: &Map<String, Value>) -> ProviderResult<(PartitionInfo, Watermarks)> {
        let int = |key: &str| entry.get(key).and_then(int_of);
        let (Some(partition), Some(log_start), Some(log_end)) =
            (int("Partition"), int("BeginOffset"), int("EndOffset"))
        else {
            return Err(
                self.unexpected("DescribeTopicSyncReplica", "a partition without Partition, BeginOffset or EndOffset")
            );
        };
        let partition = partition as i32;
        let replicas = match entry.get("Replica") {
            Some(Value::String(list)) => list.split(',').filter_map(|r| r.trim().parse().ok()).collect(),
            Some(Value::Array(list)) => list.iter().filter_map(int_of).map(|r| r as i32).collect(),
            _ => Vec::new(),
        };
        let info = PartitionInfo { partition, leader: int("Leader").map(|l| l as i32), replicas };
        Ok((info, Watermarks { topic: topic.to_owned(), partition, log_start, log_end }))
    }

    async fn group_infos(&self, groups: &[String]) -> ProviderResult<Vec<GroupInfo>> {
        let params = json!({ "InstanceId": self.instance_id, "GroupList": groups });
        let answer: Answer<Vec<GroupInfo>> = self.api.call("DescribeGroupInfo", &params).await?;
        Ok(answer.result)
    }

    /// The records of `partition` from `offset` on, up to 20, with their content
    /// (one record: FetchMessageByOffset).
    async fn fetch_from(&self, topic: &str, partition: i32, offset: i64, count: i64) -> ProviderResult<Vec<Message>> {
        if count == 1 {
            return Ok(vec![self.fetch_one(topic, partition, offset).await?]);
        }
        let params = json!({
            "InstanceId": self.instance_id, "Topic": topic, "Partition": partition, "Offset": offset,
            "SinglePartitionRecordNumber": count.clamp(1, RECORDS_PER_FETCH),
        });
        let answer: Answer<Vec<Map<String, Value>>> = self.api.call("FetchMessageListByOffset", &params).await?;
        let mut messages = Vec::with_capacity(answer.result.len());
        for record in answer.result {
            if record.contains_key("Value") {
                messages.push(self.message(topic, "FetchMessageListByOffset", &record)?);
            } else {
                let at = record
                    .get("Offset")
                    .and_then(int_of)
                    .ok_or_else(|| self.unexpected("FetchMessageListByOffset", "a record without Offset"))?;
                messages.push(self.fetch_one(topic, partition, at).await?);
            }
        }
        Ok(messages)
    }

    /// One record's full content (the list actions may leave it out).
    async fn fetch_one(&self, topic: &str, partition: i32, offset: i64) -> ProviderResult<Message> {
        let params =
            json!({ "InstanceId": self.instance_id, "Topic": topic, "Partition": partition, "Offset": offset });
        let answer: Answer<Map<String, Value>> = self.api.call("FetchMessageByOffset", &params).await?;
        self.message(topic, "FetchMessageByOffset", &answer.result)
    }

    fn message(&self, topic: &str, action: &'static str, record: &Map<String, Value>) -> ProviderResult<Message> {
        let int = |key: &str| record.get(key).and_then(int_of);
        let bytes = |key: &str| record.get(key).and_then(Value::as_str).map(|s| s.as_bytes().to_vec());
        let (Some(partition), Some(offset)) = (int("Partition"), int("Offset")) else {
            return Err(self.unexpected(action, "a record without Partition or Offset"));
        };
        Ok(Message {
            topic: topic.to_owned(),
            partition: partition as i32,
            offset,
            timestamp: int("Timestamp"),
            key: bytes("Key"),
            value: bytes("Value"),
            headers: record.get("Headers").map(headers_of).unwrap_or_default(),
        })
    }

    async fn modify(&self, action: &'static str, params: Value) -> ProviderResult<()> {
        let answer: Answer<Modified> = self.api.call(action, &params).await?;
        let code = match &answer.result.return_code {
            Value::String(code) => code.clone(),
            other => other.to_string(),
        };
        if code == "0" || code.eq_ignore_ascii_case("ok") {
            return Ok(());
        }
        let message = answer.result.return_message.unwrap_or_default();
        Err(ProviderError::Request {
            cluster: self.cluster.clone(),
            operation: action,
            detail: format!("ReturnCode {code}: {message}"),
            retryable: false,
        })
    }

    fn no_purge(&self) -> ProviderError {
        let detail = crate::step_support::unsupported_step("ckafka", "purge_messages").unwrap_or_default();
        ProviderError::InvalidSetting { cluster: self.cluster.clone(), detail: detail.to_owned() }
    }

    fn unknown_topic(&self, topic: &str) -> ProviderError {
        ProviderError::UnknownTopic { cluster: self.cluster.clone(), topic: topic.to_owned() }
    }

    fn unexpected(&self, action: &'static str, detail: &str) -> ProviderError {
        cloud_http::unexpected(&self.cluster, action, "CKafka", detail)
    }
}

/// Record headers as CKafka sends them: a string holding a JSON object
/// (`{"name": "value"}`) or a JSON list of `{Key, Value}`; anything else is
/// left out (the encoding is not documented).
fn headers_of(value: &Value) -> Vec<(String, Vec<u8>)> {
    let parsed = match value {
        Value::String(text) => serde_json::from_str(text).unwrap_or(Value::Null),
        other => other.clone(),
    };
    let text = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_owned).into_bytes();
    match parsed {
        Value::Object(map) => map.iter().map(|(k, v)| (k.clone(), text(v))).collect(),
        Value::Array(list) => {
            list.iter().filter_map(|h| Some((h.get("Key")?.as_str()?.to_owned(), text(h.get("Value")?)))).collect()
        }
        _ => Vec::new(),
    }
}

impl Provider for CkafkaProvider {
    fn cluster(&self) -> &str {
        &self.cluster
    }

    async fn topics(&self) -> ProviderResult<Vec<TopicDescription>> {
        let names = all_pages(|skip| async move {
            let params = json!({ "InstanceId": self.instance_id, "Offset": skip, "Limit": PAGE });
            let page: Answer<TopicList> = self.api.call("DescribeTopic", &params).await?;
            let names = page.result.topic_list.into_iter().map(|t| t.topic_name).collect();
            Ok((names, Some(page.result.total_count)))
        })
        .await?;
        describe_topics(self, names).await
    }

    async fn topic(&self, name: &str) -> ProviderResult<TopicDescription> {
        let partitions = self.sync_replicas(name).await?.into_iter().map(|(info, _)| info).collect();
        Ok(TopicDescription { name: name.to_owned(), partitions })
    }

    async fn watermarks(&self, partitions: &[TopicPartition]) -> ProviderResult<Vec<Watermarks>> {
        watermarks_by_topic(&self.cluster, partitions, |topic| async move {
            Ok(self.sync_replicas(&topic).await?.into_iter().map(|(_, w)| w).collect())
        })
        .await
    }

    async fn offsets_for_timestamp(
        &self,
        partitions: &[TopicPartition],
        timestamp_ms: i64,
    ) -> ProviderResult<Vec<OffsetForTime>> {
        let mut found = Vec::with_capacity(partitions.len());
        for tp in partitions {
            let params = json!({
                "InstanceId": self.instance_id, "Topic": tp.topic, "Partition": tp.partition,
                "StartTime": timestamp_ms, "SinglePartitionRecordNumber": 1,
            });
            let answer: Answer<Vec<Map<String, Value>>> = self.api.call("FetchMessageListByTimestamp", &params).await?;
            let offset = answer.result.iter().filter_map(|r| r.get("Offset").and_then(int_of)).min();
            found.push(OffsetForTime { topic: tp.topic.clone(), partition: tp.partition, offset });
        }
        Ok(found)
    }

    async fn committed_offsets(&self, group: &str, topics: Option<&[String]>) -> ProviderResult<Vec<CommittedOffset>> {
        let listed = all_pages(|skip| async move {
            let mut params = json!({ "InstanceId": self.instance_id, "Group": group, "Offset": skip, "Limit": PAGE });
            if let Some(topics) = topics {
                params["Topics"] = json!(topics);
            }
            let page: Answer<GroupOffsets> = self.api.call("DescribeGroupOffsets", &params).await?;
            Ok((page.result.topic_list.unwrap_or_default(), Some(page.result.total_count)))
        })
        .await?;
        let mut offsets = Vec::new();
        for topic in listed {
            let wanted = topics.is_none_or(|t| t.contains(&topic.topic));
            for p in topic.partitions.into_iter().filter(|p| wanted && p.offset >= 0) {
                offsets.push(CommittedOffset { topic: topic.topic.clone(), partition: p.partition, offset: p.offset });
            }
        }
        offsets.sort_by(|a, b| (&a.topic, a.partition).cmp(&(&b.topic, b.partition)));
        Ok(offsets)
    }

    async fn describe_group(&self, group: &str) -> ProviderResult<GroupDescription> {
        let infos = self.group_infos(&[group.to_owned()]).await?;
        let info = infos.into_iter().find(|g| g.group == group);
        let Some(info) = info.filter(|g| g.error_code.as_deref().is_none_or(|c| c == "0")) else {
            return Ok(GroupDescription::unknown(group));
        };
        let members = info
            .members
            .into_iter()
            .map(|m| GroupMember {
                member_id: m.member_id,
                client_id: m.client_id,
                host: m.client_host,
                topics: Vec::new(),
            })
            .collect();
        Ok(GroupDescription::classic(info.group, &info.state, members))
    }

    async fn list_groups(&self) -> ProviderResult<Vec<GroupListing>> {
        let names: Vec<String> = all_pages(|skip| async move {
            let params = json!({ "InstanceId": self.instance_id, "Offset": skip, "Limit": PAGE });
            let page: Answer<GroupPage> = self.api.call("DescribeGroup", &params).await?;
            Ok((page.result.group_list.into_iter().map(|g| g.group).collect(), Some(page.result.total_count)))
        })
        .await?;
        let mut listings = Vec::with_capacity(names.len());
        for chunk in names.chunks(PAGE as usize) {
            for info in self.group_infos(chunk).await? {
                listings.push(GroupListing::classic(info.group, &info.state));
            }
        }
        listings.sort_by(|a, b| a.group.cmp(&b.group));
        Ok(listings)
    }

    async fn commit_offsets(&self, group: &str, offsets: &[(TopicPartition, i64)]) -> ProviderResult<()> {
        let mut by_topic: BTreeMap<&str, Vec<(i32, i64)>> = BTreeMap::new();
        for (tp, offset) in offsets {
            by_topic.entry(tp.topic.as_str()).or_default().push((tp.partition, *offset));
        }
        for (topic, targets) in by_topic {
            let first = targets[0].1;
            if targets.iter().all(|(_, offset)| *offset == first) {
                let partitions: Vec<i32> = targets.iter().map(|(p, _)| *p).collect();
                let params = json!({
                    "InstanceId": self.instance_id, "Group": group, "Strategy": 2, "Offset": first,
                    "Topics": [topic], "Partitions": partitions,
                });
                self.modify("ModifyGroupOffsets", params).await?;
            } else {
                let partitions: Vec<Value> =
                    targets.iter().map(|(p, offset)| json!({ "Partition": p, "Offset": offset })).collect();
                let params = json!({
                    "InstanceId": self.instance_id, "GroupName": group, "TopicName": [topic], "Partitions": partitions,
                });
                self.modify("BatchModifyGroupOffsets", params).await?;
            }
        }
        Ok(())
    }

    async fn scan(&self, ranges: &[OffsetRange], visit: Visitor) -> ProviderResult<u64> {
        let mut read = 0;
        for range in ranges {
            let mut next = range.start;
            while next < range.end {
                let messages = self.fetch_from(&range.topic, range.partition, next, range.end - next).await?;
                let Some(last) = messages.last().map(|m| m.offset) else { break };
                for message in messages.into_iter().filter(|m| m.offset >= next && m.offset < range.end) {
                    read += 1;
                    if !visit(&message) {
                        return Ok(read);
                    }
                }
                if last < next {
                    break;
                }
                next = last + 1;
            }
        }
        Ok(read)
    }

    async fn delete_records(&self, _below: &[(TopicPartition, i64)]) -> ProviderResult<Vec<RecordsDeleted>> {
        Err(self.no_purge())
    }

    /// Asked only to purge, which CKafka cannot do.
    async fn cleanup_policy(&self, _topic: &str) -> ProviderResult<CleanupPolicy> {
        Err(self.no_purge())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_read_from_an_object_or_a_key_value_list_and_anything_else_is_left_out() {
        assert_eq!(headers_of(&json!(r#"{"trace":"abc"}"#)), vec![("trace".to_owned(), b"abc".to_vec())]);
        assert_eq!(headers_of(&json!([{ "Key": "k", "Value": "v" }])), vec![("k".to_owned(), b"v".to_vec())]);
        assert!(headers_of(&json!("trace=abc")).is_empty());
    }
}
