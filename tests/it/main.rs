//! Integration tests: the CLI as operators run it, runbook validation, and
//! everything that touches Kafka against a real Apache Kafka (one broker per
//! test run, shared; every test makes its own topics and groups), cross-checked
//! with Apache's own tools. One test binary, so the broker starts once.

mod approvals;
mod audit_stream;
mod broker_failover;
mod cli_describe;
mod cli_harness;
mod cli_polish;
mod cli_validate;
mod cloud_providers;
mod console;
mod console_support;
mod daemon_api;
mod daemon_cli;
mod daemon_hardening;
mod daemon_schedule;
mod daemon_support;
mod daemon_tls;
mod everyday_jobs;
mod file_confinement;
mod ha_support;
mod high_availability;
mod history_damage;
mod history_retention;
mod history_runs;
mod history_safety;
mod history_support;
mod hostile_input;
mod messages_purge;
mod messages_query;
mod network_faults;
mod offsets_compute;
mod offsets_conformance;
mod offsets_delete;
mod one_offs;
mod plan_evidence;
mod provider_reads;
mod provider_three_brokers;
mod purge_time;
mod query_view;
mod query_where;
mod reset_brokers;
mod reset_conformance;
mod reset_safety;
mod runbook_examples;
mod runbook_validation;
mod scan_equality;
mod secrets_never_leak;
mod secure_clusters;
