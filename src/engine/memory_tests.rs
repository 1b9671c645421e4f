//! The engine and every step kind, planned and applied on a cluster in
//! memory (`provider::memory`): the plan/apply, gate, guard, drift and
//! read-back logic in milliseconds. The real-broker tests (`tests/it`) prove
//! what Kafka does; these prove what ebb decides.

use std::path::Path;

use crate::provider::memory::MemoryCluster;
use crate::runbook::{Catalog, check_text};
use crate::step::{Drift, StepStatus};
use crate::steps::StepDetail;
use crate::steps::purge_messages::PurgeOutcome;
use crate::steps::reset_offsets::Outcome;

use super::{
    Applied, CompiledRunbook, Mode, Plan, PlanStatus, RunInfo, RunStatus, apply, compile_checked, no_journal, plan,
};

const T0: i64 = 1_700_000_000_000;

fn runbook(steps: &str) -> CompiledRunbook {
    let text = format!("name: t\ncluster: mem\nsteps:\n{steps}");
    let catalog = Catalog {
        clusters: vec![("mem".to_owned(), "kafka")],
        notify_targets: Default::default(),
        lenient_targets: false,
    };
    let checked = check_text(Path::new("t.yaml"), &text, &catalog);
    assert!(checked.problems.is_empty(), "{:?}", checked.problems);
    compile_checked(checked, &[]).expect("compiles")
}

fn orders() -> MemoryCluster {
    MemoryCluster::new("mem")
        .topic("orders", 2, 100, T0)
        .commit("billing", "orders", 0, 10)
        .commit("billing", "orders", 1, 20)
}

async fn plan_and_apply(cluster: &MemoryCluster, compiled: &CompiledRunbook) -> (Plan, Applied) {
    let made = plan(compiled, cluster, &RunInfo::cli(Mode::Plan)).await;
    let applied = apply(&made, cluster, Some(&compiled.sha256), &RunInfo::cli(Mode::Apply), false, &no_journal).await;
    (made, applied)
}

fn reset_plan(plan: &Plan, id: &str) -> crate::steps::reset_offsets::ResetPlan {
    match &plan.steps.iter().find(|s| s.id == id).expect("the step").detail {
        StepDetail::ResetOffsets(reset) => (**reset).clone(),
        other => panic!("not a reset: {other:?}"),
    }
}

#[tokio::test]
async fn a_reset_is_planned_exactly_then_committed_and_read_back() {
    let cluster = orders();
    let compiled = runbook(
        "  - id: reset\n    reset_offsets:\n      group: billing\n      topics: [orders]\n      strategy: { to_offset: 50 }\n",
    );
    let (made, applied) = plan_and_apply(&cluster, &compiled).await;
    let reset = reset_plan(&made, "reset");
    assert_eq!((reset.changes.len(), reset.total_skip, reset.total_rewind), (2, 70, 0));
    assert_eq!(applied.status, RunStatus::Succeeded, "{:?}", applied.reason);
    let done = applied.steps[0].reset().expect("the reset's record");
    assert_eq!(done.snapshot.iter().map(|s| s.offset).collect::<Vec<_>>(), [Some(10), Some(20)]);
    assert!(done.results.iter().all(|r| r.outcome == Outcome::Committed));
    assert_eq!(
        (cluster.committed("billing", "orders", 0), cluster.committed("billing", "orders", 1)),
        (Some(50), Some(50))
    );
}

#[tokio::test]
async fn a_guard_refuses_at_plan_and_nothing_is_sent() {
    let cluster = orders();
    let compiled = runbook(
        "  - id: reset\n    reset_offsets:\n      group: billing\n      topics: [orders]\n      strategy: { to_latest: true }\n      max_skip: 100\n",
    );
    let (made, applied) = plan_and_apply(&cluster, &compiled).await;
    assert_eq!(made.status, PlanStatus::Refused);
    let reason = made.steps[0].reason.clone().unwrap_or_default();
    assert!(reason.contains("skip 170 message(s), above max_skip 100"), "{reason}");
    assert_eq!(applied.status, RunStatus::Refused);
    assert_eq!(cluster.requests(), (0, 0));
}

