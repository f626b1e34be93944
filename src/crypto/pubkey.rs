//! Public keys for verification: ECDSA P-256/P-384, RSA (>= 2048 bits by policy) and
//! Ed25519, read from PEM or SPKI DER. A key's fingerprint is the lowercase hex sha256 of its
//! SubjectPublicKeyInfo DER; that is the id the trust store, waivers and packages use.
//!
//! ```text
//! let key = PublicKey::from_pem(&pem_text)?;          // "-----BEGIN PUBLIC KEY-----"
//! key.verify(message, &der_or_raw_signature)?;          // Ok(()) only when it verifies
//! let id = key.fingerprint();                           // 64 hex chars
//! ```

use super::der;
use base64::Engine;
use sha2::{Digest, Sha256};

const OID_EC: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const OID_P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];

/// The smallest RSA modulus the crypto policy accepts.
pub const RSA_MIN_BITS: usize = 2048;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("not a public key: {0}")]
    Parse(String),
    #[error("unsupported key algorithm {0} (ECDSA P-256/P-384, RSA and Ed25519 are supported)")]
    Unsupported(String),
    /// The key was read but the crypto policy forbids using it.
    #[error("crypto policy: {0}")]
    Policy(String),
    #[error("signature does not verify: {0}")]
    BadSignature(String),
}

#[derive(Clone)]
enum Inner {
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
    Rsa(Box<rsa::PublicKey>, usize),
    /// Read for reporting, never used to verify.
    RsaWeak(usize),
    Ed25519(ed25519_dalek::VerifyingKey),
}

/// A parsed public key plus its SPKI DER (kept for the fingerprint and for storage).
#[derive(Clone)]
pub struct PublicKey {
    spki: Vec<u8>,
    inner: Inner,
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "PublicKey({} {})",
            self.algorithm(),
            &self.fingerprint()[..16]
        )
    }
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.spki == other.spki
    }
}

/// Every `-----BEGIN X-----` block of a PEM text as (label, DER bytes). Bad base64 is an error
/// naming the block's line.
pub fn pem_blocks(text: &str) -> Result<Vec<(String, Vec<u8>)>, KeyError> {
    let mut out = Vec::new();
    let mut cur: Option<(String, String, usize)> = None;
    for (i, line) in text.lines().enumerate() {
        let l = line.trim();
        if let Some(label) = l
            .strip_prefix("-----BEGIN ")
            .and_then(|r| r.strip_suffix("-----"))
        {
            cur = Some((label.to_string(), String::new(), i + 1));
        } else if let Some(label) = l
            .strip_prefix("-----END ")
            .and_then(|r| r.strip_suffix("-----"))
        {
            if let Some((lab, body, start)) = cur.take() {
                if lab != label {
                    return Err(KeyError::Parse(format!(
                        "PEM block at line {start}: BEGIN {lab} ends with END {label}"
                    )));
                }
                let der = base64::engine::general_purpose::STANDARD
                    .decode(body.as_bytes())
                    .map_err(|e| {
                        KeyError::Parse(format!("PEM block {lab} at line {start}: bad base64: {e}"))
                    })?;
                out.push((lab, der));
            }
        } else if let Some((_, body, _)) = cur.as_mut() {
            // Headers such as "Proc-Type:" belong to encrypted keys, which are not public keys.
            if !l.contains(':') {
                body.push_str(l);
            }
        }
    }
    if let Some((lab, _, start)) = cur {
        return Err(KeyError::Parse(format!(
            "PEM block {lab} at line {start} has no END line"
        )));
    }
    Ok(out)
}

