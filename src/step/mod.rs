//! What every step kind shares, below the kinds and the engine that drives
//! them: a step's status, why it did not finish, how its fields are rendered
//! for one run, the files it may touch, where long reads report progress, what
//! may drift between plan and apply, and how a `notify` step's message leaves.

pub mod confined_files;
mod drift;
mod error;
mod fields;
mod messenger;
pub mod progress;
mod status;
pub mod view_settings;

pub use drift::Drift;
pub use error::{JournalError, StepError};
pub use fields::Fields;
pub use messenger::{Delivery, Messenger, Notification};
pub use status::StepStatus;
pub use view_settings::ViewSettings;
