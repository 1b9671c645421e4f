//! The audit stream from the command line: after a command that records
//! runs, what the outbox holds is delivered for a few seconds; what a sink
//! does not take waits for the next command or the daemon.

use std::path::Path;
use std::time::Duration;

use crate::audit::AuditDelivery;
use crate::history::DataDir;

/// How long a command waits for the audit sinks before it exits.
const DELIVERY_TIME: Duration = Duration::from_secs(10);

pub async fn after_command(config: Option<&Path>) {
    let Ok(config) = crate::config::load(config) else { return };
    let Some(delivery) = AuditDelivery::from_config(&config) else { return };
    let data = DataDir::from_config(&config.config);
    // A daemon holding the store delivers its outbox itself.
    if data.held_by_daemon().is_some() {
        return;
    }
    let Ok(store) = data.open() else { return };
    let done = delivery.deliver(&store, DELIVERY_TIME).await;
    if done.backlog > 0 {
        let why: Vec<String> = done.failures.iter().map(|(sink, why)| format!("{sink}: {why}")).collect();
        eprintln!(
            "warning: {} audit event(s) wait for their sinks ({}); they are sent by the next command or the daemon",
            done.backlog,
            why.join("; ")
        );
    }
}
