//! Every replica reads both topics from their start, read-committed (an
//! aborted or fenced transaction is never seen), for its whole life: the
//! state topic into its view, the runs topic into its own store through
//! [`Ingest`], so history, `show`, the API and the console answer the same
//! on any replica. Records this very process wrote are in its store already.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};

use super::Coordination;
use super::records::{part_of, read_run};
use crate::history::RunRecord;

/// What the tail hands the local store: a run's record, or a run removed.
pub type Ingest = Box<dyn Fn(Ingested) + Send>;

#[derive(Debug)]
pub enum Ingested {
    Saved(Box<RunRecord>),
    Removed(String),
}

pub fn start(coordination: Arc<Coordination>, ingest: Ingest) -> Result<(), String> {
    let mut config = crate::provider::kafka::settings::base(&coordination.cluster);
    // librdkafka wants a group to assign partitions; this client never joins it nor commits.
    config
        .set("isolation.level", "read_committed")
        .set("client.id", format!("ebb-{}-tail", coordination.replica))
        .set("group.id", format!("{}.tail", coordination.names.group()));
    let consumer: BaseConsumer = config.create().map_err(|e| format!("cannot make the tail's consumer: {e}"))?;
    let (state, runs) = (coordination.names.state_topic(), coordination.names.runs_topic());
    let mut all = TopicPartitionList::new();
    for topic in [&state, &runs] {
        for partition in 0..coordination.names.partitions {
            all.add_partition_offset(topic, partition, Offset::Beginning)
                .map_err(|e| format!("cannot assign {topic}:{partition}: {e}"))?;
        }
    }
    consumer.assign(&all).map_err(|e| format!("cannot read the coordination topics: {e}"))?;
    std::thread::Builder::new()
        .name("ebb-tail".to_owned())
        .spawn(move || Tail { coordination, ingest, parts: HashMap::new(), state, runs }.run(consumer))
        .map_err(|e| format!("cannot start the tail's thread: {e}"))?;
    Ok(())
}

struct Tail {
    coordination: Arc<Coordination>,
    ingest: Ingest,
    /// Parts of large run records, by run id, until their head comes.
    parts: HashMap<String, BTreeMap<usize, Vec<u8>>>,
    state: String,
    runs: String,
}

impl Tail {
    fn run(mut self, consumer: BaseConsumer) {
        let mut positions_at = Instant::now();
        let mut warned_at: Option<Instant> = None;
        while !self.coordination.stopping.load(Ordering::SeqCst) {
            match consumer.poll(Duration::from_millis(50)) {
                Some(Ok(message)) => {
                    let key = message.key().map(|k| String::from_utf8_lossy(k).into_owned()).unwrap_or_default();
                    self.absorb(message.topic(), message.partition(), &key, message.payload());
                    super::lock(&self.coordination.view).read_up_to(
                        message.topic(),
                        message.partition(),
                        message.offset() + 1,
                    );
                }
                Some(Err(e)) if warned_at.is_none_or(|at| at.elapsed() > Duration::from_secs(30)) => {
                    tracing::warn!(error = %e, "the coordination topics cannot be read");
                    warned_at = Some(Instant::now());
                }
                Some(Err(_)) | None => {}
            }
            // Transaction markers move a partition's position without a message.
            if positions_at.elapsed() > Duration::from_millis(50) {
                positions_at = Instant::now();
                if let Ok(positions) = consumer.position() {
                    super::lock(&self.coordination.view).read_up_to_positions(&positions);
                }
            }
        }
    }

    fn absorb(&mut self, topic: &str, partition: i32, key: &str, value: Option<&[u8]>) {
        if topic == self.state {
            super::lock(&self.coordination.view).absorb_message(key, value);
        } else if topic == self.runs {
            self.absorb_run(partition, key, value);
        }
    }

    fn absorb_run(&mut self, partition: i32, key: &str, value: Option<&[u8]>) {
        if let Some((id, n)) = part_of(key) {
            match value {
                Some(value) => {
                    self.parts.entry(id.to_owned()).or_default().insert(n, value.to_vec());
                }
                None => {
                    if let Some(parts) = self.parts.get_mut(id) {
                        parts.remove(&n);
                    }
                }
            }
            return;
        }
        let Some(value) = value else {
            self.parts.remove(key);
            (self.ingest)(Ingested::Removed(key.to_owned()));
            return;
        };
        let parts = self.parts.remove(key).unwrap_or_default();
        match read_run(value, |n| parts.get(&n).cloned()) {
            // Only a record under its own id, in its cluster's partition, is believed.
            Ok(envelope)
                if envelope.record.id != key
                    || self.coordination.partition_of(&envelope.record.cluster) != partition =>
            {
                tracing::warn!(run = %crate::shown::quoted(key), "a run record in the runs topic is not where its owner writes it; ignored");
            }
            Ok(envelope) => {
                let mine = envelope.replica == self.coordination.replica
                    && envelope.incarnation == self.coordination.incarnation;
                if !mine {
                    (self.ingest)(Ingested::Saved(Box::new(envelope.record)));
                }
            }
            Err(why) => {
                tracing::warn!(run = %crate::shown::quoted(key), why, "a run record in the runs topic cannot be read")
            }
        }
    }
}
