//! Which step kinds each provider can run (SPEC §7). Validation uses this so a
//! runbook that cannot work on its cluster is rejected before it runs.

/// Why `provider` cannot run `step_kind`, or `None` when it can.
pub fn unsupported_step(provider: &str, step_kind: &str) -> Option<&'static str> {
    match (provider, step_kind) {
        ("ckafka", "purge_messages") => Some(
            "the Tencent Cloud CKafka API has no action that deletes messages; purge with retention settings instead",
        ),
        _ => None,
    }
}
