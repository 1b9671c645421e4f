//! Benchmark: validating 1,000 runbooks (SPEC: under one second).
//!
//! Writes 1,000 runbook files — the seven examples from `runbooks/`, each
//! copied under new names — into a temporary directory and validates them
//! all, in-process through the library and end to end through `ebb validate`.
//! Run: `cargo bench --bench validate_runbooks`. Results go in docs/BENCHMARKS.md.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use ebb::runbook::{Catalog, check_paths};

const RUNBOOKS: usize = 1_000;
const ROUNDS: usize = 7;

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let examples = ebb::runbook::runbook_files(&root.join("runbooks")).expect("runbooks/");
    let dir = std::env::temp_dir().join(format!("ebb-bench-validate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut bytes = 0;
    for i in 0..RUNBOOKS {
        let example = &examples[i % examples.len()];
        let text = std::fs::read_to_string(example).expect("example");
        let name = text.lines().find_map(|l| l.strip_prefix("name: ")).expect("a name").trim().to_owned();
        let text = text.replacen(&format!("name: {name}"), &format!("name: {name}-{i}"), 1);
        bytes += text.len();
        std::fs::write(dir.join(format!("{name}-{i}.yaml")), text).expect("write");
    }
    let config = root.join("examples/ebb.yaml");
    let loaded = ebb::config::load_for_validation(Some(&config)).expect("examples/ebb.yaml");
    let catalog = Catalog::from_config(&loaded.config);

    let library = median(|| {
        let checked = check_paths(std::slice::from_ref(&dir), &catalog);
        assert_eq!(checked.len(), RUNBOOKS);
        assert!(checked.iter().all(|c| c.is_valid()), "every generated runbook is valid");
    });
    let cli = median(|| {
        let status = Command::new(env!("CARGO_BIN_EXE_ebb"))
            .arg("--config")
            .arg(&config)
            .arg("validate")
            .arg(&dir)
            .stdout(std::process::Stdio::null())
            .status()
            .expect("run ebb");
        assert!(status.success());
    });
    let _ = std::fs::remove_dir_all(&dir);

    println!("validate {RUNBOOKS} runbooks ({} KiB), median of {ROUNDS} rounds:", bytes / 1024);
    println!(
        "  library (check_paths):   {:>8.1} ms  ({:.0} µs per runbook)",
        ms(library),
        us(library) / RUNBOOKS as f64
    );
    println!("  CLI (`ebb validate DIR`): {:>8.1} ms", ms(cli));
}

fn median(mut run: impl FnMut()) -> Duration {
    run(); // warm the page cache and the schema
    let mut times: Vec<Duration> = (0..ROUNDS)
        .map(|_| {
            let start = Instant::now();
            run();
            start.elapsed()
        })
        .collect();
    times.sort();
    times[ROUNDS / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}
