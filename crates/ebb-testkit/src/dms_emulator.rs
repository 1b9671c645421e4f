//! A local DMS for Kafka API for tests: verifies each request as Huawei
//! Cloud's gateway does (`ebb::provider::signing::sdk_hmac_verify`), answers failures in DMS's error
//! shape with a request id, and performs every operation on the real test
//! broker through ebb's native provider — so a runbook run through the `dms`
//! provider really moves offsets and deletes records.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::broker_ops::{self, clamp, must_be_inactive, read, text};
use super::emulator_server::{CallLog, EmulatorServer};
use ebb::percent_encoding::percent_decode;
use ebb::provider::kafka::KafkaProvider;
use ebb::provider::signing::sdk_hmac_verify::{AUTH_FAILED, Received, query_pairs, verify};
use ebb::provider::{GroupState, Provider, ProviderError, TopicPartition};

pub const ACCESS_KEY: &str = "EBBEMULATEDDMSAK0000";
pub const SECRET_KEY: &str = "ebb-emulated-dms-secret-key-8e21";
pub const PROJECT_ID: &str = "project-emulated";
pub const INSTANCE_ID: &str = "instance-emulated";

struct State {
    provider: KafkaProvider,
    log: Arc<CallLog>,
    requests: AtomicU64,
}

/// A failed operation: HTTP status, `error_code`, `error_msg`.
struct Failure(StatusCode, &'static str, String);

type Outcome = Result<Option<Value>, Failure>;

/// Starts the emulator for the broker at `bootstrap`.
pub fn start(bootstrap: &str) -> EmulatorServer {
    let bootstrap = bootstrap.to_owned();
    EmulatorServer::start(move |log| {
        let state = Arc::new(State { provider: broker_ops::connect(&bootstrap), log, requests: AtomicU64::new(0) });
        axum::Router::new().fallback(move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
            let state = Arc::clone(&state);
            async move { state.handle(&method, &uri, &headers, &body).await }
        })
    })
}

fn from_provider(error: ProviderError) -> Failure {
    match error {
        ProviderError::UnknownTopic { topic, .. } => {
            Failure(StatusCode::NOT_FOUND, "DMS.00404022", format!("The topic {topic} does not exist."))
        }
        ProviderError::UnknownPartition { .. } => Failure(StatusCode::BAD_REQUEST, "DMS.00400002", error.to_string()),
        other => Failure(StatusCode::INTERNAL_SERVER_ERROR, "DMS.00500000", other.to_string()),
    }
}

fn invalid(message: impl Into<String>) -> Failure {
    Failure(StatusCode::BAD_REQUEST, "DMS.00400002", message.into())
}

/// DMS writes group states in capitals with underscores.
fn state_name(state: &GroupState) -> String {
    match state {
        GroupState::PreparingRebalance => "PREPARING_REBALANCE".into(),
        GroupState::CompletingRebalance => "COMPLETING_REBALANCE".into(),
        other => other.to_string().to_uppercase(),
    }
}

