//! Secured clusters, against the shared broker's secured listeners: a reset
//! and a purge run over SASL_PLAINTEXT (SCRAM-SHA-256, SCRAM-SHA-512, PLAIN),
//! SSL, SASL_SSL and mutual TLS, checked with Apache's tools on the plaintext
//! listener; and every kind of refused connection fails within the timeout,
//! says which kind it is, shows no secret and changes nothing.

use std::time::{Duration, Instant};

use ebb_testkit::{SecureListeners, Seeder, apache, shared_cluster, unique};

use crate::cli_harness::{Ebb, Outcome};

/// The bound every test cluster here is given.
const TIMEOUT: Duration = Duration::from_secs(10);

/// `ebb.yaml` with cluster `local` at `bootstrap` with these properties.
fn config(bootstrap: &str, properties: &[(&str, String)]) -> String {
    let mut text = format!(
        "clusters:\n  local:\n    kafka:\n      bootstrap_servers: {bootstrap}\n      timeout: {}s\n      properties:\n",
        TIMEOUT.as_secs()
    );
    text.push_str("        client.id: ebb-secure-test\n");
    for (key, value) in properties {
        text.push_str(&format!("        {key}: \"{value}\"\n"));
    }
    text
}

fn path(p: std::path::PathBuf) -> String {
    p.to_str().expect("a UTF-8 path").to_owned()
}

/// Moves the group to the log end, then purges what every group has consumed
/// (as planned: what the group had consumed before the reset).
fn runbook(topic: &str, group: &str) -> String {
    format!(
        "name: secure\ncluster: local\nsteps:\n  - id: targets\n    compute_offsets: {{ group: {group}, topics: [{topic}], strategy: {{ to_latest: true }} }}\n  - id: reset\n    reset_offsets: {{ offsets: targets }}\n  - id: purge\n    purge_messages: {{ topic: {topic}, before: {{ high_watermark: true }} }}\n"
    )
}

/// A topic of 2 × 20 records and a group that has read 5 of each partition.
async fn seeded(name: &str) -> (String, String) {
    let seeder = Seeder::new(&shared_cluster().bootstrap);
    let (topic, group) = (unique(name), unique(&format!("{name}-group")));
    seeder.create_topic(&topic, 2).await;
    seeder.produce_everywhere(&topic, 2, 20, "r").await;
    seeder.commit(&group, &[(&topic, 0, 5), (&topic, 1, 5)]).await;
    (topic, group)
}

fn committed(group: &str) -> Vec<Option<i64>> {
    apache::group_offsets(&shared_cluster().bootstrap, group).iter().map(|r| r.current).collect()
}

/// Runs the runbook over a secured listener and checks the outcome with Apache's tools.
async fn reset_and_purge_over(name: &str, bootstrap: &str, properties: &[(&str, String)], ebb: Ebb) {
    let (topic, group) = seeded(name).await;
    let listeners = SecureListeners::of(shared_cluster());
    let run = ebb
        .config(&config(bootstrap, properties))
        .file("rb.yaml", &runbook(&topic, &group))
        .args(["run", "rb.yaml", "--yes"])
        .run()
        .success()
        .never_shows(&listeners.password);
    assert!(run.stdout.contains("committed"), "{}", run.stdout);
    assert_eq!(committed(&group), vec![Some(20), Some(20)], "the group moved to the log end");
    let starts = apache::get_offsets(&shared_cluster().bootstrap, &topic, "-2");
    assert_eq!(starts.into_values().collect::<Vec<_>>(), vec![5, 5], "purged up to what the group had consumed");
}

fn sasl(mechanism: &str, user: &str, password: &str) -> Vec<(&'static str, String)> {
    vec![
        ("sasl.mechanism", mechanism.to_owned()),
        ("sasl.username", user.to_owned()),
        ("sasl.password", password.to_owned()),
    ]
}

fn with(mut properties: Vec<(&'static str, String)>, more: &[(&'static str, String)]) -> Vec<(&'static str, String)> {
    properties.extend_from_slice(more);
    properties
}

