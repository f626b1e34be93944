//! The demo store: trusts the sample's TEST-ONLY keys, imports every evidence set under
//! `sample-evidence/sets/` (one per sub-directory) into a fresh store grouped in one
//! package, and copies the sample signing keys beside the store with mode 0600 so the
//! reviewer can sign waivers and exports from the TUI.

use super::{import_paths, Actor, ImportOptions};
use std::path::{Path, PathBuf};

pub const DEMO_PACKAGE: &str = "sample-system";

/// Store settings the TUI reads to prefill key paths in the demo.
pub const SETTING_APPROVER_KEY: &str = "demo.approver_key";
pub const SETTING_REVIEWER_KEY: &str = "demo.reviewer_key";

/// Who the sample's approver key belongs to (the sample waivers are approved by them).
pub const DEMO_APPROVER_NAME: &str = "R. Roe";
pub const DEMO_APPROVER_ROLE: &str = "ISSM";

pub fn prepare(store_path: &Path, sample_dir: &Path) -> anyhow::Result<()> {
    let mut st = crate::store::Store::open(store_path)?;
    let actor = Actor {
        name: "demo".into(),
        role: Some("ISSO".into()),
        ..Actor::default()
    };
    let keys = sample_dir.join("keys");
    for (file, name, role) in [
        (
            "pipeline.pub",
            "sample pipeline (TEST-ONLY)",
            "pipeline-signer",
        ),
        (
            "approver.pub",
            "sample ISSM approver (TEST-ONLY)",
            "approver",
        ),
        (
            "reviewer.pub",
            "sample ISSO reviewer (TEST-ONLY)",
            "reviewer",
        ),
    ] {
        super::verify::trust_add(&mut st, &keys.join(file), name, role, &actor)
            .map_err(|e| anyhow::anyhow!("trusting {file}: {e}"))?;
    }
    let key_dir = store_path
        .parent()
        .unwrap_or(Path::new("."))
        .join("demo-keys");
    for (file, setting) in [
        ("approver.key", SETTING_APPROVER_KEY),
        ("reviewer.key", SETTING_REVIEWER_KEY),
    ] {
        let dest = copy_private(&keys.join(file), &key_dir)?;
        st.set_setting(setting, &dest.display().to_string())?;
    }
    let sets = sample_dir.join("sets");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&sets)
        .map_err(|e| anyhow::anyhow!("{}: {e}", sets.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    let opts = ImportOptions {
        package: Some(DEMO_PACKAGE.into()),
        ..ImportOptions::default()
    };
    import_paths(&mut st, &dirs, &opts, &actor, &mut |_| {})?;
    Ok(())
}

/// git does not keep file modes, so the bundled TEST-ONLY keys are copied to 0600 files.
fn copy_private(src: &Path, dir: &Path) -> anyhow::Result<PathBuf> {
    use std::io::Write;
    std::fs::create_dir_all(dir)?;
    let bytes = std::fs::read(src).map_err(|e| anyhow::anyhow!("{}: {e}", src.display()))?;
    let dest = dir.join(src.file_name().unwrap_or_default());
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let mut f = o.open(&dest)?;
    f.write_all(&bytes)?;
    Ok(dest)
}
