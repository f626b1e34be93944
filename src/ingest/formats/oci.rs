//! OCI / Docker image identity: manifest, index, config, `skopeo inspect` output, a bare
//! digest file and a reference file. The image digest is the sha256 of the exact manifest
//! bytes, never of a re-serialisation.

use super::FormatError;
use crate::ingest::detect::Format;
use crate::model::{find_sha256_digest, DocKind, Document, Subject};
use serde::Deserialize;

#[derive(Deserialize)]
struct Descriptor {
    #[serde(rename = "mediaType")]
    media_type: Option<String>,
    digest: Option<String>,
    #[serde(default)]
    annotations: Option<std::collections::BTreeMap<String, String>>,
}

#[derive(Deserialize)]
struct Manifest {
    config: Option<Descriptor>,
    #[serde(default)]
    layers: Vec<Descriptor>,
    subject: Option<Descriptor>,
}

#[derive(Deserialize)]
struct Index {
    #[serde(default)]
    manifests: Vec<Descriptor>,
}

#[derive(Deserialize)]
struct ImageConfig {
    config: Option<ConfigInner>,
}

#[derive(Deserialize)]
struct ConfigInner {
    #[serde(rename = "User")]
    user: Option<String>,
}

#[derive(Deserialize)]
struct SkopeoInspect {
    #[serde(rename = "Name")]
    name: Option<String>,
    #[serde(rename = "Digest")]
    digest: Option<String>,
}

/// True when a manifest is a cosign/referrer artefact (.sig, .att, bundle), not the image.
pub fn is_signature_manifest(bytes: &[u8]) -> bool {
    let Ok(m) = serde_json::from_slice::<Manifest>(bytes) else {
        return false;
    };
    m.subject.is_some()
        || m.layers.iter().any(|l| {
            l.media_type.as_deref().is_some_and(|t| {
                t.contains("cosign")
                    || t.contains("dsse")
                    || t.contains("sigstore")
                    || t.contains("in-toto")
            }) || l.annotations.as_ref().is_some_and(|a| {
                a.keys()
                    .any(|k| k.starts_with("dev.cosignproject") || k.starts_with("dev.sigstore"))
            })
        })
}

pub fn parse(format: Format, bytes: &[u8]) -> Result<Document, FormatError> {
    match format {
        Format::OciManifest => {
            let m: Manifest = serde_json::from_slice(bytes).map_err(|e| FormatError::json(&e))?;
            if is_signature_manifest(bytes) {
                // A signature/attestation manifest names the image it signs (if a referrer).
                let mut d = Document::new(DocKind::Other);
                if let Some(s) = m.subject.and_then(|s| s.digest) {
                    d.image_digests.extend(find_sha256_digest(&s));
                }
                return Ok(d);
            }
            let mut d = Document::new(DocKind::ImageManifest);
            d.image_digests.push(format!(
                "sha256:{}",
                crate::ingest::discover::sha256_hex(bytes)
            ));
            if m.config.is_none() {
                d.warnings
                    .push("manifest without a config descriptor".into());
            }
            Ok(d)
        }
        Format::OciIndex => {
            let i: Index = serde_json::from_slice(bytes).map_err(|e| FormatError::json(&e))?;
            let mut d = Document::new(DocKind::ImageIndex);
            for m in i.manifests {
                if let Some(dg) = m.digest.as_deref().and_then(find_sha256_digest) {
                    d.image_digests.push(dg);
                }
            }
            Ok(d)
        }
        Format::OciImageConfig => {
            let c: ImageConfig =
                serde_json::from_slice(bytes).map_err(|e| FormatError::json(&e))?;
            let mut d = Document::new(DocKind::ImageConfig);
            d.image_user = Some(c.config.and_then(|c| c.user).unwrap_or_default());
            Ok(d)
        }
        Format::SkopeoInspect => {
            let s: SkopeoInspect =
                serde_json::from_slice(bytes).map_err(|e| FormatError::json(&e))?;
            let mut d = Document::new(DocKind::Other);
            d.image_digests
                .extend(s.digest.as_deref().and_then(find_sha256_digest));
            d.subject = Some(Subject {
                reference: s.name,
                ..Subject::default()
            });
            Ok(d)
        }
        Format::ImageDigest => {
            let t = String::from_utf8_lossy(bytes);
            let mut d = Document::new(DocKind::Other);
            d.image_digests.extend(find_sha256_digest(t.trim()));
            Ok(d)
        }
        Format::ImageReference => {
            let t = String::from_utf8_lossy(bytes).trim().to_string();
            let mut d = Document::new(DocKind::Other);
            d.image_digests.extend(find_sha256_digest(&t));
            d.subject = Some(Subject {
                reference: Some(t),
                ..Subject::default()
            });
            Ok(d)
        }
        _ => Err(FormatError::new(format!(
            "{format} is not an image-identity format"
        ))),
    }
}
