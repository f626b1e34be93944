//! Hidden developer commands: evidence generators for the sample set and benchmarks.

use clap::Subcommand;
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum DevCmd {
    /// Rewrite the bundled sample evidence (two versions of the sample image) into DIR.
    GenSample { dir: PathBuf },
}

pub fn run(c: DevCmd) -> anyhow::Result<i32> {
    match c {
        DevCmd::GenSample { dir } => {
            crate::devgen::gen_sample(&dir)?;
            println!("sample evidence written to {}", dir.display());
            Ok(0)
        }
    }
}
