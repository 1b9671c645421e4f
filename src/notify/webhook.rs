//! Posting to webhooks. A target's URL is a secret (chat webhooks carry their
//! token in it), so it appears in no error: reqwest's errors are stripped of
//! their URL, and a failure is described by its kind and HTTP status.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::config::{LoadedConfig, Secret};
use crate::retry::{Backoff, retry};
use crate::step::{Delivery, Messenger, Notification};

/// Attempts per notification, and the wait before the second (doubling after).
const ATTEMPTS: u32 = 4;
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
/// Per attempt: connect, send, and read the status.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);

pub struct Notifier {
    targets: BTreeMap<String, Secret>,
    /// Targets whose settings did not resolve, and why (never a value).
    unusable: BTreeMap<String, String>,
    client: reqwest::Client,
    first_backoff: Duration,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier").field("targets", &self.targets.keys().collect::<Vec<_>>()).finish()
    }
}

impl Notifier {
    /// The targets of `loaded`; one whose URL names a variable that is not
    /// set fails its deliveries saying so, and the others work.
    pub fn from_config(loaded: &LoadedConfig) -> Self {
        let mut targets = BTreeMap::new();
        let mut unusable = BTreeMap::new();
        for (name, target) in &loaded.config.notify {
            match loaded.require(&format!("notify.{name}.")) {
                Ok(()) => {
                    targets.insert(name.clone(), target.webhook.url.clone());
                }
                Err(e) => {
                    unusable.insert(name.clone(), e.to_string());
                }
            }
        }
        Notifier { unusable, ..Notifier::new(targets) }
    }

    pub fn new(targets: BTreeMap<String, Secret>) -> Self {
        let client = reqwest::Client::builder()
            .timeout(ATTEMPT_TIMEOUT)
            .connect_timeout(ATTEMPT_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Notifier { targets, unusable: BTreeMap::new(), client, first_backoff: FIRST_BACKOFF }
    }

    /// Waits `first` before the second attempt instead of half a second (tests).
    pub fn with_backoff(mut self, first: Duration) -> Self {
        self.first_backoff = first;
        self
    }

    /// Posts `note` to target `to`, retrying connection errors, time-outs,
    /// 429 and 5xx answers with backoff.
    pub async fn send(&self, to: &str, note: &Notification) -> Delivery {
        if let Some(why) = self.unusable.get(to) {
            return Delivery { to: to.to_owned(), delivered: false, attempts: 0, error: Some(why.clone()) };
        }
        let Some(url) = self.targets.get(to) else {
            return Delivery {
                to: to.to_owned(),
                delivered: false,
                attempts: 0,
                error: Some(format!("no notify target {to:?} in ebb.yaml")),
            };
        };
        let backoff = Backoff::attempts(ATTEMPTS, self.first_backoff);
        let attempts = std::sync::atomic::AtomicU32::new(0);
        // A failure that may pass (no connection, a time-out, 429, 5xx) is `Err((true, why))`.
        let post = || {
            attempts.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            async {
                match self.client.post(url.expose()).json(note).send().await {
                    Ok(response) if response.status().is_success() => Ok(()),
                    Ok(response) => {
                        let status = response.status();
                        let passing = status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS;
                        Err((passing, format!("the webhook answered HTTP {status}")))
                    }
                    Err(e) => Err((true, describe(&e.without_url()))),
                }
            }
        };
        let sent = retry(backoff, |(passing, _): &(bool, String)| *passing, |_, _| {}, post).await;
        let error = sent.err().map(|(_, why)| why);
        if let Some(why) = &error {
            tracing::warn!(target = %to, run_id = %note.run_id, error = %why, "notification not delivered");
        }
        Delivery { to: to.to_owned(), delivered: error.is_none(), attempts: attempts.into_inner(), error }
    }
}

impl Messenger for Notifier {
    fn send<'a>(
        &'a self,
        to: &'a str,
        note: &'a Notification,
    ) -> std::pin::Pin<Box<dyn Future<Output = Delivery> + Send + 'a>> {
        Box::pin(Notifier::send(self, to, note))
    }
}

fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    };
    // The source chain says why without the URL (stripped above).
    let mut reason = String::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        reason = s.to_string();
        source = s.source();
    }
    if reason.is_empty() { kind.to_owned() } else { format!("{kind}: {reason}") }
}
