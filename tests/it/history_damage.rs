//! History against a full disk and real damage, through the CLI: with the
//! data dir on a small tmpfs filled up, a run is refused before it changes
//! anything and the store opens again once space is freed (an unfinished
//! snapshot file, which once made it unopenable, is cleared on open); a copy
//! of a store with a flipped byte is found damaged by `ebb history check`,
//! and `ebb history repair` salvages every run into a fresh store, keeping
//! the damaged one and naming what was lost.

use std::path::{Path, PathBuf};
use std::process::Command;

use ebb_testkit::{apache, shared_cluster, unique};
use serde_json::Value;

use crate::cli_harness::{Ebb, Outcome, config_for};

/// A tmpfs of `megabytes` mounted for the test, unmounted when dropped.
struct SmallDisk(PathBuf);

impl SmallDisk {
    fn mount(megabytes: u32) -> Option<SmallDisk> {
        let dir = std::env::temp_dir().join(unique("ebb-small-disk"));
        std::fs::create_dir_all(&dir).unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
            .arg(&dir)
            .status()
            .is_ok_and(|s| s.success());
        if mounted {
            return Some(SmallDisk(dir));
        }
        // Mounting needs root; CI has it, and there a missing mount is a failure.
        assert!(std::env::var_os("CI").is_none(), "cannot mount a tmpfs at {}", dir.display());
        eprintln!("NOT RUN: the full-disk test needs root to mount a tmpfs");
        None
    }

    /// Fills the disk but for about `leave` bytes.
    fn fill(&self, leave: u64) {
        let free = fs2::available_space(&self.0).unwrap();
        let status = Command::new("dd")
            .args(["if=/dev/zero", "bs=1M", "status=none"])
            .arg(format!("of={}", self.0.join("filler").display()))
            .arg(format!("count={}", free.saturating_sub(leave) / (1024 * 1024)))
            .status()
            .unwrap();
        assert!(status.success());
    }

