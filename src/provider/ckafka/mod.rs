//! Tencent Cloud CKafka, through the Tencent Cloud API 3.0 (version 2019-08-19).

pub mod api;
mod provider;

pub use provider::CkafkaProvider;
