//! Reviewer private keys: cosign's encrypted format (PEM of JSON: scrypt + NaCl secretbox
//! over PKCS#8 DER) read and written, plain PKCS#8 PEM read; P-256 and Ed25519 signing;
//! the public key PEM and its fingerprint. Secrets never appear in errors or Debug output.

use crate::model::waiver::SignatureAlgorithm;
use base64::{engine::general_purpose::STANDARD as B64, Engine};
use crypto_secretbox::aead::{Aead, KeyInit};
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

pub const COSIGN_LABEL: &str = "ENCRYPTED COSIGN PRIVATE KEY";
pub const SIGSTORE_LABEL: &str = "ENCRYPTED SIGSTORE PRIVATE KEY";
const PKCS8_LABEL: &str = "PRIVATE KEY";
/// scrypt N for keys we write (cosign's current default).
pub const WRITE_N: u64 = 65536;
/// The only work factors go-securesystemslib accepts; anything else is refused.
const ACCEPTED_N: [u64; 3] = [32768, 65536, 131072];

#[derive(Debug, thiserror::Error)]
pub enum PrivateKeyError {
    #[error("{file}: {message}")]
    Format { file: String, message: String },
    #[error("{file}: wrong passphrase (or the key file is damaged)")]
    WrongPassphrase { file: String },
    #[error("{file}: the key is encrypted and needs a passphrase")]
    NeedsPassphrase { file: String },
    #[error(
        "{file}: permissions {mode:04o} are too open; a private key must not be accessible by group or \
         others (run: chmod 600 {file})"
    )]
    TooOpen { file: String, mode: u32 },
    #[error("{file}: {source}")]
    Io {
        file: String,
        source: std::io::Error,
    },
    #[error("signature: {0}")]
    Signature(String),
    #[error("random number generator failed: {0}")]
    Random(String),
}

fn fmt_err(file: &str, message: impl Into<String>) -> PrivateKeyError {
    PrivateKeyError::Format {
        file: file.to_string(),
        message: message.into(),
    }
}

/// A decrypted signing key. Debug shows only the algorithm and fingerprint.
pub enum PrivateKey {
    P256(Box<p256::ecdsa::SigningKey>),
    Ed25519(Box<ed25519_dalek::SigningKey>),
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "PrivateKey({}, {})",
            self.algorithm().as_str(),
            self.fingerprint()
        )
    }
}

#[derive(Serialize, Deserialize)]
struct EncryptedKey {
    kdf: Kdf,
    cipher: Cipher,
    ciphertext: String,
}

#[derive(Serialize, Deserialize)]
struct Kdf {
    name: String,
    params: KdfParams,
    salt: String,
}

#[derive(Serialize, Deserialize)]
struct KdfParams {
    #[serde(rename = "N")]
    n: u64,
    r: u32,
    p: u32,
}

#[derive(Serialize, Deserialize)]
struct Cipher {
    name: String,
    nonce: String,
}

/// One PEM block: its label and decoded body.
pub fn pem_decode(file: &str, text: &str) -> Result<(String, Vec<u8>), PrivateKeyError> {
    let mut lines = text.lines().map(str::trim);
    let label = lines
        .by_ref()
        .find_map(|l| {
            l.strip_prefix("-----BEGIN ")
                .and_then(|r| r.strip_suffix("-----"))
        })
        .ok_or_else(|| fmt_err(file, "no PEM block (-----BEGIN ...-----) found"))?
        .to_string();
    let end = format!("-----END {label}-----");
    let mut body = String::new();
    let mut closed = false;
    for l in lines {
        if l == end {
            closed = true;
            break;
        }
        // RFC 1421 headers (Proc-Type etc.) mean a legacy encrypted PEM we do not read.
        if l.contains(':') {
            return Err(fmt_err(
                file,
                format!("PEM block '{label}' has headers; legacy encrypted PEM is not supported"),
            ));
        }
        body.push_str(l);
    }
    if !closed {
        return Err(fmt_err(
            file,
            format!("PEM block '{label}' has no END line"),
        ));
    }
    let bytes = B64.decode(body.as_bytes()).map_err(|e| {
        fmt_err(
            file,
            format!("PEM block '{label}' is not valid base64: {e}"),
        )
    })?;
    Ok((label, bytes))
}

