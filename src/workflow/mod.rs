//! Use-cases shared by the CLI and the TUI. After import, this layer is the only writer,
//! and every change it makes appends an audit entry in the same transaction.

pub mod actor;
pub mod config;
pub mod demo;
pub mod export;
pub mod finding_index;
pub mod import;
mod import_components;
mod import_spool;
mod import_stream;
mod interner;
pub mod judge;
mod key_runs;
pub mod keys;
pub mod review;
mod runs;
mod scratch;
pub mod verify;
pub mod waivers;

pub use actor::Actor;
pub use import::{
    import_paths, FileReport, ImportOptions, ImportProgress, ImportReport, SetReport,
};
