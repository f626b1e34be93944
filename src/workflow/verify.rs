//! Trust store and verification use-cases shared by the CLI and the TUI: `trust add|list|
//! remove` (each change audited), and `verify_set`, which re-verifies a set from its stored
//! blobs against the current trust store and records the run (time + trust-store hash).

use super::Actor;
use crate::analysis::policy::Policy;
use crate::analysis::verify::{
    self as av, EvidenceFile, EvidenceKey, Role, Trust, TrustedEntry, ValidFor, VerificationResult,
};
use crate::crypto::cert::Certificate;
use crate::crypto::pubkey::{pem_blocks, sha256_hex};
use crate::crypto::PublicKey;
use crate::store::verify::{self as sv, NewTrustedKey, TrustedKeyRow, VerificationResultRow};
use crate::store::{Store, StoreError};
use base64::Engine;
use serde::Serialize;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Material { path: String, message: String },
    #[error("unknown role '{0}' (pipeline-signer, approver, reviewer, rekor, root-ca or ctlog)")]
    Role(String),
    #[error("no trusted key or root matches '{0}' (give its id from `dossier trust list`, or a fingerprint prefix)")]
    NoSuchKey(String),
    #[error("'{0}' matches several trusted entries: give the id")]
    Ambiguous(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct TrustAddReport {
    pub added: Vec<TrustedKeyRow>,
    /// Entries that were already trusted in that role (fingerprint).
    pub already_trusted: Vec<String>,
}

/// The result of verifying a set: also stored as the set's latest run.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyOutcome {
    pub set_id: i64,
    pub run_at: String,
    pub trust_hash: String,
    /// The policy whose signature rules applied: `name sha256:<hex>`.
    pub policy: String,
    pub results: Vec<VerificationResult>,
    pub evidence_keys: Vec<EvidenceKey>,
}

fn material_err(path: &Path, message: impl Into<String>) -> TrustError {
    TrustError::Material {
        path: path.display().to_string(),
        message: message.into(),
    }
}

fn pem_of(label: &str, der: &[u8]) -> String {
    let b = base64::engine::general_purpose::STANDARD.encode(der);
    let body: Vec<String> = b
        .as_bytes()
        .chunks(64)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        body.join("\n")
    )
}

fn key_entry(
    name: String,
    role: Role,
    k: &PublicKey,
    source: &str,
    window: ValidFor,
) -> NewTrustedKey {
    NewTrustedKey {
        name,
        role: role.as_str().into(),
        fingerprint: k.fingerprint(),
        algorithm: k.algorithm(),
        kind: "public-key".into(),
        der: k.spki_der().to_vec(),
        pem: k.to_pem(),
        subject: None,
        source: Some(source.into()),
        valid_from: window.start,
        valid_until: window.end,
    }
}

fn cert_entry(
    name: String,
    c: &Certificate,
    path: &Path,
    window: ValidFor,
) -> Result<NewTrustedKey, TrustError> {
    if let Some(w) = &c.weak_signature {
        return Err(material_err(path, format!("crypto policy: {w}")));
    }
    let k = c
        .public_key()
        .map_err(|e| material_err(path, format!("certificate {}: {e}", c.subject)))?;
    if let Some(p) = k.policy_failure() {
        return Err(material_err(path, format!("crypto policy: {p}")));
    }
    Ok(NewTrustedKey {
        name,
        role: Role::RootCa.as_str().into(),
        fingerprint: k.fingerprint(),
        algorithm: k.algorithm(),
        kind: "certificate".into(),
        der: c.der.clone(),
        pem: pem_of("CERTIFICATE", &c.der),
        subject: Some(c.subject.clone()),
        source: Some(path.display().to_string()),
        valid_from: window.start,
        valid_until: window.end,
    })
}