/// Lowercase hex sha256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl PublicKey {
    /// The first `PUBLIC KEY` block of a PEM text.
    pub fn from_pem(text: &str) -> Result<Self, KeyError> {
        let blocks = pem_blocks(text)?;
        let (_, der) = blocks
            .iter()
            .find(|(l, _)| l == "PUBLIC KEY")
            .ok_or_else(|| KeyError::Parse("no -----BEGIN PUBLIC KEY----- block".into()))?;
        Self::from_spki_der(der)
    }

    /// A DER SubjectPublicKeyInfo (RFC 5280 4.1.2.7).
    pub fn from_spki_der(spki: &[u8]) -> Result<Self, KeyError> {
        let p = |e: der::DerError| KeyError::Parse(e.to_string());
        let (seq, rest) = der::expect(spki, 0x30).map_err(p)?;
        if !rest.is_empty() {
            return Err(KeyError::Parse(
                "trailing bytes after SubjectPublicKeyInfo".into(),
            ));
        }
        let (alg, rest) = der::expect(seq.content, 0x30).map_err(p)?;
        let (bits, _) = der::expect(rest, 0x03).map_err(p)?;
        let (oid, params) = der::expect(alg.content, 0x06).map_err(p)?;
        let key_bytes = match bits.content.split_first() {
            Some((0, k)) => k,
            _ => {
                return Err(KeyError::Parse(
                    "public key BIT STRING with unused bits".into(),
                ))
            }
        };
        let inner = if oid.content == OID_EC {
            let (curve, _) = der::expect(params, 0x06).map_err(p)?;
            if curve.content == OID_P256 {
                Inner::P256(
                    p256::ecdsa::VerifyingKey::from_sec1_bytes(key_bytes)
                        .map_err(|e| KeyError::Parse(format!("P-256 point: {e}")))?,
                )
            } else if curve.content == OID_P384 {
                Inner::P384(
                    p384::ecdsa::VerifyingKey::from_sec1_bytes(key_bytes)
                        .map_err(|e| KeyError::Parse(format!("P-384 point: {e}")))?,
                )
            } else {
                let oid = der::oid_string(curve.content);
                let name = match oid.as_str() {
                    "1.3.132.0.10" => "secp256k1 ",
                    "1.3.132.0.35" => "P-521 ",
                    "1.2.840.10045.3.1.1" => "P-192 ",
                    "1.3.36.3.3.2.8.1.1.7" => "brainpoolP256r1 ",
                    _ => "",
                };
                return Err(KeyError::Unsupported(format!("EC curve {name}({oid})")));
            }
        } else if oid.content == OID_RSA {
            let bits = rsa_modulus_bits(key_bytes).map_err(p)?;
            if bits < RSA_MIN_BITS {
                Inner::RsaWeak(bits)
            } else {
                use rsa::pkcs8::DecodePublicKey;
                let k = rsa::PublicKey::from_public_key_der(spki)
                    .map_err(|e| KeyError::Parse(format!("RSA key: {e}")))?;
                Inner::Rsa(Box::new(k), bits)
            }
        } else if oid.content == OID_ED25519 {
            let raw: [u8; 32] = key_bytes
                .try_into()
                .map_err(|_| KeyError::Parse("Ed25519 key is not 32 bytes".into()))?;
            Inner::Ed25519(
                ed25519_dalek::VerifyingKey::from_bytes(&raw)
                    .map_err(|e| KeyError::Parse(format!("Ed25519 key: {e}")))?,
            )
        } else {
            return Err(KeyError::Unsupported(der::oid_string(oid.content)));
        };
        Ok(Self {
            spki: spki.to_vec(),
            inner,
        })
    }

    /// Lowercase hex sha256 of the SPKI DER.
    pub fn fingerprint(&self) -> String {
        sha256_hex(&self.spki)
    }

    pub fn spki_der(&self) -> &[u8] {
        &self.spki
    }

    /// PEM `PUBLIC KEY` text of this key.
    pub fn to_pem(&self) -> String {
        let b = base64::engine::general_purpose::STANDARD.encode(&self.spki);
        let mut s = String::from("-----BEGIN PUBLIC KEY-----\n");
        for chunk in b.as_bytes().chunks(64) {
            s.push_str(&String::from_utf8_lossy(chunk));
            s.push('\n');
        }
        s.push_str("-----END PUBLIC KEY-----\n");
        s
    }

    /// `ecdsa-p256`, `ecdsa-p384`, `rsa-<bits>` or `ed25519`.
    pub fn algorithm(&self) -> String {
        match &self.inner {
            Inner::P256(_) => "ecdsa-p256".into(),
            Inner::P384(_) => "ecdsa-p384".into(),
            Inner::Rsa(_, b) | Inner::RsaWeak(b) => format!("rsa-{b}"),
            Inner::Ed25519(_) => "ed25519".into(),
        }
    }

    /// Why the crypto policy forbids this key, if it does.
    pub fn policy_failure(&self) -> Option<String> {
        match self.inner {
            Inner::RsaWeak(b) => Some(format!(
                "RSA key of {b} bits is below the {RSA_MIN_BITS}-bit minimum"
            )),
            _ => None,
        }
    }

    /// Verifies `sig` over `msg`. ECDSA: ASN.1 DER (or fixed r||s) over SHA-256 (P-256) or
    /// SHA-384 (P-384) of msg; Ed25519: the raw 64 bytes; RSA: PKCS#1 v1.5, then PSS, SHA-256.
    pub fn verify(&self, msg: &[u8], sig: &[u8]) -> Result<(), KeyError> {
        use p256::ecdsa::signature::Verifier;
        let bad = |e: p256::ecdsa::signature::Error| KeyError::BadSignature(e.to_string());
        match &self.inner {
            Inner::P256(k) => k.verify(msg, &p256_sig(sig)?).map_err(bad),
            Inner::P384(k) => k.verify(msg, &p384_sig(sig)?).map_err(bad),
            Inner::Ed25519(k) => {
                let s = ed25519_dalek::Signature::from_slice(sig).map_err(|e| {
                    KeyError::BadSignature(format!("not an Ed25519 signature: {e}"))
                })?;
                k.verify_strict(msg, &s)
                    .map_err(|e| KeyError::BadSignature(e.to_string()))
            }
            Inner::Rsa(k, _) => {
                let v15 = rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new((**k).clone());
                if let Ok(s) = rsa::pkcs1v15::Signature::try_from(sig) {
                    if v15.verify(msg, &s).is_ok() {
                        return Ok(());
                    }
                }
                let pss = rsa::pss::VerifyingKey::<sha2::Sha256>::new((**k).clone());
                let s = rsa::pss::Signature::try_from(sig).map_err(bad)?;
                pss.verify(msg, &s).map_err(bad)
            }
            Inner::RsaWeak(_) => Err(KeyError::Policy(self.policy_failure().unwrap_or_default())),
        }
    }

    /// Verifies `sig` over an already computed SHA-256 digest (Sigstore bundle message
    /// signatures carry only the artifact's digest). Ed25519 cannot sign a prehash.
    pub fn verify_sha256_prehash(&self, digest: &[u8], sig: &[u8]) -> Result<(), KeyError> {
        use p256::ecdsa::signature::hazmat::PrehashVerifier;
        let bad = |e: p256::ecdsa::signature::Error| KeyError::BadSignature(e.to_string());
        match &self.inner {
            Inner::P256(k) => k.verify_prehash(digest, &p256_sig(sig)?).map_err(bad),
            Inner::P384(k) => k.verify_prehash(digest, &p384_sig(sig)?).map_err(bad),
            Inner::Rsa(k, _) => {
                let v = rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new((**k).clone());
                let s = rsa::pkcs1v15::Signature::try_from(sig).map_err(bad)?;
                v.verify_prehash(digest, &s).map_err(bad)
            }
            Inner::Ed25519(_) => Err(KeyError::Unsupported(
                "Ed25519 over a prehashed digest".into(),
            )),
            Inner::RsaWeak(_) => Err(KeyError::Policy(self.policy_failure().unwrap_or_default())),
        }
    }
}

