//! Huawei Cloud DMS for Kafka, through its REST v2 API.

pub mod api;
mod provider;

pub use provider::DmsProvider;
