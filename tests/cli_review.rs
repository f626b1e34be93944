//! Review decisions through the real binary: waivers signed by dossier verified with the
//! openssl command line, audit rows edited with the sqlite3 command line, two processes
//! writing at once, key file permissions, secrets kept out of the store and output, and the
//! verdict following the decisions.
//!
//! `tests/fixtures/review/trivy.json` was written for these tests: one image digest, four
//! findings: CVE-2024-0001 CRITICAL on openssl (BLOCK), CVE-2024-0002 MEDIUM on zlib
//! (WARN), CVE-2024-0003 LOW on both libfoo and libbar (INFO, ambiguous without
//! --component). `lenient-policy.toml` is the default gate with every evidence check graded
//! "warn", so the verdict there depends only on findings and decisions.

use assert_cmd::Command;
use base64::Engine;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;

const PASS_APPROVER: &str = "approver-Secret-7f3k";
const PASS_REQUESTER: &str = "requester-Secret-9q2m";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/review")
        .join(name)
}

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Self {
        let e = Self {
            dir: tempfile::tempdir().unwrap(),
        };
        std::fs::write(
            e.path("config.toml"),
            "[reviewer]\nname = \"J. Doe\"\nrole = \"Platform Engineer\"\n",
        )
        .unwrap();
        std::fs::write(e.path("approver.pass"), format!("{PASS_APPROVER}\n")).unwrap();
        std::fs::write(e.path("requester.pass"), format!("{PASS_REQUESTER}\n")).unwrap();
        e.ok(&["import", fixture("trivy.json").to_str().unwrap()]);
        e
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn s(&self, name: &str) -> String {
        self.path(name).display().to_string()
    }

    fn cmd(&self) -> Command {
        let mut c = Command::cargo_bin("dossier").unwrap();
        c.env("DOSSIER_STORE", self.path("store.db"))
            .env("DOSSIER_CONFIG", self.path("config.toml"))
            .env("DOSSIER_ACTOR", "test-runner")
            .env_remove("COSIGN_PASSWORD");
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert!(
            o.status.success(),
            "{args:?} failed ({:?}):\n{}\n{}",
            o.status.code(),
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stdout).unwrap()
    }

    fn generate_approver_key(&self) {
        self.ok(&[
            "keys",
            "generate",
            "--out",
            &self.s("keys"),
            "--name",
            "approver",
            "--passphrase-file",
            &self.s("approver.pass"),
        ]);
    }

    /// Drafts a waiver for the WARN finding (requested by the config's J. Doe).
    fn draft(&self, file: &str) {
        self.ok(&[
            "waiver",
            "new",
            "1",
            "CVE-2024-0002",
            "--text",
            "TLS is terminated by the mesh sidecar",
            "--out",
            &self.s(file),
        ]);
    }

    fn sign_as_approver(&self, file: &str) -> Output {
        self.run(&[
            "waiver",
            "sign",
            &self.s(file),
            "--key",
            &self.s("keys/approver.key"),
            "--passphrase-file",
            &self.s("approver.pass"),
            "--as",
            "R. Roe",
            "--role",
            "ISSM",
        ])
    }

    fn gate(&self) -> i32 {
        self.run(&[
            "gate",
            "1",
            "--policy",
            fixture("lenient-policy.toml").to_str().unwrap(),
        ])
        .status
        .code()
        .unwrap()
    }
}

