//! `delete_offsets` and `ebb offsets delete` against the real broker, with
//! Apache's `kafka-consumer-groups --delete-offsets` and `--describe` as the
//! oracle on a twin group in the same state; the gate with live members of
//! both protocols (classic and KIP-848); rollback re-committing what went;
//! and the rollback of a reset deleting the commits it created.

use std::collections::BTreeMap;

use ebb_testkit::{LiveMember, Seeder, apache, shared_cluster, unique};

use crate::cli_harness::{Ebb, config_keeping_history, now_ms};

type Offsets = BTreeMap<(String, i32), i64>;

async fn committed(group: &str) -> Offsets {
    Seeder::new(&shared_cluster().bootstrap).committed(group).await
}

/// Two topics (3 and 1 partitions, 20 records each) and, for each group,
/// commits at 5, 6, 7 on the first and 8 on the second.
async fn seeded(prefix: &str, groups: &[&str]) -> (String, String) {
    let seeder = Seeder::new(&shared_cluster().bootstrap);
    let (orders, payments) = (unique(&format!("{prefix}-orders")), unique(&format!("{prefix}-payments")));
    seeder.create_topic(&orders, 3).await;
    seeder.create_topic(&payments, 1).await;
    for p in 0..3 {
        seeder.produce_sequence(&orders, p, 20, "o", now_ms() - 60_000, 1).await;
    }
    seeder.produce_sequence(&payments, 0, 20, "p", now_ms() - 60_000, 1).await;
    for group in groups {
        seeder.commit(group, &[(&orders, 0, 5), (&orders, 1, 6), (&orders, 2, 7), (&payments, 0, 8)]).await;
    }
    (orders, payments)
}

fn ebb_in(data: &std::path::Path) -> Ebb {
    Ebb::new().config(&config_keeping_history(&shared_cluster().bootstrap, data))
}

