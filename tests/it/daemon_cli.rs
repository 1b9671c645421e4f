//! The daemon from the command line: `ebb runbooks` shows each runbook's
//! schedule with its next fires in its own zone and in UTC, paused or not,
//! and its last run; `ebb pause`/`ebb resume` flip the schedule; `ebb trigger`
//! runs a runbook now through the API, recorded with who asked.

use ebb_testkit::{Seeder, shared_cluster, unique};

use crate::daemon_support::DaemonWorkspace;

#[tokio::test(flavor = "multi_thread")]
async fn runbooks_pause_resume_and_trigger_through_the_daemon() {
    let ws = DaemonWorkspace::new("");
    let (topic, group) = (unique("dcli-t"), unique("dcli-g"));
    let seeder = Seeder::new(&shared_cluster().bootstrap);
    seeder.create_topic(&topic, 1).await;
    seeder.produce_everywhere(&topic, 1, 5, "m").await;
    seeder.commit(&group, &[(&topic, 0, 1)]).await;
    ws.runbook(
        "nightly.yaml",
        &format!(
            "name: nightly\ncluster: local\nschedule: {{ cron: \"0 3 * * *\", timezone: Asia/Tokyo }}\nsteps:\n  - id: reset\n    reset_offsets: {{ group: {group}, topics: [{topic}], strategy: {{ to_latest: true }} }}\n"
        ),
    );
    let no_daemon = ws.ebb(["runbooks"]).code(1);
    assert!(no_daemon.stderr.contains("no daemon holds the history store"), "{}", no_daemon.stderr);
    let daemon = ws.start();

    let listed = ws.ebb(["runbooks", "--output", "json"]).success().json();
    let nightly = listed["runbooks"].as_array().unwrap().iter().find(|r| r["name"] == "nightly").unwrap().clone();
    let local = nightly["schedule"]["next_fires_local"][0].as_str().unwrap().to_owned();
    let utc = nightly["schedule"]["next_fires"][0].as_str().unwrap().to_owned();
    assert!(local.contains("T03:00:00+09:00"), "in its zone: {local}");
    assert!(utc.contains("T18:00:00"), "the same instant in UTC: {utc}");
    let table = ws.ebb(["runbooks"]).success();
    assert!(table.stdout.contains("nightly") && table.stdout.contains("0 3 * * * Asia/Tokyo"), "{}", table.stdout);

    ws.ebb_args(&["pause", "nightly"]).success().stdout_contains("paused");
    let paused = ws.ebb(["runbooks", "--output", "json"]).success().json();
    assert_eq!(paused["runbooks"][0]["schedule"]["paused"], true, "{paused}");
    ws.ebb_args(&["resume", "nightly"]).success().stdout_contains("running on its schedule");

    // `ebb run` through the daemon, with nobody to say yes: declined, recorded, nothing changed.
    ws.ebb(["run", "nightly"]).code(1).stderr_contains("stdin is not a terminal");
    let declined = ws.ebb(["history", "--status", "declined", "--output", "json"]).success().json();
    assert_eq!(declined["runs"].as_array().unwrap().len(), 1, "{declined}");
    assert_eq!(seeder.committed(&group).await.get(&(topic.clone(), 0)), Some(&1));

    let run = ws.ebb(["trigger", "nightly", "--wait", "--output", "json"]).success().json();
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["trigger"], "api");
    let committed = seeder.committed(&group).await;
    assert_eq!(committed.get(&(topic.clone(), 0)), Some(&5), "the run reset the group");
    let after = ws.ebb(["runbooks", "--output", "json"]).success().json();
    assert_eq!(after["runbooks"][0]["last_run"]["status"], "succeeded", "{after}");

    // Enough to alert on "the nightly run did not succeed in 26 hours", across a restart.
    let metrics = daemon.metrics().await;
    assert!(metrics.contains("ebb_runbook_last_success_timestamp_seconds{runbook=\"nightly\"}"), "{metrics}");
    assert!(metrics.contains("ebb_runbook_last_run_status{runbook=\"nightly\",status=\"succeeded\"} 1"), "{metrics}");
    assert!(metrics.contains("ebb_runbook_next_fire_timestamp_seconds{runbook=\"nightly\"}"), "{metrics}");
    assert!(metrics.contains("ebb_offsets_moved_total{runbook=\"nightly\"} 1"), "{metrics}");
    assert!(metrics.contains("ebb_run_duration_seconds_count{runbook=\"nightly\"} 1"), "{metrics}");
    drop(daemon);
    let again = ws.start();
    let metrics = again.metrics().await;
    assert!(
        metrics.contains("ebb_runbook_last_success_timestamp_seconds{runbook=\"nightly\"}"),
        "from history: {metrics}"
    );
}
