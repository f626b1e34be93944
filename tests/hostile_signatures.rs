//! Hostile signature material through the real binary (issue 9): a truncated DER signature,
//! a certificate on a curve dossier does not accept, a certificate chain that loops, a
//! tampered payload and a 100 MB "signature". Each gets its specific outcome with a reason
//! naming what is wrong, within a bounded time and address space; nothing panics.

use assert_cmd::Command;
use base64::Engine;
use dossier::crypto::privkey::PrivateKey;
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;
/// Address-space cap for every run (ulimit -v, KiB), as in tests/hostile.rs.
const MEM_KIB: u64 = 1536 * 1024;
const TIMEOUT: Duration = Duration::from_secs(60);

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(fixture(rel)).unwrap()
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(store: &Path, args: &[&str]) -> Run {
    let bin = assert_cmd::cargo::cargo_bin("dossier");
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg(format!("ulimit -v {MEM_KIB}; exec \"$0\" \"$@\""))
        .arg(bin)
        .env("DOSSIER_ACTOR", "tester")
        .env_remove("DOSSIER_STORE")
        .arg("--store")
        .arg(store)
        .args(args)
        .timeout(TIMEOUT);
    let t = Instant::now();
    let out = c.output().unwrap();
    let r = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(t.elapsed() < TIMEOUT, "{args:?} took {:?}", t.elapsed());
    assert!(
        !r.stderr.contains("panicked"),
        "{args:?} panicked: {}",
        r.stderr
    );
    r
}

fn write(dir: &Path, rel: &str, bytes: &[u8]) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, bytes).unwrap();
}

fn sha256_hex(b: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(b))
}

fn payload(digest: &str, reference: &str) -> Vec<u8> {
    format!(
        r#"{{"critical":{{"identity":{{"docker-reference":"{reference}"}},"image":{{"docker-manifest-digest":"{digest}"}},"type":"cosign container image signature"}},"optional":null}}"#
    )
    .into_bytes()
}

/// containers/image `sigstore-json` signature file with a certificate and chain annotation.
fn sigstore_json(payload: &[u8], sig: &[u8], cert: &str, chain: &str) -> Vec<u8> {
    let v = serde_json::json!({
        "mimeType": "application/vnd.dev.cosign.simplesigning.v1+json",
        "payload": B64.encode(payload),
        "annotations": {
            "dev.cosignproject.cosign/signature": B64.encode(sig),
            "dev.sigstore.cosign/certificate": cert,
            "dev.sigstore.cosign/chain": chain,
        },
    });
    let mut out = b"\0sigstore-json\n".to_vec();
    out.extend(serde_json::to_vec(&v).unwrap());
    out
}

fn result<'a>(rs: &'a [Value], prefix: &str) -> &'a Value {
    rs.iter()
        .find(|r| r["file"].as_str().unwrap_or("").contains(prefix))
        .unwrap_or_else(|| panic!("no result for {prefix}: {rs:#?}"))
}

