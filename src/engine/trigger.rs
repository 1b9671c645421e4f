//! What started a run. Kept in history and shown as its name (`cli`, `api`,
//! `schedule`, `rollback`), which the run record's JSON (`ebb.run/v1`),
//! templates (`run.trigger`) and metrics use.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// `ebb plan`, `run` or `apply` on the command line.
    Cli,
    /// A request to the daemon's API.
    Api,
    /// The daemon's scheduler, for a slot.
    Schedule,
    /// `ebb rollback`, or a rollback through the API.
    Rollback,
}

impl Trigger {
    pub const ALL: [Trigger; 4] = [Trigger::Cli, Trigger::Api, Trigger::Schedule, Trigger::Rollback];

    pub fn parse(text: &str) -> Option<Trigger> {
        Trigger::ALL.into_iter().find(|t| t.name() == text)
    }

    pub fn name(self) -> &'static str {
        match self {
            Trigger::Cli => "cli",
            Trigger::Api => "api",
            Trigger::Schedule => "schedule",
            Trigger::Rollback => "rollback",
        }
    }
}

impl std::fmt::Display for Trigger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn triggers_serialize_as_their_names() {
        for trigger in [Trigger::Cli, Trigger::Api, Trigger::Schedule, Trigger::Rollback] {
            assert_eq!(serde_json::to_value(trigger).unwrap(), trigger.name());
            assert_eq!(serde_json::from_value::<Trigger>(trigger.name().into()).unwrap(), trigger);
        }
    }
}
