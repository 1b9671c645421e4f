//! Taking a partition the group assigned: fence, read, claim, then act.
//! 1. A producer with the partition's transactional id is initialised,
//!    which fences every earlier owner (its open transaction is aborted,
//!    its later ones fail).
//! 2. The tail reads the partition of both topics to its end, so the new
//!    owner knows every cursor and run record the old one committed.
//! 3. The claim is written with the next term, in a transaction.
//!
//! Only then is the partition owned, and the daemon told to take over.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use rdkafka::producer::Producer;
use tokio::sync::mpsc::UnboundedReceiver;

use super::ownership::{Ownership, TxnProducer};
use super::{Coordination, Event, lock};

pub async fn claim_loop(coordination: Arc<Coordination>, mut partitions: UnboundedReceiver<i32>) {
    while let Some(partition) = partitions.recv().await {
        if coordination.stopping.load(Ordering::SeqCst) {
            return;
        }
        if !coordination.is_assigned(partition) || lock(&coordination.owned).contains_key(&partition) {
            lock(&coordination.claiming).remove(&partition);
            continue;
        }
        let claimed = {
            let coordination = coordination.clone();
            tokio::task::spawn_blocking(move || claim(&coordination, partition)).await
        };
        // A failed claim is asked for again after the next heartbeat reaches the cluster.
        lock(&coordination.claiming).remove(&partition);
        match claimed {
            Ok(Ok(term)) => {
                coordination.counters.claims.fetch_add(1, Ordering::Relaxed);
                tracing::info!(partition, term, replica = %coordination.replica, "claimed a partition");
                let _ = coordination.events.send(Event::Claimed { partition, term });
            }
            Ok(Err(why)) => tracing::warn!(
                partition,
                why = %coordination.cluster.redactor().redact(&why),
                "cannot claim a partition; asking again after the next heartbeat"
            ),
            Err(e) => tracing::error!(partition, error = %e, "claiming a partition stopped"),
        }
    }
}

/// Claims `partition`; its term when done. Blocks.
fn claim(coordination: &Coordination, partition: i32) -> Result<u64, String> {
    let timeout = coordination.cluster.timeout.duration.max(std::time::Duration::from_secs(10));
    let mut producer = crate::provider::kafka::settings::producer(&coordination.cluster);
    producer.set("client.id", format!("ebb-{}", coordination.replica));
    let config = crate::provider::kafka::settings::transactional(
        &producer,
        &coordination.names.owner_transactional_id(partition),
        timeout,
    );
    let producer: TxnProducer = config.create().map_err(|e| format!("cannot make the owner's producer: {e}"))?;
    let started = Instant::now();
    producer.init_transactions(timeout).map_err(|e| format!("cannot fence earlier owners: {e}"))?;
    coordination.read_to_end(Some(partition))?;
    let last = lock(&coordination.view).claims.get(&partition).map_or(0, |c| c.term);
    let term = last.checked_add(1).ok_or("the partition's claims have run out of terms")?;
    let ownership = Ownership::new(partition, term, producer, timeout);
    ownership.transact(&[coordination.claim_write(partition, term)]).map_err(|e| e.to_string())?;
    coordination.contact(started);
    // The group may have moved it on while this claim was made; a revocation
    // takes the same lock first, so it cannot slip in between.
    let assigned = lock(&coordination.assigned);
    if !assigned.contains(&partition) {
        return Err("the group moved it on during the claim".to_owned());
    }
    lock(&coordination.owned).insert(partition, Arc::new(ownership));
    drop(assigned);
    Ok(term)
}
