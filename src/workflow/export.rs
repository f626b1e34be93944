//! The export use-case shared by the CLI and the TUI: build the package model once from the
//! store, render every requested format from it, write each file atomically (temp name in the
//! same directory, fsync, rename), sign the JSON, and record the export in the audit log.

use super::Actor;
use crate::export::{self, bundle, files, json, model::*, pdf, sign::PackageSigner, ExportFormat};
use crate::store::{Store, StoreError};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

mod build;
mod decisions;
mod formats;
mod verify;

pub use build::{build_package, build_package_with, BuildContext};
pub use verify::{verify_package, PackageCheck, VerifyStep};

/// The audit action an export records (and which the package's audit head skips).
pub const EXPORT_ACTION: &str = "export";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    Package(String),
    /// A set query as `resolve_set` reads it (id, digest prefix, reference).
    Set(String),
}

#[derive(Debug, Clone)]
pub struct ExportRequest {
    pub selection: Selection,
    pub formats: Vec<ExportFormat>,
    pub out_dir: PathBuf,
    pub sign_key: Option<PathBuf>,
    pub passphrase: Option<Vec<u8>>,
    /// `YYYY-MM-DD` or RFC 3339; fixes the generation time (reproducible output).
    pub as_of: Option<String>,
    /// The `SOURCE_DATE_EPOCH` value (unix seconds) when set and `as_of` is not.
    pub source_date_epoch: Option<String>,
    pub with_evidence: bool,
    pub all_findings: bool,
    pub classification: String,
    /// Policy file for the verdict; `None` = the embedded default policy.
    pub policy: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct ExportProgress {
    pub phase: String,
    pub done: usize,
    pub total: usize,
}

#[derive(Debug, Clone, serde::Serialize, PartialEq)]
pub struct WrittenFile {
    pub name: String,
    pub path: PathBuf,
    pub sha256: String,
    pub size: u64,
}

#[derive(Debug, Clone, serde::Serialize, PartialEq)]
pub struct ExportReport {
    pub package: String,
    pub verdict: String,
    pub package_sha256: String,
    pub signed: bool,
    pub files: Vec<WrittenFile>,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Usage(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Sign(#[from] export::sign::SignError),
    #[error(transparent)]
    Pdf(#[from] pdf::PdfError),
    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("POA&M CSV: {0}")]
    Csv(String),
    #[error(transparent)]
    Bundle(#[from] bundle::BundleError),
    #[error(transparent)]
    Xlsx(#[from] export::poam_xlsx::XlsxExportError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ExportError + '_ {
    move |source| ExportError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The generation time: `--as-of`, else `SOURCE_DATE_EPOCH`, else now (UTC, seconds).
pub fn generation_time(
    as_of: Option<&str>,
    epoch: Option<&str>,
) -> Result<chrono::DateTime<chrono::Utc>, ExportError> {
    use chrono::{NaiveDate, TimeZone, Utc};
    if let Some(a) = as_of.map(str::trim) {
        if let Ok(d) = NaiveDate::parse_from_str(a, "%Y-%m-%d") {
            return d
                .and_hms_opt(0, 0, 0)
                .map(|t| Utc.from_utc_datetime(&t))
                .ok_or_else(|| ExportError::Usage(format!("--as-of {a}: not a date")));
        }
        return chrono::DateTime::parse_from_rfc3339(a)
            .map(|d| d.with_timezone(&Utc))
            .map_err(|_| {
                ExportError::Usage(format!(
                    "--as-of {a}: expected YYYY-MM-DD or an RFC 3339 time"
                ))
            });
    }
    if let Some(e) = epoch.map(str::trim).filter(|e| !e.is_empty()) {
        let secs: i64 = e.parse().map_err(|_| {
            ExportError::Usage(format!("SOURCE_DATE_EPOCH={e}: expected unix seconds"))
        })?;
        return Utc
            .timestamp_opt(secs, 0)
            .single()
            .ok_or_else(|| ExportError::Usage(format!("SOURCE_DATE_EPOCH={e}: out of range")));
    }
    let now = Utc::now();
    Ok(Utc
        .timestamp_opt(now.timestamp(), 0)
        .single()
        .unwrap_or(now))
}

/// Writes `bytes` under `dir/name` so that no reader ever sees a half-written file.
pub fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<WrittenFile, ExportError> {
    write_atomic_with(dir, name, &mut |w| {
        w.write_all(bytes).map_err(|source| ExportError::Io {
            path: dir.join(name),
            source,
        })
    })
}

/// Counts and hashes what passes through to the file, so a streamed writer's output never
/// has to be held (or read back) to name its size and sha256.
struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    size: u64,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// `write_atomic` for a writer that streams: `body` writes into a buffered file under a
/// temporary name; only a complete, synced file is renamed to `dir/name`.
pub fn write_atomic_with(
    dir: &Path,
    name: &str,
    body: &mut dyn FnMut(&mut dyn Write) -> Result<(), ExportError>,
) -> Result<WrittenFile, ExportError> {
    let path = dir.join(name);
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let file = match std::fs::File::create(&tmp) {
        Ok(f) => f,
        Err(e) => return Err(ExportError::Io { path, source: e }),
    };
    let mut w = HashingWriter {
        inner: std::io::BufWriter::with_capacity(1 << 16, file),
        hasher: Sha256::new(),
        size: 0,
    };
    let res = body(&mut w).and_then(|()| {
        let finish = |w: HashingWriter<std::io::BufWriter<std::fs::File>>| {
            let f = w.inner.into_inner().map_err(|e| e.into_error())?;
            f.sync_all()?;
            drop(f);
            std::fs::rename(&tmp, &path)?;
            // Persist the rename itself; not every platform can open a directory, so best effort.
            if let Ok(d) = std::fs::File::open(dir) {
                let _ = d.sync_all();
            }
            Ok((hex::encode(w.hasher.finalize()), w.size))
        };
        finish(w).map_err(|source| ExportError::Io {
            path: path.clone(),
            source,
        })
    });
    match res {
        Ok((sha256, size)) => Ok(WrittenFile {
            name: name.to_string(),
            path,
            sha256,
            size,
        }),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// `write_atomic_with` for a JSON writer: an I/O failure names the file.
fn write_streamed(
    dir: &Path,
    name: &str,
    body: impl Fn(&mut dyn Write) -> Result<(), serde_json::Error>,
) -> Result<WrittenFile, ExportError> {
    write_atomic_with(dir, name, &mut |w| {
        body(w).map_err(|e| {
            if e.is_io() {
                ExportError::Io {
                    path: dir.join(name),
                    source: e.into(),
                }
            } else {
                ExportError::Json(e)
            }
        })
    })
}

/// Loads the reviewer's signing key: a cosign encrypted key (with the passphrase) or an
/// unencrypted PKCS#8 PEM, through `crypto::privkey` (which also refuses group/world-readable
/// key files). Packages are signed with ECDSA P-256 so openssl and cosign can verify them.
pub fn load_signer(path: &Path, passphrase: Option<&[u8]>) -> Result<PackageSigner, ExportError> {
    use crate::crypto::privkey::{read_private_key_file, PrivateKey};
    let shown = path.display().to_string();
    let key_err = |e: crate::crypto::privkey::PrivateKeyError| ExportError::Usage(e.to_string());
    let text = read_private_key_file(path).map_err(key_err)?;
    match PrivateKey::from_pem(&shown, &text, passphrase).map_err(key_err)? {
        PrivateKey::P256(k) => Ok(PackageSigner::from_signing_key(*k)?),
        PrivateKey::Ed25519(_) => Err(ExportError::Usage(format!(
            "{shown}: an Ed25519 key; packages are signed with ECDSA P-256 (verifiable with openssl dgst and cosign verify-blob)"
        ))),
    }
}

/// Runs one export. The TUI calls this on a worker thread with its own `Store`.
pub fn export(
    store: &mut Store,
    req: &ExportRequest,
    actor: &Actor,
    progress: &mut dyn FnMut(ExportProgress),
) -> Result<ExportReport, ExportError> {
    let mut say = |phase: &str, done: usize, total: usize| {
        progress(ExportProgress {
            phase: phase.into(),
            done,
            total,
        })
    };
    std::fs::create_dir_all(&req.out_dir).map_err(io(&req.out_dir))?;
    let signer = match &req.sign_key {
        Some(k) => Some(load_signer(k, req.passphrase.as_deref())?),
        None => None,
    };
    let when = generation_time(req.as_of.as_deref(), req.source_date_epoch.as_deref())?;
    say("building the package", 0, 1);
    let policy = crate::workflow::judge::load_policy(req.policy.as_deref())
        .map_err(|e| ExportError::Usage(format!("policy: {e}")))?;
    let ctx = BuildContext {
        generated_at: when,
        as_of: when.date_naive(),
        policy,
        reviewer: Reviewer {
            name: actor.name.clone(),
            role: actor.role.clone(),
            key_fingerprint: signer.as_ref().map(|s| s.fingerprint().to_string()),
        },
        classification: req.classification.clone(),
    };
    let pkg = build_package_with(store, &req.selection, &ctx, &mut |p| {
        say(&format!("building the package: {p}"), 0, 1)
    })?;
    say("building the package", 1, 1);

    let dir = req.out_dir.as_path();
    say("writing the JSON package", 0, 1);
    // The signature and the bundle need the package bytes themselves; otherwise they are
    // streamed to the file and hashed on the way (~85 MB at 100k findings never held).
    let keep_bytes = signer.is_some() || req.with_evidence;
    let mut json_bytes = Vec::new();
    let mut written = if keep_bytes {
        json_bytes = json::to_bytes(&pkg)?;
        vec![write_atomic(dir, files::JSON, &json_bytes)?]
    } else {
        vec![write_streamed(dir, files::JSON, |w| json::write(&pkg, w))?]
    };
    let sha = written[0].sha256.clone();
    let mut sigs: Vec<(&str, Vec<u8>)> = Vec::new();
    if let Some(s) = &signer {
        use base64::Engine as _;
        let der = s.sign_der(&json_bytes);
        let b64 = base64::engine::general_purpose::STANDARD.encode(&der);
        sigs.push((files::SIG_B64, b64.into_bytes()));
        sigs.push((files::SIG_DER, der));
        let mut env = serde_json::to_vec_pretty(&s.dsse_envelope(&json_bytes))?;
        env.push(b'\n');
        sigs.push((files::DSSE, env));
        sigs.push((files::PUBKEY, s.public_key_pem()?.into_bytes()));
        for (name, bytes) in &sigs {
            written.push(write_atomic(dir, name, bytes)?);
        }
    }
    if !req.with_evidence {
        // Only the bundle needs the bytes again; at 100k findings they are ~85 MB that
        // would otherwise sit beside the PDF's drawing operations.
        json_bytes = Vec::new();
    }
    written.extend(formats::write_formats(
        &pkg,
        req,
        &sha,
        when,
        &mut |p, d, t| say(p, d, t),
    )?);
    if req.with_evidence {
        say("bundling evidence", 0, 1);
        let mut b = bundle::BundleWriter::new(u64::try_from(when.timestamp()).unwrap_or(0));
        b.add(files::JSON, &json_bytes)?;
        for (name, bytes) in &sigs {
            b.add(name, bytes)?;
        }
        let mut seen = std::collections::BTreeSet::new();
        for set in &pkg.sets {
            for e in set.evidence.iter().filter(|e| e.stored) {
                let name = bundle::evidence_name(&e.sha256, &e.path);
                if !seen.insert(name.clone()) {
                    continue;
                }
                let bytes = store.blob(&e.sha256)?.ok_or_else(|| {
                    ExportError::Usage(format!(
                        "{}: marked stored but its bytes are not in the store",
                        e.path
                    ))
                })?;
                b.add(&name, &bytes)?;
            }
        }
        written.push(write_atomic(dir, files::BUNDLE, &b.finish()?)?);
        say("bundling evidence", 1, 1);
    }

    let details = serde_json::json!({
        "package_sha256": sha,
        "signed": signer.is_some(),
        "verdict": pkg.verdict.status,
        "generated_at": pkg.generated_at,
        "files": written.iter().map(|w| serde_json::json!({"name": w.name, "sha256": w.sha256})).collect::<Vec<_>>(),
    });
    store.audited(&actor.label(), EXPORT_ACTION, &pkg.name, |_tx| {
        Ok(((), details))
    })?;
    Ok(ExportReport {
        package: pkg.name.clone(),
        verdict: pkg.verdict.status.clone(),
        package_sha256: sha,
        signed: signer.is_some(),
        files: written,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_time_prefers_as_of_then_epoch() {
        assert_eq!(
            generation_time(Some("2026-11-27"), Some("0"))
                .unwrap()
                .to_rfc3339(),
            "2026-11-27T00:00:00+00:00"
        );
        assert_eq!(
            generation_time(None, Some("86400")).unwrap().to_rfc3339(),
            "1970-01-02T00:00:00+00:00"
        );
        assert!(matches!(
            generation_time(Some("27/11/2026"), None),
            Err(ExportError::Usage(_))
        ));
        assert!(matches!(
            generation_time(None, Some("soon")),
            Err(ExportError::Usage(_))
        ));
    }

    #[test]
    fn atomic_write_leaves_only_the_final_name() {
        let d = tempfile::tempdir().unwrap();
        let w = write_atomic(d.path(), "a.json", b"{}").unwrap();
        assert_eq!(std::fs::read(&w.path).unwrap(), b"{}");
        let names: Vec<String> = std::fs::read_dir(d.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into())
            .collect();
        assert_eq!(names, vec!["a.json".to_string()]);
        assert_eq!(
            w.sha256,
            "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
    }
}
