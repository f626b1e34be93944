//! Analysis: pure functions over the model and store rows: signature verification,
//! the gate policy, cross-checks and diffs. Returns data; presenters render it.
pub mod verify;