fn pem_encode(label: &str, der: &[u8]) -> String {
    let b = B64.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

fn random_bytes<const N: usize>() -> Result<[u8; N], PrivateKeyError> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|e| PrivateKeyError::Random(e.to_string()))?;
    Ok(b)
}

fn scrypt_key(
    file: &str,
    passphrase: &[u8],
    salt: &[u8],
    n: u64,
    r: u32,
    p: u32,
) -> Result<[u8; 32], PrivateKeyError> {
    if !ACCEPTED_N.contains(&n) || r != 8 || p != 1 {
        return Err(fmt_err(
            file,
            format!("scrypt parameters N={n} r={r} p={p} are not ones cosign accepts"),
        ));
    }
    let log_n = n.trailing_zeros() as u8;
    let params = scrypt::Params::new(log_n, r, p)
        .map_err(|e| fmt_err(file, format!("scrypt parameters: {e}")))?;
    let mut key = [0u8; 32];
    scrypt::scrypt(passphrase, salt, &params, &mut key)
        .map_err(|e| fmt_err(file, format!("scrypt: {e}")))?;
    Ok(key)
}

/// True when the PEM text is cosign's encrypted private key format.
pub fn is_encrypted(text: &str) -> bool {
    text.contains(&format!("-----BEGIN {COSIGN_LABEL}-----"))
        || text.contains(&format!("-----BEGIN {SIGSTORE_LABEL}-----"))
}

impl PrivateKey {
    /// A new ECDSA P-256 key from the operating system's RNG.
    pub fn generate_p256() -> Result<Self, PrivateKeyError> {
        // A 32-byte string is a valid scalar except with negligible probability; retry then.
        for _ in 0..8 {
            let bytes: [u8; 32] = random_bytes()?;
            if let Ok(k) = p256::ecdsa::SigningKey::from_slice(&bytes) {
                return Ok(Self::P256(Box::new(k)));
            }
        }
        Err(PrivateKeyError::Random(
            "could not draw a valid P-256 scalar".into(),
        ))
    }

    pub fn generate_ed25519() -> Result<Self, PrivateKeyError> {
        let bytes: [u8; 32] = random_bytes()?;
        Ok(Self::Ed25519(Box::new(
            ed25519_dalek::SigningKey::from_bytes(&bytes),
        )))
    }

    /// Reads a cosign encrypted key (either label) or an unencrypted PKCS#8 PEM.
    /// `file` names the source in errors; the passphrase is used only for encrypted keys.
    pub fn from_pem(
        file: &str,
        text: &str,
        passphrase: Option<&[u8]>,
    ) -> Result<Self, PrivateKeyError> {
        let (label, body) = pem_decode(file, text)?;
        match label.as_str() {
            COSIGN_LABEL | SIGSTORE_LABEL => {
                let pass = passphrase.ok_or_else(|| PrivateKeyError::NeedsPassphrase { file: file.to_string() })?;
                let der = decrypt_cosign(file, &body, pass)?;
                Self::from_pkcs8_der(file, &der)
            }
            PKCS8_LABEL => Self::from_pkcs8_der(file, &body),
            "EC PRIVATE KEY" | "RSA PRIVATE KEY" | "OPENSSH PRIVATE KEY" => Err(fmt_err(
                file,
                format!("'{label}' keys are not read; convert to PKCS#8 (openssl pkcs8 -topk8 -nocrypt) or use cosign import-key-pair"),
            )),
            "PUBLIC KEY" => Err(fmt_err(file, "this is a public key; a private key is needed")),
            other => Err(fmt_err(file, format!("unexpected PEM block '{other}'"))),
        }
    }

