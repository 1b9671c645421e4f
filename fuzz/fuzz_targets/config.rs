//! `ebb.yaml` text through parsing, `${VAR}` expansion and validation.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // ${file:PATH} reads relative to this folder, which does not exist.
    let path = Path::new("/nonexistent-ebb-fuzz/ebb.yaml");
    let _ = ebb::config::parse(path, text, &|name| (name.len() % 2 == 0).then(|| format!("value-of-{name}")));
});
