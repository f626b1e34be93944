//! TEST-ONLY keys derived from fixed labels, and the signed artefacts of the sample:
//! the cosign simple-signing payload, a DSSE in-toto attestation of the SBOM, OpenVEX
//! and dossier waivers. Deterministic: ECDSA here is RFC 6979, so reruns are identical.

use super::Version;
use base64::{engine::general_purpose::STANDARD as B64, Engine};
use p256::ecdsa::{signature::Signer, DerSignature, SigningKey};
use p256::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use sha2::{Digest, Sha256};

pub struct TestKey {
    key: SigningKey,
}

impl TestKey {
    /// A P-256 key whose secret is sha256 of a public label: never use outside tests and demos.
    pub fn derive(label: &str) -> Self {
        let mut seed =
            Sha256::digest(format!("dossier TEST-ONLY sample key: {label}").as_bytes()).to_vec();
        loop {
            if let Ok(key) = SigningKey::from_slice(&seed) {
                return Self { key };
            }
            seed = Sha256::digest(&seed).to_vec();
        }
    }

    pub fn public_pem(&self) -> String {
        self.key
            .verifying_key()
            .to_public_key_pem(LineEnding::LF)
            .unwrap_or_default()
    }

    pub fn private_pem(&self) -> String {
        self.key
            .to_pkcs8_pem(LineEnding::LF)
            .map(|z| z.to_string())
            .unwrap_or_default()
    }

    /// Lowercase hex sha256 of the SPKI DER.
    pub fn fingerprint(&self) -> String {
        let der = self
            .key
            .verifying_key()
            .to_public_key_der()
            .map(|d| d.as_bytes().to_vec())
            .unwrap_or_default();
        hex::encode(Sha256::digest(&der))
    }

    pub fn sign_der(&self, msg: &[u8]) -> Vec<u8> {
        let sig: DerSignature = self.key.sign(msg);
        sig.as_bytes().to_vec()
    }

    pub fn sign_b64(&self, msg: &[u8]) -> String {
        B64.encode(self.sign_der(msg))
    }
}

/// The exact bytes cosign signs: compact, Go's field order, `optional: null`.
pub fn simple_signing_payload(repo: &str, digest: &str) -> Vec<u8> {
    format!(
        r#"{{"critical":{{"identity":{{"docker-reference":"{repo}"}},"image":{{"docker-manifest-digest":"{digest}"}},"type":"cosign container image signature"}},"optional":null}}"#
    )
    .into_bytes()
}

/// DSSE pre-authentication encoding.
pub fn pae(payload_type: &str, body: &[u8]) -> Vec<u8> {
    let mut v = format!(
        "DSSEv1 {} {} {} ",
        payload_type.len(),
        payload_type,
        body.len()
    )
    .into_bytes();
    v.extend_from_slice(body);
    v
}

pub fn dsse_attestation(
    key: &TestKey,
    reference: &str,
    digest: &str,
    sbom: &serde_json::Value,
) -> serde_json::Value {
    let repo = reference.rsplit_once(':').map_or(reference, |x| x.0);
    let statement = serde_json::json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": repo, "digest": {"sha256": digest.trim_start_matches("sha256:")}}],
        "predicateType": "https://cyclonedx.org/bom",
        "predicate": sbom,
    });
    let body = serde_json::to_vec(&statement).unwrap_or_default();
    let pt = "application/vnd.in-toto+json";
    serde_json::json!({
        "payloadType": pt,
        "payload": B64.encode(&body),
        "signatures": [{"keyid": "", "sig": key.sign_b64(&pae(pt, &body))}],
    })
}

fn image_purl(digest: &str) -> String {
    format!(
        "pkg:oci/payments-api@{}?repository_url=registry.example.mil/platform/payments-api",
        digest.replace(':', "%3A")
    )
}

pub fn openvex(digest: &str, ver: &Version) -> serde_json::Value {
    let glibc = "2.36-9+deb12u1";
    serde_json::json!({
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": format!("https://vex.example.mil/payments-api/{}", ver.tag),
        "author": "Payments platform team <payments-platform@example.mil>",
        "timestamp": ver.scanned_at,
        "version": 1,
        "statements": [
            {
                "vulnerability": {"name": "CVE-2023-4911"},
                "products": [{"@id": image_purl(digest), "subcomponents": [{"@id": format!("pkg:deb/debian/libc6@{glibc}?arch=amd64&distro=debian-12")}]}],
                "status": "not_affected",
                "justification": "vulnerable_code_not_in_execute_path",
                "impact_statement": "The image has no setuid binaries and runs as a non-root user; the loader's tunables path is never reached with elevated privileges."
            },
            {
                "vulnerability": {"name": "CVE-2023-52425"},
                "products": [{"@id": image_purl(digest)}],
                "status": "under_investigation"
            },
            {
                "vulnerability": {"name": "CVE-2021-44228"},
                "products": [{"@id": image_purl(digest)}],
                "status": "not_affected",
                "justification": "component_not_present",
                "impact_statement": "No Java runtime or log4j in this image."
            }
        ]
    })
}