    fn from_pkcs8_der(file: &str, der: &[u8]) -> Result<Self, PrivateKeyError> {
        if let Ok(k) = p256::ecdsa::SigningKey::from_pkcs8_der(der) {
            return Ok(Self::P256(Box::new(k)));
        }
        if let Ok(k) = ed25519_dalek::SigningKey::from_pkcs8_der(der) {
            return Ok(Self::Ed25519(Box::new(k)));
        }
        Err(fmt_err(
            file,
            "the PKCS#8 key is neither ECDSA P-256 nor Ed25519 (the key types dossier signs with)",
        ))
    }

    fn pkcs8_der(&self) -> Result<p256::pkcs8::SecretDocument, PrivateKeyError> {
        let r = match self {
            Self::P256(k) => k.to_pkcs8_der(),
            Self::Ed25519(k) => k.to_pkcs8_der(),
        };
        r.map_err(|e| PrivateKeyError::Signature(format!("cannot encode the key: {e}")))
    }

    /// cosign's `ENCRYPTED SIGSTORE PRIVATE KEY` PEM with fresh salt and nonce.
    pub fn to_cosign_pem(&self, passphrase: &[u8]) -> Result<String, PrivateKeyError> {
        let salt: [u8; 32] = random_bytes()?;
        let nonce: [u8; 24] = random_bytes()?;
        let key = scrypt_key("new key", passphrase, &salt, WRITE_N, 8, 1)?;
        let cipher = crypto_secretbox::XSalsa20Poly1305::new(&key.into());
        let der = self.pkcs8_der()?;
        let ct = cipher
            .encrypt(&nonce.into(), der.as_bytes())
            .map_err(|_| PrivateKeyError::Signature("secretbox encryption failed".into()))?;
        let doc = EncryptedKey {
            kdf: Kdf {
                name: "scrypt".into(),
                params: KdfParams {
                    n: WRITE_N,
                    r: 8,
                    p: 1,
                },
                salt: B64.encode(salt),
            },
            cipher: Cipher {
                name: "nacl/secretbox".into(),
                nonce: B64.encode(nonce),
            },
            ciphertext: B64.encode(ct),
        };
        let json =
            serde_json::to_vec(&doc).map_err(|e| PrivateKeyError::Signature(e.to_string()))?;
        Ok(pem_encode(SIGSTORE_LABEL, &json))
    }

    pub fn algorithm(&self) -> SignatureAlgorithm {
        match self {
            Self::P256(_) => SignatureAlgorithm::EcdsaP256Sha256,
            Self::Ed25519(_) => SignatureAlgorithm::Ed25519,
        }
    }

    /// ECDSA: SHA-256 then ASN.1 DER signature (what `openssl dgst -sha256 -verify` reads);
    /// Ed25519: the raw 64-byte signature over the message.
    pub fn sign(&self, msg: &[u8]) -> Vec<u8> {
        use ed25519_dalek::Signer as _;
        match self {
            Self::P256(k) => {
                let sig: p256::ecdsa::Signature =
                    p256::ecdsa::signature::Signer::sign(k.as_ref(), msg);
                sig.to_der().as_bytes().to_vec()
            }
            Self::Ed25519(k) => k.sign(msg).to_bytes().to_vec(),
        }
    }

    /// SubjectPublicKeyInfo DER of the public half.
    pub fn public_key_der(&self) -> Vec<u8> {
        let r = match self {
            Self::P256(k) => k.verifying_key().to_public_key_der(),
            Self::Ed25519(k) => k.verifying_key().to_public_key_der(),
        };
        // Encoding a valid in-memory public key cannot fail; an empty DER would fail loudly later.
        r.map(|d| d.as_bytes().to_vec()).unwrap_or_default()
    }

    pub fn public_key_pem(&self) -> String {
        pem_encode("PUBLIC KEY", &self.public_key_der())
    }