#[tokio::test]
async fn the_gate_refuses_a_group_that_gained_members_and_names_them() {
    let cluster = orders();
    let compiled = runbook(
        "  - id: reset\n    reset_offsets:\n      group: billing\n      topics: [orders]\n      strategy: { to_earliest: true }\n      wait_for_inactive: 1s\n",
    );
    let made = plan(&compiled, &cluster, &RunInfo::cli(Mode::Plan)).await;
    cluster.member("billing", "billing-7");
    let applied = apply(&made, &cluster, Some(&compiled.sha256), &RunInfo::cli(Mode::Apply), false, &no_journal).await;
    assert_eq!(applied.status, RunStatus::Refused);
    let reason = applied.reason.unwrap_or_default();
    assert!(reason.contains("billing-7") && reason.contains("Stable"), "{reason}");
    assert_eq!(cluster.requests().0, 0, "no commit was sent");
    assert_eq!(cluster.committed("billing", "orders", 0), Some(10));
}

#[tokio::test]
async fn drift_refuses_unless_forced_and_the_guard_still_holds_when_forced() {
    let cluster = orders();
    let compiled = runbook(
        "  - id: reset\n    reset_offsets:\n      group: billing\n      topics: [orders]\n      strategy: { shift_by: 5 }\n",
    );
    let made = plan(&compiled, &cluster, &RunInfo::cli(Mode::Plan)).await;
    cluster.consume("billing", "orders", 0, 12);
    let stale = apply(&made, &cluster, Some(&compiled.sha256), &RunInfo::cli(Mode::Apply), false, &no_journal).await;
    assert_eq!(stale.status, RunStatus::Refused);
    assert!(
        matches!(&stale.drift[..], [Drift::OffsetMoved { partition: 0, planned: Some(10), now: Some(12), .. }]),
        "{:?}",
        stale.drift
    );
    assert_eq!(cluster.committed("billing", "orders", 0), Some(12));
    let forced = apply(&made, &cluster, Some(&compiled.sha256), &RunInfo::cli(Mode::Apply), true, &no_journal).await;
    assert_eq!(forced.status, RunStatus::Succeeded, "{:?}", forced.reason);
    assert_eq!(cluster.committed("billing", "orders", 0), Some(15));
    let changed = apply(&made, &cluster, Some("another"), &RunInfo::cli(Mode::Apply), false, &no_journal).await;
    assert!(changed.drift.iter().any(|d| matches!(d, Drift::RunbookChanged { .. })));
}

#[tokio::test]
async fn a_lost_commit_answer_is_judged_by_the_read_back_and_a_refused_commit_fails() {
    let cluster = orders();
    let compiled = runbook(
        "  - id: reset\n    reset_offsets:\n      group: billing\n      topics: [orders]\n      strategy: { to_offset: 30 }\n",
    );
    let made = plan(&compiled, &cluster, &RunInfo::cli(Mode::Plan)).await;
    cluster.lose_next_commit_answer();
    let applied = apply(&made, &cluster, Some(&compiled.sha256), &RunInfo::cli(Mode::Apply), false, &no_journal).await;
    assert_eq!(applied.status, RunStatus::Succeeded, "{:?}", applied.reason);

    let made = plan(&runbook(
        "  - id: reset\n    reset_offsets:\n      group: billing\n      topics: [orders]\n      strategy: { to_offset: 40 }\n",
    ), &cluster, &RunInfo::cli(Mode::Plan)).await;
    cluster.refuse_next_commit();
    let applied = apply(&made, &cluster, None, &RunInfo::cli(Mode::Apply), true, &no_journal).await;
    assert_eq!(applied.status, RunStatus::Failed);
    let done = applied.steps[0].reset().expect("the snapshot is kept");
    assert!(done.results.iter().all(|r| r.outcome == Outcome::NotCommitted));
    let reason = applied.reason.unwrap_or_default();
    assert!(reason.contains("Not committed: orders:0, orders:1"), "{reason}");
}

