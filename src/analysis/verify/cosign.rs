//! cosign "tag" signatures: `.sig`/`.att` manifests (OCI layouts, loose manifests),
//! containers/image `sigstore-json` signature files (skopeo `dir:` copies), and detached
//! payload + base64 signature files. The signature covers the exact payload bytes.

use super::signer::{self, Material, Msg};
use super::tlog::{self, Binding};
use super::{
    b64, bundle, dsse, result, sha256, Ctx, EvidenceFile, Kind, Outcome, TlogState,
    VerificationResult,
};
use crate::crypto::cert::Certificate;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

const SIG_ANN: &str = "dev.cosignproject.cosign/signature";
const CERT_ANN: &str = "dev.sigstore.cosign/certificate";
const CHAIN_ANN: &str = "dev.sigstore.cosign/chain";
const BUNDLE_ANN: &str = "dev.sigstore.cosign/bundle";
const TSA_ANN: &str = "dev.sigstore.cosign/rfc3161timestamp";
const COSIGN_TYPE: &str = "cosign container image signature";

/// Certificate, chain and Rekor bundle from layer annotations (or a sigstore-json file's).
fn material(ann: &BTreeMap<String, String>, sig: Vec<u8>, notes: &mut Vec<String>) -> Material {
    let mut m = Material {
        sig,
        ..Material::default()
    };
    if let Some(pem) = ann.get(CERT_ANN).filter(|s| !s.is_empty()) {
        match Certificate::from_pem_chain(pem) {
            Ok(mut v) if !v.is_empty() => m.leaf = Some(v.remove(0)),
            Ok(_) => notes.push("certificate annotation holds no certificate".into()),
            Err(e) => notes.push(format!("certificate annotation: {e}")),
        }
    }
    if let Some(pem) = ann.get(CHAIN_ANN).filter(|s| !s.is_empty()) {
        match Certificate::from_pem_chain(pem) {
            Ok(v) => m.chain = v,
            Err(e) => notes.push(format!("chain annotation: {e}")),
        }
    }
    if ann.get(TSA_ANN).is_some_and(|s| !s.is_empty()) {
        notes.push(
            "RFC 3161 timestamp present: not-checked (dossier does not verify timestamps)".into(),
        );
    }
    if let Some(b) = ann.get(BUNDLE_ANN).filter(|s| !s.is_empty()) {
        match serde_json::from_str::<Value>(b)
            .map_err(|e| e.to_string())
            .and_then(|v| tlog::from_rekor_bundle(&v))
        {
            Ok(e) => m.tlog.push(e),
            Err(e) => notes.push(format!("Rekor bundle annotation unreadable: {e}")),
        }
    }
    m
}

/// Verifies a simple-signing payload signature and its digest.
pub(crate) fn simple_signing(
    ctx: &Ctx<'_>,
    file: &str,
    payload: &[u8],
    m: Material,
    mut notes: Vec<String>,
) -> VerificationResult {
    let binding = Binding {
        signed_sha256: Some(sha256(payload)),
        ..Binding::default()
    };
    let c = signer::check(ctx, Msg::Bytes(payload), &m, &binding);
    let mut r = result(Kind::Signature, file, c.outcome, c.tlog, String::new());
    r.key_fingerprint = c.key_fingerprint;
    r.key_name = c.key_name;
    r.integrated_time = c.integrated_time;
    r.sct = c.sct;
    notes.extend(c.detail);
    let parsed: Option<Value> = serde_json::from_slice(payload).ok();
    let digest = parsed
        .as_ref()
        .and_then(|v| v.pointer("/critical/image/docker-manifest-digest"))
        .and_then(Value::as_str);
    r.subject_digest = digest.map(str::to_string);
    if let Some(reference) = parsed
        .as_ref()
        .and_then(|v| v.pointer("/critical/identity/docker-reference"))
        .and_then(Value::as_str)
    {
        notes.push(format!("signed reference {reference}"));
    }
    if r.outcome == Outcome::Verified {
        let ty = parsed
            .as_ref()
            .and_then(|v| v.pointer("/critical/type"))
            .and_then(Value::as_str);
        if parsed.is_none() {
            r.outcome = Outcome::Unverifiable;
            notes.push("signed payload is not JSON".into());
        } else if ty != Some(COSIGN_TYPE) {
            r.outcome = Outcome::Unverifiable;
            notes.push(format!(
                "payload critical.type is {ty:?}, not '{COSIGN_TYPE}'"
            ));
        } else {
            digest_check(ctx, &mut r, digest, &mut notes);
        }
    }
    r.detail = notes.join("; ");
    r
}

