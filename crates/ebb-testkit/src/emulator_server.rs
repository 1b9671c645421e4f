//! A local HTTP server on its own thread and runtime, so synchronous tests and
//! async ones alike can start a cloud emulator and point ebb's CLI at it.
//! Stops when dropped.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use tokio::sync::oneshot;

/// What an emulator saw: each action or operation called, in order, and how
/// many calls it turned away for coming faster than the rate limit.
#[derive(Default)]
pub struct CallLog {
    pub calls: Mutex<Vec<String>>,
    pub throttled: AtomicUsize,
}

impl CallLog {
    pub fn record(&self, name: &str) {
        self.calls.lock().unwrap_or_else(|p| p.into_inner()).push(name.to_owned());
    }

    pub fn count(&self, name: &str) -> usize {
        self.calls.lock().unwrap_or_else(|p| p.into_inner()).iter().filter(|c| *c == name).count()
    }

    pub fn throttled(&self) -> usize {
        self.throttled.load(Ordering::SeqCst)
    }
}

pub struct EmulatorServer {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    pub log: Arc<CallLog>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl EmulatorServer {
    /// Serves the router `make` builds (given the call log) on a loopback port.
    pub fn start(make: impl FnOnce(Arc<CallLog>) -> axum::Router + Send + 'static) -> Self {
        let log = Arc::new(CallLog::default());
        let (shutdown, stopped) = oneshot::channel::<()>();
        let (ready, address) = std::sync::mpsc::channel();
        let served_log = Arc::clone(&log);
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("emulator runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("emulator port");
                ready.send(listener.local_addr().expect("address")).expect("the starter waits");
                let app = make(served_log);
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await
                    .expect("emulator server");
            });
        });
        let address = address.recv().expect("the emulator starts");
        EmulatorServer { url: format!("http://{address}"), log, shutdown: Some(shutdown), thread: Some(thread) }
    }
}

impl Drop for EmulatorServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