macro_rules! ec_sig_fn {
    ($name:ident, $sig:ty, $field:expr) => {
        fn $name(sig: &[u8]) -> Result<$sig, KeyError> {
            if let Ok(s) = <$sig>::from_der(sig) {
                return Ok(s);
            }
            if sig.len() == 2 * $field {
                return <$sig>::from_slice(sig).map_err(|e| KeyError::BadSignature(e.to_string()));
            }
            Err(KeyError::BadSignature(
                "not an ASN.1 DER ECDSA signature".into(),
            ))
        }
    };
}
ec_sig_fn!(p256_sig, p256::ecdsa::Signature, 32);
ec_sig_fn!(p384_sig, p384::ecdsa::Signature, 48);

/// Bit length of an RSA modulus from the SPKI's RSAPublicKey (PKCS#1) bytes.
fn rsa_modulus_bits(key: &[u8]) -> Result<usize, der::DerError> {
    let (seq, _) = der::expect(key, 0x30)?;
    let (n, _) = der::expect(seq.content, 0x02)?;
    let digits: Vec<u8> = n.content.iter().copied().skip_while(|b| *b == 0).collect();
    Ok(match digits.first() {
        Some(top) => (digits.len() - 1) * 8 + (8 - top.leading_zeros() as usize),
        None => 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::signature::Signer;

    fn pem_of(der: &[u8]) -> String {
        let b = base64::engine::general_purpose::STANDARD.encode(der);
        format!("-----BEGIN PUBLIC KEY-----\n{b}\n-----END PUBLIC KEY-----\n")
    }

    fn scalar(seed: u8, len: usize) -> Vec<u8> {
        let mut s = vec![0u8; len];
        s[0] = 1;
        s[len - 1] = seed;
        s
    }

    #[test]
    fn p256_pem_fingerprint_is_sha256_of_the_spki_and_verifies_der_signatures() {
        let sk = p256::ecdsa::SigningKey::from_slice(&scalar(1, 32)).unwrap();
        // RFC 5480 SPKI prefix for an uncompressed P-256 point.
        let mut spki = hex::decode("3059301306072a8648ce3d020106082a8648ce3d030107034200").unwrap();
        spki.extend_from_slice(&sk.verifying_key().to_sec1_point(false).to_bytes());
        let k = PublicKey::from_pem(&pem_of(&spki)).unwrap();
        assert_eq!(k.fingerprint(), hex::encode(Sha256::digest(&spki)));
        assert_eq!(k.algorithm(), "ecdsa-p256");
        assert_eq!(PublicKey::from_pem(&k.to_pem()).unwrap(), k);
        let sig: p256::ecdsa::Signature = sk.sign(b"payload");
        k.verify(b"payload", sig.to_der().as_bytes()).unwrap();
        k.verify(b"payload", &sig.to_bytes()).unwrap();
        assert!(matches!(
            k.verify(b"payloaD", sig.to_der().as_bytes()),
            Err(KeyError::BadSignature(_))
        ));
        let digest = Sha256::digest(b"payload");
        k.verify_sha256_prehash(&digest, sig.to_der().as_bytes())
            .unwrap();
    }

    #[test]
    fn p384_uses_sha384() {
        let sk = p384::ecdsa::SigningKey::from_slice(&scalar(2, 48)).unwrap();
        let mut spki = hex::decode("3076301006072a8648ce3d020106052b81040022036200").unwrap();
        spki.extend_from_slice(&sk.verifying_key().to_sec1_point(false).to_bytes());
        let k = PublicKey::from_spki_der(&spki).unwrap();
        assert_eq!(k.algorithm(), "ecdsa-p384");
        let sig: p384::ecdsa::Signature = sk.sign(b"m");
        k.verify(b"m", sig.to_der().as_bytes()).unwrap();
        assert!(k.verify(b"n", sig.to_der().as_bytes()).is_err());
    }

    #[test]
    fn ed25519_raw_signatures() {
        let sk = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
        // RFC 8410 SPKI prefix for Ed25519.
        let mut spki = hex::decode("302a300506032b6570032100").unwrap();
        spki.extend_from_slice(sk.verifying_key().as_bytes());
        let k = PublicKey::from_spki_der(&spki).unwrap();
        assert_eq!(k.algorithm(), "ed25519");
        let sig = ed25519_dalek::Signer::sign(&sk, b"waiver");
        k.verify(b"waiver", &sig.to_bytes()).unwrap();
        assert!(k.verify(b"waiveR", &sig.to_bytes()).is_err());
        assert!(matches!(
            k.verify_sha256_prehash(&[0; 32], &sig.to_bytes()),
            Err(KeyError::Unsupported(_))
        ));
    }

    #[test]
    fn small_rsa_is_read_but_refused_by_policy() {
        // SPKI with a 1024-bit modulus (all ones) and e = 65537, assembled by hand.
        let mut n = vec![0x02, 0x81, 0x81, 0x00];
        n.extend(std::iter::repeat_n(0xffu8, 128));
        let e = [0x02, 0x03, 0x01, 0x00, 0x01];
        let rsapk = [vec![0x30, 0x81, (n.len() + e.len()) as u8], n, e.to_vec()].concat();
        let bits = [vec![0x03, 0x81, (rsapk.len() + 1) as u8, 0x00], rsapk].concat();
        let body = [hex::decode("300d06092a864886f70d0101010500").unwrap(), bits].concat();
        let spki = [vec![0x30, 0x81, body.len() as u8], body].concat();
        let k = PublicKey::from_spki_der(&spki).unwrap();
        assert_eq!(k.algorithm(), "rsa-1024");
        assert!(k.policy_failure().unwrap().contains("1024"));
        assert!(matches!(
            k.verify(b"x", &[0; 128]),
            Err(KeyError::Policy(_))
        ));
    }

    #[test]
    fn malformed_pem_and_der_are_errors_not_panics() {
        assert!(PublicKey::from_pem("no pem here").is_err());
        assert!(
            PublicKey::from_pem("-----BEGIN PUBLIC KEY-----\n!!!\n-----END PUBLIC KEY-----\n")
                .is_err()
        );
        assert!(PublicKey::from_pem(
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END CERTIFICATE-----\n"
        )
        .is_err());
        assert!(PublicKey::from_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n").is_err());
        for junk in [
            &[][..],
            &[0x30],
            &[0x30, 0x03, 0x30, 0x01, 0x06],
            &[0x30, 0x82, 0xff, 0xff, 0x00],
        ] {
            assert!(PublicKey::from_spki_der(junk).is_err());
        }
        // A P-256 SPKI whose point is not on the curve.
        let mut spki = hex::decode("3059301306072a8648ce3d020106082a8648ce3d030107034200").unwrap();
        spki.push(4);
        spki.extend([0x11u8; 64]);
        assert!(matches!(
            PublicKey::from_spki_der(&spki),
            Err(KeyError::Parse(_))
        ));
    }
}