#[tokio::test]
async fn a_query_feeds_a_compute_that_feeds_a_reset_past_the_last_match() {
    let cluster = orders().value("orders", 0, 33, "poison").value("orders", 1, 44, "poison");
    let compiled = runbook(concat!(
        "  - id: find\n    query_messages:\n      topic: orders\n      from_offset: 0\n      contains: poison\n",
        "  - id: targets\n    compute_offsets:\n      group: billing\n      topics: [orders]\n      strategy: { after_messages: find }\n",
        "  - id: reset\n    reset_offsets:\n      offsets: targets\n",
    ));
    let (made, applied) = plan_and_apply(&cluster, &compiled).await;
    match &made.steps[0].detail {
        StepDetail::QueryMessages { output: Some(found) } => assert_eq!(found.count, 2),
        other => panic!("{other:?}"),
    }
    assert_eq!(applied.status, RunStatus::Succeeded, "{:?}", applied.reason);
    assert_eq!(
        (cluster.committed("billing", "orders", 0), cluster.committed("billing", "orders", 1)),
        (Some(34), Some(45))
    );
}

#[tokio::test]
async fn a_purge_stops_at_what_every_group_consumed_and_max_delete_refuses() {
    let cluster = orders().commit("audit", "orders", 0, 5).commit("audit", "orders", 1, 60);
    let compiled = runbook("  - id: purge\n    purge_messages:\n      topic: orders\n      before: { offset: 50 }\n");
    let (made, applied) = plan_and_apply(&cluster, &compiled).await;
    assert_eq!(made.status, PlanStatus::Planned);
    assert_eq!(applied.status, RunStatus::Succeeded, "{:?}", applied.reason);
    let done = applied.steps[0].purge().expect("the purge's record");
    assert!(done.results.iter().all(|r| r.outcome == PurgeOutcome::Deleted));
    assert_eq!((cluster.log_start("orders", 0), cluster.log_start("orders", 1)), (5, 20));

    let guarded = runbook(
        "  - id: purge\n    purge_messages:\n      topic: orders\n      before: { high_watermark: true }\n      protect_groups: none\n      max_delete: 10\n",
    );
    let (made, _) = plan_and_apply(&cluster, &guarded).await;
    assert_eq!(made.status, PlanStatus::Refused);
    assert_eq!((cluster.log_start("orders", 0), cluster.log_start("orders", 1)), (5, 20));
}

#[tokio::test]
async fn a_purge_refuses_when_a_group_fell_behind_its_plan() {
    let cluster = orders();
    let compiled = runbook("  - id: purge\n    purge_messages:\n      topic: orders\n      before: { offset: 50 }\n");
    let made = plan(&compiled, &cluster, &RunInfo::cli(Mode::Plan)).await;
    cluster.consume("billing", "orders", 1, 3);
    let applied = apply(&made, &cluster, Some(&compiled.sha256), &RunInfo::cli(Mode::Apply), false, &no_journal).await;
    assert_eq!(applied.status, RunStatus::Refused, "{:?}", applied.reason);
    assert_eq!(cluster.requests().1, 0, "no DeleteRecords was sent");
}

#[tokio::test]
async fn check_refuses_and_when_skips() {
    let cluster = orders();
    let compiled = runbook(concat!(
        "  - id: never\n    when: \"{{gt 0 1}}\"\n    reset_offsets:\n      group: billing\n      topics: [orders]\n      strategy: { to_earliest: true }\n",
        "  - id: gate\n    check:\n      that: \"{{gt 0 1}}\"\n      message: the reset did not run\n",
    ));
    let made = plan(&compiled, &cluster, &RunInfo::cli(Mode::Plan)).await;
    assert_eq!(made.steps[0].status, StepStatus::Skipped);
    assert_eq!(made.steps[1].status, StepStatus::Refused);
    assert_eq!(made.steps[1].reason.as_deref(), Some("the reset did not run"));
    assert_eq!(made.status, PlanStatus::Refused);
}

