//! DSSE envelopes carrying in-toto Statements (v0.1 and v1): the signature is over PAE,
//! the subject digest must be the set's image, and an SBOM predicate is matched against
//! the set's SBOM files by JSON value.

use super::signer::{self, Material, Msg};
use super::tlog::Binding;
use super::{b64, result, sha256, Ctx, EvidenceFile, Kind, Outcome, TlogState, VerificationResult};
use serde_json::Value;

/// DSSE v1 pre-authentication encoding.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {} {} ",
        payload_type.len(),
        payload_type,
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

pub(crate) fn loose(ctx: &Ctx<'_>, f: &EvidenceFile) -> VerificationResult {
    envelope(ctx, &f.path, &f.bytes, Material::default(), Vec::new())
}

/// An envelope stored as its own bytes (a loose file or an `.att` layer).
pub(crate) fn envelope(
    ctx: &Ctx<'_>,
    label: &str,
    bytes: &[u8],
    m: Material,
    notes: Vec<String>,
) -> VerificationResult {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(v) => verify_envelope(ctx, Kind::Attestation, label, &v, Some(bytes), m, notes),
        Err(e) => result(
            Kind::Attestation,
            label,
            Outcome::Unverifiable,
            TlogState::NotChecked,
            format!("DSSE envelope is not JSON: {e}"),
        ),
    }
}

pub(crate) fn verify_envelope(
    ctx: &Ctx<'_>,
    kind: Kind,
    label: &str,
    env: &Value,
    env_bytes: Option<&[u8]>,
    mut m: Material,
    mut notes: Vec<String>,
) -> VerificationResult {
    let fail = |d: String| result(kind, label, Outcome::Unverifiable, TlogState::NotChecked, d);
    let Some(ptype) = env.get("payloadType").and_then(Value::as_str) else {
        return fail("DSSE envelope without payloadType".into());
    };
    let Some(payload) = env.get("payload").and_then(Value::as_str).and_then(b64) else {
        return fail("DSSE envelope without a base64 payload".into());
    };
    let sigs: Vec<(String, Vec<u8>)> = env
        .get("signatures")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| {
            let keyid = s
                .get("keyid")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_ascii_lowercase();
            s.get("sig")
                .and_then(Value::as_str)
                .and_then(b64)
                .map(|sig| (keyid, sig))
        })
        .collect();
    if sigs.is_empty() {
        return fail("DSSE envelope has no signature".into());
    }
    let msg = pae(ptype, &payload);
    let binding = Binding {
        payload_sha256: Some(sha256(&payload)),
        envelope_sha256: env_bytes.map(sha256),
        ..Binding::default()
    };
    // Several signatures: the first that verifies with a trusted signer decides.
    let mut best = None;
    for (keyid, sig) in sigs {
        m.sig = sig;
        if m.hint.is_none() && keyid.len() == 64 {
            m.hint = Some(keyid);
        }
        let c = signer::check(ctx, Msg::Bytes(&msg), &m, &binding);
        let done = c.outcome == Outcome::Verified;
        if best.is_none() || done {
            best = Some(c);
        }
        if done {
            break;
        }
    }
    let Some(c) = best else {
        return fail("no signature".into());
    };
    let mut r = result(kind, label, c.outcome, c.tlog, String::new());
    r.key_fingerprint = c.key_fingerprint;
    r.key_name = c.key_name;
    r.integrated_time = c.integrated_time;
    r.sct = c.sct;
    notes.extend(c.detail);
    statement(ctx, &mut r, ptype, &payload, &mut notes);
    r.detail = notes.join("; ");
    r
}

/// Reads the verified payload as an in-toto Statement: subject digest, predicate, SBOM match.
fn statement(
    ctx: &Ctx<'_>,
    r: &mut VerificationResult,
    ptype: &str,
    payload: &[u8],
    notes: &mut Vec<String>,
) {
    let st: Option<Value> = serde_json::from_slice(payload).ok();
    let is_statement = st
        .as_ref()
        .and_then(|s| s.get("_type"))
        .and_then(Value::as_str)
        .is_some_and(|t| t.starts_with("https://in-toto.io/Statement/"));
    let Some(st) = st.filter(|_| is_statement) else {
        if r.outcome == Outcome::Verified {
            r.outcome = Outcome::Unverifiable;
        }
        notes.push(format!("payload ({ptype}) is not an in-toto Statement"));
        return;
    };
    r.predicate_type = st
        .get("predicateType")
        .and_then(Value::as_str)
        .map(str::to_string);
    let subjects: Vec<String> = st
        .get("subject")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| {
            s.pointer("/digest/sha256")
                .and_then(Value::as_str)
                .map(|h| format!("sha256:{}", h.to_ascii_lowercase()))
        })
        .collect();
    let set = ctx.input.set_digest.map(str::to_ascii_lowercase);
    let matching = set.as_ref().and_then(|s| subjects.iter().find(|d| *d == s));
    r.subject_digest = matching.or(subjects.first()).cloned();
    if r.outcome == Outcome::Verified {
        match (&set, matching) {
            (_, Some(d)) => notes.push(format!("statement subject is the set's image {d}")),
            (None, _) => {
                r.outcome = Outcome::Unverifiable;
                notes.push(
                    "the set has no image digest to compare the statement subject with".into(),
                );
            }
            (Some(s), None) if subjects.is_empty() => {
                r.outcome = Outcome::DigestMismatch;
                notes.push(format!(
                    "statement has no sha256 subject; the set's image is {s}"
                ));
            }
            (Some(s), None) => {
                r.outcome = Outcome::DigestMismatch;
                notes.push(format!(
                    "statement subject {} is not the set's image {s}",
                    subjects.join(", ")
                ));
            }
        }
    }
    sbom_match(ctx, r, st.get("predicate"), notes);
}

fn sbom_match(
    ctx: &Ctx<'_>,
    r: &mut VerificationResult,
    predicate: Option<&Value>,
    notes: &mut Vec<String>,
) {
    let pt = r.predicate_type.as_deref().unwrap_or("");
    let formats: &[&str] = if pt.starts_with("https://spdx.dev/Document") {
        &["spdx-json"]
    } else if pt.starts_with("https://cyclonedx.org/bom") {
        &["cyclonedx-json"]
    } else {
        return;
    };
    let Some(pred) = predicate else {
        notes.push("SBOM attestation without a predicate".into());
        return;
    };
    // cosign --type spdx stores the document as a JSON string.
    let parsed_string = pred
        .as_str()
        .and_then(|s| serde_json::from_str::<Value>(s).ok());
    let pred = parsed_string.as_ref().unwrap_or(pred);
    for f in ctx
        .input
        .files
        .iter()
        .filter(|f| formats.contains(&f.format.as_str()))
    {
        if serde_json::from_slice::<Value>(&f.bytes).ok().as_ref() == Some(pred) {
            r.sbom_file = Some(f.path.clone());
            notes.push(format!("SBOM predicate equals {}", f.path));
            return;
        }
    }
    notes.push("SBOM predicate equals no SBOM file of the set".into());
}
