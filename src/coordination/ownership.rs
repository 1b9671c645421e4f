//! One partition owned: its transactional producer, whose id is the
//! partition's (`init_transactions` when it was claimed fenced every earlier
//! owner), and the term of the claim. Every write an owner makes about the
//! partition's clusters goes through [`Ownership::transact`], so a replica
//! that lost the partition cannot write for it again: its transaction fails
//! as fenced.

use std::sync::Mutex;
use std::time::Duration;

use rdkafka::error::KafkaError;
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};

pub type TxnProducer = ThreadedProducer<DefaultProducerContext>;

/// One write of a transaction: a topic's key, and its value (`None`: a tombstone).
pub struct Write {
    pub topic: String,
    pub key: String,
    pub value: Option<Vec<u8>>,
}

pub struct Ownership {
    pub partition: i32,
    pub term: u64,
    producer: Mutex<TxnProducer>,
    timeout: Duration,
}

/// Why a transaction did not commit.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TransactError {
    /// A newer owner has claimed the partition: this replica owns it no more.
    #[error("fenced: another replica has claimed partition {0} since")]
    Fenced(i32),
    #[error("the coordination cluster did not take the write: {0}")]
    Failed(String),
}

impl Ownership {
    pub fn new(partition: i32, term: u64, producer: TxnProducer, timeout: Duration) -> Self {
        Ownership { partition, term, producer: Mutex::new(producer), timeout }
    }

    /// Writes `writes` to this partition of their topics, all or none. Blocks.
    pub fn transact(&self, writes: &[Write]) -> Result<(), TransactError> {
        let producer = self.producer.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let failed = |e: KafkaError| classify(self.partition, e);
        producer.begin_transaction().map_err(failed)?;
        for write in writes {
            let mut record = BaseRecord::<str, [u8]>::to(&write.topic).key(&write.key).partition(self.partition);
            if let Some(value) = &write.value {
                record = record.payload(value);
            }
            if let Err((e, _)) = producer.send(record) {
                let _ = producer.abort_transaction(self.timeout);
                return Err(failed(e));
            }
        }
        producer.commit_transaction(self.timeout).map_err(|e| {
            let error = failed(e);
            if matches!(error, TransactError::Failed(_)) {
                let _ = producer.abort_transaction(self.timeout);
            }
            error
        })
    }
}

/// A fenced producer (or one whose errors are fatal) lost the partition; the rest failed.
pub fn classify(partition: i32, error: KafkaError) -> TransactError {
    if crate::provider::kafka::is_fenced(&error) {
        TransactError::Fenced(partition)
    } else {
        TransactError::Failed(error.to_string())
    }
}
