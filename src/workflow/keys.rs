//! Reviewer keys as use-cases: generate a cosign-format P-256 key pair, import an existing
//! key (cosign or PKCS#8, P-256 or Ed25519), load a signing key. Passphrases arrive as
//! bytes from the caller (CLI prompt or file; the TUI its own prompt); nothing is printed.

use crate::crypto::privkey::{self, PrivateKey, PrivateKeyError};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum KeysError {
    #[error(transparent)]
    Key(#[from] PrivateKeyError),
    #[error("{path} already exists; refusing to overwrite a key")]
    Exists { path: String },
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("passphrases do not match")]
    Mismatch,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct KeyInfo {
    pub private_key: Option<PathBuf>,
    pub public_key: Option<PathBuf>,
    pub algorithm: String,
    pub fingerprint: String,
}

/// Reads a passphrase file; one trailing newline (LF or CRLF) is not part of it, as with
/// cosign's `COSIGN_PASSWORD` files written by `echo`.
pub fn read_passphrase_file(path: &Path) -> Result<Vec<u8>, KeysError> {
    let mut b = std::fs::read(path).map_err(|source| KeysError::Io {
        path: path.display().to_string(),
        source,
    })?;
    if b.ends_with(b"\n") {
        b.pop();
        if b.ends_with(b"\r") {
            b.pop();
        }
    }
    Ok(b)
}

/// Writes `<dir>/<name>.key` (cosign encrypted, mode 0600 from creation) and `<dir>/<name>.pub`.
pub fn generate(dir: &Path, name: &str, passphrase: &[u8]) -> Result<KeyInfo, KeysError> {
    create_private_dir(dir)?;
    let key_path = dir.join(format!("{name}.key"));
    let pub_path = dir.join(format!("{name}.pub"));
    for p in [&key_path, &pub_path] {
        if p.exists() {
            return Err(KeysError::Exists {
                path: p.display().to_string(),
            });
        }
    }
    let key = PrivateKey::generate_p256()?;
    let pem = key.to_cosign_pem(passphrase)?;
    privkey::write_private_file(&key_path, pem.as_bytes())?;
    std::fs::write(&pub_path, key.public_key_pem()).map_err(|source| KeysError::Io {
        path: pub_path.display().to_string(),
        source,
    })?;
    Ok(KeyInfo {
        private_key: Some(key_path),
        public_key: Some(pub_path),
        algorithm: key.algorithm().as_str().to_string(),
        fingerprint: key.fingerprint(),
    })
}

/// Loads a signing key from a file. `passphrase` is asked for only when the key is
/// encrypted (so an unencrypted PKCS#8 key never prompts).
pub fn load_signing_key(
    path: &Path,
    passphrase: &mut dyn FnMut() -> Result<Vec<u8>, KeysError>,
) -> Result<PrivateKey, KeysError> {
    let text = privkey::read_private_key_file(path)?;
    let shown = path.display().to_string();
    if privkey::is_encrypted(&text) {
        let pass = passphrase()?;
        Ok(PrivateKey::from_pem(&shown, &text, Some(&pass))?)
    } else {
        Ok(PrivateKey::from_pem(&shown, &text, None)?)
    }
}

/// Validates a key file and, when `copy_to` is given, keeps a copy there (0600) with its
/// `.pub`, named by fingerprint. The key is stored exactly as given (still encrypted when
/// it was); nothing goes into the evidence store.
pub fn import(
    path: &Path,
    passphrase: &mut dyn FnMut() -> Result<Vec<u8>, KeysError>,
    copy_to: Option<&Path>,
) -> Result<KeyInfo, KeysError> {
    let key = load_signing_key(path, passphrase)?;
    let fp = key.fingerprint();
    let mut info = KeyInfo {
        private_key: Some(path.to_path_buf()),
        public_key: None,
        algorithm: key.algorithm().as_str().to_string(),
        fingerprint: fp.clone(),
    };
    if let Some(dir) = copy_to {
        create_private_dir(dir)?;
        let stem = format!("reviewer-{}", &fp[..16]);
        let key_path = dir.join(format!("{stem}.key"));
        let pub_path = dir.join(format!("{stem}.pub"));
        if key_path.exists() {
            return Err(KeysError::Exists {
                path: key_path.display().to_string(),
            });
        }
        let text = privkey::read_private_key_file(path)?;
        privkey::write_private_file(&key_path, text.as_bytes())?;
        std::fs::write(&pub_path, key.public_key_pem()).map_err(|source| KeysError::Io {
            path: pub_path.display().to_string(),
            source,
        })?;
        info.private_key = Some(key_path);
        info.public_key = Some(pub_path);
    }
    Ok(info)
}

fn create_private_dir(dir: &Path) -> Result<(), KeysError> {
    let io = |source| KeysError::Io {
        path: dir.display().to_string(),
        source,
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(io)
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(dir).map_err(io)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_key_loads_with_its_passphrase_only() {
        let d = tempfile::tempdir().unwrap();
        let info = generate(d.path(), "approver", b"pw").unwrap();
        let key_path = info.private_key.clone().unwrap();
        let k = load_signing_key(&key_path, &mut || Ok(b"pw".to_vec())).unwrap();
        assert_eq!(k.fingerprint(), info.fingerprint);
        let pub_text = std::fs::read_to_string(info.public_key.unwrap()).unwrap();
        assert_eq!(
            crate::crypto::PublicKey::from_pem(&pub_text)
                .unwrap()
                .fingerprint(),
            info.fingerprint
        );
        assert!(load_signing_key(&key_path, &mut || Ok(b"nope".to_vec())).is_err());
        assert!(matches!(
            generate(d.path(), "approver", b"pw"),
            Err(KeysError::Exists { .. })
        ));
    }

    #[test]
    fn passphrase_file_drops_one_trailing_newline() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("pw");
        std::fs::write(&p, b"a b\r\n").unwrap();
        assert_eq!(read_passphrase_file(&p).unwrap(), b"a b");
        std::fs::write(&p, b"x\n\n").unwrap();
        assert_eq!(read_passphrase_file(&p).unwrap(), b"x\n");
    }

    #[test]
    fn import_copies_the_key_0600_and_never_asks_for_an_unencrypted_one() {
        let d = tempfile::tempdir().unwrap();
        let k = PrivateKey::generate_ed25519().unwrap();
        let src = d.path().join("ed.pem");
        // PKCS#8 PEM written through the same encoder openssl reads.
        let der = {
            use p256::pkcs8::EncodePrivateKey;
            match &k {
                PrivateKey::Ed25519(s) => s.to_pkcs8_der().unwrap(),
                PrivateKey::P256(_) => unreachable!(),
            }
        };
        let pem = der
            .to_pem("PRIVATE KEY", p256::pkcs8::LineEnding::LF)
            .unwrap();
        privkey::write_private_file(&src, pem.as_bytes()).unwrap();
        let info = import(
            &src,
            &mut || panic!("must not prompt"),
            Some(&d.path().join("keys")),
        )
        .unwrap();
        assert_eq!(info.fingerprint, k.fingerprint());
        assert_eq!(info.algorithm, "ed25519");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let m = std::fs::metadata(info.private_key.unwrap())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(m & 0o777, 0o600);
        }
    }
}
