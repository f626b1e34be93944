//! Waiver use-cases: draft one from a finding, sign a file of them in place, import signed
//! ones, reject or revoke, and export a YAML stream for the pipeline repository. Every
//! store change is one audited transaction; files are written only after it commits.

use super::review::{with_retry, ReviewError};
use super::Actor;
use crate::crypto::privkey::PrivateKey;
use crate::model::waiver::{
    self as wm, Justification, Person, Scope, Waiver, WaiverError, WaiverJustification,
    WaiverSignature, WaiverState,
};
use crate::store::review as rs;
use crate::store::{FindingRow, Store};
use base64::Engine;
use chrono::{DateTime, Utc};
use std::path::Path;

/// Default lifetime of a new waiver.
pub const DEFAULT_DAYS: i64 = 90;
/// Drafts carry this text until a person writes a real one; signing refuses it.
pub const PLACEHOLDER: &str = "TODO: explain why this risk is acceptable until the expiry date";

#[derive(Debug, thiserror::Error)]
pub enum WaiverFlowError {
    #[error(transparent)]
    Review(#[from] ReviewError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Waiver(#[from] WaiverError),
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Refused(String),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> WaiverFlowError + '_ {
    move |source| WaiverFlowError::Io {
        path: path.display().to_string(),
        source,
    }
}

#[derive(Debug, Clone, Default)]
pub struct NewWaiverOptions {
    pub expires: Option<chrono::NaiveDate>,
    pub kind: Option<WaiverJustification>,
    pub text: Option<String>,
    /// Where the draft will be written (recorded as its source file).
    pub out: Option<String>,
}

/// Drafts a pending waiver for one finding: scope = the set's image digest and the
/// component's purl, expiry = today + 90 days unless given. Stored and audited.
pub fn new_from_finding(
    store: &mut Store,
    actor: &Actor,
    finding: &FindingRow,
    opts: &NewWaiverOptions,
    now: DateTime<Utc>,
) -> Result<Waiver, WaiverFlowError> {
    let set = store.set(finding.set_id)?;
    let repository = set
        .repository
        .clone()
        .or_else(|| set.image.as_deref().map(crate::ingest::repository_of));
    let scope = match (&set.digest, &repository) {
        (Some(d), Some(r)) => Scope {
            image: Some(format!("{r}@{d}")),
            repository: None,
            purl: None,
        },
        (Some(d), None) => Scope {
            image: Some(format!("unknown@{d}")),
            repository: None,
            purl: None,
        },
        (None, Some(r)) => Scope {
            image: None,
            repository: Some(r.clone()),
            purl: None,
        },
        (None, None) => {
            return Err(WaiverFlowError::Refused(format!(
                "set {} names neither an image digest nor a repository; a waiver needs one for its scope",
                set.id
            )))
        }
    };
    let scope = Scope {
        purl: finding.purl.clone(),
        ..scope
    };
    let expires = opts
        .expires
        .unwrap_or_else(|| now.date_naive() + chrono::Duration::days(DEFAULT_DAYS));
    if expires <= now.date_naive() {
        return Err(WaiverFlowError::Refused(format!(
            "expiry {expires} is not in the future"
        )));
    }
    let kind = opts.kind.unwrap_or(if finding.fixed_versions.is_empty() {
        WaiverJustification::NoPatchAvailable
    } else {
        WaiverJustification::CompensatingControl
    });
    let doc = Waiver {
        api_version: wm::API_VERSION.into(),
        kind: wm::KIND.into(),
        id: String::new(),
        vulnerability: finding.vuln_id.clone(),
        scope,
        justification: Justification {
            kind,
            text: opts
                .text
                .clone()
                .filter(|t| !t.trim().is_empty())
                .unwrap_or_else(|| PLACEHOLDER.into()),
        },
        requested_by: Person {
            name: actor.name.clone(),
            role: actor.role.clone(),
            keyid: actor.key_fingerprint.clone(),
        },
        approved_by: None,
        approved_at: None,
        expires: expires.format("%Y-%m-%d").to_string(),
        signature: None,
    };
    let label = actor.label();
    let year = now.format("%Y").to_string().parse::<i32>().unwrap_or(0);
    let doc = with_retry(|| {
        store.audited(
            &label,
            "waiver-create",
            &format!("set {} {}", finding.set_id, finding.vuln_id),
            |tx| {
                let n = rs::next_waiver_number(tx, year)?;
                let mut d = doc.clone();
                d.id = format!("W-{year}-{n:04}");
                d.validate().map_err(crate::store::StoreError::Invalid)?;
                rs::put_waiver(tx, &d, Some(finding.set_id), WaiverState::Pending, opts.out.as_deref())?;
                let details = serde_json::json!({
                    "waiver": d.id, "set": finding.set_id, "vulnerability": d.vulnerability,
                    "component": finding.component_key, "expires": d.expires, "type": d.justification.kind.as_str(),
                });
                Ok((d, details))
            },
        )
    })?;
    Ok(doc)
}

/// Fills in the approval and signs: `approved_by`/`approved_at` first, so the signature
/// covers them, then the signature over `signing_bytes()`.
pub fn sign_document(
    doc: &mut Waiver,
    approver: &Actor,
    key: &PrivateKey,
    now: DateTime<Utc>,
) -> Result<(), WaiverFlowError> {
    doc.approved_by = Some(Person {
        name: approver.name.clone(),
        role: approver.role.clone(),
        keyid: None,
    });
    doc.approved_at = Some(now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    doc.signature = None;
    let msg = doc.signing_bytes()?;
    let sig = key.sign(&msg);
    doc.signature = Some(WaiverSignature {
        keyid: key.fingerprint(),
        algorithm: key.algorithm(),
        value: base64::engine::general_purpose::STANDARD.encode(sig),
    });
    Ok(())
}

#[derive(Debug, Clone, Default)]
pub struct SignOptions {
    /// From the gate policy (`self_approval`); false refuses a requester approving their own waiver.
    pub allow_self_approval: bool,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct SignedWaiver {
    pub id: String,
    pub keyid: String,
    pub expires: String,
}

/// Signs every waiver in `path` (a YAML stream) in place. Refuses the whole file when any
/// document is already signed, expired, still has the placeholder text, or would be
/// approved by its own requester (unless the policy allows it).
pub fn sign_file(
    store: &mut Store,
    approver: &Actor,
    path: &Path,
    key: &PrivateKey,
    opts: &SignOptions,
    now: DateTime<Utc>,
) -> Result<Vec<SignedWaiver>, WaiverFlowError> {
    let shown = path.display().to_string();
    let text = read_waiver_file(path)?;
    let mut docs = wm::parse_stream(&shown, &text)?;
    let fp = key.fingerprint();
    for d in &docs {
        check_signable(&shown, d, approver, &fp, opts, now)?;
    }
    for d in &mut docs {
        sign_document(d, approver, key, now)?;
    }
    let out = wm::to_yaml_stream(&docs)?;
    // Write beside the file first, commit the store, then rename: a failure leaves either
    // the old file and no store change, or both done.
    let tmp = path.with_extension("yaml.dossier-tmp");
    std::fs::write(&tmp, &out).map_err(io(&tmp))?;
    let ids: Vec<String> = docs.iter().map(|d| d.id.clone()).collect();
    let label = approver.label();
    let res = with_retry(|| {
        store.audited(&label, "waiver-sign", &ids.join(","), |tx| {
            for d in &docs {
                rs::put_waiver(tx, d, None, WaiverState::Signed, Some(&shown))?;
            }
            let details = serde_json::json!({ "waivers": ids, "key": fp, "file": shown });
            Ok(((), details))
        })
    });
    if let Err(e) = res {
        let _ = std::fs::remove_file(&tmp);
        return Err(e.into());
    }
    std::fs::rename(&tmp, path).map_err(io(path))?;
    Ok(docs
        .iter()
        .map(|d| SignedWaiver {
            id: d.id.clone(),
            keyid: fp.clone(),
            expires: d.expires.clone(),
        })
        .collect())
}

/// The refusals shared by `sign_file` and `sign_stored`: already signed, expired, still the
/// placeholder text, or approved by its own requester (unless the policy allows it).
fn check_signable(
    shown: &str,
    d: &Waiver,
    approver: &Actor,
    fp: &str,
    opts: &SignOptions,
    now: DateTime<Utc>,
) -> Result<(), WaiverFlowError> {
    if let Some(s) = &d.signature {
        return Err(WaiverFlowError::Refused(format!(
            "{shown}: waiver {} is already signed by key {}; draft a new waiver to re-approve",
            d.id,
            &s.keyid[..s.keyid.len().min(16)]
        )));
    }
    if d.is_expired_at(now) {
        return Err(WaiverFlowError::Refused(format!(
            "{shown}: waiver {} expired on {}",
            d.id, d.expires
        )));
    }
    if d.justification.text.trim_start().starts_with("TODO") {
        return Err(WaiverFlowError::Refused(format!(
            "{shown}: waiver {} still has the placeholder justification text; write the real reason first",
            d.id
        )));
    }
    if !opts.allow_self_approval {
        let same_key = d
            .requested_by
            .keyid
            .as_deref()
            .is_some_and(|k| k.eq_ignore_ascii_case(fp));
        let same_name = d
            .requested_by
            .name
            .trim()
            .eq_ignore_ascii_case(approver.name.trim());
        if same_key || same_name {
            let why = if same_key {
                format!("key {}", &fp[..fp.len().min(16)])
            } else {
                format!("name '{}'", approver.name)
            };
            return Err(WaiverFlowError::Refused(format!(
                "{shown}: waiver {} was requested with the same {why} that is approving it; the policy does not \
                 allow self-approval (gate.self_approval = false): another approver must sign",
                d.id
            )));
        }
    }
    Ok(())
}

/// Signs one waiver already in the store (pending, by id) and stores the signed document
/// as `signed`, audited as `waiver-sign`. Same refusals as `sign_file`; no file is written.
pub fn sign_stored(
    store: &mut Store,
    approver: &Actor,
    waiver_id: &str,
    key: &PrivateKey,
    opts: &SignOptions,
    now: DateTime<Utc>,
) -> Result<SignedWaiver, WaiverFlowError> {
    let row = store
        .waiver(waiver_id)?
        .ok_or_else(|| WaiverFlowError::Refused(format!("no waiver with id '{waiver_id}'")))?;
    let shown = format!("waiver {waiver_id}");
    if row.state != WaiverState::Pending {
        return Err(WaiverFlowError::Refused(format!(
            "{shown} is {}; only a pending waiver can be signed",
            row.state
        )));
    }
    let fp = key.fingerprint();
    let mut doc = row.document;
    check_signable(&shown, &doc, approver, &fp, opts, now)?;
    sign_document(&mut doc, approver, key, now)?;
    let label = approver.label();
    let source = row.source_file.clone();
    with_retry(|| {
        store.audited(&label, "waiver-sign", waiver_id, |tx| {
            rs::put_waiver(tx, &doc, row.set_id, WaiverState::Signed, source.as_deref())?;
            let details = serde_json::json!({ "waivers": [waiver_id], "key": fp, "file": null });
            Ok(((), details))
        })
    })?;
    Ok(SignedWaiver {
        id: doc.id.clone(),
        keyid: fp,
        expires: doc.expires.clone(),
    })
}

fn read_waiver_file(path: &Path) -> Result<String, WaiverFlowError> {
    let meta = std::fs::metadata(path).map_err(io(path))?;
    if meta.len() > wm::MAX_WAIVER_FILE as u64 {
        return Err(WaiverFlowError::Refused(format!(
            "{}: too large for a waiver file",
            path.display()
        )));
    }
    let bytes = std::fs::read(path).map_err(io(path))?;
    String::from_utf8(bytes)
        .map_err(|_| WaiverFlowError::Refused(format!("{}: not UTF-8 text", path.display())))
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct ImportedWaiver {
    pub id: String,
    pub state: WaiverState,
    /// Why the stored state differs from what the file alone would give.
    pub note: Option<String>,
}

/// Imports a YAML stream: signed documents as `signed`, others as `pending`. A waiver
/// already revoked or rejected here stays so (a file cannot bring it back).
pub fn import_file(
    store: &mut Store,
    actor: &Actor,
    path: &Path,
) -> Result<Vec<ImportedWaiver>, WaiverFlowError> {
    let shown = path.display().to_string();
    let text = read_waiver_file(path)?;
    let docs = wm::parse_stream(&shown, &text)?;
    let label = actor.label();
    let out = with_retry(|| {
        store.audited(&label, "waiver-import", &shown, |tx| {
            let mut out = Vec::new();
            for d in &docs {
                let existing = rs::waiver_by_id(tx, &d.id)?;
                if let Some(e) = existing.filter(|e| matches!(e.state, WaiverState::Revoked | WaiverState::Rejected)) {
                    out.push(ImportedWaiver {
                        id: d.id.clone(),
                        state: e.state,
                        note: Some(format!("already {} in this store; not re-imported", e.state)),
                    });
                    continue;
                }
                let state = if d.signature.is_some() { WaiverState::Signed } else { WaiverState::Pending };
                rs::put_waiver(tx, d, None, state, Some(&shown))?;
                out.push(ImportedWaiver { id: d.id.clone(), state, note: None });
            }
            let details = serde_json::json!({
                "file": shown,
                "waivers": out.iter().map(|w| serde_json::json!({"id": w.id, "state": w.state.as_str()})).collect::<Vec<_>>(),
            });
            Ok((out, details))
        })
    })?;
    Ok(out)
}

/// Rejects a pending waiver or revokes a signed one (`to` decides which), with a reason.
pub fn change_state(
    store: &mut Store,
    actor: &Actor,
    waiver_id: &str,
    to: WaiverState,
    reason: &str,
) -> Result<(), WaiverFlowError> {
    let cur = store
        .waiver(waiver_id)?
        .ok_or_else(|| WaiverFlowError::Refused(format!("no waiver with id '{waiver_id}'")))?;
    let allowed = matches!(
        (cur.state, to),
        (WaiverState::Pending, WaiverState::Rejected) | (WaiverState::Signed, WaiverState::Revoked)
    );
    if !allowed {
        return Err(WaiverFlowError::Refused(format!(
            "waiver {waiver_id} is {}; only a pending waiver can be rejected and only a signed one revoked",
            cur.state
        )));
    }
    if reason.trim().is_empty() {
        return Err(WaiverFlowError::Refused("a reason is required".into()));
    }
    let action = if to == WaiverState::Revoked {
        "waiver-revoke"
    } else {
        "waiver-reject"
    };
    let label = actor.label();
    with_retry(|| {
        store.audited(&label, action, waiver_id, |tx| {
            rs::set_waiver_state(tx, waiver_id, to, Some(reason))?;
            Ok(((), serde_json::json!({"waiver": waiver_id, "from": cur.state.as_str(), "to": to.as_str(), "reason": reason})))
        })
    })?;
    Ok(())
}

/// The YAML stream of a set's waivers (signed only unless `include_pending`), written to
/// `out` and recorded in the audit log.
pub fn export(
    store: &mut Store,
    actor: &Actor,
    set_id: i64,
    out: &Path,
    include_pending: bool,
) -> Result<usize, WaiverFlowError> {
    let rows = store.waivers(set_id)?;
    let docs: Vec<Waiver> = rows
        .into_iter()
        .filter(|r| {
            r.state == WaiverState::Signed || (include_pending && r.state == WaiverState::Pending)
        })
        .map(|r| r.document)
        .collect();
    if docs.is_empty() {
        return Err(WaiverFlowError::Refused(format!(
            "set {set_id} has no {}waivers to export",
            if include_pending { "" } else { "signed " }
        )));
    }
    let text = wm::to_yaml_stream(&docs)?;
    let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(text.as_bytes()));
    let label = actor.label();
    let shown = out.display().to_string();
    with_retry(|| {
        store.audited(&label, "waiver-export", &format!("set {set_id}"), |_tx| {
            let details = serde_json::json!({
                "file": shown, "sha256": sha, "waivers": docs.iter().map(|d| d.id.clone()).collect::<Vec<_>>(),
            });
            Ok(((), details))
        })
    })?;
    std::fs::write(out, text).map_err(io(out))?;
    Ok(docs.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workflow::{import_paths, ImportOptions};

    fn store_with_fixture() -> (Store, FindingRow) {
        let mut st = Store::open_in_memory().unwrap();
        let fx = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/review/trivy.json");
        let opts = ImportOptions {
            package: None,
            limits: Default::default(),
            policy: None,
        };
        import_paths(&mut st, &[fx], &opts, &Actor::default(), &mut |_| {}).unwrap();
        let f = crate::workflow::review::find_finding(&st, 1, "CVE-2024-0002", None).unwrap();
        (st, f)
    }

    fn who(name: &str) -> Actor {
        Actor {
            name: name.into(),
            role: None,
            key_fingerprint: None,
        }
    }

    #[test]
    fn draft_is_prefilled_from_the_finding() {
        let (mut st, f) = store_with_fixture();
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-27T12:00:00Z")
            .unwrap()
            .to_utc();
        let w = new_from_finding(
            &mut st,
            &who("J. Doe"),
            &f,
            &NewWaiverOptions::default(),
            now,
        )
        .unwrap();
        assert_eq!(w.id, "W-2026-0001");
        assert_eq!(w.vulnerability, "CVE-2024-0002");
        assert_eq!(
            w.scope.image.as_deref(),
            Some(
                "registry.example.mil/team/app@sha256:7e57ab1e00000000000000000000000000000000000000000000000000000001"
            )
        );
        assert_eq!(w.scope.purl.as_deref(), Some("pkg:deb/debian/zlib@1.2.13"));
        // 2026-11-27 + 90 days.
        assert_eq!(w.expires, "2027-02-25");
        // The fixture's zlib finding has no fixed version.
        assert_eq!(w.justification.kind, WaiverJustification::NoPatchAvailable);
        assert_eq!(w.justification.text, PLACEHOLDER);
        let w2 = new_from_finding(
            &mut st,
            &who("J. Doe"),
            &f,
            &NewWaiverOptions::default(),
            now,
        )
        .unwrap();
        assert_eq!(w2.id, "W-2026-0002");
    }

    #[test]
    fn state_rules_hold_and_an_import_cannot_resurrect_a_rejected_waiver() {
        let (mut st, f) = store_with_fixture();
        let now = chrono::Utc::now();
        let opts = NewWaiverOptions {
            text: Some("sidecar".into()),
            ..Default::default()
        };
        let mut w = new_from_finding(&mut st, &who("J. Doe"), &f, &opts, now).unwrap();
        assert!(change_state(&mut st, &who("R. Roe"), &w.id, WaiverState::Revoked, "x").is_err());
        change_state(
            &mut st,
            &who("R. Roe"),
            &w.id,
            WaiverState::Rejected,
            "not justified",
        )
        .unwrap();
        assert!(change_state(
            &mut st,
            &who("R. Roe"),
            &w.id,
            WaiverState::Rejected,
            "again"
        )
        .is_err());

        let key = PrivateKey::generate_p256().unwrap();
        sign_document(&mut w, &who("R. Roe"), &key, now).unwrap();
        let pubk = key.public_key().unwrap();
        let sig = base64::engine::general_purpose::STANDARD
            .decode(&w.signature.as_ref().unwrap().value)
            .unwrap();
        pubk.verify(&w.signing_bytes().unwrap(), &sig).unwrap();

        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("w.yaml");
        std::fs::write(&p, wm::to_yaml_stream(std::slice::from_ref(&w)).unwrap()).unwrap();
        let got = import_file(&mut st, &who("R. Roe"), &p).unwrap();
        assert_eq!(got[0].state, WaiverState::Rejected);
        assert!(got[0]
            .note
            .as_deref()
            .unwrap_or("")
            .contains("already rejected"));
        assert_eq!(
            st.waiver(&w.id).unwrap().unwrap().state,
            WaiverState::Rejected
        );
        crate::workflow::review::verify_audit(&st)
            .map(|v| assert!(v.broken.is_none()))
            .unwrap();
    }
}