#[tokio::test]
async fn a_journal_that_cannot_save_stops_the_apply_before_its_first_change() {
    let cluster = orders();
    let compiled = runbook(
        "  - id: reset\n    reset_offsets:\n      group: billing\n      topics: [orders]\n      strategy: { to_earliest: true }\n",
    );
    let made = plan(&compiled, &cluster, &RunInfo::cli(Mode::Plan)).await;
    let failing = |_: &Applied| Err(crate::step::JournalError("the disk is full".into()));
    let applied = apply(&made, &cluster, Some(&compiled.sha256), &RunInfo::cli(Mode::Apply), false, &failing).await;
    assert_eq!(applied.status, RunStatus::Failed);
    assert!(applied.reason.unwrap_or_default().contains("cannot record the run in history"));
    assert_eq!(cluster.requests().0, 0);
}

#[tokio::test]
async fn a_replay_by_time_that_moves_forward_is_noted_and_max_skip_zero_refuses_it() {
    // Record i is at T0 + i seconds (the memory cluster's spacing); billing sits at 10 and 20.
    let at = chrono::DateTime::from_timestamp_millis(T0 + 15_000).unwrap().to_rfc3339();
    let steps = format!(
        "  - id: reset\n    reset_offsets:\n      group: billing\n      topics: [orders]\n      strategy: {{ to_datetime: \"{at}\" }}\n"
    );
    let made = plan(&runbook(&steps), &orders(), &RunInfo::cli(Mode::Plan)).await;
    let step = &made.steps[0];
    assert!(step.warnings.iter().any(|w| w.contains("forward") && w.contains("1 partition(s)")), "{:?}", step.warnings);
    let reset = reset_plan(&made, "reset");
    let forward = reset.changes.iter().find(|c| c.planned.partition == 0).expect("partition 0 moves");
    assert!(forward.planned.note.as_deref().is_some_and(|n| n.contains("forward past")), "{forward:?}");
    let guarded = plan(
        &runbook(&steps.replace("reset_offsets:\n", "reset_offsets:\n      max_skip: 0\n")),
        &orders(),
        &RunInfo::cli(Mode::Plan),
    )
    .await;
    assert_eq!(guarded.status, PlanStatus::Refused, "{:?}", guarded.steps[0].reason);
}

#[tokio::test]
async fn past_matches_moves_over_the_run_the_group_sits_on_and_nothing_else() {
    // Partition 0's values p0-1 and p0-10 … p0-19 contain "p0-1": runs [1, 2) and [10, 20).
    let steps = "  - id: find\n    query_messages:\n      topic: orders\n      from_offset: 0\n      contains: p0-1\n  - id: targets\n    compute_offsets:\n      group: billing\n      topics: [orders]\n      strategy: { past_matches: find }\n  - id: reset\n    reset_offsets: { offsets: targets }\n";
    let made = plan(&runbook(steps), &orders(), &RunInfo::cli(Mode::Plan)).await;
    let reset = reset_plan(&made, "reset");
    let moved: Vec<(i32, Option<i64>, i64)> =
        reset.changes.iter().map(|c| (c.planned.partition, c.planned.current, c.planned.target)).collect();
    assert_eq!(moved, [(0, Some(10), 20)], "billing sits on p0-10: over that run only; partition 1 stays");
    let elsewhere = orders().commit("billing", "orders", 0, 5);
    let made = plan(&runbook(steps), &elsewhere, &RunInfo::cli(Mode::Plan)).await;
    assert!(reset_plan(&made, "reset").changes.is_empty(), "not on a match: nothing moves");
}

fn deletion_plan(plan: &Plan, id: &str) -> crate::steps::delete_offsets::DeletionPlan {
    match &plan.steps.iter().find(|s| s.id == id).expect("the step").detail {
        StepDetail::DeleteOffsets(deletion) => (**deletion).clone(),
        other => panic!("not a deletion: {other:?}"),
    }
}

