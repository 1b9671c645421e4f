//! The files a runbook names stay inside the directories ebb.yaml gives
//! (`files_dir`, `downloads_dir`, `allow_paths`), through the daemon with a
//! viewer's token and through the CLI: `/proc/self/environ`, `/etc/passwd`,
//! `..` and symbolic links out are refused; an error never quotes a file's
//! line; a viewer's plan never writes a download; a download never replaces a
//! file unless its step says `overwrite: true`, and never follows a link.

use ebb_testkit::{Seeder, shared_cluster, unique};
use serde_json::{Value, json};

use crate::daemon_support::{DaemonWorkspace, OPERATOR, VIEWER};

/// A topic with 2 partitions of 30 records holding POISON, and a group at 10.
async fn topic_and_group(prefix: &str) -> (String, String) {
    crate::cli_harness::seeded_topic_and_group(prefix, 2, "POISON").await
}

fn reason_of(record: &Value) -> String {
    record["reason"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn from_file_reads_only_inside_files_dir_and_never_quotes_a_line() {
    let (topic, group) = topic_and_group("confined-read").await;
    let ws = DaemonWorkspace::new("");
    let files = ws.dir.join("data/files");
    let outside = ws.dir.join("outside");
    std::fs::create_dir_all(&files).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("secret.csv"), format!("{topic},0,20\n")).unwrap();
    std::os::unix::fs::symlink(outside.join("secret.csv"), files.join("link.csv")).unwrap();
    std::os::unix::fs::symlink(&outside, files.join("elsewhere")).unwrap();
    std::fs::write(files.join("env.csv"), "EBB_SECRET=hunter2-confined\n").unwrap();
    std::fs::write(files.join("good.csv"), format!("{topic},0,20\n{topic},1,20\n")).unwrap();
    ws.runbook(
        "rb.yaml",
        &format!(
            "name: by-file\ncluster: local\nparams:\n  file: {{ type: string }}\nsteps:\n  - id: reset\n    reset_offsets: {{ group: {group}, strategy: {{ from_file: \"{{{{params.file}}}}\" }} }}\n"
        ),
    );
    let daemon = ws.start();
    let cases = [
        ("/proc/self/environ", "absolute paths must lie in files_dir"),
        ("/etc/passwd", "absolute paths must lie in files_dir"),
        ("../../../../../etc/passwd", "`..` is not allowed"),
        ("link.csv", "it is a symbolic link"),
        ("elsewhere/secret.csv", "outside its directory through a symbolic link"),
        ("env.csv", "line 1: it is not topic,partition,offset"),
    ];
    for (file, why) in cases {
        let body = json!({ "params": { "file": file } }).to_string();
        let (status, record) = daemon.post("/api/v1/runbooks/by-file/plan", VIEWER, &body).await;
        assert_eq!(status, 200, "{file}: {record}");
        assert_eq!(record["status"], "failed", "{file}: {record}");
        let stored = daemon.get(&format!("/api/v1/runs/{}", record["id"].as_str().unwrap()), VIEWER).await;
        let reason = reason_of(&stored);
        assert!(reason.contains(why), "{file}: {reason}");
        for leaked in ["hunter2-confined", "PATH=", "root:", &format!("{topic},0,20")] {
            assert!(!stored.to_string().contains(leaked), "{file}: {leaked:?} leaked into history: {reason}");
        }
    }
    let body = json!({ "params": { "file": "good.csv" } }).to_string();
    let (status, record) = daemon.post("/api/v1/runbooks/by-file/runs?wait=true", OPERATOR, &body).await;
    assert_eq!((status, record["status"].as_str()), (200, Some("succeeded")), "{record}");
    let committed = Seeder::new(&shared_cluster().bootstrap).committed(&group).await;
    assert_eq!(committed.values().copied().collect::<Vec<_>>(), [20, 20]);
}

#[tokio::test(flavor = "multi_thread")]
async fn downloads_stay_in_downloads_dir_and_a_viewer_never_writes_one() {
    let (topic, _) = topic_and_group("confined-write").await;
    let ws = DaemonWorkspace::new("");
    let downloads = ws.dir.join("data/downloads");
    let outside = ws.dir.join("outside");
    std::fs::create_dir_all(&downloads).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("precious"), "keep me").unwrap();
    std::os::unix::fs::symlink(outside.join("precious"), downloads.join("link.jsonl")).unwrap();
    let runbook = |name: &str, download: &str, extra: &str| {
        format!(
            "name: {name}\ncluster: local\nsteps:\n  - id: find\n    query_messages: {{ topic: {topic}, from_offset: 0, contains: POISON, download: \"{download}\"{extra} }}\n"
        )
    };
    ws.runbook("a.yaml", &runbook("dl", "matches.jsonl", ""));
    ws.runbook("b.yaml", &runbook("dl-again", "matches.jsonl", ""));
    ws.runbook("c.yaml", &runbook("dl-over", "matches.jsonl", ", overwrite: true"));
    ws.runbook("d.yaml", &runbook("dl-link", "link.jsonl", ", overwrite: true"));
    ws.runbook("e.yaml", &runbook("dl-abs", &outside.join("x.jsonl").display().to_string(), ""));
    let daemon = ws.start();

    // A viewer's plan reads, but writes nothing, and says so.
    let (status, record) = daemon.post("/api/v1/runbooks/dl/plan", VIEWER, "{}").await;
    assert_eq!((status, record["status"].as_str()), (200, Some("succeeded")), "{record}");
    assert!(record.to_string().contains("download skipped"), "{record}");
    assert!(!downloads.join("matches.jsonl").exists(), "a viewer's plan wrote a file");

    // An operator's run writes it; another may not replace it unless told to.
    let (_, record) = daemon.post("/api/v1/runbooks/dl/runs?wait=true", OPERATOR, "{}").await;
    assert_eq!(record["status"], "succeeded", "{record}");
    let written = std::fs::read_to_string(downloads.join("matches.jsonl")).unwrap();
    assert_eq!(written.lines().count(), 60);
    std::fs::write(downloads.join("matches.jsonl"), "mine").unwrap();
    let (_, record) = daemon.post("/api/v1/runbooks/dl-again/runs?wait=true", OPERATOR, "{}").await;
    assert_eq!(record["status"], "failed", "{record}");
    assert!(reason_of(&record).contains("overwrite: true"), "{record}");
    assert_eq!(std::fs::read_to_string(downloads.join("matches.jsonl")).unwrap(), "mine");
    let (_, record) = daemon.post("/api/v1/runbooks/dl-over/runs?wait=true", OPERATOR, "{}").await;
    assert_eq!(record["status"], "succeeded", "{record}");
    assert_eq!(std::fs::read_to_string(downloads.join("matches.jsonl")).unwrap().lines().count(), 60);

    // Never through a link, never outside.
    for name in ["dl-link", "dl-abs"] {
        let (_, record) = daemon.post(&format!("/api/v1/runbooks/{name}/runs?wait=true"), OPERATOR, "{}").await;
        assert_eq!(record["status"], "failed", "{name}: {record}");
    }
    assert_eq!(std::fs::read_to_string(outside.join("precious")).unwrap(), "keep me");
    assert!(!outside.join("x.jsonl").exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn allow_paths_opens_a_directory_to_absolute_paths() {
    let (topic, group) = topic_and_group("confined-allow").await;
    let shared = std::env::temp_dir().join(unique("shared-offsets"));
    std::fs::create_dir_all(&shared).unwrap();
    std::fs::write(shared.join("plan.csv"), format!("{topic},0,25\n")).unwrap();
    let ws = DaemonWorkspace::new("");
    let text = |path: &str| {
        format!(
            "name: allowed\ncluster: local\nsteps:\n  - id: reset\n    reset_offsets: {{ group: {group}, strategy: {{ from_file: \"{path}\" }} }}\n"
        )
    };
    let file = shared.join("plan.csv").display().to_string();
    std::fs::write(ws.dir.join("rb.yaml"), text(&file)).unwrap();
    let rb = ws.dir.join("rb.yaml").display().to_string();
    ws.ebb_args(&["plan", &rb]).code(1).stdout_contains("absolute paths must lie in files_dir");
    let allowing =
        crate::cli_harness::Ebb::new().config(&format!("{}allow_paths: [{}]\n", ws.config, shared.display()));
    allowing.args(["run", rb.as_str(), "--yes"]).run().success();
    let committed = Seeder::new(&shared_cluster().bootstrap).committed(&group).await;
    assert_eq!(committed[&(topic.clone(), 0)], 25);
    let _ = std::fs::remove_dir_all(&shared);
}
