//! Signing the package: a detached ECDSA P-256 / SHA-256 signature over the exact JSON bytes
//! (DER, and base64 of the DER as `cosign sign-blob` writes it), plus a DSSE envelope of the
//! same bytes; and the matching offline verification used by `verify-package`.

use base64::Engine as _;
use p256::ecdsa::signature::{Signer as _, Verifier as _};
use p256::ecdsa::{DerSignature, Signature, SigningKey, VerifyingKey};
use p256::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePublicKey};
use sha2::{Digest, Sha256};

/// DSSE payload type of a signed dossier package.
pub const PAYLOAD_TYPE: &str = "application/vnd.dossier.package.v1+json";

#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("{path}: {message}")]
    Key { path: String, message: String },
    #[error("signature does not verify: {0}")]
    BadSignature(String),
    #[error("{0}")]
    Malformed(String),
}

pub struct PackageSigner {
    key: SigningKey,
    fingerprint: String,
}

impl std::fmt::Debug for PackageSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.debug_struct("PackageSigner")
            .field("fingerprint", &self.fingerprint)
            .finish()
    }
}

impl PackageSigner {
    pub fn from_signing_key(key: SigningKey) -> Result<Self, SignError> {
        let fingerprint = spki_fingerprint(key.verifying_key())?;
        Ok(Self { key, fingerprint })
    }

    /// Loads an unencrypted PKCS#8 (`PRIVATE KEY`) or SEC1 (`EC PRIVATE KEY`) P-256 PEM.
    /// `path` only names the file in errors.
    pub fn from_pem(pem: &str, path: &str) -> Result<Self, SignError> {
        let err = |m: String| SignError::Key {
            path: path.to_string(),
            message: m,
        };
        let secret = if pem.contains("-----BEGIN PRIVATE KEY-----") {
            p256::SecretKey::from_pkcs8_pem(pem)
                .map_err(|e| err(format!("not a P-256 PKCS#8 key: {e}")))?
        } else if pem.contains("-----BEGIN EC PRIVATE KEY-----") {
            p256::SecretKey::from_sec1_pem(pem)
                .map_err(|e| err(format!("not a P-256 SEC1 key: {e}")))?
        } else if pem.contains("ENCRYPTED") {
            return Err(err(
                "encrypted private keys need the reviewer key loader (crypto::privkey); \
                 pass an unencrypted PKCS#8 P-256 key"
                    .into(),
            ));
        } else {
            return Err(err("no PEM private key block found".into()));
        };
        Self::from_signing_key(SigningKey::from(&secret))
    }

    /// sha256 of the public key's SPKI DER, lowercase hex (the trust store's fingerprint).
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    pub fn public_key_pem(&self) -> Result<String, SignError> {
        self.key
            .verifying_key()
            .to_public_key_pem(p256::pkcs8::LineEnding::LF)
            .map_err(|e| SignError::Malformed(e.to_string()))
    }

    /// ASN.1 DER ECDSA signature over SHA-256 of `bytes` (RFC 6979: deterministic).
    pub fn sign_der(&self, bytes: &[u8]) -> Vec<u8> {
        let sig: Signature = self.key.sign(bytes);
        sig.to_der().as_bytes().to_vec()
    }

    /// A DSSE envelope over `bytes`, in cosign's key order.
    pub fn dsse_envelope(&self, bytes: &[u8]) -> serde_json::Value {
        let b64 = base64::engine::general_purpose::STANDARD;
        let sig = self.sign_der(&pae(PAYLOAD_TYPE, bytes));
        serde_json::json!({
            "payloadType": PAYLOAD_TYPE,
            "payload": b64.encode(bytes),
            "signatures": [{"keyid": self.fingerprint, "sig": b64.encode(sig)}],
        })
    }
}

/// DSSE pre-authentication encoding: `DSSEv1 SP len(type) SP type SP len(body) SP body`.
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

fn spki_fingerprint(vk: &VerifyingKey) -> Result<String, SignError> {
    let der = vk
        .to_public_key_der()
        .map_err(|e| SignError::Malformed(e.to_string()))?;
    Ok(hex::encode(Sha256::digest(der.as_bytes())))
}

/// A P-256 public key from an SPKI PEM, for verification.
pub fn public_key_from_pem(pem: &str, path: &str) -> Result<VerifyingKey, SignError> {
    VerifyingKey::from_public_key_pem(pem).map_err(|e| SignError::Key {
        path: path.to_string(),
        message: format!("not a P-256 public key (SPKI PEM): {e}"),
    })
}

