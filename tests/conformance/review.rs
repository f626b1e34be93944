//! Review against the real cosign key in `real-evidence/keys/` (made by sigstore-rs, the
//! encrypted "ENCRYPTED SIGSTORE PRIVATE KEY" format with scrypt N=32768): it decrypts with
//! its password file, signs a waiver, and the signature verifies with the matching `.pub`
//! under openssl. The fingerprint is checked against the `.pub` DER hashed here.

use super::common::shared;
use base64::Engine;
use dossier::crypto::privkey::PrivateKey;
use dossier::model::waiver::parse_stream;
use dossier::workflow::{keys, waivers, Actor};
use sha2::Digest;
use std::path::{Path, PathBuf};

fn keys_dir() -> PathBuf {
    shared().join("fixtures/real-evidence/keys")
}

/// The fixture files are world-readable; a 0600 copy is what a reviewer would hold.
fn private_copy(dir: &Path, name: &str) -> PathBuf {
    let dst = dir.join(name);
    std::fs::write(&dst, std::fs::read(keys_dir().join(name)).unwrap()).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&dst, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    dst
}

fn pem_body_der(pem: &str) -> Vec<u8> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap()
}

const WAIVER: &str = "apiVersion: dossier/v1\nkind: Waiver\nid: W-2026-0100\nvulnerability: CVE-2024-12345\n\
scope:\n  image: 127.0.0.1:5000/evidence/tiny@sha256:52c1fa53b306f09e32761cfbffae79ceedad6482dec55cdd472de220f41c145b\n  \
purl: pkg:deb/debian/busybox-static@1.30.1-6+b3\njustification:\n  type: compensating_control\n  \
text: \"busybox applets are not reachable from the network\"\nrequested_by: {name: \"J. Doe\", role: \"Platform Engineer\"}\n\
expires: 2027-02-01\n";

#[test]
#[ignore = "needs ../shared/fixtures"]
fn real_cosign_key_signs_a_waiver_that_verifies_with_its_pub() {
    let d = tempfile::tempdir().unwrap();
    let key_path = private_copy(d.path(), "test-only-cosign.key");
    let pass_path = keys_dir().join("test-only-cosign.password");
    let pub_pem = std::fs::read_to_string(keys_dir().join("test-only-cosign.pub")).unwrap();

    let key =
        keys::load_signing_key(&key_path, &mut || keys::read_passphrase_file(&pass_path)).unwrap();
    let expected_fp = hex::encode(sha2::Sha256::digest(pem_body_der(&pub_pem)));
    assert_eq!(key.fingerprint(), expected_fp);

    let mut w = parse_stream("w.yaml", WAIVER).unwrap().remove(0);
    let approver = Actor {
        name: "R. Roe".into(),
        role: Some("ISSM".into()),
        key_fingerprint: None,
    };
    let now = chrono::DateTime::parse_from_rfc3339("2026-11-27T09:00:00Z")
        .unwrap()
        .to_utc();
    waivers::sign_document(&mut w, &approver, &key, now).unwrap();
    let sig = w.signature.clone().unwrap();
    assert_eq!(sig.keyid, expected_fp);

    std::fs::write(d.path().join("canonical.json"), w.signing_bytes().unwrap()).unwrap();
    std::fs::write(
        d.path().join("sig.der"),
        base64::engine::general_purpose::STANDARD
            .decode(&sig.value)
            .unwrap(),
    )
    .unwrap();
    std::fs::write(d.path().join("cosign.pub"), &pub_pem).unwrap();
    let o = std::process::Command::new("openssl")
        .current_dir(d.path())
        .args([
            "dgst",
            "-sha256",
            "-verify",
            "cosign.pub",
            "-signature",
            "sig.der",
            "canonical.json",
        ])
        .output()
        .expect("openssl on PATH");
    assert!(
        o.status.success(),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );

    // The same key in unencrypted PKCS#8 has the same public half.
    let pk8 = private_copy(d.path(), "test-only-cosign.pkcs8.pem");
    let plain = keys::load_signing_key(&pk8, &mut || {
        panic!("an unencrypted key needs no passphrase")
    })
    .unwrap();
    assert_eq!(plain.fingerprint(), expected_fp);
}

#[test]
#[ignore = "needs ../shared/fixtures"]
fn real_cosign_key_is_refused_with_the_fixture_permissions_and_a_wrong_password() {
    let fixture_key = keys_dir().join("test-only-cosign.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let m = std::fs::metadata(&fixture_key)
            .unwrap()
            .permissions()
            .mode();
        if m & 0o077 != 0 {
            let e = keys::load_signing_key(&fixture_key, &mut || Ok(b"x".to_vec()))
                .unwrap_err()
                .to_string();
            assert!(e.contains("too open"), "{e}");
        }
    }
    let d = tempfile::tempdir().unwrap();
    let key_path = private_copy(d.path(), "test-only-cosign.key");
    let text = std::fs::read_to_string(&key_path).unwrap();
    let e = PrivateKey::from_pem("test-only-cosign.key", &text, Some(b"not-the-password"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("wrong passphrase") && !e.contains("not-the-password"),
        "{e}"
    );
}