impl State {
    async fn handle(&self, method: &Method, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Response {
        let id = format!("emulated-{}", self.requests.fetch_add(1, Ordering::Relaxed));
        let received = Received { method: method.as_str(), path: uri.path(), query: uri.query(), headers, body };
        let keys = |ak: &str| (ak == ACCESS_KEY).then(|| SECRET_KEY.to_owned());
        let outcome = match verify(&received, chrono::Utc::now(), keys) {
            Ok(()) => self.route(method, uri, body).await,
            Err(message) => {
                self.log.record("rejected");
                Err(Failure(StatusCode::UNAUTHORIZED, AUTH_FAILED, message))
            }
        };
        let id_header = [("x-request-id", id.clone())];
        match outcome {
            Ok(Some(answer)) => (StatusCode::OK, id_header, axum::Json(answer)).into_response(),
            Ok(None) => (StatusCode::NO_CONTENT, id_header).into_response(),
            Err(Failure(status, code, message)) => {
                let mut answer = json!({ "error_code": code, "error_msg": message });
                if code == AUTH_FAILED {
                    answer["request_id"] = json!(id);
                }
                (status, id_header, axum::Json(answer)).into_response()
            }
        }
    }

    async fn route(&self, method: &Method, uri: &Uri, body: &[u8]) -> Outcome {
        let segments: Vec<String> = uri.path().trim_matches('/').split('/').map(percent_decode).collect();
        let s: Vec<&str> = segments.iter().map(String::as_str).collect();
        let query: BTreeMap<String, String> = query_pairs(uri.query()).into_iter().collect();
        let body: Value = if body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(body).map_err(|e| invalid(format!("body: {e}")))?
        };
        let mine = |project: &str, instance: &str| project == PROJECT_ID && instance == INSTANCE_ID;
        let (operation, outcome) = match (method.as_str(), s.as_slice()) {
            ("GET", ["v2", p, "instances", i, "messages"]) if mine(p, i) => {
                ("ShowInstanceMessages", self.messages(&query).await)
            }
            ("POST", ["v2", p, "kafka", "instances", i, "topics", topic, "messages", "delete"]) if mine(p, i) => {
                ("DeleteKafkaTopicMessages", self.delete(topic, &body).await)
            }
            ("PUT", ["v2", "kafka", p, "instances", i, "groups", group, "reset-message-offset"]) if mine(p, i) => {
                ("ResetMessageOffsetWithEngine", self.reset(group, &body).await)
            }
            ("GET", ["v2", p, "instances", i, "groups"]) if mine(p, i) => {
                ("ListInstanceConsumerGroups", self.groups(&query).await)
            }
            ("GET", ["v2", p, "instances", i, "management", "groups", group]) if mine(p, i) => {
                ("ShowGroups", self.group(group).await)
            }
            ("GET", ["v2", p, "kafka", "instances", i, "topics", topic, "partitions"]) if mine(p, i) => {
                ("ListTopicPartitions", self.partitions(topic, &query).await)
            }
            ("GET", ["v2", p, "instances", i, "topics"]) if mine(p, i) => {
                ("ShowInstanceTopics", self.topics(&query).await)
            }
            _ => (
                "unknown",
                Err(Failure(
                    StatusCode::NOT_FOUND,
                    "DMS.00404000",
                    "The instance or the resource does not exist.".into(),
                )),
            ),
        };
        self.log.record(operation);
        outcome
    }

    /// A time window (every partition, sorted by time, paged, keyword-filtered,
    /// without content) or one record's content by partition and offset.
    async fn messages(&self, query: &BTreeMap<String, String>) -> Outcome {
        let p = &self.provider;
        let topic = query.get("topic").ok_or_else(|| invalid("topic is required"))?;
        let number = |key: &str| {
            query.get(key).map(|v| v.parse::<i64>().map_err(|_| invalid(format!("{key} must be a number")))).transpose()
        };
        let entry = |m: &ebb::provider::Message, content: bool| {
            let mut e = json!({ "topic": m.topic, "partition": m.partition, "message_offset": m.offset,
                "timestamp": m.timestamp, "size": m.size(), "huge_message": false, "message_id": "", "app_id": "", "tag": "" });
            if content {
                e["key"] = json!(text(&m.key));
                e["value"] = json!(text(&m.value));
            }
            e
        };
        if let (Some(start), Some(end)) = (number("start_time")?, number("end_time")?) {
            let described = p.topic(topic).await.map_err(from_provider)?;
            let scope: Vec<TopicPartition> = described.topic_partitions().collect();
            let marks = p.watermarks(&scope).await.map_err(from_provider)?;
            let from = p.offsets_for_timestamp(&scope, start).await.map_err(from_provider)?;
            let mut found = Vec::new();
            for (w, f) in marks.iter().zip(&from) {
                let first = f.offset.unwrap_or(w.log_end);
                found.extend(read(p, topic, w.partition, first, w.log_end).await.map_err(from_provider)?);
            }
            let keyword = query.get("keyword").map(String::as_str).unwrap_or("");
            found.retain(|m| {
                m.timestamp.is_some_and(|t| t >= start && t <= end)
                    && (keyword.is_empty()
                        || [&m.key, &m.value].iter().any(|b| text(b).is_some_and(|t| t.contains(keyword))))
            });
            let asc = query.get("asc").is_none_or(|a| a == "true");
            found.sort_by_key(|m| (m.timestamp, m.partition, m.offset));
            if !asc {
                found.reverse();
            }
            let limit = number("limit")?.unwrap_or(10).max(1) as usize;
            let page = number("offset")?.unwrap_or(0).max(0) as usize;
            let messages: Vec<Value> = found.iter().skip(page * limit).take(limit).map(|m| entry(m, false)).collect();
            return Ok(Some(json!({ "messages": messages, "total": found.len(), "size": messages.len() })));
        }
        let (Some(partition), Some(offset)) = (number("partition")?, number("message_offset")?) else {
            return Err(invalid("give start_time and end_time, or partition and message_offset"));
        };
        let found = read(p, topic, partition as i32, offset, offset + 1).await.map_err(from_provider)?;
        let messages: Vec<Value> = found.iter().map(|m| entry(m, true)).collect();
        Ok(Some(json!({ "messages": messages, "total": messages.len(), "size": messages.len() })))
    }

