//! Benchmark: planning and applying one group's reset over 1,000 and 10,000
//! partitions, against Apache Kafka's `kafka-consumer-groups --reset-offsets`
//! (`--dry-run` and `--execute`) on the same broker, in the same run.
//!
//! Both sides are timed from process start to exit, as an operator runs them:
//! `ebb plan` / `ebb run --yes` against `kafka-consumer-groups.sh`. Before each
//! round both groups are committed back to the same offsets, so every round
//! moves every partition. Run: `cargo bench --bench reset_offsets`
//! (`EBB_TEST_BOOTSTRAP` reuses a running broker; the benchmark deletes its
//! topics at the end). Results go in docs/BENCHMARKS.md.

mod support;

use std::process::Command;
use std::time::Duration;

use ebb::testkit::{Seeder, repo_root, shared_cluster, unique};
use support::{Workdir, median_with, ms};

const ROUNDS: usize = 5;
const PARTITIONS_PER_TOPIC: i32 = 1_000;
const COMMITTED: i64 = 5;

fn main() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let cluster = shared_cluster();
    let seeder = Seeder::new(&cluster.bootstrap);
    let dir = Workdir::new("ebb-bench-reset", cluster);

    println!("reset of one group to the earliest offsets, process start to exit, median of {ROUNDS}");
    println!(
        "{:>10}  {:>12}  {:>12}  {:>6}  {:>12}  {:>12}  {:>6}",
        "partitions", "ebb plan", "apache dry", "ratio", "ebb run", "apache exec", "ratio"
    );
    let mut topics: Vec<String> = Vec::new();
    for total in [1_000, 10_000] {
        while topics.len() * (PARTITIONS_PER_TOPIC as usize) < total {
            let topic = unique("bench-reset");
            runtime.block_on(seeder.create_topic(&topic, PARTITIONS_PER_TOPIC));
            topics.push(topic);
        }
        let (ours, theirs) = (unique("bench-ebb"), unique("bench-apache"));
        let reseed = || {
            for group in [&ours, &theirs] {
                let offsets: Vec<(&str, i32, i64)> = topics
                    .iter()
                    .flat_map(|t| (0..PARTITIONS_PER_TOPIC).map(move |p| (t.as_str(), p, COMMITTED)))
                    .collect();
                runtime.block_on(seeder.commit(group, &offsets));
            }
        };
        let runbook = dir.file(
            &format!("reset-{total}.yaml"),
            &format!(
                "name: bench-reset\ncluster: local\nsteps:\n  - id: reset\n    reset_offsets:\n      group: {ours}\n      topics: [{}]\n      strategy: {{ to_earliest: true }}\n",
                topics.join(", ")
            ),
        );
        let mut apache_args: Vec<String> =
            ["--bootstrap-server", &cluster.bootstrap, "--reset-offsets", "--group", &theirs, "--to-earliest"]
                .map(String::from)
                .to_vec();
        for t in &topics {
            apache_args.extend(["--topic".to_owned(), t.clone()]);
        }

        reseed();
        let ebb_plan = median(|| {
            dir.ebb(&["plan", &runbook, "--output", "json"]);
        });
        let apache_dry = median(|| apache(&[&apache_args[..], &["--dry-run".to_owned()]].concat()));
        let ebb_run = median_with(ROUNDS, &reseed, || {
            dir.ebb(&["run", &runbook, "--yes"]);
        });
        let apache_exec =
            median_with(ROUNDS, &reseed, || apache(&[&apache_args[..], &["--execute".to_owned()]].concat()));
        println!(
            "{total:>10}  {:>12}  {:>12}  {:>5.1}×  {:>12}  {:>12}  {:>5.1}×",
            ms(ebb_plan),
            ms(apache_dry),
            apache_dry.as_secs_f64() / ebb_plan.as_secs_f64(),
            ms(ebb_run),
            ms(apache_exec),
            apache_exec.as_secs_f64() / ebb_run.as_secs_f64()
        );
    }
    // A broker keeps a file open per partition: leave it as it was found.
    for topic in &topics {
        runtime.block_on(seeder.delete_topic(topic));
    }
}

fn apache(args: &[String]) {
    let output = Command::new(repo_root().join("scripts/kafka"))
        .args(["tool", "consumer-groups"])
        .args(args)
        .output()
        .expect("run kafka-consumer-groups");
    let out = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && out.contains("NEW-OFFSET"),
        "kafka-consumer-groups failed:\n{out}{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn median(run: impl FnMut()) -> Duration {
    median_with(ROUNDS, &|| {}, run)
}
