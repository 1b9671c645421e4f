//! A cluster held in memory, for unit tests of the engine and the step kinds
//! that run in milliseconds without a broker. It keeps what the kinds read and
//! change — partitions with their records and log bounds, groups with their
//! commits and members, cleanup policies — and behaves as a broker does where
//! ebb relies on it: a commit to a group with live members is refused, a
//! deletion past the log end is refused per partition. It can be told to lose
//! the answer of its next commit or deletion. The real-broker tests remain the
//! proof of Kafka's behaviour; this is for the logic above it.

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::{
    CleanupPolicy, CommittedOffset, GroupDescription, GroupListing, GroupMember, GroupState, Message, OffsetDeleted,
    OffsetForTime, OffsetRange, PartitionInfo, Provider, ProviderError, ProviderResult, RecordsDeleted,
    TopicDescription, TopicPartition, Visitor, Watermarks,
};

/// A cluster in memory; cheap to build per test.
#[derive(Debug)]
pub struct MemoryCluster {
    name: String,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    topics: BTreeMap<String, Topic>,
    groups: BTreeMap<String, Group>,
    /// The next commit's answer is an error after it was applied.
    lose_next_commit_answer: bool,
    /// The next commit is refused and changes nothing.
    refuse_next_commit: bool,
    commits: u32,
    deletions: u32,
    /// Added to every offset a time lookup finds, as a cloud API's coarse lookup may land later.
    time_lookup_skew: i64,
}

#[derive(Debug)]
struct Topic {
    policy: String,
    partitions: Vec<Partition>,
}

#[derive(Debug, Default)]
struct Partition {
    log_start: i64,
    /// Every record ever written, at its offset; those below `log_start` are deleted.
    records: Vec<Message>,
}

#[derive(Debug, Default)]
struct Group {
    committed: BTreeMap<TopicPartition, i64>,
    members: Vec<GroupMember>,
}

impl MemoryCluster {
    pub fn new(name: &str) -> Self {
        MemoryCluster { name: name.to_owned(), state: Mutex::new(State::default()) }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Adds a topic of `partitions` partitions, each holding `records` records
    /// timed one second apart from `first_ms`, with values `p{partition}-{offset}`.
    pub fn topic(self, name: &str, partitions: i32, records: i64, first_ms: i64) -> Self {
        let made = (0..partitions)
            .map(|p| Partition {
                log_start: 0,
                records: (0..records)
                    .map(|o| Message {
                        topic: name.to_owned(),
                        partition: p,
                        offset: o,
                        timestamp: Some(first_ms + o * 1000),
                        key: Some(format!("k{o}").into_bytes()),
                        value: Some(format!("p{p}-{o}").into_bytes()),
                        headers: Vec::new(),
                    })
                    .collect(),
            })
            .collect();
        self.state().topics.insert(name.to_owned(), Topic { policy: "delete".to_owned(), partitions: made });
        self
    }

    /// Sets one record's timestamp (to put records out of time order).
    pub fn timestamp(self, topic: &str, partition: i32, offset: i64, ms: i64) -> Self {
        if let Some(record) = self
            .state()
            .topics
            .get_mut(topic)
            .and_then(|t| t.partitions.get_mut(partition as usize).and_then(|p| p.records.get_mut(offset as usize)))
        {
            record.timestamp = Some(ms);
        }
        self
    }

    /// Makes every time lookup answer `skew` offsets past the true one (clamped to the log end).
    pub fn skew_time_lookups(self, skew: i64) -> Self {
        self.state().time_lookup_skew = skew;
        self
    }

    /// Sets a topic's `cleanup.policy`.
    pub fn policy(self, topic: &str, policy: &str) -> Self {
        if let Some(t) = self.state().topics.get_mut(topic) {
            t.policy = policy.to_owned();
        }
        self
    }

    /// Replaces one record's value (to plant a match).
    pub fn value(self, topic: &str, partition: i32, offset: i64, value: &str) -> Self {
        if let Some(record) = self
            .state()
            .topics
            .get_mut(topic)
            .and_then(|t| t.partitions.get_mut(partition as usize).and_then(|p| p.records.get_mut(offset as usize)))
        {
            record.value = Some(value.as_bytes().to_vec());
        }
        self
    }

    /// Commits `offset` for `group` on a partition, as a consumer would.
    pub fn commit(self, group: &str, topic: &str, partition: i32, offset: i64) -> Self {
        self.consume(group, topic, partition, offset);
        self
    }

    /// Gives `group` a live member.
    pub fn member(&self, group: &str, client_id: &str) {
        self.state().groups.entry(group.to_owned()).or_default().members.push(GroupMember {
            member_id: format!("{client_id}-1"),
            client_id: client_id.to_owned(),
            host: "/127.0.0.1".to_owned(),
            topics: Vec::new(),
        });
    }

    /// Gives `group` a live member assigned partitions of `topics`.
    pub fn member_on(&self, group: &str, client_id: &str, topics: &[&str]) {
        self.state().groups.entry(group.to_owned()).or_default().members.push(GroupMember {
            member_id: format!("{client_id}-1"),
            client_id: client_id.to_owned(),
            host: "/127.0.0.1".to_owned(),
            topics: topics.iter().map(|t| (*t).to_owned()).collect(),
        });
    }

    /// Moves a group's commit, as its consumers would between plan and apply.
    pub fn consume(&self, group: &str, topic: &str, partition: i32, offset: i64) {
        self.state()
            .groups
            .entry(group.to_owned())
            .or_default()
            .committed
            .insert(TopicPartition::new(topic, partition), offset);
    }

    /// The next commit is applied but its answer is an error, as when the answer is lost.
    pub fn lose_next_commit_answer(&self) {
        self.state().lose_next_commit_answer = true;
    }

    /// The next commit is refused and changes nothing.
    pub fn refuse_next_commit(&self) {
        self.state().refuse_next_commit = true;
    }

    /// A group's committed offset on one partition.
    pub fn committed(&self, group: &str, topic: &str, partition: i32) -> Option<i64> {
        self.state().groups.get(group).and_then(|g| g.committed.get(&TopicPartition::new(topic, partition)).copied())
    }

    /// A partition's log start.
    pub fn log_start(&self, topic: &str, partition: i32) -> i64 {
        self.state().topics[topic].partitions[partition as usize].log_start
    }

    /// Commit requests and DeleteRecords requests received.
    pub fn requests(&self) -> (u32, u32) {
        let state = self.state();
        (state.commits, state.deletions)
    }

    fn request_failed(&self, operation: &'static str, detail: &str) -> ProviderError {
        ProviderError::Request { cluster: self.name.clone(), operation, detail: detail.to_owned(), retryable: false }
    }
}

impl State {
    fn partition(&self, cluster: &str, tp: &TopicPartition) -> ProviderResult<&Partition> {
        let topic = self.topic(cluster, &tp.topic)?;
        topic.partitions.get(usize::try_from(tp.partition).unwrap_or(usize::MAX)).ok_or_else(|| {
            ProviderError::UnknownPartition {
                cluster: cluster.to_owned(),
                topic: tp.topic.clone(),
                partition: tp.partition,
                count: topic.partitions.len(),
            }
        })
    }

