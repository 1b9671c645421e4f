//! A local CKafka API for tests: verifies each request as Tencent Cloud's
//! gateway does (`ebb::provider::signing::tc3_verify`), turns away Fetch* calls that come faster
//! than 1 a second with `RequestLimitExceeded`, and performs every action on
//! the real test broker through ebb's native provider — so a runbook run
//! through the `ckafka` provider really moves offsets, and tests check the
//! result natively.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::HeaderMap;
use serde_json::{Value, json};

use super::broker_ops::{self, clamp, must_be_inactive, read, text};
use super::emulator_server::{CallLog, EmulatorServer};
use ebb::provider::kafka::KafkaProvider;
use ebb::provider::signing::tc3_verify::{Rejection, answer, error_answer, verify};
use ebb::provider::{Message, Provider, ProviderError, TopicPartition};

pub const SECRET_ID: &str = "AKIDebbemulator0000000000000000000000";
pub const SECRET_KEY: &str = "ebb-emulated-ckafka-secret-31c9";
pub const INSTANCE_ID: &str = "ckafka-emulated";
/// The Fetch* rate limit the emulator enforces (1 a second, a little slack for timers).
const FETCH_INTERVAL: Duration = Duration::from_millis(950);

struct State {
    provider: KafkaProvider,
    log: Arc<CallLog>,
    last_fetch: Mutex<HashMap<String, Instant>>,
    requests: std::sync::atomic::AtomicU64,
}

/// Starts the emulator for the broker at `bootstrap`.
pub fn start(bootstrap: &str) -> EmulatorServer {
    let bootstrap = bootstrap.to_owned();
    EmulatorServer::start(move |log| {
        let state = Arc::new(State {
            provider: broker_ops::connect(&bootstrap),
            log,
            last_fetch: Mutex::new(HashMap::new()),
            requests: Default::default(),
        });
        axum::Router::new().route(
            "/",
            axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                let state = Arc::clone(&state);
                async move { axum::Json(state.handle(&headers, &body).await) }
            }),
        )
    })
}

fn bad(code: &'static str, message: impl Into<String>) -> Rejection {
    Rejection { code, message: message.into() }
}

fn from_provider(error: ProviderError) -> Rejection {
    match error {
        ProviderError::UnknownTopic { topic, .. } => {
            bad("ResourceNotFound.TopicNotExist", format!("topic {topic} does not exist"))
        }
        ProviderError::UnknownPartition { .. } => bad("InvalidParameterValue", error.to_string()),
        other => bad("InternalError", other.to_string()),
    }
}

fn string(params: &Value, key: &str) -> Result<String, Rejection> {
    params[key].as_str().map(str::to_owned).ok_or_else(|| bad("MissingParameter", format!("{key} is required")))
}

fn int(params: &Value, key: &str) -> Result<i64, Rejection> {
    params[key].as_i64().ok_or_else(|| bad("MissingParameter", format!("{key} is required and must be an integer")))
}

fn strings(params: &Value, key: &str) -> Vec<String> {
    params[key].as_array().map(|l| l.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect()).unwrap_or_default()
}

/// `list[Offset..Offset+Limit]`, as the listing actions page.
fn page<T: Clone>(params: &Value, list: &[T], default_limit: usize) -> Vec<T> {
    let offset = params["Offset"].as_u64().unwrap_or(0) as usize;
    let limit = params["Limit"].as_u64().map_or(default_limit, |l| l as usize);
    list.iter().skip(offset).take(limit).cloned().collect()
}

fn record(m: &Message) -> Value {
    let headers: serde_json::Map<String, Value> =
        m.headers.iter().map(|(k, v)| (k.clone(), json!(String::from_utf8_lossy(v)))).collect();
    json!({
        "Topic": m.topic, "Partition": m.partition, "Offset": m.offset,
        "Key": text(&m.key), "Value": text(&m.value), "Timestamp": m.timestamp,
        "Headers": Value::Object(headers).to_string(),
    })
}