/// Reads what FILE offers: PEM public keys, certificates (root-ca only), or a Sigstore
/// trusted_root.json (its Rekor keys become `rekor`, its CA certificates `root-ca`).
fn entries_from_file(
    path: &Path,
    name: &str,
    role: Role,
) -> Result<Vec<NewTrustedKey>, TrustError> {
    let bytes = std::fs::read(path).map_err(|source| TrustError::Io {
        path: path.display().to_string(),
        source,
    })?;
    let src = path.display().to_string();
    let text = String::from_utf8_lossy(&bytes);
    if text.trim_start().starts_with('{') {
        return trusted_root(path, name, &bytes);
    }
    let mut out = Vec::new();
    let blocks = pem_blocks(&text).map_err(|e| material_err(path, e.to_string()))?;
    let blocks = if blocks.is_empty() {
        vec![("DER".to_string(), bytes.clone())]
    } else {
        blocks
    };
    let many = blocks.len() > 1;
    for (i, (label, der)) in blocks.iter().enumerate() {
        let nm = if many {
            format!("{name} #{}", i + 1)
        } else {
            name.to_string()
        };
        match label.as_str() {
            "PUBLIC KEY" => {
                let k = PublicKey::from_spki_der(der).map_err(|e| material_err(path, e.to_string()))?;
                if let Some(p) = k.policy_failure() {
                    return Err(material_err(path, format!("crypto policy: {p}; not trusted")));
                }
                if role == Role::RootCa {
                    return Err(material_err(path, "root-ca needs a CA certificate, not a bare public key"));
                }
                out.push(key_entry(nm, role, &k, &src, ValidFor::default()));
            }
            "CERTIFICATE" => {
                if role != Role::RootCa {
                    return Err(material_err(path, "certificates are trusted as root-ca only; for a signer, trust its public key"));
                }
                let c = Certificate::from_der(der).map_err(|e| material_err(path, e.to_string()))?;
                out.push(cert_entry(nm, &c, path, ValidFor::default())?);
            }
            "DER" => {
                if let Ok(k) = PublicKey::from_spki_der(der) {
                    out.push(key_entry(nm, role, &k, &src, ValidFor::default()));
                } else if let (Ok(c), Role::RootCa) = (Certificate::from_der(der), role) {
                    out.push(cert_entry(nm, &c, path, ValidFor::default())?);
                } else {
                    return Err(material_err(path, "neither a PEM public key, a certificate, nor a Sigstore trusted_root.json"));
                }
            }
            l if l.contains("PRIVATE KEY") => {
                return Err(material_err(path, "this is a private key: trust its public key instead (private keys never enter the store)"))
            }
            l => return Err(material_err(path, format!("PEM block '{l}' is neither a public key nor a certificate"))),
        }
    }
    Ok(out)
}

/// A trusted_root.json `validFor` object (`start`, optional `end`, RFC 3339).
fn valid_for(v: Option<&serde_json::Value>, path: &Path, at: &str) -> Result<ValidFor, TrustError> {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Ok(ValidFor::default());
    };
    let side = |k: &str| -> Result<Option<i64>, TrustError> {
        match v.get(k).filter(|x| !x.is_null()) {
            None => Ok(None),
            Some(x) => x
                .as_str()
                .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
                .map(|d| Some(d.timestamp()))
                .ok_or_else(|| {
                    material_err(
                        path,
                        format!("{at}.validFor.{k} is not an RFC 3339 time: {x}"),
                    )
                }),
        }
    };
    let w = ValidFor {
        start: side("start")?,
        end: side("end")?,
    };
    if let (Some(a), Some(b)) = (w.start, w.end) {
        if b < a {
            return Err(material_err(
                path,
                format!("{at}.validFor ends before it starts"),
            ));
        }
    }
    Ok(w)
}

