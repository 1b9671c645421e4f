//! Huawei Cloud DMS for Kafka, through its REST v2 API.

pub mod api;
