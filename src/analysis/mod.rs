//! Analysis: pure functions over the model and store rows: signature verification,
//! the gate policy, cross-checks and diffs. Returns data; presenters render it.
pub mod verify;

pub mod checks;
pub mod cvss;
pub mod diff;
pub mod finding_index;
pub mod gate;
pub mod ignorefiles;
pub mod policy;
pub mod threat;
pub mod vex;
pub mod waiver_eval;
pub mod xccdf;