    /// Lowercase hex sha256 of the SPKI DER (the waiver `keyid`).
    pub fn fingerprint(&self) -> String {
        fingerprint_der(&self.public_key_der())
    }

    /// The public half as the verifier's key type.
    pub fn public_key(&self) -> Result<super::PublicKey, PrivateKeyError> {
        super::PublicKey::from_spki_der(&self.public_key_der())
            .map_err(|e| PrivateKeyError::Signature(format!("public key: {e}")))
    }
}

fn decrypt_cosign(file: &str, body: &[u8], passphrase: &[u8]) -> Result<Vec<u8>, PrivateKeyError> {
    let doc: EncryptedKey = serde_json::from_slice(body)
        .map_err(|e| fmt_err(file, format!("encrypted key JSON: {e}")))?;
    if doc.kdf.name != "scrypt" {
        return Err(fmt_err(file, format!("unsupported kdf '{}'", doc.kdf.name)));
    }
    if doc.cipher.name != "nacl/secretbox" {
        return Err(fmt_err(
            file,
            format!("unsupported cipher '{}'", doc.cipher.name),
        ));
    }
    let salt = B64
        .decode(&doc.kdf.salt)
        .map_err(|e| fmt_err(file, format!("kdf.salt: {e}")))?;
    let nonce = B64
        .decode(&doc.cipher.nonce)
        .map_err(|e| fmt_err(file, format!("cipher.nonce: {e}")))?;
    let nonce: [u8; 24] = nonce
        .try_into()
        .map_err(|_| fmt_err(file, "cipher.nonce is not 24 bytes"))?;
    let ct = B64
        .decode(&doc.ciphertext)
        .map_err(|e| fmt_err(file, format!("ciphertext: {e}")))?;
    let p = &doc.kdf.params;
    let key = scrypt_key(file, passphrase, &salt, p.n, p.r, p.p)?;
    let cipher = crypto_secretbox::XSalsa20Poly1305::new(&key.into());
    cipher
        .decrypt(&nonce.into(), ct.as_slice())
        .map_err(|_| PrivateKeyError::WrongPassphrase {
            file: file.to_string(),
        })
}

pub fn fingerprint_der(spki_der: &[u8]) -> String {
    hex::encode(Sha256::digest(spki_der))
}

