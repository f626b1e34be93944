//! `demo`: a temporary store preloaded with the bundled `sample-evidence/`, opened in the TUI.

use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Only build the demo store at this path and print it (no TUI); for scripts and tests.
    #[arg(long)]
    pub prepare_only: Option<PathBuf>,
}

/// The bundled sample evidence: next to the binary's source tree.
pub fn sample_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("sample-evidence")
}

pub fn run(a: DemoArgs) -> anyhow::Result<i32> {
    let tmp;
    let path = match a.prepare_only.clone() {
        Some(p) => p,
        None => {
            tmp = tempfile_dir()?;
            tmp.join("demo.db")
        }
    };
    crate::workflow::demo::prepare(&path, &sample_dir())?;
    if a.prepare_only.is_some() {
        println!("{}", path.display());
        return Ok(0);
    }
    crate::tui::run(&path)?;
    Ok(0)
}

fn tempfile_dir() -> anyhow::Result<PathBuf> {
    let d = std::env::temp_dir().join(format!("dossier-demo-{}", std::process::id()));
    std::fs::create_dir_all(&d)?;
    Ok(d)
}
