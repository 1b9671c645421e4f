//! The run service on a cluster and a store in memory: an apply recorded as
//! it goes, refused when it cannot be recorded, and rolled back from its record.

use std::path::Path;

use crate::engine::{CompiledRunbook, Mode, RunInfo, RunStatus, compile_checked, plan};
use crate::history::memory_store::MemoryStore;
use crate::history::{LockDir, RunState, Store};
use crate::provider::memory::MemoryCluster;
use crate::runbook::{Catalog, check_text};

use super::{apply_recorded, finish_run, plan_rollback};

fn reset_to(offset: i64) -> CompiledRunbook {
    let text = format!(
        "name: t\ncluster: mem\nsteps:\n  - id: reset\n    reset_offsets:\n      group: billing\n      topics: [orders]\n      strategy: {{ to_offset: {offset} }}\n"
    );
    let catalog = Catalog {
        clusters: vec![("mem".to_owned(), "kafka")],
        notify_targets: Default::default(),
        lenient_targets: false,
    };
    compile_checked(check_text(Path::new("t.yaml"), &text, &catalog), &[]).expect("compiles")
}

fn cluster() -> MemoryCluster {
    MemoryCluster::new("mem").topic("orders", 2, 100, 0).commit("billing", "orders", 0, 10)
}

#[tokio::test]
async fn an_applied_run_is_recorded_and_its_rollback_restores_the_snapshot() {
    let (cluster, store, dir) = (cluster(), MemoryStore::default(), tempfile::tempdir().unwrap());
    let locks = LockDir::new(dir.path().to_path_buf());
    let compiled = reset_to(70);
    let run = RunInfo::cli(Mode::Apply);
    let made = plan(&compiled, &cluster, &run).await;
    let record = finish_run(&made, Some(&compiled.sha256), &cluster, &run, &store, &locks).await;
    assert_eq!(record.status, RunState::Succeeded, "{:?}", record.reason);
    assert_eq!(store.get(&run.id).unwrap().map(|r| r.status), Some(RunState::Succeeded));
    assert_eq!(
        (cluster.committed("billing", "orders", 0), cluster.committed("billing", "orders", 1)),
        (Some(70), Some(70))
    );

    let undo = RunInfo::rollback(Mode::Apply, &run.id);
    let back = plan_rollback(&record, &cluster, &undo).await.expect("a rollback plan");
    let recorded =
        apply_recorded(&back, &cluster, Some(&back.runbook_sha256), &undo, false, &store, &locks).await.unwrap();
    assert_eq!(recorded.applied.status, RunStatus::Succeeded, "{:?}", recorded.applied.reason);
    assert_eq!(cluster.committed("billing", "orders", 0), Some(10), "restored to the snapshot");
    assert_eq!(cluster.committed("billing", "orders", 1), None, "no commit before the run: the one it made is deleted");

    let plan_only = RunInfo::cli(Mode::Plan);
    let planned =
        finish_run(&plan(&compiled, &cluster, &plan_only).await, None, &cluster, &plan_only, &store, &locks).await;
    let refused = plan_rollback(&planned, &cluster, &undo).await.unwrap_err().to_string();
    assert!(refused.contains("was a plan only and changed nothing"), "{refused}");
}

fn compiled(steps: &str) -> CompiledRunbook {
    let text = format!("name: t\ncluster: mem\nsteps:\n{steps}");
    let catalog = Catalog {
        clusters: vec![("mem".to_owned(), "kafka")],
        notify_targets: Default::default(),
        lenient_targets: false,
    };
    compile_checked(check_text(Path::new("t.yaml"), &text, &catalog), &[]).expect("compiles")
}

