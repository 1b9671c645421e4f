//! What both cloud emulators do to the real test broker, through ebb's native
//! provider: read records, clamp a target offset into a partition's log, and
//! refuse to move a group that has live members (as both clouds do).

use std::sync::{Arc, Mutex};

use ebb::provider::kafka::KafkaProvider;
use ebb::provider::{Message, OffsetRange, Provider, ProviderError, TopicPartition};

/// A native provider on the test broker.
pub fn connect(bootstrap: &str) -> KafkaProvider {
    KafkaProvider::connect("emulated", &super::broker::cluster_config(bootstrap))
        .expect("a provider on the test broker")
}

/// The records of `[from, to)` of one partition, in offset order.
pub async fn read(
    provider: &KafkaProvider,
    topic: &str,
    partition: i32,
    from: i64,
    to: i64,
) -> Result<Vec<Message>, ProviderError> {
    if from >= to {
        return Ok(Vec::new());
    }
    let found = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&found);
    let range = OffsetRange { topic: topic.to_owned(), partition, start: from, end: to };
    provider
        .scan(
            &[range],
            Arc::new(move |m: &Message| {
                sink.lock().unwrap_or_else(|p| p.into_inner()).push(m.clone());
                true
            }),
        )
        .await?;
    let mut messages = std::mem::take(&mut *found.lock().unwrap_or_else(|p| p.into_inner()));
    messages.sort_by_key(|m| m.offset);
    Ok(messages)
}

/// `offset` moved into `[log start, log end]` of its partition.
pub async fn clamp(provider: &KafkaProvider, tp: &TopicPartition, offset: i64) -> Result<i64, ProviderError> {
    let marks = provider.watermarks(std::slice::from_ref(tp)).await?;
    Ok(offset.clamp(marks[0].log_start, marks[0].log_end))
}

/// `Err` with a reason when `group` has live members.
pub async fn must_be_inactive(provider: &KafkaProvider, group: &str) -> Result<Result<(), String>, ProviderError> {
    let described = provider.describe_group(group).await?;
    Ok(if described.state.is_inactive() {
        Ok(())
    } else {
        Err(format!(
            "group {group} is {} with {} live members; stop its consumers first",
            described.state,
            described.members.len()
        ))
    })
}

/// Text for a JSON answer: the bytes as UTF-8, invalid sequences replaced.
pub fn text(bytes: &Option<Vec<u8>>) -> Option<String> {
    bytes.as_ref().map(|b| String::from_utf8_lossy(b).into_owned())
}
