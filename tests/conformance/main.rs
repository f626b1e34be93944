//! Conformance suite over the real tool output in `../shared/fixtures` (see its
//! PROVENANCE.md). Every test here is `#[ignore]`d so `cargo test` passes without
//! `../shared`; `.ci/run` runs them with `--ignored`. Expected counts are computed in the
//! tests from the raw JSON/XML with the identity rules, never with the parser under test.

mod common;
mod evidence;
mod judge;
mod review;
mod sbom;
mod sbom_stream;
mod scan;
mod scan_stream;
mod verify;
mod verify_bundle;
mod verify_policy;