/// Reads a private key file, refusing one that group or others can access (as ssh does).
pub fn read_private_key_file(path: &std::path::Path) -> Result<String, PrivateKeyError> {
    let file = path.display().to_string();
    let io = |source| PrivateKeyError::Io {
        file: file.clone(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o7777;
        if mode & 0o077 != 0 {
            return Err(PrivateKeyError::TooOpen { file, mode });
        }
    }
    if meta.len() > 64 * 1024 {
        return Err(fmt_err(&file, "too large to be a private key"));
    }
    let bytes = std::fs::read(path).map_err(io)?;
    String::from_utf8(bytes).map_err(|_| fmt_err(&file, "not a PEM text file"))
}

/// Creates `path` (which must not exist) with mode 0600 from the start and writes `data`.
pub fn write_private_file(path: &std::path::Path, data: &[u8]) -> Result<(), PrivateKeyError> {
    use std::io::Write;
    let file = path.display().to_string();
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(|source| PrivateKeyError::Io {
        file: file.clone(),
        source,
    })?;
    f.write_all(data)
        .and_then(|_| f.sync_all())
        .map_err(|source| PrivateKeyError::Io { file, source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosign_format_round_trips_and_rejects_a_wrong_passphrase() {
        let k = PrivateKey::generate_p256().unwrap();
        let pem = k.to_cosign_pem(b"correct horse").unwrap();
        assert!(pem.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n"));
        let (_, body) = pem_decode("k", &pem).unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(doc["kdf"]["params"]["N"], 65536);
        assert_eq!(doc["kdf"]["params"]["r"], 8);
        assert_eq!(doc["cipher"]["name"], "nacl/secretbox");
        assert_eq!(
            B64.decode(doc["kdf"]["salt"].as_str().unwrap())
                .unwrap()
                .len(),
            32
        );
        assert_eq!(
            B64.decode(doc["cipher"]["nonce"].as_str().unwrap())
                .unwrap()
                .len(),
            24
        );
        let back = PrivateKey::from_pem("k", &pem, Some(b"correct horse")).unwrap();
        assert_eq!(back.fingerprint(), k.fingerprint());
        let e = PrivateKey::from_pem("k.key", &pem, Some(b"wrong")).unwrap_err();
        assert!(matches!(e, PrivateKeyError::WrongPassphrase { .. }), "{e}");
        assert!(!e.to_string().contains("wrong\""));
        assert!(matches!(
            PrivateKey::from_pem("k", &pem, None),
            Err(PrivateKeyError::NeedsPassphrase { .. })
        ));
    }

    #[test]
    fn legacy_label_and_empty_passphrase_are_accepted() {
        let k = PrivateKey::generate_ed25519().unwrap();
        let pem = k
            .to_cosign_pem(b"")
            .unwrap()
            .replace(SIGSTORE_LABEL, COSIGN_LABEL);
        let back = PrivateKey::from_pem("k", &pem, Some(b"")).unwrap();
        assert_eq!(back.algorithm(), SignatureAlgorithm::Ed25519);
        assert_eq!(back.fingerprint(), k.fingerprint());
    }

    #[test]
    fn signatures_verify_with_the_public_pem_and_fail_when_tampered() {
        for k in [
            PrivateKey::generate_p256().unwrap(),
            PrivateKey::generate_ed25519().unwrap(),
        ] {
            // The verification engineer's key type reads our PEM and agrees on the fingerprint.
            let pubk = crate::crypto::PublicKey::from_pem(&k.public_key_pem()).unwrap();
            assert_eq!(pubk.fingerprint(), k.fingerprint());
            let sig = k.sign(b"message");
            pubk.verify(b"message", &sig).unwrap();
            assert!(pubk.verify(b"messagE", &sig).is_err());
        }
    }

    #[test]
    fn fingerprint_is_sha256_of_the_spki_der() {
        let k = PrivateKey::generate_p256().unwrap();
        let (label, der) = pem_decode("p", &k.public_key_pem()).unwrap();
        assert_eq!(label, "PUBLIC KEY");
        // P-256 SPKI DER is 91 bytes: SEQUENCE { algorithm, BIT STRING 0x04 || X || Y }.
        assert_eq!(der.len(), 91);
        assert_eq!(k.fingerprint(), hex::encode(Sha256::digest(&der)));
    }

    #[test]
    fn odd_scrypt_parameters_and_foreign_pem_are_refused() {
        let json = r#"{"kdf":{"name":"scrypt","params":{"N":1024,"r":8,"p":1},"salt":"AAAA"},"cipher":{"name":"nacl/secretbox","nonce":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},"ciphertext":"AAAA"}"#;
        let pem = pem_encode(SIGSTORE_LABEL, json.as_bytes());
        let e = PrivateKey::from_pem("x.key", &pem, Some(b"p"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("N=1024"), "{e}");
        let e = PrivateKey::from_pem("x.key", &pem_encode("EC PRIVATE KEY", b"abc"), None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("PKCS#8"), "{e}");
        assert!(PrivateKey::from_pem("x", "not pem", None).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn private_files_are_created_0600_and_open_ones_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k.key");
        write_private_file(&p, b"secret").unwrap();
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(read_private_key_file(&p).unwrap(), "secret");
        assert!(
            write_private_file(&p, b"again").is_err(),
            "must not overwrite"
        );
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = read_private_key_file(&p).unwrap_err();
        assert!(
            matches!(e, PrivateKeyError::TooOpen { mode: 0o644, .. }),
            "{e}"
        );
        assert!(e.to_string().contains("chmod 600"));
    }
}
