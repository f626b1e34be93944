//! The demo store: imports every evidence set under `sample-evidence/sets/` (one per
//! sub-directory) into a fresh store, grouped in one package.

use super::{import_paths, Actor, ImportOptions};
use std::path::Path;

pub const DEMO_PACKAGE: &str = "sample-system";

pub fn prepare(store_path: &Path, sample_dir: &Path) -> anyhow::Result<()> {
    let mut st = crate::store::Store::open(store_path)?;
    let sets = sample_dir.join("sets");
    let mut dirs: Vec<std::path::PathBuf> = std::fs::read_dir(&sets)
        .map_err(|e| anyhow::anyhow!("{}: {e}", sets.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    let opts = ImportOptions { package: Some(DEMO_PACKAGE.into()), ..ImportOptions::default() };
    import_paths(&mut st, &dirs, &opts, &Actor { name: "demo".into(), ..Actor::default() }, &mut |_| {})?;
    Ok(())
}
