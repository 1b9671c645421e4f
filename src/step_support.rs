//! Which step kinds each provider can run (SPEC §7). Validation uses this so a
//! runbook that cannot work on its cluster is rejected before it runs.

/// Why `provider` cannot run `step_kind`, or `None` when it can.
pub fn unsupported_step(provider: &str, step_kind: &str) -> Option<&'static str> {
    match (provider, step_kind) {
        ("ckafka", "purge_messages") => Some(
            "the Tencent Cloud CKafka API has no action that deletes messages; purge with retention settings instead",
        ),
        ("ckafka" | "dms", "delete_offsets") => Some(
            "the cloud management API has no action that deletes a group's committed offsets; delete them over the \
             Kafka protocol (a `kafka` cluster entry for the same brokers)",
        ),
        _ => None,
    }
}