    async fn delete(&self, topic: &str, body: &Value) -> Outcome {
        let p = &self.provider;
        let asked = body["partitions"].as_array().ok_or_else(|| invalid("partitions is required"))?;
        let mut below = Vec::new();
        for entry in asked {
            let (Some(partition), Some(offset)) = (entry["partition"].as_i64(), entry["offset"].as_i64()) else {
                return Err(invalid("each partition needs partition and offset"));
            };
            below.push((TopicPartition::new(topic, partition as i32), offset));
        }
        let deleted = p.delete_records(&below).await.map_err(from_provider)?;
        let results: Vec<Value> = deleted
            .iter()
            .map(|d| match &d.outcome {
                Ok(_) => json!({ "partition": d.partition, "result": "success", "error_code": 0 }),
                Err(reason) => json!({ "partition": d.partition, "result": reason, "error_code": "DMS.00400002" }),
            })
            .collect();
        Ok(Some(json!({ "partitions": results })))
    }

    async fn reset(&self, group: &str, body: &Value) -> Outcome {
        let p = &self.provider;
        let topic = body["topic"].as_str().ok_or_else(|| invalid("topic is required"))?;
        let partition = body["partition"].as_i64().ok_or_else(|| invalid("partition is required"))?;
        let (offset, timestamp) = (body["message_offset"].as_i64(), body["timestamp"].as_i64());
        if offset.is_some() == timestamp.is_some() {
            return Err(invalid("give exactly one of message_offset and timestamp"));
        }
        if let Err(reason) = must_be_inactive(p, group).await.map_err(from_provider)? {
            return Err(Failure(
                StatusCode::BAD_REQUEST,
                "DMS.00400520",
                format!("The consumer group must be offline: {reason}"),
            ));
        }
        let described = p.topic(topic).await.map_err(from_provider)?;
        let scope: Vec<TopicPartition> =
            described.topic_partitions().filter(|tp| partition == -1 || i64::from(tp.partition) == partition).collect();
        if scope.is_empty() {
            return Err(invalid(format!("topic {topic} has no partition {partition}")));
        }
        let mut targets = Vec::new();
        for tp in scope {
            let wanted = match (offset, timestamp) {
                (Some(offset), _) => offset,
                (_, Some(ms)) => {
                    let found = p.offsets_for_timestamp(std::slice::from_ref(&tp), ms).await.map_err(from_provider)?;
                    found[0].offset.unwrap_or(i64::MAX)
                }
                _ => unreachable!("checked above"),
            };
            let target = clamp(p, &tp, wanted).await.map_err(from_provider)?;
            targets.push((tp, target));
        }
        p.commit_offsets(group, &targets).await.map_err(from_provider)?;
        Ok(None)
    }

