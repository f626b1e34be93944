//! `dossier trust` and `dossier verify` through the real binary, on evidence made here:
//! a P-256 key from a fixed scalar, an OCI image manifest, a cosign simple-signing payload
//! naming that manifest's sha256, a detached base64 signature, and a DSSE in-toto attestation
//! whose predicate is the set's SPDX file. Also: the audit trail of trust changes, refused
//! trust material, and verification inside a network namespace / without any socket.

use assert_cmd::Command;
use base64::Engine;
use p256::ecdsa::{signature::Signer, SigningKey};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::path::PathBuf;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

struct Env {
    dir: tempfile::TempDir,
}

fn key(seed: u8) -> SigningKey {
    let mut s = [0u8; 32];
    s[0] = 2;
    s[31] = seed;
    SigningKey::from_slice(&s).unwrap()
}

/// SPKI DER of a P-256 key: RFC 5480's fixed prefix + the uncompressed point.
fn spki(sk: &SigningKey) -> Vec<u8> {
    let mut d = hex::decode("3059301306072a8648ce3d020106082a8648ce3d030107034200").unwrap();
    d.extend_from_slice(&sk.verifying_key().to_sec1_point(false).to_bytes());
    d
}

fn pem(sk: &SigningKey) -> String {
    format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        B64.encode(spki(sk))
    )
}

fn sign(sk: &SigningKey, msg: &[u8]) -> Vec<u8> {
    let s: p256::ecdsa::Signature = sk.sign(msg);
    s.to_der().as_bytes().to_vec()
}

const SPDX: &str = r#"{"spdxVersion":"SPDX-2.3","dataLicense":"CC0-1.0","SPDXID":"SPDXRef-DOCUMENT","name":"app","documentNamespace":"https://example.invalid/app","creationInfo":{"created":"2024-01-01T00:00:00Z","creators":["Tool: test"]},"packages":[]}"#;

impl Env {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }
    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }
    fn write(&self, p: &str, bytes: &[u8]) -> PathBuf {
        let f = self.path(p);
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(&f, bytes).unwrap();
        f
    }
    fn cmd(&self) -> Command {
        let mut c = Command::cargo_bin("dossier").unwrap();
        c.env("DOSSIER_STORE", self.path("store.db"))
            .env("DOSSIER_ACTOR", "tester")
            .env_remove("NO_COLOR");
        c
    }
    fn run(&self, args: &[&str]) -> (i32, String, String) {
        let o = self.cmd().args(args).output().unwrap();
        (
            o.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&o.stdout).into(),
            String::from_utf8_lossy(&o.stderr).into(),
        )
    }
    fn store(&self) -> dossier::store::Store {
        dossier::store::Store::open(&self.path("store.db")).unwrap()
    }

    /// Writes the evidence set signed by `sk`; returns the image digest.
    fn evidence(&self, sk: &SigningKey) -> String {
        let manifest = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}"#;
        self.write("ev/image/manifest.json", manifest);
        let digest = format!("sha256:{}", hex::encode(Sha256::digest(manifest)));
        let payload = format!(
            r#"{{"critical":{{"identity":{{"docker-reference":"reg.example/app"}},"image":{{"docker-manifest-digest":"{digest}"}},"type":"cosign container image signature"}},"optional":null}}"#
        );
        self.write("ev/sig/payload.json", payload.as_bytes());
        self.write(
            "ev/sig/signature.b64",
            B64.encode(sign(sk, payload.as_bytes())).as_bytes(),
        );
        self.write("ev/sbom/app.spdx.json", SPDX.as_bytes());
        let st = serde_json::json!({
            "_type": "https://in-toto.io/Statement/v0.1",
            "subject": [{"name": "reg.example/app", "digest": {"sha256": digest.trim_start_matches("sha256:")}}],
            "predicateType": "https://spdx.dev/Document",
            "predicate": serde_json::from_str::<Value>(SPDX).unwrap(),
        });
        let body = serde_json::to_vec(&st).unwrap();
        let t = "application/vnd.in-toto+json";
        let pae = [
            format!("DSSEv1 {} {t} {} ", t.len(), body.len()).into_bytes(),
            body.clone(),
        ]
        .concat();
        let env = serde_json::json!({"payloadType": t, "payload": B64.encode(&body), "signatures": [{"keyid": "", "sig": B64.encode(sign(sk, &pae))}]});
        self.write("ev/att/spdx.dsse.json", &serde_json::to_vec(&env).unwrap());
        digest
    }
}

