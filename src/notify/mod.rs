//! Notifications (SPEC §3.5): a JSON body posted to a named webhook, retried
//! with backoff. A notification that cannot be delivered is recorded and
//! counted, and never fails the run that sent it.

mod rules;
mod webhook;

pub use crate::step::{Delivery, Notification};
pub use rules::{DEFAULT_MESSAGE, events_of, missed_context, render_message, run_context, run_summary};
pub use webhook::Notifier;
