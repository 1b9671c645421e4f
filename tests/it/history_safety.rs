//! What history guarantees when processes overlap or die, with real processes
//! on the real broker: a run killed with SIGKILL mid-apply shows `interrupted`
//! and its snapshot rolls the group back; a second run on a group another run
//! holds is refused (exit 3) with the holder's run id; a store held by a
//! daemon that does not answer is named plainly and nothing changes.

use std::time::Duration;

use ebb::history::{DataDir, Holder, Retention};
use ebb_testkit::{LiveMember, Seeder, shared_cluster};

use crate::cli_harness::Ebb;
use crate::history_support::{Workspace, applied_step_status, at, committed, topic_and_groups};

/// Steps `<id>-targets` and `<id>` resetting `group` to the latest offsets.
fn reset_steps(id: &str, group: &str, topic: &str, extra: &str) -> String {
    format!(
        "  - id: {id}-targets\n    compute_offsets: {{ group: {group}, topics: [{topic}], strategy: {{ to_latest: true }} }}\n  - id: {id}\n    reset_offsets: {{ offsets: {id}-targets{extra} }}\n"
    )
}

fn runbook(name: &str, steps: &[String]) -> String {
    format!("name: {name}\ncluster: local\nsteps:\n{}", steps.concat())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_killed_mid_apply_is_interrupted_and_its_snapshot_rolls_the_group_back() {
    let (topic, groups) = topic_and_groups("crash", &["first", "second"]).await;
    let (first, second) = (&groups[0], &groups[1]);
    let member = LiveMember::join(&shared_cluster().bootstrap, second, &topic, "crash-worker");
    let ws = Workspace::new();
    // `first` resets at once; `second` waits for its live member to leave, which it will not.
    let rb = ws.runbook(
        "rb.yaml",
        &runbook(
            "crash",
            &[reset_steps("one", first, &topic, ""), reset_steps("two", second, &topic, ", wait_for_inactive: 5m")],
        ),
    );
    let mut child = ws.spawn(["run", &rb, "--yes"]);
    let run = ws.wait_for_running(|r| applied_step_status(r, "two").as_deref() == Some("running"));
    assert_eq!(committed(first).await, at(&topic, [30, 30]), "the first reset was applied");
    child.kill().unwrap(); // SIGKILL: no cleanup of any kind
    child.wait().unwrap();

    let record = ws.show(&run);
    assert_eq!(record["status"], "interrupted", "{record}");
    assert!(record["reason"].as_str().unwrap().contains("stopped before it finished"));
    assert_eq!(applied_step_status(&record, "one").as_deref(), Some("applied"));
    assert_eq!(applied_step_status(&record, "two").as_deref(), Some("interrupted"));
    ws.ebb(["history", "--status", "interrupted"]).success().stdout_contains(&run);

    ws.ebb(["rollback", &run, "--yes"]).success();
    assert_eq!(committed(first).await, at(&topic, [10, 10]), "the snapshot was restored");
    assert_eq!(committed(second).await, at(&topic, [10, 10]), "the second group was never changed");
    drop(member);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_run_on_a_held_group_is_refused_with_the_holders_run_id() {
    let (topic, groups) = topic_and_groups("lock", &["held", "free"]).await;
    let (held, free) = (&groups[0], &groups[1]);
    let member = LiveMember::join(&shared_cluster().bootstrap, held, &topic, "lock-worker");
    let ws = Workspace::new();
    let waiting =
        ws.runbook("waits.yaml", &runbook("lock-waits", &[reset_steps("r", held, &topic, ", wait_for_inactive: 5m")]));
    let mut holder = ws.spawn(["run", &waiting, "--yes"]);
    let holder_id = ws.wait_for_running(|r| applied_step_status(r, "r").as_deref() == Some("running"));

    // Another process, another runbook, the same group: refused at once, naming the holder.
    let same_group = ws.runbook("same.yaml", &runbook("lock-same", &[reset_steps("r", held, &topic, "")]));
    ws.ebb(["run", &same_group, "--yes"])
        .code(3)
        .stderr_contains(&format!("is being changed by run {holder_id}"))
        .stdout_contains("nothing was changed");
    let refused = &ws.history(["--runbook", "lock-same"])[0];
    assert_eq!(refused["status"], "refused");
    assert!(refused["reason"].as_str().unwrap().contains(&holder_id));
    let record = ws.show(refused["id"].as_str().unwrap());
    assert!(record["apply"].is_null(), "refused before the apply began: {record}");
    assert_eq!(committed(held).await, at(&topic, [10, 10]));
    // A different group is not held.
    let other = ws.runbook("other.yaml", &runbook("lock-other", &[reset_steps("r", free, &topic, "")]));
    ws.ebb(["run", &other, "--yes"]).success();
    assert_eq!(committed(free).await, at(&topic, [30, 30]));

    // The member leaves; the holder finishes and lets go.
    drop(member);
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    let status = loop {
        if let Some(status) = holder.try_wait().unwrap() {
            break status;
        }
        assert!(std::time::Instant::now() < deadline, "the holder never finished");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(status.success(), "{:?}", holder.wait_with_output().unwrap());
    assert_eq!(ws.show(&holder_id)["status"], "succeeded");
    Seeder::new(&shared_cluster().bootstrap).commit(held, &[(&topic, 0, 10), (&topic, 1, 10)]).await;
    ws.ebb(["run", &same_group, "--yes"]).success();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_store_held_by_an_unreachable_daemon_is_named_and_a_run_changes_nothing() {
    let (topic, groups) = topic_and_groups("held-store", &["g"]).await;
    let ws = Workspace::new();
    let rb = ws.runbook("rb.yaml", &runbook("held-store", &[reset_steps("r", &groups[0], &topic, "")]));
    let data =
        DataDir::new(ws.data_dir(), Retention { max_age: Duration::from_secs(86_400), max_runs: 10, max_plans: 10 });
    // A daemon that holds the store but does not answer: nothing listens on its port.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let api = format!("http://127.0.0.1:{port}");
    let daemon = Holder { pid: 4242, command: "ebb daemon".into(), api: Some(api.clone()) };
    let held = data.open_as(&daemon, Duration::ZERO).unwrap();

    ws.ebb(["history"])
        .code(1)
        .stderr_contains(&format!("the daemon at {api} holds the history store, and there is no token"));
    let with_token =
        |args: &[&str]| Ebb::new().config(&ws.config).args(args.iter().copied()).env("EBB_TOKEN", "some-token").run();
    with_token(&["history"])
        .code(1)
        .stderr_contains(&format!("the daemon at {api} holds the history store, but cannot be reached"));
    with_token(&["run", &rb, "--yes"]).code(1).stderr_contains("cannot be reached");
    assert_eq!(committed(&groups[0]).await, at(&topic, [10, 10]), "nothing is changed unrecorded");

    drop(held);
    ws.ebb(["run", &rb, "--yes"]).success();
    assert_eq!(ws.history([]).len(), 1, "only the run that could be recorded is there");
}