const CONTRACT: [&str; 9] = [
    "kind",
    "file",
    "key_fingerprint",
    "key_name",
    "subject_digest",
    "predicate_type",
    "outcome",
    "tlog",
    "detail",
];

fn verify_json(e: &Env, set: &str) -> (i32, Vec<Value>) {
    let (code, out, err) = e.run(&["verify", set, "--json"]);
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|x| panic!("{x}: {out} {err}"));
    (code, v.as_array().unwrap().clone())
}

#[test]
fn trust_changes_are_listed_by_fingerprint_and_audited() {
    let e = Env::new();
    let sk = key(1);
    let f = e.write("signer.pub", pem(&sk).as_bytes());
    let (code, _, err) = e.run(&[
        "trust",
        "add",
        f.to_str().unwrap(),
        "--name",
        "ci",
        "--role",
        "pipeline-signer",
    ]);
    assert_eq!(code, 0, "{err}");
    let (_, out, _) = e.run(&["trust", "list", "--json"]);
    let list: Value = serde_json::from_str(&out).unwrap();
    let want_fp = hex::encode(Sha256::digest(spki(&sk)));
    assert_eq!(list[0]["fingerprint"], want_fp.as_str());
    assert_eq!(
        (list[0]["role"].as_str(), list[0]["algorithm"].as_str()),
        (Some("pipeline-signer"), Some("ecdsa-p256"))
    );
    let id = list[0]["id"].as_i64().unwrap().to_string();
    // Adding the same key again adds nothing.
    e.run(&[
        "trust",
        "add",
        f.to_str().unwrap(),
        "--name",
        "again",
        "--role",
        "pipeline-signer",
    ]);
    let (_, out, _) = e.run(&["trust", "list", "--json"]);
    assert_eq!(
        serde_json::from_str::<Value>(&out)
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let (code, _, _) = e.run(&["trust", "remove", &id]);
    assert_eq!(code, 0);
    let (_, out, _) = e.run(&["trust", "list", "--json"]);
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap(),
        serde_json::json!([])
    );
    let actions: Vec<String> = e
        .store()
        .audit_entries()
        .unwrap()
        .into_iter()
        .map(|a| a.action)
        .collect();
    assert_eq!(
        actions.iter().filter(|a| *a == "trust-add").count(),
        2,
        "{actions:?}"
    );
    assert_eq!(
        actions.iter().filter(|a| *a == "trust-remove").count(),
        1,
        "{actions:?}"
    );
}

/// A DER RSAPublicKey SPKI with a 1024-bit modulus (all bits set), assembled by hand.
fn rsa1024_pem() -> String {
    let mut n = vec![0x02, 0x81, 0x81, 0x00];
    n.extend(std::iter::repeat_n(0xffu8, 128));
    let e = [0x02, 0x03, 0x01, 0x00, 0x01];
    let rsapk = [vec![0x30, 0x81, (n.len() + e.len()) as u8], n, e.to_vec()].concat();
    let bits = [vec![0x03, 0x81, (rsapk.len() + 1) as u8, 0x00], rsapk].concat();
    let alg = hex::decode("300d06092a864886f70d0101010500").unwrap();
    let body = [alg, bits].concat();
    let spki = [vec![0x30, 0x81, body.len() as u8], body].concat();
    format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        B64.encode(spki)
    )
}

#[test]
fn trust_add_refuses_private_keys_weak_rsa_unknown_roles_and_certificates_as_signers() {
    let e = Env::new();
    let (weak, k2) = (rsa1024_pem(), pem(&key(2)));
    let cases: [(&str, &[u8], &str, &str); 4] = [
        (
            "k.key",
            b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
            "pipeline-signer",
            "private key",
        ),
        (
            "rsa.pub",
            weak.as_bytes(),
            "approver",
            "crypto policy: RSA key of 1024 bits",
        ),
        ("ok.pub", k2.as_bytes(), "janitor", "unknown role 'janitor'"),
        (
            "ok2.pub",
            k2.as_bytes(),
            "root-ca",
            "root-ca needs a CA certificate",
        ),
    ];
    for (name, bytes, role, msg) in cases {
        let f = e.write(name, bytes);
        let (code, _, err) = e.run(&[
            "trust",
            "add",
            f.to_str().unwrap(),
            "--name",
            "x",
            "--role",
            role,
        ]);
        assert_eq!(code, 2, "{name}");
        assert!(err.contains(msg), "{name}: {err}");
    }
    assert!(e.store().trusted_keys(None).unwrap().is_empty());
}