    async fn groups(&self, query: &BTreeMap<String, String>) -> Outcome {
        let listed = self.provider.list_groups().await.map_err(from_provider)?;
        let groups: Vec<Value> = listed
            .iter()
            .map(|g| json!({ "createdAt": 0, "group_id": g.group, "state": state_name(&g.state), "coordinator_id": 0, "group_desc": "", "lag": 0 }))
            .collect();
        let (offset, limit) = paging(query);
        Ok(Some(json!({ "groups": groups.iter().skip(offset).take(limit).collect::<Vec<_>>(), "total": groups.len() })))
    }

    async fn group(&self, group: &str) -> Outcome {
        let p = &self.provider;
        let described = p.describe_group(group).await.map_err(from_provider)?;
        let committed = p.committed_offsets(group, None).await.map_err(from_provider)?;
        if described.state == GroupState::Dead && committed.is_empty() {
            return Err(Failure(
                StatusCode::NOT_FOUND,
                "DMS.00404011",
                format!("The consumer group {group} does not exist."),
            ));
        }
        let scope: Vec<TopicPartition> = committed.iter().map(|c| TopicPartition::new(&c.topic, c.partition)).collect();
        let marks = p.watermarks(&scope).await.map_err(from_provider)?;
        let offsets: Vec<Value> = committed
            .iter()
            .zip(&marks)
            .map(|(c, w)| {
                json!({ "topic": c.topic, "partition": c.partition, "message_current_offset": c.offset,
                "message_log_end_offset": w.log_end, "lag": w.log_end - c.offset })
            })
            .collect();
        let members: Vec<Value> = described
            .members
            .iter()
            .map(|m| json!({ "host": m.host, "member_id": m.member_id, "client_id": m.client_id, "assignment": [] }))
            .collect();
        Ok(Some(json!({ "group": { "group_id": group, "state": state_name(&described.state), "coordinator_id": 0,
            "assignment_strategy": "range", "members": members, "group_message_offsets": offsets } })))
    }

    /// `last_offset` is the log end here; the provider reads either meaning.
    async fn partitions(&self, topic: &str, query: &BTreeMap<String, String>) -> Outcome {
        let p = &self.provider;
        let described = p.topic(topic).await.map_err(from_provider)?;
        let marks = p.watermarks(&described.topic_partitions().collect::<Vec<_>>()).await.map_err(from_provider)?;
        let partitions: Vec<Value> = marks
            .iter()
            .map(|w| {
                json!({ "partition": w.partition, "start_offset": w.log_start, "last_offset": w.log_end,
                "message_count": w.log_end - w.log_start, "last_update_time": 0 })
            })
            .collect();
        let (offset, limit) = paging(query);
        Ok(Some(
            json!({ "total": partitions.len(), "partitions": partitions.iter().skip(offset).take(limit).collect::<Vec<_>>() }),
        ))
    }

    async fn topics(&self, query: &BTreeMap<String, String>) -> Outcome {
        let p = &self.provider;
        let mut topics = Vec::new();
        for topic in p.topics().await.map_err(from_provider)? {
            let policy = p.cleanup_policy(&topic.name).await.map_err(from_provider)?;
            topics.push(json!({ "name": topic.name, "partition": topic.partitions.len(), "replication": 1,
                "topic_other_configs": [{ "name": "cleanup.policy", "value": policy.policy }] }));
        }
        let (offset, limit) = paging(query);
        Ok(Some(
            json!({ "total": topics.len(), "size": topics.len(), "topics": topics.iter().skip(offset).take(limit).collect::<Vec<_>>() }),
        ))
    }
}

/// `offset` (items to skip) and `limit` of a listing.
fn paging(query: &BTreeMap<String, String>) -> (usize, usize) {
    let get = |key: &str, default: usize| query.get(key).and_then(|v| v.parse().ok()).unwrap_or(default);
    (get("offset", 0), get("limit", 10))
}