#[tokio::test]
async fn a_deletion_lists_each_commit_that_goes_then_deletes_and_reads_back() {
    use crate::steps::delete_offsets::DeletionOutcome;
    let cluster = orders().topic("payments", 1, 10, T0).commit("billing", "payments", 0, 5);
    let compiled = runbook(
        "  - id: forget\n    delete_offsets:\n      group: billing\n      topics: [orders]\n      partitions: [1]\n",
    );
    let (made, applied) = plan_and_apply(&cluster, &compiled).await;
    let deletion = deletion_plan(&made, "forget");
    assert_eq!(
        deletion.deletions.iter().map(|d| (d.partition, d.offset, d.lag)).collect::<Vec<_>>(),
        [(1, 20, Some(80))]
    );
    assert_eq!(applied.status, RunStatus::Succeeded, "{:?}", applied.reason);
    let Some(crate::steps::AppliedDetail::DeleteOffsets(done)) = &applied.steps[0].detail else { panic!("its record") };
    assert_eq!(
        done.results.iter().map(|r| (r.partition, r.outcome)).collect::<Vec<_>>(),
        [(1, DeletionOutcome::Deleted)]
    );
    assert_eq!(cluster.committed("billing", "orders", 1), None);
    assert_eq!(cluster.committed("billing", "orders", 0), Some(10), "out of scope");
    assert_eq!(cluster.committed("billing", "payments", 0), Some(5), "another topic");
}

#[tokio::test]
async fn a_deletion_is_refused_while_a_member_consumes_the_topic_and_allowed_when_it_consumes_another() {
    let cluster = orders().topic("payments", 1, 10, T0).commit("billing", "payments", 0, 5);
    cluster.member_on("billing", "billing-1", &["orders"]);
    let on_orders = runbook("  - id: forget\n    delete_offsets:\n      group: billing\n      topics: [orders]\n");
    let (made, applied) = plan_and_apply(&cluster, &on_orders).await;
    assert!(
        made.steps[0].warnings.iter().any(|w| w.contains("billing-1 on /127.0.0.1 (orders)")),
        "{:?}",
        made.steps[0].warnings
    );
    assert_eq!(applied.status, RunStatus::Refused);
    let reason = applied.reason.unwrap_or_default();
    assert!(reason.contains("1 member(s) consume these topics: billing-1"), "{reason}");
    assert_eq!(cluster.committed("billing", "orders", 0), Some(10), "nothing deleted");

    let on_payments = runbook("  - id: forget\n    delete_offsets:\n      group: billing\n      topics: [payments]\n");
    let (_, applied) = plan_and_apply(&cluster, &on_payments).await;
    assert_eq!(applied.status, RunStatus::Succeeded, "{:?}", applied.reason);
    assert_eq!(cluster.committed("billing", "payments", 0), None);
}

#[tokio::test]
async fn a_commit_that_moved_since_the_deletion_was_planned_is_drift() {
    let cluster = orders();
    let compiled = runbook("  - id: forget\n    delete_offsets:\n      group: billing\n      topics: [orders]\n");
    let made = plan(&compiled, &cluster, &RunInfo::cli(Mode::Plan)).await;
    cluster.consume("billing", "orders", 0, 15);
    let applied = apply(&made, &cluster, Some(&compiled.sha256), &RunInfo::cli(Mode::Apply), false, &no_journal).await;
    assert_eq!(applied.status, RunStatus::Refused);
    assert!(
        applied
            .drift
            .iter()
            .any(|d| matches!(d, Drift::OffsetMoved { partition: 0, planned: Some(10), now: Some(15), .. })),
        "{:?}",
        applied.drift
    );
    assert_eq!(cluster.committed("billing", "orders", 0), Some(15));
}

fn purge_plan(plan: &Plan, id: &str) -> crate::steps::purge_messages::PurgePlan {
    match &plan.steps.iter().find(|s| s.id == id).expect("the step").detail {
        StepDetail::PurgeMessages(purge) => (**purge).clone(),
        other => panic!("not a purge: {other:?}"),
    }
}