#[test]
fn verify_json_contract_outcomes_and_exit_codes() {
    let e = Env::new();
    let sk = key(3);
    let digest = e.evidence(&sk);
    let f = e.write("signer.pub", pem(&sk).as_bytes());
    e.run(&[
        "trust",
        "add",
        f.to_str().unwrap(),
        "--name",
        "ci",
        "--role",
        "pipeline-signer",
    ]);
    let (code, _, err) = e.run(&["import", e.path("ev").to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    // Import verified already and stored the run.
    let set_id = e.store().resolve_set(&digest).unwrap();
    let run = e
        .store()
        .verification_results(set_id)
        .unwrap()
        .expect("import verifies");
    assert_eq!(run.results.len(), 2);

    let (code, rs) = verify_json(&e, &digest);
    assert_eq!(code, 0, "{rs:?}");
    assert_eq!(rs.len(), 2);
    for r in &rs {
        for k in CONTRACT {
            assert!(r.get(k).is_some(), "missing {k} in {r}");
        }
        assert_eq!(r["outcome"], "verified", "{r}");
        assert_eq!(r["tlog"], "absent");
        assert_eq!(r["subject_digest"], digest.as_str());
        assert_eq!(r["key_name"], "ci");
    }
    let att = rs.iter().find(|r| r["kind"] == "attestation").unwrap();
    assert_eq!(att["predicate_type"], "https://spdx.dev/Document");
    assert!(att["sbom_file"]
        .as_str()
        .unwrap()
        .ends_with("sbom/app.spdx.json"));
    assert_eq!(rs.iter().filter(|r| r["kind"] == "signature").count(), 1);

    // Another key trusted instead: nothing verifies any more, exit 1.
    let list: Value = serde_json::from_str(&e.run(&["trust", "list", "--json"]).1).unwrap();
    e.run(&["trust", "remove", &list[0]["id"].to_string()]);
    let g = e.write("other.pub", pem(&key(4)).as_bytes());
    e.run(&[
        "trust",
        "add",
        g.to_str().unwrap(),
        "--name",
        "other",
        "--role",
        "pipeline-signer",
    ]);
    let (code, rs) = verify_json(&e, &digest);
    assert_eq!(code, 1);
    assert!(rs.iter().all(|r| r["outcome"] == "bad-signature"), "{rs:?}");
    // The run is stored with the new trust-store hash.
    let run2 = e.store().verification_results(set_id).unwrap().unwrap();
    assert_ne!(run.trust_hash, run2.trust_hash);
    assert!(e
        .store()
        .audit_entries()
        .unwrap()
        .iter()
        .any(|a| a.action == "verify"));
}

#[test]
fn evidence_keys_are_listed_but_never_trusted() {
    let e = Env::new();
    let sk = key(5);
    let digest = e.evidence(&sk);
    e.write("ev/sig/cosign.pub", pem(&sk).as_bytes());
    e.run(&["import", e.path("ev").to_str().unwrap()]);
    let (code, rs) = verify_json(&e, &digest);
    assert_eq!(code, 1);
    assert!(rs.iter().all(|r| r["outcome"] == "untrusted-key"), "{rs:?}");
    let (_, text, _) = e.run(&["verify", &digest]);
    assert!(
        text.contains("key material found in the evidence"),
        "{text}"
    );
    assert!(
        text.contains(&hex::encode(Sha256::digest(spki(&sk)))[..16]),
        "{text}"
    );
}

fn dossier_bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("dossier")
}

fn trusted_env() -> (Env, String) {
    let e = Env::new();
    let sk = key(6);
    let digest = e.evidence(&sk);
    let f = e.write("signer.pub", pem(&sk).as_bytes());
    e.run(&[
        "trust",
        "add",
        f.to_str().unwrap(),
        "--name",
        "ci",
        "--role",
        "pipeline-signer",
    ]);
    (e, digest)
}

/// Offline by construction: the same verification inside a network namespace with no
/// interfaces, and (where strace exists) without a single socket() call.
#[test]
fn verification_works_with_networking_disabled_and_opens_no_socket() {
    let (e, digest) = trusted_env();
    let store = e.path("store.db");
    let ev = e.path("ev");
    let probe = std::process::Command::new("unshare")
        .args(["-rn", "true"])
        .status();
    if probe.is_ok_and(|s| s.success()) {
        let o = std::process::Command::new("unshare")
            .args(["-rn"])
            .arg(dossier_bin())
            .args(["import", ev.to_str().unwrap()])
            .env("DOSSIER_STORE", &store)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let o = std::process::Command::new("unshare")
            .args(["-rn"])
            .arg(dossier_bin())
            .args(["verify", &digest, "--json"])
            .env("DOSSIER_STORE", &store)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let rs: Vec<Value> = serde_json::from_slice(&o.stdout).unwrap();
        assert!(
            rs.len() == 2 && rs.iter().all(|r| r["outcome"] == "verified"),
            "{rs:?}"
        );
    } else {
        eprintln!("skipped the network-namespace half: `unshare -rn` is not available here");
    }
    let trace = e.path("trace.txt");
    let st = std::process::Command::new("strace")
        .args(["-f", "-e", "trace=socket,connect", "-o"])
        .arg(&trace)
        .arg(dossier_bin())
        .args(["verify", &digest])
        .env("DOSSIER_STORE", &store)
        .output();
    match st {
        Ok(o) if std::fs::metadata(&trace).is_ok() => {
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            let t = std::fs::read_to_string(&trace).unwrap();
            assert!(
                !t.contains("socket(") && !t.contains("connect("),
                "verification touched the network:\n{t}"
            );
        }
        _ => eprintln!("skipped the strace half: strace is not available or not permitted here"),
    }
}

#[test]
fn verify_of_an_unknown_set_is_a_usage_error() {
    let e = Env::new();
    let (code, _, err) = e.run(&["verify", "sha256:ffff"]);
    assert_eq!(code, 2);
    assert!(err.contains("no evidence set"), "{err}");
}

/// RSA-2048 signatures made by the openssl command line, PKCS#1 v1.5 and PSS (SHA-256),
/// verify as a detached cosign signature; skipped with a reason when openssl is absent.
#[test]
fn rsa_signatures_made_by_openssl_verify() {
    let e = Env::new();
    let ok = |c: &mut std::process::Command| c.status().is_ok_and(|s| s.success());
    let key = e.path("rsa.key");
    if !ok(std::process::Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
        ])
        .arg(&key))
    {
        eprintln!("skipped: the openssl command line is not available");
        return;
    }
    let pubf = e.path("rsa.pub");
    assert!(ok(std::process::Command::new("openssl")
        .args(["pkey", "-pubout", "-in"])
        .arg(&key)
        .arg("-out")
        .arg(&pubf)));
    let sk = key_for_layout();
    let digest = e.evidence(&sk);
    let payload = e.path("ev/sig/payload.json");
    for (i, opts) in [
        vec![],
        vec![
            "-sigopt",
            "rsa_padding_mode:pss",
            "-sigopt",
            "rsa_pss_saltlen:32",
        ],
    ]
    .into_iter()
    .enumerate()
    {
        let sig = e.path(&format!("sig{i}.der"));
        let mut c = std::process::Command::new("openssl");
        c.args(["dgst", "-sha256", "-sign"])
            .arg(&key)
            .args(&opts)
            .arg("-out")
            .arg(&sig)
            .arg(&payload);
        assert!(ok(&mut c));
        e.write(
            "ev/sig/signature.b64",
            B64.encode(std::fs::read(&sig).unwrap()).as_bytes(),
        );
        let store = format!("store{i}.db");
        let run = |args: &[&str]| {
            let o = e
                .cmd()
                .env("DOSSIER_STORE", e.path(&store))
                .args(args)
                .output()
                .unwrap();
            (
                o.status.code(),
                String::from_utf8_lossy(&o.stdout).into_owned(),
            )
        };
        run(&[
            "trust",
            "add",
            pubf.to_str().unwrap(),
            "--name",
            "rsa",
            "--role",
            "pipeline-signer",
        ]);
        run(&["import", e.path("ev").to_str().unwrap()]);
        let (_, out) = run(&["verify", &digest, "--json"]);
        let rs: Vec<Value> = serde_json::from_str(&out).unwrap();
        let sig = rs.iter().find(|r| r["kind"] == "signature").unwrap();
        assert_eq!(sig["outcome"], "verified", "padding {i}: {sig}");
        assert_eq!(sig["key_name"], "rsa");
    }
}

fn key_for_layout() -> SigningKey {
    key(9)
}
