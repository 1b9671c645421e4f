//! Step kinds at work: one file per kind. Each takes its resolved inputs (the
//! compiled form of its spec: templates rendered, times pinned to the run's
//! start) and a provider, and returns an output that later steps, plans and
//! history read.

pub mod compute_offsets;
pub mod confined_files;
pub mod offsets_file;
pub mod progress;
pub mod protection;
pub mod purge_messages;
pub mod query_messages;
