//! Building cluster state for tests and the demo: topics, records with chosen
//! keys, timestamps and headers, committed group offsets, and deleted records.
//! Independent of ebb's own provider, so tests never check ebb with ebb.

use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

use ebb::provider::kafka::retry;

/// One record to produce.
#[derive(Debug, Clone, Default)]
pub struct Record {
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    pub timestamp: Option<i64>,
    pub headers: Vec<(String, Vec<u8>)>,
}

impl Record {
    pub fn value(value: impl AsRef<[u8]>) -> Self {
        Record { value: Some(value.as_ref().to_vec()), ..Default::default() }
    }

    pub fn key(mut self, key: impl AsRef<[u8]>) -> Self {
        self.key = Some(key.as_ref().to_vec());
        self
    }

    /// Sets the record's timestamp, in milliseconds since the epoch.
    pub fn at(mut self, timestamp_ms: i64) -> Self {
        self.timestamp = Some(timestamp_ms);
        self
    }

    pub fn header(mut self, name: &str, value: impl AsRef<[u8]>) -> Self {
        self.headers.push((name.to_owned(), value.as_ref().to_vec()));
        self
    }
}

pub struct Seeder {
    bootstrap: String,
    producer: FutureProducer,
    admin: AdminClient<DefaultClientContext>,
}

impl Seeder {
    pub fn new(bootstrap: &str) -> Self {
        Self::with_settings(bootstrap, &[])
    }

    /// A seeder whose producer also has `settings` (`compression.type`, say).
    pub fn with_settings(bootstrap: &str, settings: &[(&str, &str)]) -> Self {
        let mut config = ClientConfig::new();
        config
            .set("bootstrap.servers", bootstrap)
            .set("linger.ms", "5")
            .set("message.timeout.ms", "30000")
            .set("queue.buffering.max.messages", "200000")
            .set("enable.idempotence", "false")
            .set("acks", "all");
        for (key, value) in settings {
            config.set(*key, *value);
        }
        Seeder {
            bootstrap: bootstrap.to_owned(),
            producer: config.create().expect("test producer"),
            admin: config.create().expect("test admin client"),
        }
    }

    pub async fn create_topic(&self, name: &str, partitions: i32) {
        self.create_topic_with(name, partitions, 1, &[]).await;
    }

    pub async fn create_topic_with(&self, name: &str, partitions: i32, replication: i32, configs: &[(&str, &str)]) {
        let mut topic = NewTopic::new(name, partitions, TopicReplication::Fixed(replication));
        for (k, v) in configs {
            topic = topic.set(k, v);
        }
        let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
        let results = self.admin.create_topics([&topic], &options).await.expect("create_topics request");
        for result in results {
            match result {
                Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                Err((topic, code)) => panic!("cannot create topic {topic}: {code}"),
            }
        }
        self.wait_for_leaders(name, partitions).await;
    }

    pub async fn delete_topic(&self, name: &str) {
        let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
        let _ = self.admin.delete_topics(&[name], &options).await;
    }

    /// A new topic reaches each broker's metadata on its own schedule, so this
    /// asks every broker, each through a client that knows only that broker,
    /// until all of them report the topic with a leader for every partition.
    async fn wait_for_leaders(&self, name: &str, partitions: i32) {
        let addresses: Vec<String> = self.bootstrap.split(',').map(|a| a.trim().to_owned()).collect();
        let name = name.to_owned();
        tokio::task::spawn_blocking(move || {
            for address in &addresses {
                let known = (0..100).any(|_| {
                    let client: BaseConsumer =
                        ClientConfig::new().set("bootstrap.servers", address).create().expect("metadata client");
                    let ready = client.fetch_metadata(Some(&name), Duration::from_secs(5)).is_ok_and(|m| {
                        m.topics().first().is_some_and(|t| {
                            t.error().is_none()
                                && t.partitions().len() == partitions as usize
                                && t.partitions().iter().all(|p| p.leader() >= 0)
                        })
                    });
                    if !ready {
                        std::thread::sleep(Duration::from_millis(100));
                    }
                    ready
                });
                assert!(known, "broker {address} does not know topic {name} with all its leaders after 10s");
            }
        })
        .await
        .expect("metadata wait");
    }

    /// Produces records to one partition, in order; returns their offsets.
    pub async fn produce(&self, topic: &str, partition: i32, records: impl IntoIterator<Item = Record>) -> Vec<i64> {
        let mut pending: Vec<DeliveryFuture> = Vec::new();
        let mut offsets = Vec::new();
        for record in records {
            let mut headers = OwnedHeaders::new();
            for (name, value) in &record.headers {
                headers = headers.insert(Header { key: name, value: Some(value) });
            }
            let mut future = FutureRecord::<[u8], [u8]>::to(topic).partition(partition).headers(headers);
            if let Some(k) = &record.key {
                future = future.key(k);
            }
            if let Some(v) = &record.value {
                future = future.payload(v);
            }
            if let Some(ts) = record.timestamp {
                future = future.timestamp(ts);
            }
            offsets.extend(self.enqueue(future, &mut pending).await);
        }
        offsets.extend(Self::settle(&mut pending).await);
        offsets
    }