/// Transparency-log keys of a trusted_root.json array (`tlogs` or `ctlogs`).
fn log_keys(
    v: &serde_json::Value,
    field: &str,
    role: Role,
    path: &Path,
    name: &str,
    out: &mut Vec<NewTrustedKey>,
) -> Result<(), TrustError> {
    use serde_json::Value;
    let src = path.display().to_string();
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.decode(s).ok();
    for (i, t) in v
        .get(field)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let at = format!("{field}[{i}]");
        let raw = t
            .pointer("/publicKey/rawBytes")
            .and_then(Value::as_str)
            .and_then(b64)
            .ok_or_else(|| {
                material_err(
                    path,
                    format!("{at}.publicKey.rawBytes missing or not base64"),
                )
            })?;
        let k =
            PublicKey::from_spki_der(&raw).map_err(|e| material_err(path, format!("{at}: {e}")))?;
        let window = valid_for(
            t.pointer("/publicKey/validFor"),
            path,
            &format!("{at}.publicKey"),
        )?;
        let url = t.get("baseUrl").and_then(Value::as_str).unwrap_or(field);
        out.push(key_entry(format!("{name}: {url}"), role, &k, &src, window));
    }
    Ok(())
}

fn trusted_root(path: &Path, name: &str, bytes: &[u8]) -> Result<Vec<NewTrustedKey>, TrustError> {
    use serde_json::Value;
    let v: Value = serde_json::from_slice(bytes).map_err(|e| {
        material_err(
            path,
            format!("line {}, column {}: {e}", e.line(), e.column()),
        )
    })?;
    if v.get("tlogs").is_none() && v.get("certificateAuthorities").is_none() {
        return Err(material_err(
            path,
            "JSON file is not a Sigstore trusted_root.json (no tlogs or certificateAuthorities)",
        ));
    }
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.decode(s).ok();
    let mut out = Vec::new();
    log_keys(&v, "tlogs", Role::Rekor, path, name, &mut out)?;
    log_keys(&v, "ctlogs", Role::Ctlog, path, name, &mut out)?;
    for (i, ca) in v
        .get("certificateAuthorities")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let at = format!("certificateAuthorities[{i}]");
        let window = valid_for(ca.get("validFor"), path, &at)?;
        let certs = ca
            .pointer("/certChain/certificates")
            .and_then(Value::as_array);
        for (j, c) in certs.into_iter().flatten().enumerate() {
            let raw = c.get("rawBytes").and_then(Value::as_str).and_then(b64);
            let raw =
                raw.ok_or_else(|| material_err(path, format!("{at} certificate {j} not base64")))?;
            let cert = Certificate::from_der(&raw)
                .map_err(|e| material_err(path, format!("{at}: {e}")))?;
            out.push(cert_entry(
                format!("{name}: {}", cert.subject),
                &cert,
                path,
                window,
            )?);
        }
    }
    if out.is_empty() {
        return Err(material_err(
            path,
            "trusted_root.json holds no Rekor key and no CA certificate",
        ));
    }
    Ok(out)
}

/// `dossier trust add FILE --name NAME --role ROLE`. For a trusted_root.json the roles come
/// from the file (Rekor keys: rekor, CA certificates: root-ca).
pub fn trust_add(
    store: &mut Store,
    path: &Path,
    name: &str,
    role: &str,
    actor: &Actor,
) -> Result<TrustAddReport, TrustError> {
    let role = Role::parse(role).ok_or_else(|| TrustError::Role(role.to_string()))?;
    let entries = entries_from_file(path, name, role)?;
    let details = serde_json::json!({
        "source": path.display().to_string(),
        "entries": entries.iter().map(|e| serde_json::json!({"name": e.name, "role": e.role, "fingerprint": e.fingerprint, "kind": e.kind})).collect::<Vec<_>>(),
    });
    let report = store.audited(&actor.label(), "trust-add", name, |tx| {
        let mut rep = TrustAddReport::default();
        for e in &entries {
            match sv::insert_trusted_key(tx, e)? {
                Some(id) => rep.added.extend(sv::trusted_key_in(tx, id)?),
                None => rep
                    .already_trusted
                    .push(format!("{} ({})", e.fingerprint, e.role)),
            }
        }
        Ok((rep, details))
    })?;
    Ok(report)
}

