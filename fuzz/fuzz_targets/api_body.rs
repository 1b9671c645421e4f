//! Request bodies of the daemon's POST endpoints, read as the daemon reads
//! them; the params of a run typed against a runbook that declares every
//! param type, and rendered into its templates.
#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use ebb::daemon::request_body::{PlanBody, RollbackBody, RunBody, parse};
use ebb::engine::compile_checked;
use ebb::runbook::templates::Renderer;
use ebb::runbook::{Catalog, Checked, check_text};
use libfuzzer_sys::fuzz_target;

const RUNBOOK: &str = "name: fuzz
cluster: local
params:
  group: { type: string, required: true }
  window: { type: duration, default: 2h }
  since: { type: time, default: -1h }
  limit: { type: int, default: 10 }
  dry: { type: bool, default: false }
  topics: { type: list, default: [a] }
steps:
  - id: targets
    compute_offsets:
      group: \"{{params.group}}\"
      strategy: { by_duration: \"{{params.window}}\" }
";

fn checked() -> Checked {
    static CHECKED: OnceLock<Checked> = OnceLock::new();
    CHECKED
        .get_or_init(|| {
            let catalog = Catalog { clusters: vec![("local".to_owned(), "kafka")], notify_targets: Default::default(), lenient_targets: false };
            let checked = check_text(Path::new("fuzz.yaml"), RUNBOOK, &catalog);
            assert!(checked.problems.is_empty(), "{:?}", checked.problems);
            checked
        })
        .clone()
}

fuzz_target!(|data: &[u8]| {
    let _ = parse::<RollbackBody>(data);
    let _ = parse::<PlanBody>(data);
    let Ok(body) = parse::<RunBody>(data) else { return };
    if let Ok(compiled) = compile_checked(checked(), &body.params()) {
        let context = serde_json::json!({ "params": compiled.params });
        let renderer = Renderer::default();
        for field in ["{{params.group}}", "{{params.window}}", "{{#each params.topics}}{{this}},{{/each}}"] {
            let _ = renderer.render("targets", "group", field, &context);
        }
    }
});
