//! The command line: clap definitions and thin handlers over the workflow layer. Exit
//! codes: 0 success / PASS, 1 some files failed / FAIL, 2 usage, store or I/O error,
//! 3 CONDITIONAL. Handlers return the code; `main` only maps errors to 2.

mod demo;
mod dev;
mod evidence;
mod exports;
mod judge;
pub mod output;
mod review;
mod trust;

use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "dossier",
    version,
    about = "Offline review workstation for container-image supply-chain evidence"
)]
pub struct Cli {
    /// SQLite store to use (default: the platform data directory).
    #[arg(long, global = true, env = "DOSSIER_STORE")]
    pub store: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open the workstation on a temporary store preloaded with the bundled sample evidence.
    Demo(demo::DemoArgs),
    /// Import evidence: files, directories, .tar/.tar.gz archives, OCI layouts, skopeo dirs.
    Import(evidence::ImportArgs),
    /// List evidence sets.
    List(evidence::JsonFlag),
    /// Show one evidence set and its files.
    Show(evidence::SetArgs),
    /// List a set's components.
    Components(evidence::SetArgs),
    /// List a set's findings.
    Findings(judge::FindingsArgs),
    /// Re-verify a set's signatures and attestations against the trust store.
    Verify(trust::VerifyArgs),
    /// Manage trusted keys and roots.
    #[command(subcommand)]
    Trust(trust::TrustCmd),
    /// Evaluate the scan-gate policy: PASS (0), CONDITIONAL (3) or FAIL (1).
    Gate(judge::GateArgs),
    /// List a set's cross-check diagnostics.
    Checks(judge::ChecksArgs),
    /// Import threat data (FIRST EPSS CSV, CISA KEV JSON).
    #[command(subcommand)]
    Threat(judge::ThreatCmd),
    /// Record a disposition on a finding.
    Review(review::ReviewArgs),
    /// Create, sign, list, import and export waivers.
    #[command(subcommand)]
    Waiver(review::WaiverCmd),
    /// Generate or import reviewer keys.
    #[command(subcommand)]
    Keys(review::KeysCmd),
    /// Inspect and verify the hash-chained audit log.
    #[command(subcommand)]
    Audit(review::AuditCmd),
    /// Export the disposition package (JSON, PDF, VEX, POA&M).
    Export(exports::ExportArgs),
    /// Verify an exported package's signature, schema and evidence hashes.
    VerifyPackage(exports::VerifyPackageArgs),
    /// Compare two sets of the same repository.
    Diff(judge::DiffArgs),
    /// Developer tools (evidence generators).
    #[command(subcommand, hide = true)]
    Dev(dev::DevCmd),
}

/// Where the store lives: `--store`, `DOSSIER_STORE`, else the platform data directory.
pub fn store_path(cli_store: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    if let Some(p) = cli_store {
        return Ok(p);
    }
    let dirs = directories::ProjectDirs::from("mil", "dossier", "dossier").ok_or_else(|| {
        anyhow::anyhow!("no home directory: pass --store PATH or set DOSSIER_STORE")
    })?;
    Ok(dirs.data_dir().join("dossier.db"))
}

pub fn open_store(cli_store: Option<PathBuf>) -> anyhow::Result<crate::store::Store> {
    let p = store_path(cli_store)?;
    crate::store::Store::open(&p).map_err(|e| anyhow::anyhow!(e))
}

/// Runs the parsed command line; returns the process exit code.
pub fn run(cli: Cli) -> anyhow::Result<i32> {
    let store = cli.store;
    match cli.command {
        None => {
            let p = store_path(store)?;
            crate::tui::run(&p)?;
            Ok(0)
        }
        Some(Command::Demo(a)) => demo::run(a),
        Some(Command::Import(a)) => evidence::import(store, a),
        Some(Command::List(a)) => evidence::list(store, a),
        Some(Command::Show(a)) => evidence::show(store, a),
        Some(Command::Components(a)) => evidence::components(store, a),
        Some(Command::Findings(a)) => judge::findings(store, a),
        Some(Command::Verify(a)) => trust::verify(store, a),
        Some(Command::Trust(c)) => trust::trust(store, c),
        Some(Command::Gate(a)) => judge::gate(store, a),
        Some(Command::Checks(a)) => judge::checks(store, a),
        Some(Command::Threat(c)) => judge::threat(store, c),
        Some(Command::Review(a)) => review::review(store, a),
        Some(Command::Waiver(c)) => review::waiver(store, c),
        Some(Command::Keys(c)) => review::keys(c),
        Some(Command::Audit(c)) => review::audit(store, c),
        Some(Command::Export(a)) => exports::export(store, a),
        Some(Command::VerifyPackage(a)) => exports::verify_package(a),
        Some(Command::Diff(a)) => judge::diff(store, a),
        Some(Command::Dev(c)) => dev::run(c),
    }
}