pub fn trust_list(store: &Store, role: Option<&str>) -> Result<Vec<TrustedKeyRow>, TrustError> {
    if let Some(r) = role {
        Role::parse(r).ok_or_else(|| TrustError::Role(r.to_string()))?;
    }
    Ok(store.trusted_keys(role)?)
}

/// `dossier trust remove ID`: an id, or a unique fingerprint prefix (8+ hex digits).
pub fn trust_remove(
    store: &mut Store,
    which: &str,
    actor: &Actor,
) -> Result<TrustedKeyRow, TrustError> {
    let all = store.trusted_keys(None)?;
    let w = which.trim().to_ascii_lowercase();
    let hits: Vec<&TrustedKeyRow> = match w.parse::<i64>() {
        Ok(id) if all.iter().any(|k| k.id == id) => all.iter().filter(|k| k.id == id).collect(),
        _ if w.len() >= 8 => all
            .iter()
            .filter(|k| k.fingerprint.starts_with(&w))
            .collect(),
        _ => Vec::new(),
    };
    let id = match hits.as_slice() {
        [] => return Err(TrustError::NoSuchKey(which.into())),
        [one] => one.id,
        _ => return Err(TrustError::Ambiguous(which.into())),
    };
    let removed = store.audited(&actor.label(), "trust-remove", &id.to_string(), |tx| {
        let row = sv::delete_trusted_key(tx, id)?;
        let details = serde_json::json!({
            "id": id,
            "name": row.as_ref().map(|r| r.name.clone()),
            "role": row.as_ref().map(|r| r.role.clone()),
            "fingerprint": row.as_ref().map(|r| r.fingerprint.clone()),
        });
        Ok((row, details))
    })?;
    removed.ok_or_else(|| TrustError::NoSuchKey(which.into()))
}

/// The trust store as verification input, and the hash recorded with every run (sha256 over
/// the sorted `role fingerprint sha256(der) [validFor]` lines, so ids and names do not
/// change it but a window does).
pub fn load_trust(store: &Store) -> Result<(Trust, String), StoreError> {
    let rows = store.trusted_keys(None)?;
    let mut lines: Vec<String> = rows
        .iter()
        .map(|r| {
            let w = match (r.valid_from, r.valid_until) {
                (None, None) => String::new(),
                (a, b) => format!(" {}..{}", opt_i(a), opt_i(b)),
            };
            format!("{} {} {}{w}\n", r.role, r.fingerprint, sha256_hex(&r.der))
        })
        .collect();
    lines.sort();
    let hash = sha256_hex(lines.concat().as_bytes());
    let mut trust = Trust::default();
    for r in rows {
        let Some(role) = Role::parse(&r.role) else {
            continue;
        };
        // Entries were validated when added; one that no longer parses is skipped, not fatal.
        let (key, cert) = if r.kind == "certificate" {
            let Ok(c) = Certificate::from_der(&r.der) else {
                continue;
            };
            let Ok(k) = c.public_key() else { continue };
            (k, Some(c))
        } else {
            let Ok(k) = PublicKey::from_spki_der(&r.der) else {
                continue;
            };
            (k, None)
        };
        trust.entries.push(TrustedEntry {
            id: r.id,
            name: r.name,
            role,
            fingerprint: r.fingerprint,
            key,
            cert,
            valid_for: ValidFor {
                start: r.valid_from,
                end: r.valid_until,
            },
        });
    }
    Ok((trust, hash))
}

/// Formats verification reads (signatures, keys, and the SBOMs predicates are matched to).
const VERIFY_FORMATS: &[&str] = &[
    "oci-manifest",
    "containers-sigstore-signature",
    "signature-base64",
    "dsse-envelope",
    "sigstore-bundle",
    "rekor-bundle",
    "cosign-simple-signing",
    "public-key",
    "certificate",
    "spdx-json",
    "cyclonedx-json",
];