/// Reads a detached signature file: raw DER, or base64 of the DER (cosign's `.sig`).
pub fn decode_signature(raw: &[u8]) -> Result<Vec<u8>, SignError> {
    if raw.first() == Some(&0x30) {
        return Ok(raw.to_vec());
    }
    let text: String = String::from_utf8_lossy(raw).split_whitespace().collect();
    base64::engine::general_purpose::STANDARD
        .decode(text.as_bytes())
        .map_err(|e| SignError::Malformed(format!("signature is neither DER nor base64: {e}")))
}

/// Verifies a DER ECDSA P-256 SHA-256 signature over `bytes`.
pub fn verify_der(key: &VerifyingKey, bytes: &[u8], sig_der: &[u8]) -> Result<(), SignError> {
    let sig = DerSignature::try_from(sig_der)
        .map_err(|e| SignError::Malformed(format!("signature is not ASN.1 DER ECDSA: {e}")))?;
    key.verify(bytes, &sig)
        .map_err(|e| SignError::BadSignature(e.to_string()))
}

/// Verifies a DSSE envelope; returns the payload bytes it signs.
pub fn verify_dsse(key: &VerifyingKey, envelope: &[u8]) -> Result<Vec<u8>, SignError> {
    let v: serde_json::Value = serde_json::from_slice(envelope)
        .map_err(|e| SignError::Malformed(format!("DSSE envelope: {e}")))?;
    let b64 = base64::engine::general_purpose::STANDARD;
    let ptype = v["payloadType"].as_str().unwrap_or_default();
    let payload = b64
        .decode(v["payload"].as_str().unwrap_or_default())
        .map_err(|e| SignError::Malformed(format!("DSSE payload: {e}")))?;
    let sigs = v["signatures"].as_array().cloned().unwrap_or_default();
    if sigs.is_empty() {
        return Err(SignError::Malformed(
            "DSSE envelope has no signatures".into(),
        ));
    }
    let msg = pae(ptype, &payload);
    for s in &sigs {
        if let Ok(sig) = b64.decode(s["sig"].as_str().unwrap_or_default()) {
            if verify_der(key, &msg, &sig).is_ok() {
                return Ok(payload);
            }
        }
    }
    Err(SignError::BadSignature(
        "no DSSE signature verifies with this key".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> PackageSigner {
        let sk = SigningKey::from_slice(&[7u8; 32]).unwrap();
        PackageSigner::from_signing_key(sk).unwrap()
    }

    #[test]
    fn pae_matches_the_dsse_spec_example() {
        // DSSE protocol.md: PAE("http://example.com/HelloWorld", "hello world").
        let p = pae("http://example.com/HelloWorld", b"hello world");
        assert_eq!(
            p,
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
    }

    #[test]
    fn detached_signature_verifies_and_a_flipped_byte_does_not() {
        let s = signer();
        let body = br#"{"a":1}"#;
        let sig = s.sign_der(body);
        let vk = public_key_from_pem(&s.public_key_pem().unwrap(), "k").unwrap();
        verify_der(&vk, body, &sig).unwrap();
        assert!(matches!(
            verify_der(&vk, br#"{"a":2}"#, &sig),
            Err(SignError::BadSignature(_))
        ));
        // The base64 form cosign writes decodes to the same DER.
        let b64 = base64::engine::general_purpose::STANDARD.encode(&sig);
        assert_eq!(decode_signature(b64.as_bytes()).unwrap(), sig);
    }

    #[test]
    fn dsse_envelope_round_trips() {
        let s = signer();
        let env = serde_json::to_vec(&s.dsse_envelope(b"payload")).unwrap();
        let vk = public_key_from_pem(&s.public_key_pem().unwrap(), "k").unwrap();
        assert_eq!(verify_dsse(&vk, &env).unwrap(), b"payload");
        let mut v: serde_json::Value = serde_json::from_slice(&env).unwrap();
        v["payloadType"] = "other".into();
        assert!(verify_dsse(&vk, &serde_json::to_vec(&v).unwrap()).is_err());
    }

    #[test]
    fn encrypted_or_garbage_keys_are_refused_with_the_path() {
        let e = PackageSigner::from_pem("-----BEGIN ENCRYPTED COSIGN PRIVATE KEY-----\n", "k.key")
            .unwrap_err();
        assert!(e.to_string().starts_with("k.key: "), "{e}");
        assert!(PackageSigner::from_pem("hello", "x").is_err());
    }
}
