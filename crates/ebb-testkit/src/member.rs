//! A live member of a consumer group: a real consumer that subscribes and keeps
//! polling on its own thread until dropped, so the group is Stable with one
//! member, as a running service would keep it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};

pub struct LiveMember {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl LiveMember {
    /// Joins `group` on `topic` as client id `client_id` with the classic
    /// protocol, and returns once it has partitions assigned (so the group is
    /// Stable), or panics after 60 s.
    pub fn join(bootstrap: &str, group: &str, topic: &str, client_id: &str) -> Self {
        Self::join_with_protocol(bootstrap, group, topic, client_id, "classic")
    }

    /// Like `join`; `protocol` is `classic` or `consumer` (KIP-848).
    pub fn join_with_protocol(bootstrap: &str, group: &str, topic: &str, client_id: &str, protocol: &str) -> Self {
        let mut config = ClientConfig::new();
        config
            .set("bootstrap.servers", bootstrap)
            .set("group.id", group)
            .set("client.id", client_id)
            .set("group.protocol", protocol)
            .set("enable.auto.commit", "false")
            .set("auto.offset.reset", "earliest");
        if protocol == "classic" {
            config.set("session.timeout.ms", "10000");
        }
        let consumer: BaseConsumer = config.create().expect("a consumer");
        consumer.subscribe(&[topic]).expect("subscribe");
        let stop = Arc::new(AtomicBool::new(false));
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let thread = {
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let mut told = false;
                while !stop.load(Ordering::Acquire) {
                    let _ = consumer.poll(Duration::from_millis(100));
                    if !told && consumer.assignment().is_ok_and(|a| a.count() > 0) {
                        told = true;
                        let _ = ready_tx.send(());
                    }
                }
                consumer.unsubscribe();
            })
        };
        let started = Instant::now();
        ready_rx.recv_timeout(Duration::from_secs(60)).unwrap_or_else(|_| {
            panic!("consumer {client_id} got no assignment in group {group} within {:?}", started.elapsed())
        });
        LiveMember { stop, thread: Some(thread) }
    }
}

impl Drop for LiveMember {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