    fn topic(&self, cluster: &str, name: &str) -> ProviderResult<&Topic> {
        self.topics
            .get(name)
            .ok_or_else(|| ProviderError::UnknownTopic { cluster: cluster.to_owned(), topic: name.to_owned() })
    }

    fn describe(&self, name: &str, topic: &Topic) -> TopicDescription {
        TopicDescription {
            name: name.to_owned(),
            partitions: (0..topic.partitions.len() as i32)
                .map(|p| PartitionInfo { partition: p, leader: Some(1), replicas: vec![1] })
                .collect(),
        }
    }
}

impl Partition {
    fn log_end(&self) -> i64 {
        self.records.len() as i64
    }
}

fn group_state(group: &Group) -> GroupState {
    if group.members.is_empty() { GroupState::Empty } else { GroupState::Stable }
}

impl Provider for MemoryCluster {
    fn cluster(&self) -> &str {
        &self.name
    }

    async fn topics(&self) -> ProviderResult<Vec<TopicDescription>> {
        let state = self.state();
        Ok(state.topics.iter().map(|(name, t)| state.describe(name, t)).collect())
    }

    async fn topic(&self, name: &str) -> ProviderResult<TopicDescription> {
        let state = self.state();
        Ok(state.describe(name, state.topic(&self.name, name)?))
    }

    async fn watermarks(&self, partitions: &[TopicPartition]) -> ProviderResult<Vec<Watermarks>> {
        let state = self.state();
        partitions
            .iter()
            .map(|tp| {
                let p = state.partition(&self.name, tp)?;
                Ok(Watermarks {
                    topic: tp.topic.clone(),
                    partition: tp.partition,
                    log_start: p.log_start,
                    log_end: p.log_end(),
                })
            })
            .collect()
    }

    async fn offsets_for_timestamp(
        &self,
        partitions: &[TopicPartition],
        timestamp_ms: i64,
    ) -> ProviderResult<Vec<OffsetForTime>> {
        let state = self.state();
        partitions
            .iter()
            .map(|tp| {
                let p = state.partition(&self.name, tp)?;
                let offset = p
                    .records
                    .iter()
                    .skip(p.log_start as usize)
                    .find(|m| m.timestamp.is_some_and(|t| t >= timestamp_ms))
                    .map(|m| (m.offset + state.time_lookup_skew).min(p.log_end()));
                Ok(OffsetForTime { topic: tp.topic.clone(), partition: tp.partition, offset })
            })
            .collect()
    }