pub(crate) fn digest_check(
    ctx: &Ctx<'_>,
    r: &mut VerificationResult,
    digest: Option<&str>,
    notes: &mut Vec<String>,
) {
    match (digest, ctx.input.set_digest) {
        (None, _) => {
            r.outcome = Outcome::Unverifiable;
            notes.push("the signed payload names no image digest".into());
        }
        (Some(_), None) => {
            r.outcome = Outcome::Unverifiable;
            notes.push("the set has no image digest to compare the signed digest with".into());
        }
        (Some(d), Some(s)) if d.eq_ignore_ascii_case(s) => {
            notes.push(format!("signed digest is the set's image {s}"))
        }
        (Some(d), Some(s)) => {
            r.outcome = Outcome::DigestMismatch;
            notes.push(format!("signed digest {d} is not the set's image {s}"));
        }
    }
}

/// A signature or attestation manifest: one result per signature layer.
pub(crate) fn manifest(
    ctx: &Ctx<'_>,
    f: &EvidenceFile,
    consumed: &mut BTreeSet<String>,
) -> Vec<VerificationResult> {
    let Ok(v) = serde_json::from_slice::<Value>(&f.bytes) else {
        return Vec::new();
    };
    let layers = v
        .get("layers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut out = Vec::new();
    for (i, l) in layers.iter().enumerate() {
        let mt = l.get("mediaType").and_then(Value::as_str).unwrap_or("");
        let kind = if mt.contains("simplesigning") {
            Kind::Signature
        } else if mt.contains("dsse.envelope") || mt.contains("in-toto") {
            Kind::Attestation
        } else if mt.contains("sigstore.bundle") {
            Kind::Bundle
        } else {
            continue;
        };
        let digest = l.get("digest").and_then(Value::as_str).unwrap_or("");
        let label = format!("{}#layer{} ({})", f.path, i, short(digest));
        let ann: BTreeMap<String, String> = l
            .get("annotations")
            .and_then(Value::as_object)
            .map(|o| {
                o.iter()
                    .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                    .collect()
            })
            .unwrap_or_default();
        let Some(blob) = ctx.blob(digest) else {
            out.push(result(
                kind,
                &label,
                Outcome::Unverifiable,
                TlogState::NotChecked,
                format!("layer blob {digest} is not in the evidence"),
            ));
            continue;
        };
        consumed.insert(blob.sha256.clone());
        let mut notes = Vec::new();
        out.push(match kind {
            Kind::Signature => match ann.get(SIG_ANN).map(String::as_str) {
                None | Some("") => {
                    let mut r = result(
                        kind,
                        &label,
                        Outcome::Unverifiable,
                        TlogState::NotChecked,
                        format!("layer has no {SIG_ANN} annotation: nothing to verify"),
                    );
                    r.subject_digest =
                        serde_json::from_slice::<Value>(&blob.bytes)
                            .ok()
                            .and_then(|p| {
                                p.pointer("/critical/image/docker-manifest-digest")
                                    .and_then(Value::as_str)
                                    .map(str::to_string)
                            });
                    r
                }
                Some(s) => match b64(s) {
                    Some(sig) => {
                        let m = material(&ann, sig, &mut notes);
                        simple_signing(ctx, &label, &blob.bytes, m, notes)
                    }
                    None => result(
                        kind,
                        &label,
                        Outcome::Unverifiable,
                        TlogState::NotChecked,
                        format!("{SIG_ANN} is not base64"),
                    ),
                },
            },
            Kind::Attestation => {
                let m = material(&ann, Vec::new(), &mut notes);
                dsse::envelope(ctx, &label, &blob.bytes, m, notes)
            }
            Kind::Bundle => bundle::verify_bytes(ctx, &label, &blob.bytes),
        });
    }
    out
}

fn short(d: &str) -> String {
    let h = d.strip_prefix("sha256:").unwrap_or(d);
    format!("sha256:{}", &h[..h.len().min(12)])
}

/// containers/image `\0sigstore-json\n{mimeType, payload, annotations}`.
pub(crate) fn sigstore_json(ctx: &Ctx<'_>, f: &EvidenceFile) -> VerificationResult {
    let fail = |d: String| {
        result(
            Kind::Signature,
            &f.path,
            Outcome::Unverifiable,
            TlogState::NotChecked,
            d,
        )
    };
    let body = f
        .bytes
        .strip_prefix(b"\0sigstore-json\n")
        .unwrap_or(&f.bytes);
    let v: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => return fail(format!("sigstore-json signature is not JSON: {e}")),
    };
    let Some(payload) = v.get("payload").and_then(Value::as_str).and_then(b64) else {
        return fail("sigstore-json signature without a base64 payload".into());
    };
    let ann: BTreeMap<String, String> = v
        .get("annotations")
        .and_then(Value::as_object)
        .map(|o| {
            o.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                .collect()
        })
        .unwrap_or_default();
    let Some(sig) = ann
        .get(SIG_ANN)
        .filter(|s| !s.is_empty())
        .and_then(|s| b64(s))
    else {
        return fail(format!("no {SIG_ANN} annotation: nothing to verify"));
    };
    let mut notes = Vec::new();
    let m = material(&ann, sig, &mut notes);
    simple_signing(ctx, &f.path, &payload, m, notes)
}

