//! The history store is synchronous (sled: a transaction and an fsync per
//! save), and its callers include async tasks on the daemon's runtime. Work
//! on the store goes through [`off_runtime`], which tells a multi-threaded
//! tokio runtime that this worker is about to block, so the runtime moves
//! its other tasks (API requests, the scheduler, other runs) to a thread
//! that is free. Outside a runtime, or on a single-threaded one (unit
//! tests), the work simply runs.

use tokio::runtime::{Handle, RuntimeFlavor};

/// Runs `work`, blocking, without holding up the other tasks of the runtime it is called on.
pub fn off_runtime<T>(work: impl FnOnce() -> T) -> T {
    match Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => tokio::task::block_in_place(work),
        _ => work(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    use super::*;

    #[test]
    fn other_tasks_run_while_the_store_blocks_the_only_worker() {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let ran = runtime.block_on(async {
            let other = Arc::new(AtomicBool::new(false));
            let flag = other.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(20)).await;
                flag.store(true, Ordering::SeqCst);
            });
            tokio::spawn(async move {
                off_runtime(|| {
                    std::thread::sleep(Duration::from_millis(400));
                    other.load(Ordering::SeqCst)
                })
            })
            .await
            .unwrap()
        });
        assert!(ran, "the other task waited for the store");
        assert_eq!(off_runtime(|| 7), 7, "outside a runtime it just runs");
    }
}