#[tokio::test(flavor = "multi_thread")]
async fn over_sasl_plaintext_with_scram_sha_256_and_the_password_from_the_environment() {
    let l = SecureListeners::of(shared_cluster());
    let properties =
        with(sasl("SCRAM-SHA-256", &l.user, "${KAFKA_PASSWORD}"), &[("security.protocol", "SASL_PLAINTEXT".into())]);
    let ebb = Ebb::new().env("KAFKA_PASSWORD", &l.password);
    reset_and_purge_over("scram256", &l.sasl_plaintext, &properties, ebb).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn over_sasl_plaintext_with_scram_sha_512_and_the_password_from_a_file() {
    let l = SecureListeners::of(shared_cluster());
    let properties = with(
        sasl("SCRAM-SHA-512", &l.user, "${file:secrets/kafka-password}"),
        &[("security.protocol", "SASL_PLAINTEXT".into())],
    );
    let ebb = Ebb::new().file("secrets/kafka-password", &format!("{}\n", l.password));
    reset_and_purge_over("scram512", &l.sasl_plaintext, &properties, ebb).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn over_sasl_plaintext_with_plain() {
    let l = SecureListeners::of(shared_cluster());
    let properties = with(sasl("PLAIN", &l.user, &l.password), &[("security.protocol", "SASL_PLAINTEXT".into())]);
    reset_and_purge_over("plain", &l.sasl_plaintext, &properties, Ebb::new()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn over_ssl() {
    let l = SecureListeners::of(shared_cluster());
    let properties = [("security.protocol", "SSL".to_owned()), ("ssl.ca.location", path(l.cert("ca.crt")))];
    reset_and_purge_over("ssl", &l.ssl, &properties, Ebb::new()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn over_sasl_ssl_with_scram_sha_512() {
    let l = SecureListeners::of(shared_cluster());
    let properties = with(
        sasl("SCRAM-SHA-512", &l.user, &l.password),
        &[("security.protocol", "SASL_SSL".into()), ("ssl.ca.location", path(l.cert("ca.crt")))],
    );
    reset_and_purge_over("sasl-ssl", &l.sasl_ssl, &properties, Ebb::new()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn over_mutual_tls() {
    let l = SecureListeners::of(shared_cluster());
    let properties = [
        ("security.protocol", "SSL".to_owned()),
        ("ssl.ca.location", path(l.cert("ca.crt"))),
        ("ssl.certificate.location", path(l.cert("client.crt"))),
        ("ssl.key.location", path(l.cert("client.key"))),
    ];
    reset_and_purge_over("mtls", &l.mtls, &properties, Ebb::new()).await;
}

/// How a refusal ends: at once when its cause is certain, or at the cluster's
/// timeout when the same signs could be a broker restarting.
#[derive(Clone, Copy)]
enum Ends {
    AtOnce,
    AtTheTimeout,
}

/// Runs the runbook where the connection will be refused: exit 1 within the
/// timeout, `expected` in the message, no secret shown, nothing changed.
async fn refused(name: &str, bootstrap: &str, properties: &[(&str, String)], expected: &str, ends: Ends) -> Outcome {
    let (topic, group) = seeded(name).await;
    let l = SecureListeners::of(shared_cluster());
    let started = Instant::now();
    let outcome = Ebb::new()
        .config(&config(bootstrap, properties))
        .file("rb.yaml", &runbook(&topic, &group))
        .args(["run", "rb.yaml", "--yes"])
        .run()
        .code(1)
        .stderr_contains(expected)
        .never_shows(&l.password);
    let took = started.elapsed();
    match ends {
        Ends::AtOnce => assert!(took < TIMEOUT / 2, "took {took:?}; a certain cause ends the wait at once"),
        // The timeout, and the process's own start and the run's record around it.
        Ends::AtTheTimeout => assert!(took < TIMEOUT + Duration::from_secs(5), "took {took:?}, beyond the timeout"),
    }
    assert_eq!(committed(&group), vec![Some(5), Some(5)], "the group did not move");
    let starts = apache::get_offsets(&shared_cluster().bootstrap, &topic, "-2");
    assert_eq!(starts.into_values().collect::<Vec<_>>(), vec![0, 0], "nothing was purged");
    outcome
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_scram_password_is_named_and_never_shown() {
    let l = SecureListeners::of(shared_cluster());
    let wrong = format!("{}-wrong", l.password);
    let properties = with(sasl("SCRAM-SHA-256", &l.user, &wrong), &[("security.protocol", "SASL_PLAINTEXT".into())]);
    refused("wrong-scram", &l.sasl_plaintext, &properties, "wrong user name or password", Ends::AtOnce)
        .await
        .stderr_contains("SCRAM-SHA-256")
        .never_shows(&wrong);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_plain_password_over_tls_is_named_and_never_shown() {
    let l = SecureListeners::of(shared_cluster());
    let wrong = "not-the-password-7d1e";
    let properties = with(
        sasl("PLAIN", &l.user, wrong),
        &[("security.protocol", "SASL_SSL".into()), ("ssl.ca.location", path(l.cert("ca.crt")))],
    );
    refused("wrong-plain", &l.sasl_ssl, &properties, "wrong user name or password", Ends::AtOnce)
        .await
        .never_shows(wrong);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_certificate_authority_is_named() {
    let l = SecureListeners::of(shared_cluster());
    let properties = [("security.protocol", "SSL".to_owned()), ("ssl.ca.location", path(l.cert("other-ca.crt")))];
    refused("unknown-ca", &l.ssl, &properties, "unknown certificate authority", Ends::AtOnce).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_certificate_for_another_host_is_named() {
    let l = SecureListeners::of(shared_cluster());
    let properties = [("security.protocol", "SSL".to_owned()), ("ssl.ca.location", path(l.cert("ca.crt")))];
    refused("wrong-host", &l.wrong_host, &properties, "certificate for the wrong host", Ends::AtOnce).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plaintext_client_on_a_tls_port_is_named() {
    let l = SecureListeners::of(shared_cluster());
    refused("plain-on-tls", &l.ssl, &[], "plaintext client on a TLS listener", Ends::AtOnce).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plaintext_client_on_a_sasl_port_is_named() {
    let l = SecureListeners::of(shared_cluster());
    refused("plain-on-sasl", &l.sasl_plaintext, &[], "its listener expects SASL or TLS", Ends::AtTheTimeout).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tls_client_on_a_plaintext_port_is_named() {
    let l = SecureListeners::of(shared_cluster());
    let properties = [("security.protocol", "SSL".to_owned()), ("ssl.ca.location", path(l.cert("ca.crt")))];
    refused(
        "tls-on-plain",
        &shared_cluster().bootstrap,
        &properties,
        "TLS to a plaintext listener",
        Ends::AtTheTimeout,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_client_certificate_is_named() {
    let l = SecureListeners::of(shared_cluster());
    let properties = [("security.protocol", "SSL".to_owned()), ("ssl.ca.location", path(l.cert("ca.crt")))];
    refused("no-client-cert", &l.mtls, &properties, "client certificate refused", Ends::AtOnce).await;
}

/// A query over SASL_SSL reads through librdkafka's consumer and its plan says
/// so; the same query on the plaintext listener reads directly and says nothing.
#[tokio::test(flavor = "multi_thread")]
async fn a_query_over_tls_reads_through_librdkafka_and_the_plan_says_so() {
    let (topic, _) = seeded("query-sasl-ssl").await;
    let l = SecureListeners::of(shared_cluster());
    let properties = with(
        sasl("SCRAM-SHA-512", &l.user, &l.password),
        &[("security.protocol", "SASL_SSL".into()), ("ssl.ca.location", path(l.cert("ca.crt")))],
    );
    let query = format!(
        "name: q\ncluster: local\nsteps:\n  - id: find\n    query_messages: {{ topic: {topic}, from_offset: 0, contains: r, limit: 100 }}\n"
    );
    let plan = |bootstrap: &str, properties: &[(&str, String)]| {
        let out = Ebb::new()
            .config(&config(bootstrap, properties))
            .file("q.yaml", &query)
            .args(["plan", "q.yaml", "--output", "json"])
            .run()
            .success()
            .never_shows(&l.password);
        let plan: serde_json::Value = serde_json::from_str(&out.stdout).expect("plan JSON");
        assert_eq!(plan["steps"][0]["output"]["scanned"], 40, "every record read: {plan}");
        plan["steps"][0]["warnings"].to_string()
    };
    let warnings = plan(&l.sasl_ssl, &properties);
    assert!(warnings.contains("librdkafka") && warnings.contains("SASL_SSL"), "{warnings}");
    let warnings = plan(&shared_cluster().bootstrap, &[]);
    assert!(!warnings.contains("librdkafka"), "{warnings}");
}