#[tokio::test]
async fn a_time_cut_shows_its_offset_and_out_of_order_records_warn_or_refuse_with_strict_time() {
    // Records one second apart from T0; record 5 of partition 0 carries a time far later.
    let cluster = MemoryCluster::new("mem").topic("orders", 2, 20, T0).timestamp("orders", 0, 5, T0 + 100_000);
    let at = |s: i64| chrono::DateTime::from_timestamp_millis(T0 + s * 1000).unwrap().to_rfc3339();
    let steps = format!(
        "  - id: purge\n    purge_messages:\n      topic: orders\n      before: {{ datetime: \"{}\" }}\n      protect_groups: none\n",
        at(10)
    );
    let made = plan(&runbook(&steps), &cluster, &RunInfo::cli(Mode::Plan)).await;
    let purge = purge_plan(&made, "purge");
    assert_eq!(purge.cut_off_ms, Some(T0 + 10_000));
    let cuts: Vec<(i32, Option<i64>, i64)> =
        purge.rows().map(|r| (r.partition, r.requested, r.new_log_start)).collect();
    assert_eq!(cuts, [(0, Some(5), 5), (1, Some(10), 10)], "partition 0's cut stops at the late record");
    let order = purge.rows().find(|r| r.partition == 0).and_then(|r| r.time_order.clone()).unwrap();
    assert_eq!((order.older_above, order.oldest_above), (4, Some(T0 + 6_000)), "records 6 to 9 are older and kept");
    let warning = made.steps[0].warnings.join("\n");
    assert!(
        warning.contains("orders:0: 4 of the first 15 record(s) from the cut on are older than the cut-off"),
        "{warning}"
    );
    assert!(!warning.contains("orders:1"), "{warning}");

    let strict = runbook(&format!("{steps}      strict_time: true\n"));
    let refused = plan(&strict, &cluster, &RunInfo::cli(Mode::Plan)).await;
    assert_eq!(refused.status, PlanStatus::Refused);
    let reason = refused.steps[0].reason.clone().unwrap_or_default();
    assert!(reason.starts_with("strict_time: the timestamps of topic \"orders\" are out of order"), "{reason}");
}

#[tokio::test]
async fn a_time_lookup_that_lands_past_newer_records_warns_of_what_it_would_delete() {
    // A coarse lookup (as a cloud API's may be) answers 3 offsets past the first record at the cut-off.
    let cluster = MemoryCluster::new("mem").topic("orders", 1, 20, T0).skew_time_lookups(3);
    let at = chrono::DateTime::from_timestamp_millis(T0 + 10_000).unwrap().to_rfc3339();
    let steps = format!(
        "  - id: purge\n    purge_messages:\n      topic: orders\n      before: {{ datetime: \"{at}\" }}\n      protect_groups: none\n"
    );
    let made = plan(&runbook(&steps), &cluster, &RunInfo::cli(Mode::Plan)).await;
    let order = purge_plan(&made, "purge").rows().next().and_then(|r| r.time_order.clone()).unwrap();
    assert_eq!((order.newer_below, order.newest_below), (2, Some(T0 + 12_000)), "records 11 and 12 are newer");
    let warning = made.steps[0].warnings.join("\n");
    assert!(warning.contains("2 of the last 13 record(s) below the cut are newer than the cut-off"), "{warning}");
    let strict =
        plan(&runbook(&format!("{steps}      strict_time: true\n")), &cluster, &RunInfo::cli(Mode::Plan)).await;
    assert_eq!(strict.status, PlanStatus::Refused);
}

#[tokio::test]
async fn max_delete_percent_refuses_a_partition_that_would_lose_too_much() {
    let cluster = MemoryCluster::new("mem").topic("orders", 2, 100, T0);
    let steps = "  - id: purge\n    purge_messages:\n      topic: orders\n      before: { offsets: { 0: 30, 1: 60 } }\n      protect_groups: none\n      max_delete_percent: 50\n";
    let made = plan(&runbook(steps), &cluster, &RunInfo::cli(Mode::Plan)).await;
    assert_eq!(made.status, PlanStatus::Refused);
    let reason = made.steps[0].reason.clone().unwrap_or_default();
    assert!(reason.contains("orders:1 (60 of 100 records, 60.0%)") && !reason.contains("orders:0"), "{reason}");
    let fine = runbook(&steps.replace("max_delete_percent: 50", "max_delete_percent: 60"));
    let (_, applied) = plan_and_apply(&cluster, &fine).await;
    assert_eq!(applied.status, RunStatus::Succeeded, "{:?}", applied.reason);
}
