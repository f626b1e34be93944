//! Sigstore bundles v0.1-v0.3 (`cosign sign-blob --bundle`, cosign v3 referrers): verification
//! material (public-key hint, certificate or chain), tlog entries, and either a message
//! signature over a digest or a DSSE envelope.

use super::signer::{self, Material, Msg};
use super::tlog::{self, Binding};
use super::{
    b64, cosign, dsse, result, Ctx, EvidenceFile, Kind, Outcome, TlogState, VerificationResult,
};
use crate::crypto::cert::Certificate;
use serde_json::Value;

pub(crate) fn verify_file(ctx: &Ctx<'_>, f: &EvidenceFile) -> VerificationResult {
    verify_bytes(ctx, &f.path, &f.bytes)
}

pub(crate) fn verify_bytes(ctx: &Ctx<'_>, label: &str, bytes: &[u8]) -> VerificationResult {
    let fail = |d: String| {
        result(
            Kind::Bundle,
            label,
            Outcome::Unverifiable,
            TlogState::NotChecked,
            d,
        )
    };
    let v: Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(e) => return fail(format!("bundle is not JSON: {e}")),
    };
    let mt = v.get("mediaType").and_then(Value::as_str).unwrap_or("");
    let version = if mt.contains("0.3") {
        3
    } else if mt.contains("0.2") {
        2
    } else if mt.contains("0.1") {
        1
    } else {
        return fail(format!("unsupported bundle media type '{mt}'"));
    };
    let vm = v
        .get("verificationMaterial")
        .cloned()
        .unwrap_or(Value::Null);
    let mut notes = vec![format!("Sigstore bundle v0.{version}")];
    let stamps = vm
        .pointer("/timestampVerificationData/rfc3161Timestamps")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    if stamps > 0 {
        notes.push(format!(
            "{stamps} RFC 3161 timestamp(s) present: not-checked (dossier does not verify timestamps)"
        ));
    }
    let mut m = Material::default();
    if let Some(h) = vm.pointer("/publicKey/hint").and_then(Value::as_str) {
        if let Some(raw) = b64(h).filter(|r| r.len() == 32) {
            m.hint = Some(hex::encode(raw));
        }
    }
    let mut certs: Vec<Certificate> = Vec::new();
    let raw_certs: Vec<&str> = match vm.pointer("/certificate/rawBytes").and_then(Value::as_str) {
        Some(c) => vec![c],
        None => vm
            .pointer("/x509CertificateChain/certificates")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|c| c.get("rawBytes").and_then(Value::as_str))
            .collect(),
    };
    if version == 3 && vm.get("x509CertificateChain").is_some_and(|c| !c.is_null()) {
        notes.push("a v0.3 bundle must not carry a certificate chain".into());
    }
    for c in raw_certs {
        match b64(c)
            .ok_or_else(|| "certificate is not base64".to_string())
            .and_then(|d| Certificate::from_der(&d).map_err(|e| e.to_string()))
        {
            Ok(c) => certs.push(c),
            Err(e) => return fail(format!("verificationMaterial certificate: {e}")),
        }
    }
    if !certs.is_empty() {
        m.leaf = Some(certs.remove(0));
        m.chain = certs;
    }
    for e in vm
        .get("tlogEntries")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        match tlog::from_bundle_entry(e) {
            Ok(e) => {
                if version == 1 && e.set.is_none() {
                    notes.push("v0.1 bundle entry without an inclusion promise".into());
                }
                if version >= 2 && e.proof.is_none() {
                    notes.push(format!(
                        "v0.{version} bundle entry without an inclusion proof"
                    ));
                }
                m.tlog.push(e);
            }
            Err(e) => notes.push(format!("tlog entry unreadable: {e}")),
        }
    }
    if let Some(env) = v.get("dsseEnvelope").filter(|e| !e.is_null()) {
        return dsse::verify_envelope(ctx, Kind::Bundle, label, env, None, m, notes);
    }
    let Some(ms) = v.get("messageSignature").filter(|e| !e.is_null()) else {
        return fail("bundle has neither messageSignature nor dsseEnvelope".into());
    };
    let alg = ms
        .pointer("/messageDigest/algorithm")
        .and_then(Value::as_str)
        .unwrap_or("");
    let Some(digest) = ms
        .pointer("/messageDigest/digest")
        .and_then(Value::as_str)
        .and_then(b64)
    else {
        return fail("messageSignature without a messageDigest".into());
    };
    if alg != "SHA2_256" || digest.len() != 32 {
        return fail(format!(
            "messageDigest algorithm '{alg}' is not supported (SHA2_256 is)"
        ));
    }
    let Some(sig) = ms.get("signature").and_then(Value::as_str).and_then(b64) else {
        return fail("messageSignature without a signature".into());
    };
    m.sig = sig;
    let binding = Binding {
        signed_sha256: digest.clone().try_into().ok(),
        ..Binding::default()
    };
    let c = signer::check(ctx, Msg::Sha256(&digest), &m, &binding);
    let mut r = result(Kind::Bundle, label, c.outcome, c.tlog, String::new());
    r.key_fingerprint = c.key_fingerprint;
    r.key_name = c.key_name;
    r.integrated_time = c.integrated_time;
    r.sct = c.sct;
    notes.extend(c.detail);
    let hexd = hex::encode(&digest);
    let subject = format!("sha256:{hexd}");
    r.subject_digest = Some(subject.clone());
    if r.outcome == Outcome::Verified {
        // A blob signature names no image: it must sign the image or a file of the set.
        if let Some(f) = ctx.input.files.iter().find(|f| f.sha256 == hexd) {
            notes.push(format!("signs the evidence file {}", f.path));
        } else {
            cosign::digest_check(ctx, &mut r, Some(&subject), &mut notes);
        }
    }
    r.detail = notes.join("; ");
    r
}
