//! Shared helpers for the conformance suite.

#![allow(dead_code)]

use std::path::PathBuf;

/// `DOSSIER_SHARED`, else `../shared` beside the project; panics with a clear message when
/// absent, because these tests only run (with `--ignored`) where it exists.
pub fn shared() -> PathBuf {
    let p = std::env::var("DOSSIER_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    assert!(
        p.join("fixtures").is_dir(),
        "conformance needs ../shared/fixtures (or DOSSIER_SHARED)"
    );
    p
}

pub fn fixtures(sub: &str) -> Vec<PathBuf> {
    let dir = shared().join("fixtures").join(sub);
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    v.sort();
    v
}

/// Same normalisation rule as the spec (issue 2, point 6), written independently here:
/// purl without `?qualifiers` and `#subpath`, type lowercased.
pub fn purl_key(purl: &str) -> Option<String> {
    let rest = purl.strip_prefix("pkg:")?;
    let cut = rest.find(['?', '#']).unwrap_or(rest.len());
    let rest = &rest[..cut];
    let slash = rest.find('/')?;
    Some(format!(
        "pkg:{}{}",
        rest[..slash].to_lowercase(),
        &rest[slash..]
    ))
}
