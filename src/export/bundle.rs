//! The self-contained bundle (`--with-evidence`): one uncompressed tar holding the package
//! JSON, its signatures and every raw evidence file as `evidence/<sha256>-<name>`. Headers
//! are fixed (mode 0644, uid/gid 0, mtime = generation time) so the same package gives the
//! same bytes; reading back accepts regular files only, through a size cap.

use std::collections::BTreeMap;
use std::io::Read;

pub const EVIDENCE_DIR: &str = "evidence/";

/// Largest single entry `read` accepts (evidence files are capped far below this at import).
pub const MAX_ENTRY: u64 = 1 << 30;

#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("bundle: {0}")]
    Io(#[from] std::io::Error),
    #[error("bundle entry {0}: {1}")]
    Entry(String, String),
}

/// The in-bundle name of an evidence file: its sha256, then its base name made safe.
pub fn evidence_name(sha256: &str, path: &str) -> String {
    let base = path.rsplit(['/', '\\']).next().unwrap_or(path);
    let safe: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect();
    format!("{EVIDENCE_DIR}{sha256}-{safe}")
}

pub struct BundleWriter {
    builder: tar::Builder<Vec<u8>>,
    mtime: u64,
}

impl BundleWriter {
    pub fn new(mtime: u64) -> Self {
        let mut builder = tar::Builder::new(Vec::new());
        builder.mode(tar::HeaderMode::Deterministic);
        Self { builder, mtime }
    }

    pub fn add(&mut self, name: &str, bytes: &[u8]) -> Result<(), BundleError> {
        let mut h = tar::Header::new_ustar();
        h.set_size(bytes.len() as u64);
        h.set_mode(0o644);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(self.mtime);
        h.set_entry_type(tar::EntryType::Regular);
        self.builder.append_data(&mut h, name, bytes)?;
        Ok(())
    }

    pub fn finish(self) -> Result<Vec<u8>, BundleError> {
        Ok(self.builder.into_inner()?)
    }
}

/// Every regular file in the tar by name. Links, devices and `..` names are refused.
pub fn read(bytes: &[u8]) -> Result<BTreeMap<String, Vec<u8>>, BundleError> {
    let mut out = BTreeMap::new();
    let mut ar = tar::Archive::new(bytes);
    for e in ar.entries()? {
        let e = e?;
        let name = e.path()?.to_string_lossy().to_string();
        match e.header().entry_type() {
            tar::EntryType::Regular | tar::EntryType::Continuous => {}
            tar::EntryType::Directory => continue,
            t => {
                return Err(BundleError::Entry(
                    name,
                    format!("not a regular file ({t:?})"),
                ))
            }
        }
        if name.split('/').any(|c| c == "..") || name.starts_with('/') {
            return Err(BundleError::Entry(name, "path leaves the bundle".into()));
        }
        let mut data = Vec::new();
        e.take(MAX_ENTRY + 1).read_to_end(&mut data)?;
        if data.len() as u64 > MAX_ENTRY {
            return Err(BundleError::Entry(name, "larger than the 1 GiB cap".into()));
        }
        if out.insert(name.clone(), data).is_some() {
            return Err(BundleError::Entry(name, "appears twice".into()));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_is_deterministic_and_names_are_safe() {
        let make = || {
            let mut w = BundleWriter::new(1_700_000_000);
            w.add("package.json", b"{}\n").unwrap();
            w.add(
                &evidence_name(&"a".repeat(64), "../../etc/tr ivy.json"),
                b"x",
            )
            .unwrap();
            w.finish().unwrap()
        };
        let a = make();
        assert_eq!(a, make());
        let m = read(&a).unwrap();
        assert_eq!(m["package.json"], b"{}\n");
        let ev = format!("evidence/{}-tr_ivy.json", "a".repeat(64));
        assert_eq!(m[&ev], b"x");
    }
}
