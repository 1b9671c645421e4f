//! The replica's place in the deployment's group. Its only subscription is
//! the state topic, and what the group assigns of it is what the replica
//! owns: a revoked partition stops being owned before the callback returns
//! (so before the group hands it on), an assigned one is queued to be
//! claimed. Assigned partitions are paused: the tail reads the topics. The
//! assignment is cooperative, so a replica joining or leaving moves only
//! the partitions that must move. librdkafka revokes everything as lost
//! when the coordinator is not reached within the session.

use std::sync::{Arc, Weak};
use std::time::Duration;

use rdkafka::client::ClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, Rebalance};

use super::Coordination;

struct MemberContext {
    coordination: Weak<Coordination>,
}

impl ClientContext for MemberContext {}

impl ConsumerContext for MemberContext {
    fn pre_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let (Some(coordination), Rebalance::Revoke(list)) = (self.coordination.upgrade(), rebalance) else { return };
        let partitions: Vec<i32> = list.elements().iter().map(|e| e.partition()).collect();
        coordination.revoked(&partitions);
    }

    fn post_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let (Some(coordination), Rebalance::Assign(list)) = (self.coordination.upgrade(), rebalance) else { return };
        if let Err(e) = consumer.pause(list) {
            tracing::warn!(error = %e, "cannot pause the assigned partitions");
        }
        let partitions: Vec<i32> = list.elements().iter().map(|e| e.partition()).collect();
        coordination.assigned(&partitions);
    }
}

pub fn start(coordination: Arc<Coordination>) -> Result<std::thread::JoinHandle<()>, String> {
    let session = coordination.session.as_millis();
    let mut config = crate::provider::kafka::settings::base(&coordination.cluster);
    config
        .set("group.id", coordination.names.group())
        .set("client.id", format!("ebb-{}", coordination.replica))
        .set("partition.assignment.strategy", "cooperative-sticky")
        .set("session.timeout.ms", session.to_string())
        .set("heartbeat.interval.ms", (session / 6).max(500).to_string())
        .set("max.poll.interval.ms", (session * 3).max(60_000).to_string())
        .set("auto.offset.reset", "latest");
    let context = MemberContext { coordination: Arc::downgrade(&coordination) };
    let consumer: BaseConsumer<MemberContext> =
        config.create_with_context(context).map_err(|e| format!("cannot make the group's consumer: {e}"))?;
    consumer
        .subscribe(&[&coordination.names.state_topic()])
        .map_err(|e| format!("cannot join the group {}: {e}", coordination.names.group()))?;
    let thread = std::thread::Builder::new()
        .name("ebb-membership".to_owned())
        .spawn(move || {
            while !coordination.stopping.load(std::sync::atomic::Ordering::SeqCst) {
                // Serves the group's callbacks; paused partitions bring no records.
                if let Some(Err(e)) = consumer.poll(Duration::from_millis(100)) {
                    tracing::debug!(error = %e, "the group's consumer reports");
                }
            }
            // Leaving the group hands this replica's partitions on at once.
            consumer.unsubscribe();
            let _ = consumer.poll(Duration::from_millis(500));
        })
        .map_err(|e| format!("cannot start the group's thread: {e}"))?;
    Ok(thread)
}
