//! A compute in a plan for people: how many partitions of which group.

use super::compute::ComputeOutput;

/// What follows the step's status on its line.
pub fn headline(output: &ComputeOutput) -> String {
    format!(", {} partition(s) of group {:?}", output.partitions.len(), output.group)
}
