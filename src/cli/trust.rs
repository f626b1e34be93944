//! `trust add|list|remove` and `verify`.

use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum TrustCmd {
    /// Trust a PEM public key, a root certificate or a Sigstore trusted_root.json.
    Add {
        file: PathBuf,
        #[arg(long)]
        name: String,
        /// pipeline-signer, approver, reviewer, rekor or root-ca.
        #[arg(long)]
        role: String,
    },
    List {
        #[arg(long)]
        json: bool,
    },
    Remove { id: String },
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    pub set: String,
    #[arg(long)]
    pub json: bool,
}

pub fn trust(_store: Option<PathBuf>, _c: TrustCmd) -> anyhow::Result<i32> {
    anyhow::bail!("trust: not built yet")
}

pub fn verify(_store: Option<PathBuf>, _a: VerifyArgs) -> anyhow::Result<i32> {
    anyhow::bail!("verify: not built yet")
}