    fn free(&self) {
        std::fs::remove_file(self.0.join("filler")).unwrap();
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn ebb_with(data_dir: &Path, runbook: &str, args: &[&str]) -> Outcome {
    Ebb::new()
        .config(&format!("{}data_dir: {}\n", config_for(&shared_cluster().bootstrap), data_dir.display()))
        .file("rb.yaml", runbook)
        .args(args.iter().copied())
        .run()
}

/// A topic of 30 records, a group committed at 10, and a runbook resetting it to the end.
async fn topic_and_group(prefix: &str) -> (String, String) {
    let (topic, group) = crate::cli_harness::seeded_topic_and_group(prefix, 1, "m").await;
    let runbook = format!(
        "name: damage\ncluster: local\nsteps:\n  - id: reset\n    reset_offsets: {{ group: {group}, topics: [{topic}], strategy: {{ to_latest: true }} }}\n"
    );
    (group, runbook)
}

fn offset_of(group: &str) -> Option<i64> {
    apache::group_offsets(&shared_cluster().bootstrap, group)[0].current
}

fn runs(data_dir: &Path) -> Vec<Value> {
    let out = ebb_with(data_dir, "", &["history", "--output", "json", "--limit", "1000"]).success();
    out.json()["runs"].as_array().unwrap().clone()
}

fn ids(runs: &[Value]) -> Vec<String> {
    runs.iter().map(|r| r["id"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_disk_refuses_runs_and_the_store_opens_again_once_space_is_freed() {
    let Some(disk) = SmallDisk::mount(64) else { return };
    let (group, runbook) = topic_and_group("full-disk").await;
    let (other, other_runbook) = topic_and_group("full-disk-other").await;
    let data = disk.0.join("data");
    ebb_with(&data, &runbook, &["run", "rb.yaml", "--yes"]).success();
    assert_eq!(offset_of(&group), Some(30));
    let applied = ids(&runs(&data))[0].clone();

    disk.fill(4 * 1024 * 1024);
    ebb_with(&data, &other_runbook, &["run", "rb.yaml", "--yes"])
        .code(1)
        .stderr_contains("ebb records nothing below 32.0 MiB");
    assert_eq!(offset_of(&other), Some(10), "a run that cannot be recorded changes nothing");
    ebb_with(&data, &other_runbook, &["plan", "rb.yaml"]).success().stderr_contains("is not in history");
    disk.free();

    // What a full disk once left: an empty unfinished snapshot, which made the store unopenable.
    std::fs::write(data.join("history/snap.00000000FFFFFFFF.generating"), "").unwrap();
    let after = runs(&data);
    assert!(!data.join("history/snap.00000000FFFFFFFF.generating").exists());
    assert_eq!(ids(&after), std::slice::from_ref(&applied), "only the recorded apply: {after:?}");
    assert_eq!(after[0]["status"], "succeeded");
    assert!(after.iter().all(|r| r["status"] != "interrupted"), "{after:?}");

    // Its snapshot still rolls the group back.
    ebb_with(&data, &runbook, &["rollback", &applied, "--yes"]).success();
    assert_eq!(offset_of(&group), Some(10));
}

/// Copies a data dir (its files, `history` and `history/blobs`).
fn copy_data_dir(from: &Path, to: &Path) {
    for sub in ["", "history", "history/blobs"] {
        std::fs::create_dir_all(to.join(sub)).unwrap();
        for entry in std::fs::read_dir(from.join(sub)).unwrap().flatten() {
            if entry.file_type().unwrap().is_file() {
                std::fs::copy(entry.path(), to.join(sub).join(entry.file_name())).unwrap();
            }
        }
    }
}

/// A copy of `data` with one byte flipped in the stored form of a record:
/// the first one sled wrote (`first`), or the last.
fn damaged_copy(data: &Path, first: bool) -> PathBuf {
    let copy = data.with_file_name(unique("damaged"));
    copy_data_dir(data, &copy);
    let db = copy.join("history/db");
    let mut bytes = std::fs::read(&db).unwrap();
    let frames: Vec<usize> =
        (0..bytes.len() - 4).filter(|&i| bytes[i..].starts_with(&[0x28, 0xb5, 0x2f, 0xfd])).collect();
    let at = if first { frames[0] } else { *frames.last().unwrap() } + 6;
    bytes[at] ^= 0xff;
    std::fs::write(&db, bytes).unwrap();
    copy
}

#[tokio::test(flavor = "multi_thread")]
async fn a_flipped_byte_is_found_by_check_and_repair_salvages_every_readable_run() {
    let (_, runbook) = topic_and_group("flipped").await;
    let root = std::env::temp_dir().join(unique("ebb-damage"));
    let data = root.join("data");
    ebb_with(&data, &runbook, &["run", "rb.yaml", "--yes"]).success();
    for _ in 0..8 {
        ebb_with(&data, &runbook, &["plan", "rb.yaml"]).success();
    }
    let all = ids(&runs(&data));
    assert_eq!(all.len(), 9);

    // Damage early in the log: sled cannot open the store at all.
    let damaged = damaged_copy(&data, true);
    ebb_with(&damaged, "", &["history", "check"]).code(1).stdout_contains("DAMAGED");
    ebb_with(&damaged, "", &["history"]).code(1).stderr_contains("run `ebb history repair`");
    let repaired = ebb_with(&damaged, "", &["history", "repair", "--output", "json"]).success().json();
    assert_eq!((repaired["salvaged"].as_u64(), repaired["lost"].as_array().map(Vec::len)), (Some(9), Some(0)));
    assert!(Path::new(repaired["damaged_kept_at"].as_str().unwrap()).is_dir(), "the damaged store is kept");
    assert_eq!(ids(&runs(&damaged)), all, "every run salvaged");
    ebb_with(&damaged, "", &["history", "check"]).success().stdout_contains("9 run(s) read back whole");

    // Damage to the last write, which sled would take for a torn one and drop:
    // check says so, and repair accounts for every run, salvaged or lost.
    let damaged = damaged_copy(&data, false);
    ebb_with(&damaged, "", &["history", "check"]).code(1).stdout_contains("DAMAGED");
    // An ordinary command on the damaged store does not wipe out what check found.
    let _ = ebb_with(&damaged, "", &["history"]);
    ebb_with(&damaged, "", &["history", "check"]).code(1).stdout_contains("DAMAGED");
    let repaired = ebb_with(&damaged, "", &["history", "repair", "--output", "json"]).json();
    let salvaged = repaired["salvaged"].as_u64().unwrap();
    let lost = repaired["lost"].as_array().unwrap().len() as u64 + repaired["lost_unnamed"].as_u64().unwrap();
    assert_eq!(salvaged + lost, 9, "no run dropped in silence: {repaired}");

    assert_eq!(ids(&runs(&data)), all, "the original store is untouched");
    let _ = std::fs::remove_dir_all(&root);
}