impl State {
    async fn handle(&self, headers: &HeaderMap, body: &[u8]) -> Value {
        let id = format!("emulated-{}", self.requests.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
        let now = chrono::Utc::now().timestamp();
        let outcome = match verify(headers, body, "ckafka", now, |id| (id == SECRET_ID).then(|| SECRET_KEY.to_owned()))
        {
            Ok(action) => {
                self.log.record(&action);
                self.act(&action, body).await
            }
            Err(rejection) => {
                self.log.record("rejected");
                Err(rejection)
            }
        };
        match outcome {
            Ok(result) => answer(json!({ "Result": result }), &id),
            Err(rejection) => error_answer(&rejection, &id),
        }
    }

    async fn act(&self, action: &str, body: &[u8]) -> Result<Value, Rejection> {
        let params: Value = serde_json::from_slice(body).map_err(|e| bad("InvalidParameter", format!("body: {e}")))?;
        if params["InstanceId"].as_str() != Some(INSTANCE_ID) {
            return Err(bad("InvalidParameterValue.InstanceNotExist", "the instance does not exist"));
        }
        if action.starts_with("Fetch") {
            self.keep_fetch_rate(action)?;
        }
        let p = &self.provider;
        match action {
            "DescribeTopic" => {
                let search = params["SearchWord"].as_str().unwrap_or("");
                let topics = p.topics().await.map_err(from_provider)?;
                let names: Vec<Value> = topics
                    .iter()
                    .filter(|t| t.name.contains(search))
                    .map(|t| json!({ "TopicName": t.name, "TopicId": format!("topic-{}", t.name), "Note": "" }))
                    .collect();
                Ok(json!({ "TopicList": page(&params, &names, 20), "TotalCount": names.len() }))
            }
            "DescribeTopicSyncReplica" => {
                let topic = p.topic(&string(&params, "TopicName")?).await.map_err(from_provider)?;
                let marks = p.watermarks(&topic.topic_partitions().collect::<Vec<_>>()).await.map_err(from_provider)?;
                let list: Vec<Value> = topic
                    .partitions
                    .iter()
                    .zip(&marks)
                    .map(|(info, w)| {
                        let replicas = info.replicas.iter().map(i32::to_string).collect::<Vec<_>>().join(",");
                        json!({
                            "Partition": info.partition.to_string(), "Leader": info.leader, "Replica": replicas,
                            "InSyncReplica": replicas, "BeginOffset": w.log_start, "EndOffset": w.log_end,
                            "MessageCount": w.log_end - w.log_start, "OutOfSyncReplica": "",
                        })
                    })
                    .collect();
                Ok(json!({ "TopicInSyncReplicaList": page(&params, &list, 20), "TotalCount": list.len() }))
            }
            "DescribeGroupOffsets" => self.group_offsets(&params).await,
            "DescribeGroupInfo" => {
                let mut infos = Vec::new();
                for group in strings(&params, "GroupList") {
                    let d = p.describe_group(&group).await.map_err(from_provider)?;
                    let members: Vec<Value> = d
                        .members
                        .iter()
                        .map(|m| {
                            json!({ "MemberId": m.member_id, "ClientId": m.client_id, "ClientHost": m.host,
                            "Assignment": { "Version": 0, "Topics": [] } })
                        })
                        .collect();
                    infos.push(json!({ "ErrorCode": "0", "State": d.state.to_string(), "ProtocolType": "consumer",
                        "Protocol": "range", "Group": group, "Members": members }));
                }
                Ok(Value::Array(infos))
            }
            "DescribeGroup" => {
                let groups = p.list_groups().await.map_err(from_provider)?;
                let list: Vec<Value> =
                    groups.iter().map(|g| json!({ "Group": g.group, "Protocol": "consumer" })).collect();
                Ok(json!({ "TotalCount": list.len(), "GroupList": page(&params, &list, 20), "GroupCountQuota": 1000 }))
            }
            "ModifyGroupOffsets" => self.modify(&params).await,
            "BatchModifyGroupOffsets" => self.batch_modify(&params).await,
            "FetchMessageByOffset" => {
                let (topic, partition, offset) =
                    (string(&params, "Topic")?, int(&params, "Partition")? as i32, int(&params, "Offset")?);
                let found = read(p, &topic, partition, offset, offset + 1).await.map_err(from_provider)?;
                let m =
                    found.first().ok_or_else(|| bad("ResourceNotFound", format!("no message at offset {offset}")))?;
                Ok(record(m))
            }
            "FetchMessageListByOffset" | "FetchMessageListByTimestamp" => {
                let (topic, partition) = (string(&params, "Topic")?, int(&params, "Partition")? as i32);
                let count = params["SinglePartitionRecordNumber"].as_i64().unwrap_or(20);
                if !(1..=20).contains(&count) {
                    return Err(bad("InvalidParameterValue", "SinglePartitionRecordNumber must be 1 to 20"));
                }
                let tp = TopicPartition::new(topic.clone(), partition);
                let marks = p.watermarks(std::slice::from_ref(&tp)).await.map_err(from_provider)?;
                let start = if action == "FetchMessageListByOffset" {
                    int(&params, "Offset")?
                } else {
                    let at = p.offsets_for_timestamp(&[tp], int(&params, "StartTime")?).await.map_err(from_provider)?;
                    at[0].offset.unwrap_or(marks[0].log_end)
                };
                let start = start.max(marks[0].log_start);
                let found = read(p, &topic, partition, start, (start + count).min(marks[0].log_end))
                    .await
                    .map_err(from_provider)?;
                Ok(Value::Array(found.iter().map(record).collect()))
            }
            other => Err(bad("InvalidAction", format!("the emulator does not offer {other}"))),
        }
    }

    fn keep_fetch_rate(&self, action: &str) -> Result<(), Rejection> {
        let mut last = self.last_fetch.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if last.get(action).is_some_and(|t| now.duration_since(*t) < FETCH_INTERVAL) {
            self.log.throttled.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            return Err(bad("RequestLimitExceeded", format!("{action} is limited to 1 request a second")));
        }
        last.insert(action.to_owned(), now);
        Ok(())
    }

    async fn group_offsets(&self, params: &Value) -> Result<Value, Rejection> {
        let p = &self.provider;
        let group = string(params, "Group")?;
        let asked = strings(params, "Topics");
        let committed = p.committed_offsets(&group, None).await.map_err(from_provider)?;
        let mut by_topic: BTreeMap<String, BTreeMap<i32, i64>> = BTreeMap::new();
        for c in committed.into_iter().filter(|c| asked.is_empty() || asked.contains(&c.topic)) {
            by_topic.entry(c.topic).or_default().insert(c.partition, c.offset);
        }
        let mut topics = Vec::new();
        for (topic, offsets) in &by_topic {
            let described = p.topic(topic).await.map_err(from_provider)?;
            let marks = p.watermarks(&described.topic_partitions().collect::<Vec<_>>()).await.map_err(from_provider)?;
            // Every partition is listed; one the group never committed shows -1.
            let partitions: Vec<Value> = marks
                .iter()
                .map(|w| {
                    let offset = offsets.get(&w.partition).copied().unwrap_or(-1);
                    json!({ "Partition": w.partition, "Offset": offset, "Metadata": "", "ErrorCode": 0,
                        "LogEndOffset": w.log_end, "Lag": if offset < 0 { 0 } else { w.log_end - offset } })
                })
                .collect();
            topics.push(json!({ "Topic": topic, "Partitions": partitions }));
        }
        Ok(json!({ "TotalCount": topics.len(), "TopicList": page(params, &topics, 50) }))
    }

    /// The group's topics when a request names none.
    async fn topics_or_group_topics(&self, group: &str, named: Vec<String>) -> Result<Vec<String>, Rejection> {
        if !named.is_empty() {
            return Ok(named);
        }
        let committed = self.provider.committed_offsets(group, None).await.map_err(from_provider)?;
        let mut topics: Vec<String> = committed.into_iter().map(|c| c.topic).collect();
        topics.dedup();
        Ok(topics)
    }

    async fn commit(&self, group: &str, targets: Vec<(TopicPartition, i64)>) -> Result<Value, Rejection> {
        let p = &self.provider;
        if let Err(reason) = must_be_inactive(p, group).await.map_err(from_provider)? {
            return Err(bad("FailedOperation", reason));
        }
        let mut clamped = Vec::with_capacity(targets.len());
        for (tp, offset) in targets {
            let offset = clamp(p, &tp, offset).await.map_err(from_provider)?;
            clamped.push((tp, offset));
        }
        p.commit_offsets(group, &clamped).await.map_err(from_provider)?;
        Ok(json!({ "ReturnCode": "0", "ReturnMessage": "OK", "Data": { "FlowId": 0, "RouteDTO": { "RouteId": 0 } } }))
    }

    /// Strategy 0 shifts the committed offset, 1 goes to a time (-2 earliest,
    /// -1 latest, nothing at the time: latest), 2 goes to an offset.
    async fn modify(&self, params: &Value) -> Result<Value, Rejection> {
        let p = &self.provider;
        let group = string(params, "Group")?;
        let strategy = int(params, "Strategy")?;
        let asked: Vec<i32> = params["Partitions"]
            .as_array()
            .map(|l| l.iter().filter_map(|v| v.as_i64()).map(|v| v as i32).collect())
            .unwrap_or_default();
        let committed = p.committed_offsets(&group, None).await.map_err(from_provider)?;
        let mut targets = Vec::new();
        for topic in self.topics_or_group_topics(&group, strings(params, "Topics")).await? {
            let described = p.topic(&topic).await.map_err(from_provider)?;
            let scope: Vec<TopicPartition> =
                described.topic_partitions().filter(|tp| asked.is_empty() || asked.contains(&tp.partition)).collect();
            let marks = p.watermarks(&scope).await.map_err(from_provider)?;
            for (tp, w) in scope.iter().zip(&marks) {
                let target = match strategy {
                    0 => {
                        let now = committed.iter().find(|c| c.topic == tp.topic && c.partition == tp.partition);
                        now.map_or(w.log_end, |c| c.offset) + int(params, "Shift")?
                    }
                    1 => match int(params, "ShiftTimestamp")? {
                        -2 => w.log_start,
                        -1 => w.log_end,
                        ms => p.offsets_for_timestamp(std::slice::from_ref(tp), ms).await.map_err(from_provider)?[0]
                            .offset
                            .unwrap_or(w.log_end),
                    },
                    2 => int(params, "Offset")?,
                    other => return Err(bad("InvalidParameterValue", format!("Strategy {other} is not 0, 1 or 2"))),
                };
                targets.push((tp.clone(), target));
            }
        }
        self.commit(&group, targets).await
    }

    async fn batch_modify(&self, params: &Value) -> Result<Value, Rejection> {
        let group = string(params, "GroupName")?;
        let entries = params["Partitions"].as_array().cloned().unwrap_or_default();
        let mut targets = Vec::new();
        for topic in self.topics_or_group_topics(&group, strings(params, "TopicName")).await? {
            for entry in &entries {
                let (Some(partition), Some(offset)) = (entry["Partition"].as_i64(), entry["Offset"].as_i64()) else {
                    return Err(bad("InvalidParameterValue", "each of Partitions needs Partition and Offset"));
                };
                targets.push((TopicPartition::new(topic.clone(), partition as i32), offset));
            }
        }
        self.commit(&group, targets).await
    }
}
