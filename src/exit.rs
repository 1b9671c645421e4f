//! The one mapping from how a command ended to its exit code (SPEC §4):
//! 0 done, 1 an error, 2 a plan with changes under `--detailed-exitcode`,
//! 3 refused before anything changed (a gate, a guard, a `check` step, a
//! stale or altered plan).

use std::process::ExitCode;

use crate::engine::{Plan, PlanStatus, RunStatus};
use crate::history::RunState;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Done,
    Failed,
    Changes,
    Refused,
}

impl Exit {
    pub const fn code(self) -> u8 {
        match self {
            Exit::Done => 0,
            Exit::Failed => 1,
            Exit::Changes => 2,
            Exit::Refused => 3,
        }
    }

    /// How a plan alone ends; `detailed` tells a plan with changes apart.
    pub fn of_plan(plan: &Plan, detailed: bool) -> Exit {
        match plan.status {
            PlanStatus::Planned if detailed && plan.has_changes() => Exit::Changes,
            PlanStatus::Planned => Exit::Done,
            PlanStatus::Refused => Exit::Refused,
            PlanStatus::Failed => Exit::Failed,
        }
    }

    /// Done when `ok` (a runbook valid, a store healthy), failed otherwise.
    pub fn done_if(ok: bool) -> Exit {
        if ok { Exit::Done } else { Exit::Failed }
    }
}

impl From<RunStatus> for Exit {
    fn from(status: RunStatus) -> Exit {
        match status {
            RunStatus::Succeeded => Exit::Done,
            RunStatus::Failed => Exit::Failed,
            RunStatus::Refused => Exit::Refused,
        }
    }
}

/// A run's recorded state, as the run would have ended at a terminal.
impl From<RunState> for Exit {
    fn from(state: RunState) -> Exit {
        match state {
            RunState::Succeeded => Exit::Done,
            // Pending, rejected or expired: nothing was changed, and the apply asked for did not happen (yet).
            RunState::Refused | RunState::Pending | RunState::Rejected | RunState::Expired => Exit::Refused,
            RunState::Approved => Exit::Done,
            RunState::Running | RunState::Failed | RunState::Interrupted | RunState::Declined => Exit::Failed,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_ending_has_its_code() {
        assert_eq!([Exit::Done, Exit::Failed, Exit::Changes, Exit::Refused].map(Exit::code), [0, 1, 2, 3]);
        assert_eq!(Exit::from(RunStatus::Refused), Exit::Refused);
        assert_eq!(Exit::from(RunState::Interrupted), Exit::Failed);
        assert_eq!(Exit::done_if(false), Exit::Failed);
    }
}
