//! What a mutating kind did, as its apply recorded it: kept in the run's
//! history under the kind's key (`reset`, `purge`, `delete_offsets`).

use serde::{Deserialize, Serialize};

use super::delete_offsets::OffsetsDeleted;
use super::purge_messages::PurgeApplied;
use super::reset_offsets::ResetApplied;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppliedDetail {
    Reset(ResetApplied),
    Purge(PurgeApplied),
    DeleteOffsets(OffsetsDeleted),
}
