//! Resetting one group to the earliest offsets over 1,000 and 10,000
//! partitions: `ebb plan` / `ebb run --yes` against Apache's
//! `kafka-consumer-groups --reset-offsets --dry-run` / `--execute` and
//! kafkactl's `reset offset` (which is a dry run unless given `--execute`).
//! Before each round every group is committed back to the same offsets, so
//! every round moves every partition; afterwards each tool's group is checked
//! to be at the earliest offsets everywhere.

use ebb_testkit::unique;

use crate::measure::{Sample, median, median_alternating, quote, run};
use crate::results::Results;
use crate::{Bench, PARTITIONS_PER_TOPIC};

const COMMITTED: i64 = 5;

/// Returns the requests one `ebb plan` and one `ebb run` sent, per partition
/// count, and the ten topics of 1,000 partitions it made (for the purge).
pub fn compare(b: &Bench, results: &mut Results) -> (Vec<(String, String)>, Vec<String>) {
    let mut counts = Vec::new();
    let mut topics: Vec<String> = Vec::new();
    for total in [1_000usize, 10_000] {
        while topics.len() * (PARTITIONS_PER_TOPIC as usize) < total {
            let topic = unique("bench-reset");
            b.runtime.block_on(b.seeder.create_topic(&topic, PARTITIONS_PER_TOPIC));
            topics.push(topic);
        }
        let (ours, theirs, kafkactl) = (unique("bench-ebb"), unique("bench-apache"), unique("bench-kafkactl"));
        let groups = [&ours, &theirs, &kafkactl];
        let mut reseed = || {
            let offsets: Vec<(&str, i32, i64)> = topics
                .iter()
                .flat_map(|t| (0..PARTITIONS_PER_TOPIC).map(move |p| (t.as_str(), p, COMMITTED)))
                .collect();
            for group in groups {
                b.runtime.block_on(b.seeder.commit(group, &offsets));
            }
        };
        let runbook = b.dir.file(
            &format!("reset-{total}.yaml"),
            &format!(
                "name: bench-reset\ncluster: local\nsteps:\n  - id: reset\n    reset_offsets:\n      group: {ours}\n      topics: [{}]\n      strategy: {{ to_earliest: true }}\n",
                topics.join(", ")
            ),
        );
        let topic_args: String = topics.iter().map(|t| format!(" --topic {}", quote(t))).collect();
        let apache = |mode: &str| {
            format!(
                "{} tool consumer-groups --bootstrap-server {} --reset-offsets --group {} --to-earliest{topic_args} {mode}",
                quote(&b.scripts_kafka()),
                b.cluster.bootstrap,
                quote(&theirs)
            )
        };
        let kafkactl_cmd = |mode: &str| {
            b.tools.kafkactl.as_ref().map(|path| {
                format!(
                    "{} reset offset {}{topic_args} --oldest {mode}",
                    quote(&path.display().to_string()),
                    quote(&kafkactl)
                )
            })
        };
        let none: &[(&str, &str)] = &[];
        let kenv = b.kafkactl_env();
        let kenv: Vec<(&str, &str)> = kenv.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();

        reseed();
        let timed = |script: &str, env: &[(&str, &str)], expect: &str| -> Sample {
            let (sample, stdout) = run(script, env);
            assert!(String::from_utf8_lossy(&stdout).contains(expect), "{script} did not print {expect:?}");
            sample
        };
        let rounds = b.rounds;
        let plan_with = |binary: &std::path::Path| b.ebb_binary(binary, &["plan", &runbook, "--output", "json"]);
        let ours_plan = plan_with(std::path::Path::new(env!("CARGO_BIN_EXE_ebb")));
        let mut ebb_plan_sample = || timed(&ours_plan, none, "\"reset_offsets\"");
        let (ebb_plan, baseline_plan) = match &b.baseline {
            Some((_, binary)) => {
                let theirs_plan = plan_with(binary);
                let (ours, earlier) = median_alternating(rounds, &mut || {}, &mut ebb_plan_sample, &mut || {
                    timed(&theirs_plan, none, "\"reset_offsets\"")
                });
                (ours, Some(earlier))
            }
            None => (median(rounds, &mut || {}, &mut ebb_plan_sample), None),
        };
        let apache_dry = median(rounds, &mut || {}, &mut || timed(&apache("--dry-run"), none, "NEW-OFFSET"));
        let mut plan_peers = vec![("kafka-consumer-groups --dry-run".to_owned(), apache_dry)];
        if let Some(script) = kafkactl_cmd("") {
            let sample = median(rounds, &mut || {}, &mut || timed(&script, &kenv, ""));
            plan_peers.push(("kafkactl reset offset (dry run)".to_owned(), sample));
        }
        if let (Some((name, _)), Some(sample)) = (&b.baseline, baseline_plan) {
            plan_peers.push((format!("ebb plan at {name}"), sample));
        }
        let label = format!("reset plan, {total} partitions");
        results.compare(b.brokers, &label, ("ebb plan", ebb_plan), plan_peers);

        // Each tool's group must be at the earliest offsets everywhere after its own rounds.
        let reset_everywhere = |group: &str| {
            let committed = b.runtime.block_on(b.seeder.committed(group));
            assert_eq!(committed.len(), total, "{group} has an offset on every partition");
            assert!(committed.values().all(|o| *o == 0), "{group} was reset to the earliest offsets");
        };
        let run_with = |binary: &std::path::Path| b.ebb_binary(binary, &["run", &runbook, "--yes"]);
        let ours_run = run_with(std::path::Path::new(env!("CARGO_BIN_EXE_ebb")));
        let mut ebb_run_sample = || timed(&ours_run, none, "");
        let (ebb_run, baseline_run) = match &b.baseline {
            Some((_, binary)) => {
                let theirs_run = run_with(binary);
                let (ours, earlier) =
                    median_alternating(rounds, &mut reseed, &mut ebb_run_sample, &mut || timed(&theirs_run, none, ""));
                (ours, Some(earlier))
            }
            None => (median(rounds, &mut reseed, &mut ebb_run_sample), None),
        };
        reset_everywhere(&ours);
        let apache_exec = median(rounds, &mut reseed, &mut || timed(&apache("--execute"), none, "NEW-OFFSET"));
        reset_everywhere(&theirs);
        let mut apply_peers = vec![("kafka-consumer-groups --execute".to_owned(), apache_exec)];
        if let Some(script) = kafkactl_cmd("--execute") {
            let sample = median(rounds, &mut reseed, &mut || timed(&script, &kenv, ""));
            reset_everywhere(&kafkactl);
            apply_peers.push(("kafkactl reset offset --execute".to_owned(), sample));
        }
        if let (Some((name, _)), Some(sample)) = (&b.baseline, baseline_run) {
            apply_peers.push((format!("ebb run --yes at {name}"), sample));
        }
        let label = format!("reset apply, {total} partitions");
        results.compare(b.brokers, &label, ("ebb run --yes", ebb_run), apply_peers);

        let plan = b.ebb(&["plan", &runbook, "--output", "json"]);
        if let Some(summary) = crate::requests::counted(b, &plan) {
            counts.push((format!("ebb plan, reset of {total} partitions"), summary));
        }
        reseed();
        if let Some(summary) = crate::requests::counted(b, &b.ebb(&["run", &runbook, "--yes"])) {
            counts.push((format!("ebb run, reset of {total} partitions"), summary));
        }
    }
    (counts, topics)
}