    async fn committed_offsets(&self, group: &str, topics: Option<&[String]>) -> ProviderResult<Vec<CommittedOffset>> {
        let state = self.state();
        let Some(g) = state.groups.get(group) else { return Ok(Vec::new()) };
        Ok(g.committed
            .iter()
            .filter(|(tp, _)| topics.is_none_or(|list| list.contains(&tp.topic)))
            .map(|(tp, offset)| CommittedOffset { topic: tp.topic.clone(), partition: tp.partition, offset: *offset })
            .collect())
    }

    async fn describe_group(&self, group: &str) -> ProviderResult<GroupDescription> {
        let state = self.state();
        Ok(match state.groups.get(group) {
            Some(g) => GroupDescription {
                group: group.to_owned(),
                state: group_state(g),
                group_type: "classic".to_owned(),
                members: g.members.clone(),
            },
            None => GroupDescription::unknown(group),
        })
    }

    async fn list_groups(&self) -> ProviderResult<Vec<GroupListing>> {
        let state = self.state();
        Ok(state
            .groups
            .iter()
            .map(|(name, g)| GroupListing {
                group: name.clone(),
                state: group_state(g),
                group_type: "classic".to_owned(),
            })
            .collect())
    }

    async fn commit_offsets(&self, group: &str, offsets: &[(TopicPartition, i64)]) -> ProviderResult<()> {
        let mut state = self.state();
        state.commits += 1;
        if std::mem::take(&mut state.refuse_next_commit) {
            return Err(self.request_failed("committing offsets", "COORDINATOR_NOT_AVAILABLE"));
        }
        let g = state.groups.entry(group.to_owned()).or_default();
        if !g.members.is_empty() {
            return Err(self.request_failed("committing offsets", "UNKNOWN_MEMBER_ID"));
        }
        for (tp, offset) in offsets {
            g.committed.insert(tp.clone(), *offset);
        }
        if std::mem::take(&mut state.lose_next_commit_answer) {
            return Err(ProviderError::Timeout {
                cluster: self.name.clone(),
                operation: "committing offsets",
                timeout: std::time::Duration::from_secs(1),
            });
        }
        Ok(())
    }

    async fn delete_offsets(&self, group: &str, partitions: &[TopicPartition]) -> ProviderResult<Vec<OffsetDeleted>> {
        let mut state = self.state();
        for tp in partitions {
            state.partition(&self.name, tp)?;
        }
        let g = state.groups.entry(group.to_owned()).or_default();
        // A member with no reported assignment counts as subscribed to every topic.
        let subscribed =
            |topic: &str| g.members.iter().any(|m| m.topics.is_empty() || m.topics.iter().any(|t| t == topic));
        let outcomes: Vec<OffsetDeleted> = partitions
            .iter()
            .map(|tp| OffsetDeleted {
                topic: tp.topic.clone(),
                partition: tp.partition,
                refused: subscribed(&tp.topic).then(|| "GROUP_SUBSCRIBED_TO_TOPIC".to_owned()),
            })
            .collect();
        for outcome in outcomes.iter().filter(|o| o.refused.is_none()) {
            g.committed.remove(&TopicPartition::new(outcome.topic.clone(), outcome.partition));
        }
        Ok(outcomes)
    }

    async fn scan(&self, ranges: &[OffsetRange], visit: Visitor) -> ProviderResult<u64> {
        let records: Vec<Message> = {
            let state = self.state();
            let mut records = Vec::new();
            for range in ranges {
                let p = state.partition(&self.name, &TopicPartition::new(&range.topic, range.partition))?;
                let (start, end) = (range.start.max(p.log_start), range.end.min(p.log_end()));
                records
                    .extend(p.records.iter().skip(start.max(0) as usize).take((end - start).max(0) as usize).cloned());
            }
            records
        };
        let mut read = 0;
        for record in &records {
            read += 1;
            if !visit(record) {
                break;
            }
        }
        Ok(read)
    }

    async fn delete_records(&self, below: &[(TopicPartition, i64)]) -> ProviderResult<Vec<RecordsDeleted>> {
        let mut state = self.state();
        state.deletions += 1;
        let cluster = self.name.clone();
        let mut outcomes = Vec::new();
        for (tp, offset) in below {
            state.partition(&cluster, tp)?;
            let topic = state.topics.get_mut(&tp.topic).expect("checked above");
            let p = &mut topic.partitions[tp.partition as usize];
            let outcome = if *offset > p.log_end() {
                Err("OFFSET_OUT_OF_RANGE".to_owned())
            } else {
                p.log_start = p.log_start.max(*offset);
                Ok(p.log_start)
            };
            outcomes.push(RecordsDeleted { topic: tp.topic.clone(), partition: tp.partition, outcome });
        }
        Ok(outcomes)
    }

    async fn cleanup_policy(&self, topic: &str) -> ProviderResult<CleanupPolicy> {
        let state = self.state();
        Ok(CleanupPolicy { topic: topic.to_owned(), policy: state.topic(&self.name, topic)?.policy.clone() })
    }
}