fn q(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// A signed dossier waiver as YAML; the signature covers RFC 8785 JSON without `signature`.
fn waiver_yaml(key: Option<&TestKey>, w: &serde_json::Value) -> String {
    let s = |p: &str| {
        w.pointer(p)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string()
    };
    let mut y = String::new();
    y.push_str(&format!(
        "apiVersion: {}\nkind: {}\nid: {}\nvulnerability: {}\n",
        q(&s("/apiVersion")),
        q(&s("/kind")),
        q(&s("/id")),
        q(&s("/vulnerability"))
    ));
    y.push_str(&format!(
        "scope:\n  image: {}\n  purl: {}\n",
        q(&s("/scope/image")),
        q(&s("/scope/purl"))
    ));
    y.push_str(&format!(
        "justification:\n  type: {}\n  text: {}\n",
        q(&s("/justification/type")),
        q(&s("/justification/text"))
    ));
    y.push_str(&format!(
        "requested_by: {{name: {}, role: {}}}\n",
        q(&s("/requested_by/name")),
        q(&s("/requested_by/role"))
    ));
    if w.get("approved_by").is_some() {
        y.push_str(&format!(
            "approved_by: {{name: {}, role: {}}}\n",
            q(&s("/approved_by/name")),
            q(&s("/approved_by/role"))
        ));
        y.push_str(&format!("approved_at: {}\n", q(&s("/approved_at"))));
    }
    y.push_str(&format!("expires: {}\n", q(&s("/expires"))));
    if let Some(k) = key {
        let canon = serde_json_canonicalizer::to_string(w).unwrap_or_default();
        y.push_str(&format!(
            "signature:\n  keyid: {}\n  algorithm: \"ecdsa-p256-sha256\"\n  value: {}\n",
            q(&k.fingerprint()),
            q(&k.sign_b64(canon.as_bytes()))
        ));
    }
    y
}

pub fn waivers(approver: &TestKey, digest: &str, ver: &Version) -> String {
    let image = format!("{}@{digest}", super::SAMPLE_REPO);
    let semver = serde_json::json!({
        "apiVersion": "dossier/v1", "kind": "Waiver",
        "id": if ver.v == 1 { "W-2026-0007" } else { "W-2026-0042" },
        "vulnerability": "CVE-2022-25883",
        "scope": {"image": image, "purl": "pkg:npm/semver@7.5.1"},
        "justification": {"type": "component_not_reachable",
            "text": "semver only parses the Node.js version at start-up; no request data reaches Range()."},
        "requested_by": {"name": "J. Doe", "role": "Platform Engineer"},
        "approved_by": {"name": "R. Roe", "role": "ISSM"},
        "approved_at": if ver.v == 1 { "2026-08-01T14:00:00Z" } else { "2026-11-20T14:00:00Z" },
        "expires": if ver.v == 1 { "2026-11-15" } else { "2027-02-01" },
    });
    let mut out = String::from("# dossier waivers for payments-api (TEST-ONLY sample, signed by the sample approver key)\n---\n");
    out.push_str(&waiver_yaml(Some(approver), &semver));
    if ver.v == 2 {
        let expat = serde_json::json!({
            "apiVersion": "dossier/v1", "kind": "Waiver", "id": "W-2026-0051",
            "vulnerability": "CVE-2023-52425",
            "scope": {"image": image, "purl": "pkg:deb/debian/libexpat1@2.5.0-1?arch=amd64&distro=debian-12"},
            "justification": {"type": "no_patch_available",
                "text": "Debian has no fix for bookworm; the service never parses XML from clients."},
            "requested_by": {"name": "J. Doe", "role": "Platform Engineer"},
            "expires": "2027-01-15",
        });
        out.push_str("---\n# pending: requested, not yet approved or signed\n");
        out.push_str(&waiver_yaml(None, &expat));
    }
    out
}