    /// Produces `each` records (`prefix-N`) to every partition of a topic, all
    /// sent before any delivery is awaited: fast across thousands of partitions.
    pub async fn produce_everywhere(&self, topic: &str, partitions: i32, each: usize, prefix: &str) {
        let mut pending: Vec<DeliveryFuture> = Vec::new();
        for p in 0..partitions {
            for i in 0..each {
                let value = format!("{prefix}-{i}");
                let record = FutureRecord::<[u8], [u8]>::to(topic).partition(p).payload(value.as_bytes());
                self.enqueue(record, &mut pending).await;
            }
        }
        Self::settle(&mut pending).await;
    }

    /// Queues one record, settling what is pending whenever librdkafka's queue
    /// is full; returns the offsets settled meanwhile.
    async fn enqueue(&self, mut record: FutureRecord<'_, [u8], [u8]>, pending: &mut Vec<DeliveryFuture>) -> Vec<i64> {
        let mut settled = Vec::new();
        loop {
            match self.producer.send_result(record) {
                Ok(delivery) => {
                    pending.push(delivery);
                    return settled;
                }
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    record = back;
                    settled.extend(Self::settle(pending).await);
                }
                Err((e, back)) => panic!("cannot produce to {}:{:?}: {e}", back.topic, back.partition),
            }
        }
    }

    async fn settle(pending: &mut Vec<DeliveryFuture>) -> Vec<i64> {
        let mut offsets = Vec::with_capacity(pending.len());
        for delivery in pending.drain(..) {
            match delivery.await.expect("delivery report") {
                Ok(d) => offsets.push(d.offset),
                Err((e, _)) => panic!("delivery failed: {e}"),
            }
        }
        offsets
    }

    /// Produces `count` records `prefix-0`, `prefix-1`, … with timestamps
    /// `first_timestamp`, `first_timestamp + step_ms`, ….
    pub async fn produce_sequence(
        &self,
        topic: &str,
        partition: i32,
        count: usize,
        prefix: &str,
        first_timestamp: i64,
        step_ms: i64,
    ) -> Vec<i64> {
        let records =
            (0..count).map(|i| Record::value(format!("{prefix}-{i}")).at(first_timestamp + i as i64 * step_ms));
        self.produce(topic, partition, records).await
    }

    /// What `group` has committed, on every topic, read through ebb's provider.
    pub async fn committed(&self, group: &str) -> std::collections::BTreeMap<(String, i32), i64> {
        use ebb::provider::Provider;
        let config = super::broker::cluster_config(&self.bootstrap);
        let provider = ebb::provider::kafka::KafkaProvider::connect("seeded", &config).expect("provider");
        let offsets = provider.committed_offsets(group, None).await.expect("committed offsets");
        offsets.into_iter().map(|c| ((c.topic, c.partition), c.offset)).collect()
    }

    /// Commits offsets for `group` as a client that never joins it (so the group stays Empty).
    pub async fn commit(&self, group: &str, offsets: &[(&str, i32, i64)]) {
        let mut list = TopicPartitionList::new();
        for (topic, partition, offset) in offsets {
            list.add_partition(topic, *partition).set_offset(Offset::Offset(*offset)).expect("offset");
        }
        let bootstrap = self.bootstrap.clone();
        let group = group.to_owned();
        tokio::task::spawn_blocking(move || {
            let consumer: BaseConsumer = ClientConfig::new()
                .set("bootstrap.servers", &bootstrap)
                .set("group.id", &group)
                .set("enable.auto.commit", "false")
                .create()
                .expect("committing client");
            // A new group's coordinator may still be loading: the passing failures
            // the provider retries are retried here the same way.
            retry::within(Duration::from_secs(30), || {
                consumer
                    .commit(&list, CommitMode::Sync)
                    .map_err(|e| retry::Failed { code: e.rdkafka_error_code(), error: e })
            })
            .unwrap_or_else(|e| panic!("commit for group {group}: {e}"));
        })
        .await
        .expect("commit task");
    }

    /// Deletes records below `before` (DeleteRecords), raising the log start.
    pub async fn delete_records(&self, topic: &str, partition: i32, before: i64) {
        let mut list = TopicPartitionList::new();
        list.add_partition_offset(topic, partition, Offset::Offset(before)).expect("offset");
        let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
        let result = self.admin.delete_records(&list, &options).await.expect("delete_records request");
        for elem in result.elements() {
            elem.error().unwrap_or_else(|e| panic!("delete records on {topic}:{partition}: {e}"));
        }
    }
}
