//! A saved plan file is evidence of a plan ebb made, not instructions: before
//! `ebb apply` acts on one, the file must equal, field for field, the plan
//! history stored under the file's run id. A hand-edited target, group,
//! cluster or runbook path (with a matching SHA or not) is found here and the
//! apply refused; what is applied is the stored plan, never the file's copy.
//! docs/SECURITY.md lists this defence.

use serde_json::Value;

use super::record::RunRecord;
use crate::engine::{Mode, Plan};

/// Field paths named in a refusal, at most.
const MOST_NAMED: usize = 5;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanMismatch {
    #[error(
        "no plan with run id {run_id} is in history, so this plan file cannot be checked against what ebb planned; make a new plan with `ebb plan --out` where this history is kept"
    )]
    Unknown { run_id: String },
    #[error(
        "run {run_id} in history is not a plan ebb made (it is a {mode} run); make a new plan with `ebb plan --out`"
    )]
    NotAPlan { run_id: String, mode: &'static str },
    #[error(
        "the plan file differs from the plan ebb made as run {run_id}, so it was not applied: {}; make a new plan with `ebb plan --out`",
        .fields.join(", ")
    )]
    Differs { run_id: String, fields: Vec<String> },
}

/// The stored plan that `file` (a plan file's JSON) is a faithful copy of, or
/// why it is not. `stored` is the record history holds under the file's run id.
pub fn check(file: &Value, run_id: &str, stored: Option<&RunRecord>) -> Result<Plan, PlanMismatch> {
    let run_id = crate::shown::bare(run_id);
    let Some(record) = stored else {
        return Err(PlanMismatch::Unknown { run_id });
    };
    let plan = match (&record.plan, record.mode) {
        (Some(plan), Mode::Plan) => plan,
        (_, mode) => return Err(PlanMismatch::NotAPlan { run_id, mode: mode.name() }),
    };
    let expected = serde_json::to_value(plan).unwrap_or_default();
    let mut fields = Vec::new();
    differences(&expected, file, &mut String::new(), &mut fields);
    if fields.is_empty() {
        return Ok(plan.clone());
    }
    if fields.len() > MOST_NAMED {
        let more = fields.len() - MOST_NAMED;
        fields.truncate(MOST_NAMED);
        fields.push(format!("and {more} more"));
    }
    Err(PlanMismatch::Differs { run_id, fields })
}

/// Appends the path of every place where `found` is not `expected`. Values
/// are never quoted: a plan file is not to be echoed.
fn differences(expected: &Value, found: &Value, path: &mut String, out: &mut Vec<String>) {
    match (expected, found) {
        (Value::Object(want), Value::Object(have)) => {
            for (key, value) in want {
                let len = path.len();
                push_key(path, key);
                match have.get(key) {
                    Some(other) => differences(value, other, path, out),
                    None => out.push(format!("`{path}` is missing")),
                }
                path.truncate(len);
            }
            for key in have.keys().filter(|k| !want.contains_key(*k)) {
                let len = path.len();
                push_key(path, key);
                out.push(format!("`{path}` is not in the plan"));
                path.truncate(len);
            }
        }
        (Value::Array(want), Value::Array(have)) if want.len() == have.len() => {
            for (i, (a, b)) in want.iter().zip(have).enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                differences(a, b, path, out);
                path.truncate(len);
            }
        }
        (Value::Array(want), Value::Array(have)) => {
            out.push(format!("`{}` has {} entries, not {}", shown(path), have.len(), want.len()));
        }
        _ if expected != found => out.push(format!("`{}` was changed", shown(path))),
        _ => {}
    }
}

fn push_key(path: &mut String, key: &str) {
    if !path.is_empty() {
        path.push('.');
    }
    path.push_str(&crate::shown::bare(key));
}

fn shown(path: &str) -> &str {
    if path.is_empty() { "the whole plan" } else { path }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::record::{RunState, sample};

    fn planned() -> RunRecord {
        let mut record = sample("rb", RunState::Succeeded, 1_000);
        record.mode = Mode::Plan;
        record.plan = Some(crate::engine::plan::sample());
        record
    }

    fn file_of(record: &RunRecord) -> Value {
        let text = serde_json::to_string_pretty(record.plan.as_ref().unwrap()).unwrap();
        serde_json::from_str(&text).unwrap()
    }

    #[test]
    fn a_faithful_copy_gives_the_stored_plan() {
        let record = planned();
        let plan = check(&file_of(&record), "run-1", Some(&record)).unwrap();
        assert_eq!(Some(plan), record.plan);
    }

    #[test]
    fn every_edit_is_named_by_its_path_without_its_value() {
        let record = planned();
        let mut file = file_of(&record);
        file["cluster"] = Value::String("prod-secret-cluster".into());
        file["extra"] = Value::Bool(true);
        let e = check(&file, "run-1", Some(&record)).unwrap_err();
        let text = e.to_string();
        assert!(text.contains("`cluster` was changed") && text.contains("`extra` is not in the plan"), "{text}");
        assert!(!text.contains("prod-secret-cluster"), "{text}");
    }

    #[test]
    fn an_unknown_run_or_an_apply_is_no_evidence() {
        let record = planned();
        assert!(matches!(check(&file_of(&record), "run-1", None), Err(PlanMismatch::Unknown { .. })));
        let mut applied = planned();
        applied.mode = Mode::Apply;
        assert!(matches!(check(&file_of(&record), "run-1", Some(&applied)), Err(PlanMismatch::NotAPlan { .. })));
        let long = "x\u{1b}".repeat(100);
        let text = check(&file_of(&record), &long, None).unwrap_err().to_string();
        assert!(!text.contains('\u{1b}') && text.contains('…'), "{text}");
    }
}
