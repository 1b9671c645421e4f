//! The example runbooks in `runbooks/` are valid against `examples/ebb.yaml`,
//! say what they are for, and point editors at the schema; the checked-in
//! schema is exactly what `ebb schema` prints.

use ebb::runbook::{Catalog, check_paths};
use ebb_testkit::repo_root;

#[test]
fn every_example_runbook_is_valid_and_explains_itself() {
    let root = repo_root();
    let loaded = ebb::config::load_for_validation(Some(&root.join("examples/ebb.yaml"))).expect("examples/ebb.yaml");
    let checked = check_paths(&[root.join("runbooks")], &Catalog::from_config(&loaded.config));
    assert!(checked.len() >= 7, "expected the seven examples, found {}", checked.len());
    for c in &checked {
        assert!(c.is_valid(), "{}: {:#?}", c.path.display(), c.problems);
        let mut lines = c.text.lines();
        assert_eq!(
            lines.next(),
            Some("# yaml-language-server: $schema=../schemas/runbook.schema.json"),
            "{}: first line should point editors at the schema",
            c.path.display()
        );
        let header: Vec<&str> = lines.take_while(|l| l.starts_with('#')).collect();
        assert!(header.join(" ").len() > 80, "{}: needs a header comment saying what it is for", c.path.display());
    }
    let names: Vec<&str> = checked.iter().filter_map(|c| c.name.as_deref()).collect();
    for expected in [
        "nightly-purge-orders",
        "skip-poison-orders",
        "replay-last-2h",
        "copy-offsets-from-group",
        "lag-report",
        "dms-query-and-purge",
        "ckafka-reset",
    ] {
        assert!(names.contains(&expected), "missing example {expected}: {names:?}");
    }
}

#[test]
fn the_checked_in_schema_is_what_ebb_schema_prints() {
    let checked_in = std::fs::read_to_string(repo_root().join("schemas/runbook.schema.json")).expect("schema file");
    assert!(
        checked_in == ebb::cli::schema_text(),
        "schemas/runbook.schema.json is stale: regenerate it with `cargo run -q -- schema > schemas/runbook.schema.json`"
    );
}