fn dir_of(p: &str) -> &str {
    p.rfind('/').map_or("", |i| &p[..i])
}

/// A base64 signature file beside a simple-signing payload (and maybe a certificate and a
/// RekorBundle), as `cosign sign --output-signature/--output-payload` leaves them.
pub(crate) fn detached(
    ctx: &Ctx<'_>,
    f: &EvidenceFile,
    consumed: &mut BTreeSet<String>,
) -> VerificationResult {
    let Some(sig) = b64(&String::from_utf8_lossy(&f.bytes)) else {
        return result(
            Kind::Signature,
            &f.path,
            Outcome::Unverifiable,
            TlogState::NotChecked,
            "signature file is not base64".into(),
        );
    };
    let dir = dir_of(&f.path);
    let payloads: Vec<&EvidenceFile> = ctx.of_format("cosign-simple-signing").collect();
    let near: Vec<&EvidenceFile> = payloads
        .iter()
        .copied()
        .filter(|p| dir_of(&p.path) == dir)
        .collect();
    // Same directory first; else the set's only payload; else the one some key verifies.
    let payload = near
        .first()
        .copied()
        .or_else(|| (payloads.len() == 1).then(|| payloads[0]))
        .or_else(|| {
            payloads.iter().copied().find(|p| {
                ctx.input
                    .trust
                    .entries
                    .iter()
                    .map(|t| &t.key)
                    .chain(ctx.evidence_keys.iter().map(|(_, k)| k))
                    .any(|k| k.verify(&p.bytes, &sig).is_ok())
            })
        });
    let Some(payload) = payload else {
        return result(
            Kind::Signature,
            &f.path,
            Outcome::Unverifiable,
            TlogState::NotChecked,
            "base64 signature with no simple-signing payload in the evidence to check it against"
                .into(),
        );
    };
    consumed.insert(payload.sha256.clone());
    let mut notes = vec![format!("payload {}", payload.path)];
    let mut m = Material {
        sig,
        ..Material::default()
    };
    let pkey = |c: &Certificate| {
        c.public_key()
            .ok()
            .is_some_and(|k| k.verify(&payload.bytes, &m.sig).is_ok())
    };
    if let Some((p, c)) = ctx
        .evidence_certs
        .iter()
        .find(|(p, c)| dir_of(p) == dir && pkey(c))
    {
        notes.push(format!("certificate {p}"));
        m.leaf = Some(c.clone());
        m.chain = ctx
            .evidence_certs
            .iter()
            .filter(|(q, _)| q == p)
            .skip(1)
            .map(|(_, c)| c.clone())
            .collect();
    }
    for rb in ctx
        .of_format("rekor-bundle")
        .filter(|r| dir_of(&r.path) == dir)
    {
        if let Ok(e) = serde_json::from_slice::<Value>(&rb.bytes)
            .map_err(|e| e.to_string())
            .and_then(|v| tlog::from_rekor_bundle(&v))
        {
            notes.push(format!("Rekor bundle {}", rb.path));
            m.tlog.push(e);
        }
    }
    simple_signing(ctx, &f.path, &payload.bytes, m, notes)
}
