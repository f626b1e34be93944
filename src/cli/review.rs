//! `review`, `waiver ...`, `keys ...`, `audit ...`: recording decisions.

use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ReviewArgs {
    pub set: String,
    /// Vulnerability id, plus the component (name or purl) where ambiguous.
    pub finding: String,
    #[arg(long)]
    pub component: Option<String>,
    #[arg(long)]
    pub state: String,
    #[arg(long)]
    pub justification: Option<String>,
    #[arg(long)]
    pub note: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum WaiverCmd {
    New {
        set: String,
        finding: String,
        #[arg(long)]
        component: Option<String>,
        #[arg(long)]
        expires: Option<String>,
        #[arg(long = "type")]
        kind: Option<String>,
        #[arg(long)]
        text: Option<String>,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    Sign {
        file: PathBuf,
        #[arg(long)]
        key: PathBuf,
        #[arg(long)]
        passphrase_file: Option<PathBuf>,
    },
    List {
        set: String,
        #[arg(long)]
        json: bool,
    },
    Export {
        set: String,
        #[arg(long)]
        out: PathBuf,
    },
    Import { file: PathBuf },
}

#[derive(Debug, Subcommand)]
pub enum KeysCmd {
    Generate {
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(long)]
        passphrase_file: Option<PathBuf>,
    },
    Import { file: PathBuf },
}

#[derive(Debug, Subcommand)]
pub enum AuditCmd {
    Verify,
    List {
        #[arg(long)]
        json: bool,
    },
}

pub fn review(_store: Option<PathBuf>, _a: ReviewArgs) -> anyhow::Result<i32> {
    anyhow::bail!("review: not built yet")
}

pub fn waiver(_store: Option<PathBuf>, _c: WaiverCmd) -> anyhow::Result<i32> {
    anyhow::bail!("waiver: not built yet")
}

pub fn keys(_c: KeysCmd) -> anyhow::Result<i32> {
    anyhow::bail!("keys: not built yet")
}

pub fn audit(_store: Option<PathBuf>, _c: AuditCmd) -> anyhow::Result<i32> {
    anyhow::bail!("audit: not built yet")
}