#[tokio::test]
async fn deleted_offsets_are_recorded_and_their_rollback_commits_them_again() {
    let (store, dir) = (MemoryStore::default(), tempfile::tempdir().unwrap());
    let cluster = cluster().commit("billing", "orders", 1, 30);
    let locks = LockDir::new(dir.path().to_path_buf());
    let deletion = compiled("  - id: forget\n    delete_offsets:\n      group: billing\n      topics: [orders]\n");
    let run = RunInfo::cli(Mode::Apply);
    let made = plan(&deletion, &cluster, &run).await;
    let record = finish_run(&made, Some(&deletion.sha256), &cluster, &run, &store, &locks).await;
    assert_eq!(record.status, RunState::Succeeded, "{:?}", record.reason);
    assert_eq!((cluster.committed("billing", "orders", 0), cluster.committed("billing", "orders", 1)), (None, None));
    assert_eq!(record.reset_groups(), ["billing"], "its snapshot counts as the group's newest");

    let undo = RunInfo::rollback(Mode::Apply, &run.id);
    let back = plan_rollback(&record, &cluster, &undo).await.expect("a rollback plan");
    let recorded =
        apply_recorded(&back, &cluster, Some(&back.runbook_sha256), &undo, false, &store, &locks).await.unwrap();
    assert_eq!(recorded.applied.status, RunStatus::Succeeded, "{:?}", recorded.applied.reason);
    assert_eq!(
        (cluster.committed("billing", "orders", 0), cluster.committed("billing", "orders", 1)),
        (Some(10), Some(30)),
        "the snapshot is committed again"
    );
}

#[tokio::test]
async fn a_store_that_cannot_save_stops_the_run_before_any_change() {
    let (cluster, store, dir) = (cluster(), MemoryStore::default(), tempfile::tempdir().unwrap());
    let locks = LockDir::new(dir.path().to_path_buf());
    let compiled = reset_to(70);
    let run = RunInfo::cli(Mode::Apply);
    let made = plan(&compiled, &cluster, &run).await;
    store.fail_saves(true);
    let recorded = apply_recorded(&made, &cluster, Some(&compiled.sha256), &run, false, &store, &locks).await.unwrap();
    assert_eq!(recorded.applied.status, RunStatus::Failed);
    assert!(recorded.unsaved.is_some());
    assert_eq!(cluster.requests().0, 0, "nothing was committed");
    assert_eq!(cluster.committed("billing", "orders", 0), Some(10));
}

#[tokio::test]
async fn a_group_another_run_holds_is_refused_naming_that_run() {
    let (cluster, store, dir) = (cluster(), MemoryStore::default(), tempfile::tempdir().unwrap());
    let locks = LockDir::new(dir.path().to_path_buf());
    let held = locks.acquire("mem", &[crate::history::Target::Group("billing".into())], "OTHER-RUN").unwrap().unwrap();
    let compiled = reset_to(70);
    let run = RunInfo::cli(Mode::Apply);
    let made = plan(&compiled, &cluster, &run).await;
    let recorded = apply_recorded(&made, &cluster, Some(&compiled.sha256), &run, false, &store, &locks).await.unwrap();
    assert_eq!(recorded.applied.status, RunStatus::Refused);
    assert!(recorded.applied.reason.unwrap_or_default().contains("run OTHER-RUN"));
    assert_eq!(cluster.requests().0, 0);
    drop(held);
}

#[tokio::test]
async fn a_rollback_undoes_the_last_step_first_so_the_group_is_as_it_was() {
    let (store, dir) = (MemoryStore::default(), tempfile::tempdir().unwrap());
    let cluster = cluster();
    let locks = LockDir::new(dir.path().to_path_buf());
    let both = compiled(
        "  - id: reset\n    reset_offsets:\n      group: billing\n      topics: [orders]\n      strategy: { to_offset: 70 }\n  - id: forget\n    delete_offsets:\n      group: billing\n      topics: [orders]\n      partitions: [0]\n",
    );
    let run = RunInfo::cli(Mode::Apply);
    let record =
        finish_run(&plan(&both, &cluster, &run).await, Some(&both.sha256), &cluster, &run, &store, &locks).await;
    assert_eq!(record.status, RunState::Succeeded, "{:?}", record.reason);
    assert_eq!(
        (cluster.committed("billing", "orders", 0), cluster.committed("billing", "orders", 1)),
        (None, Some(70))
    );

    let undo = RunInfo::rollback(Mode::Apply, &run.id);
    let back = plan_rollback(&record, &cluster, &undo).await.expect("a rollback plan");
    let ids: Vec<&str> = back.steps.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["forget", "reset", "reset-uncommit"], "the deletion is undone before the reset");
    let recorded =
        apply_recorded(&back, &cluster, Some(&back.runbook_sha256), &undo, false, &store, &locks).await.unwrap();
    assert_eq!(recorded.applied.status, RunStatus::Succeeded, "{:?}", recorded.applied.reason);
    assert_eq!(
        (cluster.committed("billing", "orders", 0), cluster.committed("billing", "orders", 1)),
        (Some(10), None),
        "as before the run: 10, and no commit"
    );
}