/// The signed document, read with a generic YAML reader (not dossier's waiver model).
fn yaml_value(path: &Path) -> Value {
    serde_saphyr::from_str::<Value>(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn openssl(args: &[&str]) -> Output {
    std::process::Command::new("openssl")
        .args(args)
        .output()
        .expect("openssl on PATH")
}

#[test]
fn waiver_signed_by_dossier_verifies_with_openssl() {
    let e = Env::new();
    e.generate_approver_key();
    e.draft("w.yaml");
    let o = e.sign_as_approver("w.yaml");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    // The README procedure: canonical JSON without `signature`, the signature as DER, openssl.
    let canonical = e.ok(&["waiver", "canonical", &e.s("w.yaml")]);
    std::fs::write(e.path("canonical.json"), &canonical).unwrap();
    let mut doc = yaml_value(&e.path("w.yaml"));
    let sig = doc.as_object_mut().unwrap().remove("signature").unwrap();
    // Every value is an ASCII string, so RFC 8785 here is serde_json's sorted, compact form.
    assert_eq!(canonical, serde_json::to_string(&doc).unwrap());
    assert_eq!(sig["algorithm"], "ecdsa-p256-sha256");
    assert_eq!(doc["approved_by"]["name"], "R. Roe");
    assert_eq!(doc["requested_by"]["name"], "J. Doe");
    // sig.der exactly as templates/waiver.yaml tells a reader to make it.
    let sh = std::process::Command::new("sh")
        .current_dir(e.dir.path())
        .arg("-c")
        .arg("grep '  value:' w.yaml | awk '{print $2}' | base64 -d > sig.der")
        .status()
        .unwrap();
    assert!(sh.success());
    let der = base64::engine::general_purpose::STANDARD
        .decode(sig["value"].as_str().unwrap())
        .unwrap();
    assert_eq!(std::fs::read(e.path("sig.der")).unwrap(), der);
    let v = openssl(&[
        "dgst",
        "-sha256",
        "-verify",
        &e.s("keys/approver.pub"),
        "-signature",
        &e.s("sig.der"),
        &e.s("canonical.json"),
    ]);
    assert!(
        v.status.success(),
        "{}{}",
        String::from_utf8_lossy(&v.stdout),
        String::from_utf8_lossy(&v.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&v.stdout).trim(), "Verified OK");

    // keyid = sha256 of the public key's DER, as openssl computes it.
    let pubder = openssl(&[
        "pkey",
        "-pubin",
        "-in",
        &e.s("keys/approver.pub"),
        "-outform",
        "DER",
    ])
    .stdout;
    let digest = openssl_sha256(&pubder);
    assert_eq!(sig["keyid"].as_str().unwrap(), digest);

    // One changed character in the signed content fails.
    std::fs::write(
        e.path("canonical.json"),
        canonical.replace("2024-0002", "2024-0009"),
    )
    .unwrap();
    let v = openssl(&[
        "dgst",
        "-sha256",
        "-verify",
        &e.s("keys/approver.pub"),
        "-signature",
        &e.s("sig.der"),
        &e.s("canonical.json"),
    ]);
    assert!(!v.status.success());
}

fn openssl_sha256(bytes: &[u8]) -> String {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("b");
    std::fs::write(&p, bytes).unwrap();
    let o = openssl(&["dgst", "-sha256", "-r", p.to_str().unwrap()]);
    String::from_utf8_lossy(&o.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

#[test]
fn openssl_made_ed25519_pkcs8_key_signs_a_waiver_openssl_verifies() {
    let e = Env::new();
    let key = e.s("ed.pem");
    assert!(openssl(&["genpkey", "-algorithm", "ed25519", "-out", &key])
        .status
        .success());
    set_mode(&e.path("ed.pem"), 0o600);
    assert!(
        openssl(&["pkey", "-in", &key, "-pubout", "-out", &e.s("ed.pub")])
            .status
            .success()
    );
    e.draft("w.yaml");
    e.ok(&[
        "waiver",
        "sign",
        &e.s("w.yaml"),
        "--key",
        &key,
        "--as",
        "R. Roe",
    ]);
    let canonical = e.ok(&["waiver", "canonical", &e.s("w.yaml")]);
    std::fs::write(e.path("canonical.json"), &canonical).unwrap();
    let doc = yaml_value(&e.path("w.yaml"));
    assert_eq!(doc["signature"]["algorithm"], "ed25519");
    let raw = base64::engine::general_purpose::STANDARD
        .decode(doc["signature"]["value"].as_str().unwrap())
        .unwrap();
    assert_eq!(raw.len(), 64);
    std::fs::write(e.path("sig.bin"), raw).unwrap();
    let v = openssl(&[
        "pkeyutl",
        "-verify",
        "-pubin",
        "-inkey",
        &e.s("ed.pub"),
        "-rawin",
        "-in",
        &e.s("canonical.json"),
        "-sigfile",
        &e.s("sig.bin"),
    ]);
    assert!(
        v.status.success(),
        "{}{}",
        String::from_utf8_lossy(&v.stdout),
        String::from_utf8_lossy(&v.stderr)
    );
}

#[cfg(unix)]
fn set_mode(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[cfg(unix)]
#[test]
fn key_files_are_0600_and_an_open_key_is_refused() {
    let e = Env::new();
    e.generate_approver_key();
    assert_eq!(mode(&e.path("keys/approver.key")), 0o600);
    let text = std::fs::read_to_string(e.path("keys/approver.key")).unwrap();
    assert!(text.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----"));
    e.draft("w.yaml");
    set_mode(&e.path("keys/approver.key"), 0o644);
    let o = e.sign_as_approver("w.yaml");
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("0644") && err.contains("too open") && err.contains("chmod 600"),
        "{err}"
    );
    // Nothing was signed.
    assert!(yaml_value(&e.path("w.yaml")).get("signature").is_none());
}

#[test]
fn self_approval_is_refused_by_default() {
    let e = Env::new();
    e.generate_approver_key();
    e.draft("w.yaml");
    // The config's reviewer (J. Doe) requested it and tries to approve it too.
    let o = e.run(&[
        "waiver",
        "sign",
        &e.s("w.yaml"),
        "--key",
        &e.s("keys/approver.key"),
        "--passphrase-file",
        &e.s("approver.pass"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("self-approval"));
}

#[test]
fn secrets_never_reach_the_store_the_audit_log_or_error_output() {
    let e = Env::new();
    e.generate_approver_key();
    // Requester key: unencrypted PKCS#8 from openssl, so its private bytes are known here.
    assert!(openssl(&[
        "genpkey",
        "-algorithm",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-out",
        &e.s("req.pem")
    ])
    .status
    .success());
    set_mode(&e.path("req.pem"), 0o600);
    let req_pem = std::fs::read_to_string(e.path("req.pem")).unwrap();
    let req_body: String = req_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let req_der = base64::engine::general_purpose::STANDARD
        .decode(&req_body)
        .unwrap();
    let approver_key_text = std::fs::read_to_string(e.path("keys/approver.key")).unwrap();
    let approver_body: String = approver_key_text
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();

    e.ok(&[
        "keys",
        "import",
        &e.s("keys/approver.key"),
        "--passphrase-file",
        &e.s("approver.pass"),
        "--no-copy",
    ]);
    e.draft("w.yaml");
    let bad = e.run(&[
        "waiver",
        "sign",
        &e.s("w.yaml"),
        "--key",
        &e.s("keys/approver.key"),
        "--passphrase-file",
        &e.s("requester.pass"),
        "--as",
        "R. Roe",
    ]);
    assert_eq!(bad.status.code(), Some(2));
    let bad_err = String::from_utf8_lossy(&bad.stderr).to_string();
    assert!(bad_err.contains("wrong passphrase"), "{bad_err}");
    assert!(e.sign_as_approver("w.yaml").status.success());
    e.ok(&[
        "review",
        "1",
        "CVE-2024-0003",
        "--component",
        "libfoo",
        "--state",
        "false_positive",
        "--note",
        "not shipped",
    ]);
    let audit = e.ok(&["audit", "list", "--json"]);

    let mut store_bytes = std::fs::read(e.path("store.db")).unwrap();
    if let Ok(wal) = std::fs::read(e.path("store.db-wal")) {
        store_bytes.extend(wal);
    }
    let der_tail = &req_der[req_der.len() - 32..];
    for (what, hay) in [
        ("store", store_bytes.as_slice()),
        ("audit", audit.as_bytes()),
        ("stderr", bad_err.as_bytes()),
    ] {
        for secret in [
            PASS_APPROVER.as_bytes(),
            PASS_REQUESTER.as_bytes(),
            approver_body.as_bytes(),
            &approver_body.as_bytes()[..40],
            req_body.as_bytes(),
            der_tail,
        ] {
            assert!(!contains(hay, secret), "a secret appears in the {what}");
        }
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn review_needs_a_component_when_ambiguous_and_names_the_candidates() {
    let e = Env::new();
    let o = e.run(&["review", "1", "CVE-2024-0003", "--state", "false_positive"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("pkg:deb/debian/libfoo@1.0") && err.contains("pkg:deb/debian/libbar@2.0"),
        "{err}"
    );
    let o = e.run(&["review", "1", "CVE-2024-0001", "--state", "not_affected"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("vulnerable_code_not_in_execute_path"));
    let out = e.ok(&[
        "review",
        "1",
        "CVE-2024-0003",
        "--component",
        "libbar@2.0",
        "--state",
        "false_positive",
        "--json",
    ]);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v["disposition"]["component_key"],
        "pkg:deb/debian/libbar@2.0"
    );
    assert_eq!(v["disposition"]["state"], "false_positive");
}

/// Replaces one column of one audit row with the sqlite3 command line.
fn sqlite(db: &Path, sql: &str) -> String {
    let o = std::process::Command::new("sqlite3")
        .arg(db)
        .arg(sql)
        .output()
        .expect("sqlite3 on PATH");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout)
        .trim_end_matches('\n')
        .to_string()
}

#[test]
fn editing_any_audit_row_with_sqlite3_is_caught_and_named() {
    let e = Env::new();
    e.ok(&[
        "review",
        "1",
        "CVE-2024-0001",
        "--state",
        "patched",
        "--note",
        "rebuilt",
    ]);
    e.generate_approver_key();
    e.draft("w.yaml");
    assert!(e.sign_as_approver("w.yaml").status.success());
    e.ok(&["review", "1", "CVE-2024-0002", "--state", "open"]);
    let db = e.path("store.db");
    let n: i64 = sqlite(&db, "SELECT COUNT(*) FROM audit_log")
        .parse()
        .unwrap();
    assert!(n >= 5, "expected at least 5 entries, got {n}");
    let out = e.ok(&["audit", "verify"]);
    assert!(out.contains(&format!("{n} entries")), "{out}");

    for seq in 1..=n {
        for col in [
            "actor",
            "target",
            "at",
            "action",
            "details",
            "prev_hash",
            "hash",
        ] {
            let before = sqlite(
                &db,
                &format!("SELECT quote({col}) FROM audit_log WHERE seq = {seq}"),
            );
            let changed = if col == "details" {
                "'{\"x\":1}'"
            } else {
                "'tampered'"
            };
            sqlite(
                &db,
                &format!("UPDATE audit_log SET {col} = {changed} WHERE seq = {seq}"),
            );
            let o = e.run(&["audit", "verify"]);
            assert_eq!(
                o.status.code(),
                Some(1),
                "edit of {col} in row {seq} not caught"
            );
            let msg = String::from_utf8_lossy(&o.stdout);
            assert!(
                msg.contains(&format!("BROKEN at entry {seq}:")),
                "row {seq} {col}: {msg}"
            );
            sqlite(
                &db,
                &format!("UPDATE audit_log SET {col} = {before} WHERE seq = {seq}"),
            );
        }
    }
    e.ok(&["audit", "verify"]);

    // A deleted middle row breaks the chain at the row after it.
    sqlite(&db, "DELETE FROM audit_log WHERE seq = 3");
    let o = e.run(&["audit", "verify", "--json"]);
    assert_eq!(o.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["broken"]["seq"], 4);
}

#[test]
fn two_processes_recording_dispositions_at_once_both_succeed() {
    let e = Env::new();
    let spawn = |component: &str| {
        let mut script = String::new();
        for i in 0..8 {
            let state = if i % 2 == 0 { "false_positive" } else { "open" };
            script.push_str(&format!(
                "\"$DOSSIER\" review 1 CVE-2024-0003 --component {component} --state {state} --note \"round {i}\" || exit 1\n"
            ));
        }
        let bin = assert_cmd::cargo::cargo_bin("dossier");
        std::process::Command::new("sh")
            .arg("-c")
            .arg(script)
            .env("DOSSIER", bin)
            .env("DOSSIER_STORE", e.path("store.db"))
            .env("DOSSIER_CONFIG", e.path("config.toml"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let a = spawn("libfoo");
    let b = spawn("libbar");
    let (oa, ob) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert!(
        oa.status.success(),
        "{}",
        String::from_utf8_lossy(&oa.stderr)
    );
    assert!(
        ob.status.success(),
        "{}",
        String::from_utf8_lossy(&ob.stderr)
    );
    e.ok(&["audit", "verify"]);
    let entries: Value = serde_json::from_str(&e.ok(&["audit", "list", "--json"])).unwrap();
    let n = entries
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["action"] == "disposition")
        .count();
    assert_eq!(n, 16);
    let hist = sqlite(&e.path("store.db"), "SELECT COUNT(*) FROM disposition");
    assert_eq!(hist, "16");
}

#[test]
fn decisions_change_the_verdict_and_show_in_the_audit_list() {
    let e = Env::new();
    e.generate_approver_key();
    e.ok(&[
        "trust",
        "add",
        &e.s("keys/approver.pub"),
        "--name",
        "issm",
        "--role",
        "approver",
    ]);
    // CRITICAL openssl undisposed: FAIL.
    assert_eq!(e.gate(), 1);
    let policy = fixture("lenient-policy.toml").display().to_string();
    let out = e.ok(&[
        "review",
        "1",
        "CVE-2024-0001",
        "--state",
        "not_affected",
        "--justification",
        "vulnerable_code_not_in_execute_path",
        "--note",
        "the TLS code path is never loaded",
        "--policy",
        &policy,
    ]);
    // Only the MEDIUM zlib finding (WARN) is left without a waiver: CONDITIONAL, shown at
    // once by `review` and by the gate.
    assert!(out.contains("verdict now: CONDITIONAL"), "{out}");
    assert_eq!(e.gate(), 3);
    e.draft("w.yaml");
    assert!(e.sign_as_approver("w.yaml").status.success());
    assert_eq!(e.gate(), 0);
    let entries: Value = serde_json::from_str(&e.ok(&["audit", "list", "--json"])).unwrap();
    let actions: Vec<&str> = entries
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["action"].as_str().unwrap())
        .collect();
    for a in ["disposition", "waiver-create", "waiver-sign"] {
        assert!(actions.contains(&a), "{a} missing from {actions:?}");
    }
    // Revoking the waiver brings CONDITIONAL back.
    let id = yaml_value(&e.path("w.yaml"))["id"]
        .as_str()
        .unwrap()
        .to_string();
    e.ok(&[
        "waiver",
        "revoke",
        &id,
        "--reason",
        "sidecar removed",
        "--as",
        "R. Roe",
    ]);
    assert_eq!(e.gate(), 3);
}

#[test]
fn waivers_round_trip_through_export_and_import() {
    let e = Env::new();
    e.generate_approver_key();
    e.draft("w.yaml");
    assert!(e.sign_as_approver("w.yaml").status.success());
    e.ok(&["waiver", "export", "1", "--out", &e.s("out.yaml")]);
    let signed = yaml_value(&e.path("w.yaml"));
    let text = std::fs::read_to_string(e.path("out.yaml")).unwrap();
    let exported: Value = serde_saphyr::from_str(text.trim_start_matches("---\n")).unwrap();
    assert_eq!(exported, signed);

    let other = Env::new();
    let out = other.ok(&["waiver", "import", &e.s("out.yaml")]);
    assert!(out.contains("signed"), "{out}");
    let list: Value = serde_json::from_str(&other.ok(&["waiver", "list", "1", "--json"])).unwrap();
    assert_eq!(list[0]["state"], "signed");
    assert_eq!(list[0]["document"]["signature"], signed["signature"]);
}
