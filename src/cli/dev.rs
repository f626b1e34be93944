//! Hidden developer commands: evidence generators for the sample set and benchmarks.

use clap::Subcommand;
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum DevCmd {
    /// Rewrite the bundled sample evidence (two versions of the sample image) into DIR.
    GenSample { dir: PathBuf },
    /// Write synthetic Syft/Trivy/Grype-shaped evidence of any size (benchmarks, tests).
    Gen {
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long, default_value_t = 5_000)]
        components: usize,
        #[arg(long, default_value_t = 20_000)]
        findings: usize,
        #[arg(long)]
        out: PathBuf,
        /// Comma-separated: trivy, grype, cdx, spdx (default: all four).
        #[arg(long, value_delimiter = ',')]
        formats: Vec<String>,
    },
}

pub fn run(c: DevCmd) -> anyhow::Result<i32> {
    match c {
        DevCmd::GenSample { dir } => {
            crate::devgen::gen_sample(&dir)?;
            println!("sample evidence written to {}", dir.display());
            Ok(0)
        }
        DevCmd::Gen {
            seed,
            components,
            findings,
            out,
            formats,
        } => {
            use crate::devgen::synthetic::{generate, SynthFormat, SynthOptions};
            let formats = if formats.is_empty() {
                SynthFormat::ALL.to_vec()
            } else {
                formats
                    .iter()
                    .map(|f| {
                        SynthFormat::parse(f).ok_or_else(|| {
                            anyhow::anyhow!("unknown format {f:?}: use trivy, grype, cdx, spdx")
                        })
                    })
                    .collect::<anyhow::Result<Vec<_>>>()?
            };
            let opts = SynthOptions {
                seed,
                components,
                findings,
                formats,
            };
            for (path, size) in generate(&opts, &out)? {
                println!("{}\t{size}", path.display());
            }
            Ok(0)
        }
    }
}
