//! How a `notify` step's message leaves: the engine holds a [`Messenger`],
//! never a concrete sender, so it knows nothing of webhooks or config.

use std::future::Future;
use std::pin::Pin;

use serde::Serialize;

/// The body posted to a webhook.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Notification {
    pub runbook: String,
    pub run_id: String,
    pub status: String,
    pub summary: String,
    pub message: String,
    /// What fired it: a run event (`success`, `failure`, `refused`, `missed`, `changes`) or `step`.
    pub event: String,
}

/// How one notification went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Delivery {
    pub to: String,
    pub delivered: bool,
    pub attempts: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Delivers notifications to named targets.
pub trait Messenger: Send + Sync + std::fmt::Debug {
    /// Sends `note` to target `to`; a failure is in the answer, never a panic.
    fn send<'a>(&'a self, to: &'a str, note: &'a Notification) -> Pin<Box<dyn Future<Output = Delivery> + Send + 'a>>;
}
