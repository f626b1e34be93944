//! `verify-package`: the AO's offline check of an exported package (a directory, a
//! `package.json`, or a `.tar` bundle): the detached signature and the DSSE envelope over the
//! exact JSON bytes, the schema structure and version, and every bundled evidence file's hash.

use super::ExportError;
use crate::export::{bundle, files, json, sign};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Debug, Clone, serde::Serialize, PartialEq)]
pub struct VerifyStep {
    pub check: String,
    pub ok: bool,
    pub detail: String,
}

#[derive(Debug, Clone, serde::Serialize, PartialEq)]
pub struct PackageCheck {
    pub package_sha256: String,
    pub steps: Vec<VerifyStep>,
}

impl PackageCheck {
    pub fn ok(&self) -> bool {
        !self.steps.is_empty() && self.steps.iter().all(|s| s.ok)
    }

    fn push(&mut self, check: &str, ok: bool, detail: impl Into<String>) {
        self.steps.push(VerifyStep {
            check: check.into(),
            ok,
            detail: detail.into(),
        });
    }
}

fn read(path: &Path) -> Result<Vec<u8>, ExportError> {
    std::fs::read(path).map_err(|source| ExportError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// The files of a package by their export names, from a directory, a JSON file or a bundle.
fn collect(path: &Path) -> Result<(BTreeMap<String, Vec<u8>>, bool), ExportError> {
    let mut m = BTreeMap::new();
    if path.is_dir() {
        for n in [files::JSON, files::SIG_DER, files::SIG_B64, files::DSSE] {
            let p = path.join(n);
            if p.is_file() {
                m.insert(n.to_string(), read(&p)?);
            }
        }
        return Ok((m, false));
    }
    let bytes = read(path)?;
    if bytes.len() > 262 && &bytes[257..262] == b"ustar" {
        return Ok((bundle::read(&bytes)?, true));
    }
    m.insert(files::JSON.to_string(), bytes);
    let dir = path.parent().unwrap_or(Path::new("."));
    let beside = format!(
        "{}.sig",
        path.file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default()
    );
    for (n, p) in [
        (files::SIG_B64, dir.join(beside)),
        (files::SIG_DER, dir.join(files::SIG_DER)),
        (files::DSSE, dir.join(files::DSSE)),
    ] {
        if p.is_file() && !m.contains_key(n) {
            m.insert(n.to_string(), read(&p)?);
        }
    }
    Ok((m, false))
}

/// Runs every check; a failed check is an outcome in the report, not an error.
pub fn verify_package(
    path: &Path,
    key_pem: &str,
    key_name: &str,
) -> Result<PackageCheck, ExportError> {
    let key = sign::public_key_from_pem(key_pem, key_name)?;
    let (m, is_bundle) = collect(path)?;
    let Some(pkg_bytes) = m.get(files::JSON) else {
        return Err(ExportError::Usage(format!(
            "{}: no {} found",
            path.display(),
            files::JSON
        )));
    };
    let mut r = PackageCheck {
        package_sha256: hex::encode(Sha256::digest(pkg_bytes)),
        steps: Vec::new(),
    };

    let sig = m.get(files::SIG_DER).or_else(|| m.get(files::SIG_B64));
    match sig.map(|s| sign::decode_signature(s)) {
        None => r.push(
            "signature",
            false,
            "no detached signature (package.sig.der / package.json.sig) found",
        ),
        Some(Err(e)) => r.push("signature", false, e.to_string()),
        Some(Ok(der)) => match sign::verify_der(&key, pkg_bytes, &der) {
            Ok(()) => r.push(
                "signature",
                true,
                "ECDSA P-256 SHA-256 signature over package.json verifies",
            ),
            Err(e) => r.push("signature", false, e.to_string()),
        },
    }
    if let Some(env) = m.get(files::DSSE) {
        match sign::verify_dsse(&key, env) {
            Ok(p) if &p == pkg_bytes => r.push(
                "dsse",
                true,
                "DSSE envelope verifies and carries package.json",
            ),
            Ok(_) => r.push(
                "dsse",
                false,
                "DSSE envelope verifies but carries different bytes than package.json",
            ),
            Err(e) => r.push("dsse", false, e.to_string()),
        }
    }
    let pkg = match json::check_schema(pkg_bytes) {
        Ok(p) => {
            r.push(
                "schema",
                true,
                format!("structure matches {}", p.schema_version),
            );
            Some(p)
        }
        Err(errs) => {
            let n = errs.len();
            let mut d: Vec<String> = errs.into_iter().take(5).collect();
            if n > 5 {
                d.push(format!("... and {} more", n - 5));
            }
            r.push("schema", false, d.join("; "));
            None
        }
    };
    if is_bundle {
        let mut bad = Vec::new();
        let mut count = 0usize;
        for (name, bytes) in m
            .iter()
            .filter(|(n, _)| n.starts_with(bundle::EVIDENCE_DIR))
        {
            count += 1;
            let claimed = name[bundle::EVIDENCE_DIR.len()..]
                .split('-')
                .next()
                .unwrap_or("");
            let actual = hex::encode(Sha256::digest(bytes));
            if claimed != actual {
                bad.push(format!("{name}: sha256 is {actual}"));
            }
        }
        if let Some(p) = &pkg {
            for e in p.sets.iter().flat_map(|s| &s.evidence).filter(|e| e.stored) {
                if !m.contains_key(&bundle::evidence_name(&e.sha256, &e.path)) {
                    bad.push(format!(
                        "{}: listed in the package but missing from the bundle",
                        e.path
                    ));
                }
            }
        }
        if bad.is_empty() {
            r.push(
                "evidence",
                true,
                format!("{count} evidence file(s) match their sha256"),
            );
        } else {
            r.push("evidence", false, bad.join("; "));
        }
    }
    Ok(r)
}
