//! A runbook file's text through validation, as `ebb validate` and the daemon's
//! reload read it, then its params typed and its templates rendered.
#![no_main]

use std::path::Path;

use ebb::engine::compile_checked;
use ebb::runbook::templates::Renderer;
use ebb::runbook::{Catalog, check_text};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let catalog = Catalog { clusters: vec![("local".to_owned(), "kafka")], notify_targets: ["ops".to_owned()].into(), lenient_targets: false };
    let checked = check_text(Path::new("fuzz.yaml"), text, &catalog);
    if let Ok(compiled) = compile_checked(checked, &[]) {
        let context = serde_json::json!({ "params": compiled.params });
        let renderer = Renderer::default();
        for step in &compiled.spec.steps {
            if let Some(when) = &step.when {
                let _ = renderer.render(&step.id, "when", when, &context);
            }
        }
    }
});
