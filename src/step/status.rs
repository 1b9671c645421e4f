//! A step's status in a plan or an applied run.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    /// A read-only step that ran.
    Ok,
    /// A mutating step reduced to its changes, not applied yet.
    Planned,
    Applied,
    /// Its `when` rendered false (or what it depends on was skipped).
    Skipped,
    Refused,
    Failed,
    /// In a run record: the apply was working on this step when last saved.
    Running,
    /// In a run record: the process stopped while this step ran.
    Interrupted,
}

impl StepStatus {
    /// The status as plans and records spell it.
    pub fn name(self) -> &'static str {
        match self {
            StepStatus::Ok => "ok",
            StepStatus::Planned => "planned",
            StepStatus::Applied => "applied",
            StepStatus::Skipped => "skipped",
            StepStatus::Refused => "refused",
            StepStatus::Failed => "failed",
            StepStatus::Running => "running",
            StepStatus::Interrupted => "interrupted",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_is_the_serialized_form() {
        for status in [
            StepStatus::Ok,
            StepStatus::Planned,
            StepStatus::Applied,
            StepStatus::Skipped,
            StepStatus::Refused,
            StepStatus::Failed,
            StepStatus::Running,
            StepStatus::Interrupted,
        ] {
            assert_eq!(serde_json::to_value(status).unwrap(), status.name());
        }
    }
}