fn opt_i(v: Option<i64>) -> String {
    v.map_or_else(|| "-".into(), |x| x.to_string())
}

/// Re-verifies a set from its stored blobs against the current trust store under the
/// embedded default policy, stores the run and appends an audit entry (one transaction).
pub fn verify_set(
    store: &mut Store,
    set_id: i64,
    actor: &Actor,
) -> Result<VerifyOutcome, StoreError> {
    verify_set_with(store, set_id, actor, &Policy::default_policy())
}

/// `verify_set` under `policy`'s `[signature]` rules (certificate identities, SCT
/// requirement); the run records the policy's name and sha256.
pub fn verify_set_with(
    store: &mut Store,
    set_id: i64,
    actor: &Actor,
    policy: &Policy,
) -> Result<VerifyOutcome, StoreError> {
    let set = store.set(set_id)?;
    let rows = store.set_files(set_id)?;
    // SBOM bytes are only needed to match attestation predicates.
    let attested = rows.iter().any(|f| {
        matches!(
            f.format.as_deref(),
            Some("dsse-envelope" | "sigstore-bundle" | "oci-manifest")
        )
    });
    let mut files = Vec::new();
    for f in rows {
        let Some(format) = f.format.filter(|x| VERIFY_FORMATS.contains(&x.as_str())) else {
            continue;
        };
        let sbom = matches!(format.as_str(), "spdx-json" | "cyclonedx-json");
        if !f.stored || (sbom && !attested) {
            continue;
        }
        if let Some(bytes) = store.blob(&f.sha256)? {
            files.push(EvidenceFile {
                path: f.path,
                format,
                sha256: f.sha256,
                bytes,
            });
        }
    }
    let (trust, trust_hash) = load_trust(store)?;
    let now = chrono::Utc::now().timestamp();
    let cert_policy = policy.cert_policy();
    let policy_label = format!("{} sha256:{}", policy.name, policy.sha256);
    let input = av::VerifyInput {
        files: &files,
        set_digest: set.digest.as_deref(),
        trust: &trust,
        now,
        cert_policy: &cert_policy,
    };
    let report = av::verify(&input);
    let rows: Vec<VerificationResultRow> = report.results.iter().map(to_row).collect();
    let run_at = crate::store::now_utc();
    let keys_json = serde_json::to_value(&report.evidence_keys).unwrap_or_default();
    let mut counts = std::collections::BTreeMap::<&str, usize>::new();
    for r in &report.results {
        *counts.entry(r.outcome.as_str()).or_default() += 1;
    }
    let details = serde_json::json!({ "set_id": set_id, "trust_hash": trust_hash, "policy": policy_label, "outcomes": counts });
    let label = actor.label();
    let target = set.digest.clone().unwrap_or_else(|| set_id.to_string());
    store.audited(&label, "verify", &target, |tx| {
        let run = sv::NewRun {
            set_id,
            run_at: &run_at,
            trust_hash: &trust_hash,
            actor: &label,
            policy: &policy_label,
            evidence_keys: &keys_json,
        };
        sv::insert_run(tx, &run, &rows)?;
        Ok(((), details))
    })?;
    Ok(VerifyOutcome {
        set_id,
        run_at,
        trust_hash,
        policy: policy_label,
        results: report.results,
        evidence_keys: report.evidence_keys,
    })
}

fn to_row(r: &VerificationResult) -> VerificationResultRow {
    VerificationResultRow {
        kind: r.kind.as_str().into(),
        file: r.file.clone(),
        key_fingerprint: r.key_fingerprint.clone(),
        key_name: r.key_name.clone(),
        subject_digest: r.subject_digest.clone(),
        predicate_type: r.predicate_type.clone(),
        outcome: r.outcome.as_str().into(),
        tlog: r.tlog.as_str().into(),
        detail: r.detail.clone(),
        sbom_file: r.sbom_file.clone(),
        integrated_time: r.integrated_time,
        sct: r.sct.map(|s| s.as_str().to_string()),
    }
}
