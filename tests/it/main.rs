//! Integration tests against a real Apache Kafka (one broker per test run,
//! shared; every test makes its own topics and groups), cross-checked with
//! Apache's own tools. One test binary, so the broker starts once.

mod cli_describe;
mod cli_harness;
mod provider_reads;
mod provider_three_brokers;
