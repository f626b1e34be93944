//! Formats whose meaning is read later by analysis (signatures, attestations, VEX, waivers,
//! STIG results, threat data, keys). At import they are validated just enough to be
//! accounted for, and the image digests they name are collected for set assignment.

use super::FormatError;
use crate::ingest::detect::Format;
use crate::model::{find_sha256_digest, DocKind, Document};
use base64::Engine;

pub fn parse(format: Format, bytes: &[u8]) -> Result<Document, FormatError> {
    let mut d = Document::new(DocKind::Other);
    match format {
        Format::CosignSimpleSigning => {
            let v: serde_json::Value =
                serde_json::from_slice(bytes).map_err(|e| FormatError::json(&e))?;
            let dg = v
                .pointer("/critical/image/docker-manifest-digest")
                .and_then(|x| x.as_str())
                .ok_or_else(|| {
                    FormatError::new(
                        "simple-signing payload without critical.image.docker-manifest-digest",
                    )
                })?;
            d.image_digests.extend(find_sha256_digest(dg));
        }
        Format::InTotoStatement => {
            let v: serde_json::Value =
                serde_json::from_slice(bytes).map_err(|e| FormatError::json(&e))?;
            statement_digests(&v, &mut d.image_digests);
        }
        Format::DsseEnvelope => {
            let v: serde_json::Value =
                serde_json::from_slice(bytes).map_err(|e| FormatError::json(&e))?;
            let payload = v
                .get("payload")
                .and_then(|p| p.as_str())
                .ok_or_else(|| FormatError::new("DSSE envelope without a string payload"))?;
            let raw = base64::engine::general_purpose::STANDARD
                .decode(payload)
                .map_err(|e| FormatError::new(format!("DSSE payload is not base64: {e}")))?;
            if let Ok(st) = serde_json::from_slice::<serde_json::Value>(&raw) {
                statement_digests(&st, &mut d.image_digests);
            }
        }
        Format::ContainersSigstoreSignature => {
            let body = bytes.strip_prefix(b"\0sigstore-json\n").unwrap_or(bytes);
            let v: serde_json::Value =
                serde_json::from_slice(body).map_err(|e| FormatError::json(&e))?;
            if let Some(p) = v.get("payload").and_then(|p| p.as_str()) {
                if let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(p) {
                    if let Ok(pl) = serde_json::from_slice::<serde_json::Value>(&raw) {
                        if let Some(dg) = pl
                            .pointer("/critical/image/docker-manifest-digest")
                            .and_then(|x| x.as_str())
                        {
                            d.image_digests.extend(find_sha256_digest(dg));
                        }
                    }
                }
            }
        }
        Format::SigstoreBundle => {
            let v: serde_json::Value =
                serde_json::from_slice(bytes).map_err(|e| FormatError::json(&e))?;
            // A DSSE bundle names its image in the statement; a message signature signs a blob.
            if let Some(p) = v.pointer("/dsseEnvelope/payload").and_then(|p| p.as_str()) {
                if let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(p) {
                    if let Ok(st) = serde_json::from_slice::<serde_json::Value>(&raw) {
                        statement_digests(&st, &mut d.image_digests);
                    }
                }
            }
        }
        _ => {}
    }
    d.image_digests.sort();
    d.image_digests.dedup();
    Ok(d)
}

fn statement_digests(st: &serde_json::Value, out: &mut Vec<String>) {
    if let Some(subjects) = st.get("subject").and_then(|s| s.as_array()) {
        for s in subjects {
            if let Some(h) = s.pointer("/digest/sha256").and_then(|x| x.as_str()) {
                out.extend(find_sha256_digest(&format!("sha256:{h}")));
            }
        }
    }
}
