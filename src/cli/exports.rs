//! `export` and `verify-package`.

use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[arg(long)]
    pub package: Option<String>,
    #[arg(long)]
    pub set: Option<String>,
    /// json, pdf, openvex, cyclonedx-vex, poam-csv, poam-xlsx or all.
    #[arg(long, default_value = "all")]
    pub format: String,
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long)]
    pub sign_key: Option<PathBuf>,
    #[arg(long)]
    pub passphrase_file: Option<PathBuf>,
    #[arg(long)]
    pub as_of: Option<String>,
    #[arg(long)]
    pub with_evidence: bool,
    #[arg(long)]
    pub all_findings: bool,
}

#[derive(Debug, Args)]
pub struct VerifyPackageArgs {
    pub path: PathBuf,
    #[arg(long)]
    pub key: PathBuf,
}

pub fn export(_store: Option<PathBuf>, _a: ExportArgs) -> anyhow::Result<i32> {
    anyhow::bail!("export: not built yet")
}

pub fn verify_package(_a: VerifyPackageArgs) -> anyhow::Result<i32> {
    anyhow::bail!("verify-package: not built yet")
}