/// Apache's `--describe --offsets` of a group, its name left out, so twins compare.
fn described(group: &str) -> Vec<(String, i32, Option<i64>, Option<i64>)> {
    apache::group_offsets(&shared_cluster().bootstrap, group)
        .into_iter()
        .map(|r| (r.topic, r.partition, r.current, r.lag))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn deleting_offsets_leaves_what_apache_leaves_and_rollback_commits_them_again() {
    let bootstrap = &shared_cluster().bootstrap;
    let data = tempfile::tempdir().unwrap();
    let (ours, theirs) = (unique("od-ebb"), unique("od-apache"));
    let (orders, payments) = seeded("od", &[&ours, &theirs]).await;
    let before = committed(&ours).await;
    let scope = format!("{orders}:0,2");

    let dry = ebb_in(data.path()).args(["offsets", "delete", &ours, "--topic", &scope, "--dry-run"]).run().success();
    assert!(dry.stdout.contains("2 committed offset(s) of group"), "{}", dry.stdout);
    assert_eq!(committed(&ours).await, before, "a dry run changes nothing");

    let run = ebb_in(data.path())
        .args(["offsets", "delete", &ours, "--topic", &scope, "--yes", "--output", "json"])
        .run()
        .success();
    let run_id = run.json()["plan"]["run_id"].as_str().expect("a run id").to_owned();
    let (ok, printed) = apache::delete_offsets(bootstrap, &theirs, &[&scope]);
    assert!(ok, "{printed}");
    assert_eq!(committed(&ours).await, committed(&theirs).await, "ebb deletes what Apache deletes");
    assert_eq!(described(&ours), described(&theirs), "Apache describes both groups alike");
    assert_eq!(
        committed(&ours).await.into_keys().collect::<Vec<_>>(),
        [(orders.clone(), 1), (payments.clone(), 0)],
        "only the partitions named went"
    );

    let shown = ebb_in(data.path()).args(["show", &run_id]).run().success();
    assert!(shown.stdout.contains("deleted"), "{}", shown.stdout);
    assert!(shown.stdout.contains("Snapshot (what `ebb rollback"), "{}", shown.stdout);
    ebb_in(data.path()).args(["rollback", &run_id, "--yes"]).run().success();
    assert_eq!(committed(&ours).await, before, "the rollback commits the deleted offsets again");
}

#[tokio::test(flavor = "multi_thread")]
async fn live_members_of_either_protocol_stop_a_deletion_on_their_topic_only() {
    let bootstrap = &shared_cluster().bootstrap;
    for protocol in ["classic", "consumer"] {
        let data = tempfile::tempdir().unwrap();
        let (ours, theirs) = (unique(&format!("odl-{protocol}-ebb")), unique(&format!("odl-{protocol}-apache")));
        let (orders, payments) = seeded(&format!("odl-{protocol}"), &[&ours, &theirs]).await;
        let client = format!("worker-{protocol}");
        let _members = [
            LiveMember::join_with_protocol(bootstrap, &ours, &orders, &client, protocol),
            LiveMember::join_with_protocol(bootstrap, &theirs, &orders, &client, protocol),
        ];
        let before = committed(&ours).await;

        let refused = ebb_in(data.path()).args(["offsets", "delete", &ours, "--topic", &orders, "--yes"]).run().code(3);
        assert!(
            refused.stdout.contains(&format!("1 member(s) consume these topics: {client} on 127.0.0.1 ({orders})")),
            "{protocol}: {}",
            refused.stdout
        );
        assert_eq!(committed(&ours).await, before, "{protocol}: nothing deleted");
        let (_, printed) = apache::delete_offsets(bootstrap, &theirs, &[&orders]);
        assert_eq!(committed(&theirs).await, before, "{protocol}: Apache is refused too: {printed}");

        // The same group's offsets on a topic none of its members consume can go.
        ebb_in(data.path()).args(["offsets", "delete", &ours, "--topic", &payments, "--yes"]).run().success();
        let (ok, printed) = apache::delete_offsets(bootstrap, &theirs, &[&payments]);
        assert!(ok, "{protocol}: {printed}");
        assert_eq!(committed(&ours).await, committed(&theirs).await, "{protocol}: both deleted the payments offsets");
        assert!(!committed(&ours).await.contains_key(&(payments.clone(), 0)), "{protocol}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn rolling_back_a_reset_deletes_the_commits_it_created() {
    let data = tempfile::tempdir().unwrap();
    let group = unique("odr");
    let seeder = Seeder::new(&shared_cluster().bootstrap);
    let topic = unique("odr-t");
    seeder.create_topic(&topic, 3).await;
    for p in 0..3 {
        seeder.produce_sequence(&topic, p, 20, "r", now_ms() - 60_000, 1).await;
    }
    seeder.commit(&group, &[(&topic, 0, 4)]).await;
    let before = committed(&group).await;

    let run = ebb_in(data.path())
        .args(["reset", &group, "--topic", &topic, "--to-offset", "12", "--yes", "--output", "json"])
        .run()
        .success();
    let run_id = run.json()["plan"]["run_id"].as_str().expect("a run id").to_owned();
    assert_eq!(committed(&group).await.len(), 3, "the reset created two commits");

    let plan = ebb_in(data.path()).args(["rollback", &run_id, "--plan-only"]).run().success();
    assert!(plan.stdout.contains("reset-uncommit (delete_offsets)"), "{}", plan.stdout);
    assert!(plan.stdout.contains("had no committed offset before the run"), "{}", plan.stdout);
    ebb_in(data.path()).args(["rollback", &run_id, "--yes"]).run().success();
    assert_eq!(committed(&group).await, before, "the run is undone exactly");
    let rows = apache::group_offsets(&shared_cluster().bootstrap, &group);
    assert_eq!(
        rows.iter().map(|r| (r.partition, r.current)).collect::<Vec<_>>(),
        [(0, Some(4))],
        "Apache sees only the commit from before the run"
    );
}