#[test]
fn junk_signature_material_gets_its_specific_outcome_in_bounded_time() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.db");
    let ev = dir.path().join("ev");
    let manifest = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}"#;
    write(&ev, "image/manifest.json", manifest);
    let digest = format!("sha256:{}", sha256_hex(manifest));
    let p = payload(&digest, "reg.example/app");
    let key = PrivateKey::from_pem(
        "test-leaf",
        &read("verify/test-leaf.test-only-key.pem"),
        None,
    )
    .unwrap();
    let good_sig = key.sign(&p);

    // Truncated DER: the hostile fixture is an ECDSA-Sig-Value cut short.
    let trunc = std::fs::read(fixture("hostile/truncated.sig.der")).unwrap();
    write(&ev, "trunc/payload.json", &p);
    write(&ev, "trunc/sig.b64", B64.encode(&trunc).as_bytes());
    // A good signature over the payload, which is then changed by one byte.
    write(
        &ev,
        "tampered/payload.json",
        &payload(&digest, "reg.example/apq"),
    );
    write(&ev, "tampered/sig.b64", B64.encode(&good_sig).as_bytes());
    // A certificate whose key is on secp256k1.
    write(
        &ev,
        "curve/signature-1",
        &sigstore_json(&p, &good_sig, &read("hostile/secp256k1-leaf.pem"), ""),
    );
    // Two certificates issued by each other, presented as leaf and chain.
    let lp = read("hostile/loop-a.pem");
    write(
        &ev,
        "loop/signature-1",
        &sigstore_json(&p, &good_sig, &lp, &lp),
    );
    // A 100 MB "signature": base64-alphabet text.
    let mut f = std::fs::File::create(ev.join("huge.sig")).unwrap();
    let chunk = "QUFB".repeat(1 << 18);
    for _ in 0..100 {
        f.write_all(chunk.as_bytes()).unwrap();
    }
    drop(f);
    let huge_len = 100 * 4 * (1u64 << 18);

    let pubkey = dir.path().join("ci.pub");
    std::fs::write(&pubkey, key.public_key_pem()).unwrap();
    let t = run(
        &store,
        &[
            "trust",
            "add",
            pubkey.to_str().unwrap(),
            "--name",
            "ci",
            "--role",
            "pipeline-signer",
        ],
    );
    assert_eq!(t.code, 0, "{}", t.stderr);

    let imp = run(&store, &["import", "--json", ev.to_str().unwrap()]);
    assert_eq!(
        imp.code, 1,
        "a file over a named limit fails the import: {}",
        imp.stderr
    );
    let j: Value = serde_json::from_str(&imp.stdout).unwrap();
    assert_eq!(j["sets"].as_array().unwrap().len(), 1, "{}", imp.stdout);
    let set = &j["sets"][0];
    assert_eq!(set["digest"].as_str(), Some(digest.as_str()));
    let huge = set["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"].as_str().unwrap_or("").ends_with("huge.sig"))
        .unwrap();
    assert_eq!(huge["status"], "failed", "{huge}");
    let reason = huge["message"].as_str().unwrap_or("");
    assert!(
        reason.contains(&format!("base64 text of {huge_len} bytes"))
            && reason.contains("limit max-signature-bytes"),
        "{huge}"
    );

    let v = run(&store, &["verify", &set["id"].to_string(), "--json"]);
    assert_eq!(
        v.code, 1,
        "not every signature verified: {} {}",
        v.stdout, v.stderr
    );
    let rs: Vec<Value> = serde_json::from_str(&v.stdout).unwrap();
    let expect = [
        (
            "trunc/sig.b64",
            "unverifiable",
            "signature is not a well-formed DER ECDSA-Sig-Value",
        ),
        (
            "tampered/sig.b64",
            "bad-signature",
            "does not verify with any of the 1 trusted pipeline-signer key(s)",
        ),
        (
            "curve/signature-1",
            "unverifiable",
            "certificate key: unsupported key algorithm EC curve secp256k1 (1.3.132.0.10)",
        ),
        (
            "loop/signature-1",
            "unverifiable",
            "certificate chain loops (CN=loop-A -> CN=loop-B -> CN=loop-A)",
        ),
    ];
    for (file, outcome, reason) in expect {
        let r = result(&rs, file);
        assert_eq!(r["outcome"], outcome, "{file}: {r:#}");
        assert!(
            r["detail"].as_str().unwrap().contains(reason),
            "{file}: {r:#}"
        );
    }
    assert_eq!(rs.len(), expect.len(), "{rs:#?}");
}

#[test]
fn a_key_on_the_wrong_curve_is_refused_by_trust_add_naming_the_curve() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.db");
    let r = run(
        &store,
        &[
            "trust",
            "add",
            fixture("hostile/wrong-curve.pub").to_str().unwrap(),
            "--name",
            "k1",
            "--role",
            "pipeline-signer",
        ],
    );
    assert_eq!(r.code, 2, "{} {}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("EC curve secp256k1 (1.3.132.0.10)"),
        "{}",
        r.stderr
    );
    assert_eq!(
        r.stderr.trim().lines().count(),
        1,
        "one-line reason: {}",
        r.stderr
    );
}
