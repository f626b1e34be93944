//! The gate through the real binary over the hand-written evidence in `tests/fixtures/judge/`
//! (see its README). Every expected class below is written from the policy text (DESIGN.md
//! section 6, issue 4), not from the code: the table says which sentence of the policy
//! decides each case. Signed waivers are made here with a fresh P-256 key: the test builds
//! the document, canonicalises it (RFC 8785) without `signature`, and signs those bytes.

use assert_cmd::Command;
use base64::Engine;
use dossier::crypto::privkey::PrivateKey;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

const A: &str = "sha256:a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1";
const B: &str = "sha256:b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2";
const REPO: &str = "registry.example.mil/team/app";

fn fixture(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/judge")
        .join(p)
}

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }
    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }
    fn s(&self, p: &str) -> String {
        self.path(p).display().to_string()
    }
    fn run(&self, args: &[&str]) -> (i32, String, String) {
        let out = Command::cargo_bin("dossier")
            .unwrap()
            .env("DOSSIER_STORE", self.path("store.db"))
            .env("DOSSIER_ACTOR", "gate-test")
            .env("DOSSIER_CONFIG", self.path("no-config.toml"))
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
    fn ok(&self, args: &[&str]) -> String {
        let (code, out, err) = self.run(args);
        assert_eq!(code, 0, "dossier {args:?} failed: {err}\n{out}");
        out
    }
    fn json(&self, args: &[&str], want_code: i32) -> Value {
        let (code, out, err) = self.run(args);
        assert_eq!(code, want_code, "dossier {args:?}: {err}\n{out}");
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
    }
    /// Copies a fixture directory into the temp dir and returns the copy.
    fn copy_dir(&self, from: &str, to: &str) -> PathBuf {
        let dst = self.path(to);
        std::fs::create_dir_all(&dst).unwrap();
        for e in std::fs::read_dir(fixture(from)).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), dst.join(e.file_name())).unwrap();
        }
        dst
    }
}

/// A section-13 waiver, signed when `key` is given; YAML written field by field.
fn waiver(
    id: &str,
    vuln: &str,
    image_digest: &str,
    purl: &str,
    expires: &str,
    key: Option<&PrivateKey>,
) -> String {
    let doc = json!({
        "apiVersion": "dossier/v1", "kind": "Waiver", "id": id, "vulnerability": vuln,
        "scope": {"image": format!("{REPO}@{image_digest}"), "purl": purl},
        "justification": {"type": "compensating_control", "text": "Mitigated by the mesh sidecar."},
        "requested_by": {"name": "J. Doe", "role": "Platform Engineer"},
        "approved_by": {"name": "R. Roe", "role": "ISSM"},
        "approved_at": "2026-11-01T14:00:00Z",
        "expires": expires,
    });
    let mut y = format!(
        "apiVersion: dossier/v1\nkind: Waiver\nid: {id}\nvulnerability: {vuln}\nscope:\n  image: {REPO}@{image_digest}\n  purl: {purl}\n\
         justification:\n  type: compensating_control\n  text: \"Mitigated by the mesh sidecar.\"\n\
         requested_by: {{name: \"J. Doe\", role: \"Platform Engineer\"}}\napproved_by: {{name: \"R. Roe\", role: \"ISSM\"}}\n\
         approved_at: \"2026-11-01T14:00:00Z\"\nexpires: \"{expires}\"\n"
    );
    if let Some(k) = key {
        let canon = serde_json_canonicalizer::to_vec(&doc).unwrap();
        let sig = base64::engine::general_purpose::STANDARD.encode(k.sign(&canon));
        y.push_str(&format!(
            "signature:\n  keyid: {}\n  algorithm: ecdsa-p256-sha256\n  value: {sig}\n",
            k.fingerprint()
        ));
    }
    y
}

fn trust_approver(env: &Env, key: &PrivateKey, name: &str) {
    let p = env.path(&format!("{name}.pub"));
    std::fs::write(&p, key.public_key_pem()).unwrap();
    env.ok(&[
        "trust",
        "add",
        p.to_str().unwrap(),
        "--name",
        name,
        "--role",
        "approver",
    ]);
}

/// A policy identical to the default except that the image signature check only warns, so
/// the verdict shows the findings alone (the default's required-check failure is tested
/// separately).
fn unsigned_ok_policy(env: &Env) -> String {
    let text = dossier::analysis::policy::DEFAULT_POLICY
        .replace("image-signature = \"fail\"", "image-signature = \"warn\"");
    assert_ne!(text, dossier::analysis::policy::DEFAULT_POLICY);
    std::fs::write(env.path("policy.toml"), text).unwrap();
    env.s("policy.toml")
}

fn gate_of(report: &Value, id: &str) -> (String, Option<String>, String) {
    let f = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("{id} missing from the gate report"));
    (
        f["gate"].as_str().unwrap().to_string(),
        f["disposition"].as_str().map(str::to_string),
        f["reason"].as_str().unwrap().to_string(),
    )
}

#[test]
fn every_policy_case_classified_and_the_verdict_moves_with_waiver_expiry() {
    let env = Env::new();
    let set_a = env.copy_dir("set-a", "set-a");
    let approver = PrivateKey::generate_p256().unwrap();
    let stranger = PrivateKey::generate_p256().unwrap();
    let purl = |p: &str| format!("pkg:npm/{p}@1.0.0");
    let stream = [
        waiver(
            "W-VALID",
            "CVE-2026-1013",
            A,
            &purl("waived-lib"),
            "2027-01-15",
            Some(&approver),
        ),
        waiver(
            "W-EXPIRED",
            "CVE-2026-1014",
            A,
            &purl("expired-lib"),
            "2026-11-30",
            Some(&approver),
        ),
        waiver(
            "W-STRANGER",
            "CVE-2026-1015",
            A,
            &purl("untrusted-lib"),
            "2027-06-01",
            Some(&stranger),
        ),
    ]
    .join("---\n");
    std::fs::write(set_a.join("waivers.yaml"), stream).unwrap();
    trust_approver(&env, &approver, "issm-approver");
    env.ok(&[
        "threat",
        "import",
        fixture("threat/epss.csv").to_str().unwrap(),
    ]);
    env.ok(&[
        "threat",
        "import",
        fixture("threat/kev.json").to_str().unwrap(),
    ]);
    env.ok(&["import", set_a.to_str().unwrap()]);

    let r = env.json(&["gate", A, "--as-of", "2026-12-01", "--json"], 1);
    // (vulnerability, expected class, expected disposition, the policy sentence that decides)
    let table: &[(&str, &str, Option<&str>, &str)] = &[
        ("CVE-2026-1001", "BLOCK", None, "BLOCK: any CRITICAL"),
        (
            "CVE-2026-1002",
            "BLOCK",
            None,
            "HIGH, direct, v2 exploitability 10.0 > 7.0",
        ),
        (
            "CVE-2026-1003",
            "BLOCK",
            None,
            "HIGH, direct, v3 3.887 x 10/3.9 = 9.97 > 7.0 (EPSS 0.001 below)",
        ),
        (
            "CVE-2026-1004",
            "BLOCK",
            None,
            "HIGH, direct, EPSS 0.2 > 0.05 (v3 0.12 x 10/3.9 below)",
        ),
        (
            "CVE-2026-1005",
            "WARN",
            None,
            "HIGH below both thresholds, no EPSS data",
        ),
        (
            "CVE-2026-1006",
            "WARN",
            None,
            "HIGH in a transitive dependency",
        ),
        ("CVE-2026-1007", "WARN", None, "HIGH with no fix available"),
        ("CVE-2026-1008", "WARN", None, "any MEDIUM"),
        ("CVE-2026-1009", "INFO", None, "LOW"),
        ("CVE-2026-1010", "WARN", None, "UNKNOWN severity"),
        (
            "CVE-2026-1011",
            "BLOCK",
            None,
            "a CVE in the CISA KEV catalog (knob on)",
        ),
        (
            "CVE-2026-1012",
            "INFO",
            Some("not_affected"),
            "justified not_affected VEX",
        ),
        (
            "CVE-2026-1013",
            "WARN",
            Some("waived"),
            "MEDIUM; valid waiver turns WARN into waived",
        ),
        (
            "CVE-2026-1014",
            "WARN",
            None,
            "MEDIUM; the waiver expired 2026-11-30",
        ),
        (
            "CVE-2026-1015",
            "WARN",
            None,
            "MEDIUM; waiver key not a trusted approver",
        ),
    ];
    for (id, class, disp, why) in table {
        let (g, d, reason) = gate_of(&r, id);
        assert_eq!(
            (g.as_str(), d.as_deref()),
            (*class, *disp),
            "{id} ({why}): reason was {reason}"
        );
    }
    assert!(gate_of(&r, "CVE-2026-1005").2.contains("no EPSS data"));
    assert!(gate_of(&r, "CVE-2026-1006").2.contains("transitive"));
    assert_eq!(r["findings"].as_array().unwrap().len(), table.len());
    // Waivers never hide a finding: the untrusted and expired ones are tagged, not applied.
    let tag = |id: &str| {
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["id"] == id)
            .unwrap()["waiver"]
            .clone()
    };
    assert_eq!(tag("CVE-2026-1013")["standing"], "valid");
    assert_eq!(tag("CVE-2026-1014")["standing"], "expired");
    assert_eq!(tag("CVE-2026-1015")["standing"], "untrusted");
    // 5 BLOCK undisposed; WARN undisposed: 1005 1006 1007 1008 1010 1014 1015 = 7.
    assert_eq!(r["verdict"], "FAIL");
    assert_eq!(r["counts"]["undisposed_block"], 5);
    assert_eq!(r["counts"]["undisposed_warn"], 7);
    let policy_sha = dossier::analysis::policy::Policy::default_policy().sha256;
    assert_eq!(r["policy_sha256"], policy_sha.as_str());
    assert_eq!(r["as_of"], "2026-12-01");

    // findings --json carries the same judgement.
    let f = env.json(&["findings", A, "--as-of", "2026-12-01", "--json"], 0);
    let row = f
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == "CVE-2026-1013")
        .unwrap();
    assert_eq!(
        (row["gate"].as_str(), row["disposition"].as_str()),
        (Some("WARN"), Some("waived"))
    );
    assert_eq!(row["waiver"]["id"], "W-VALID");

    // Past W-VALID's expiry the waived MEDIUM is open again.
    let r2 = env.json(&["gate", A, "--as-of", "2027-01-15", "--json"], 1);
    assert_eq!(gate_of(&r2, "CVE-2026-1013").1, None);
    assert_eq!(r2["counts"]["undisposed_warn"], 8);

    let checks = env.json(&["checks", A, "--as-of", "2026-12-01", "--json"], 0);
    let codes: Vec<&str> = checks
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    for want in [
        "digest-consistent",
        "image-unsigned",
        "scanner-db-fresh",
        "waiver-expired",
        "waiver-untrusted",
        "vex-statement-unmatched",
    ] {
        assert!(codes.contains(&want), "{want} missing from {codes:?}");
    }
    // The verdict is recorded with the policy hash.
    let (_, text, _) = env.run(&["gate", A, "--as-of", "2026-12-01"]);
    assert!(text.contains(&policy_sha), "{text}");
}

#[test]
fn waiver_expiry_moves_the_verdict_from_pass_to_conditional() {
    let env = Env::new();
    let set_b = env.copy_dir("set-b", "set-b");
    let approver = PrivateKey::generate_p256().unwrap();
    std::fs::write(
        set_b.join("waiver.yaml"),
        waiver(
            "W-B",
            "CVE-2026-2001",
            B,
            "pkg:npm/waived-lib@1.0.0",
            "2027-01-15",
            Some(&approver),
        ),
    )
    .unwrap();
    trust_approver(&env, &approver, "issm");
    env.ok(&["import", set_b.to_str().unwrap()]);
    let policy = unsigned_ok_policy(&env);
    // Before expiry: the only finding (WARN) is waived -> PASS, exit 0.
    let r = env.json(
        &[
            "gate",
            B,
            "--policy",
            &policy,
            "--as-of",
            "2027-01-14",
            "--json",
        ],
        0,
    );
    assert_eq!(r["verdict"], "PASS");
    // From 00:00 UTC on the expiry date the waiver no longer applies -> CONDITIONAL, exit 3.
    let r = env.json(
        &[
            "gate",
            B,
            "--policy",
            &policy,
            "--as-of",
            "2027-01-15",
            "--json",
        ],
        3,
    );
    assert_eq!(r["verdict"], "CONDITIONAL");
    // Expiring within 30 days is a diagnostic of its own.
    let c = env.json(
        &[
            "checks",
            B,
            "--policy",
            &policy,
            "--as-of",
            "2027-01-01",
            "--json",
        ],
        0,
    );
    assert!(
        c.as_array()
            .unwrap()
            .iter()
            .any(|d| d["code"] == "waiver-expiring-soon"),
        "{c}"
    );
    // The default policy requires a verified image signature: FAIL with that reason.
    let r = env.json(&["gate", B, "--as-of", "2027-01-14", "--json"], 1);
    assert_eq!(r["verdict"], "FAIL");
    assert!(
        r["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x.as_str().unwrap().contains("image-signature")),
        "{r}"
    );
}

#[test]
fn mixing_two_images_in_one_import_fails_digest_consistency() {
    let env = Env::new();
    let dir = env.copy_dir("set-b", "mixed");
    std::fs::copy(
        fixture("other-image.trivy.json"),
        dir.join("other-image.trivy.json"),
    )
    .unwrap();
    env.run(&["import", dir.to_str().unwrap()]);
    let c = env.json(&["checks", B, "--json"], 0);
    let mm = c
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "digest-mismatch")
        .unwrap_or_else(|| panic!("{c}"));
    assert_eq!(mm["level"], "fail");
    assert!(
        mm["evidence"][0]
            .as_str()
            .unwrap()
            .contains("other-image.trivy.json"),
        "{mm}"
    );
}

#[test]
fn broken_policy_stops_with_file_line_and_key() {
    let env = Env::new();
    env.ok(&["import", fixture("set-b").to_str().unwrap()]);
    let bad = dossier::analysis::policy::DEFAULT_POLICY
        .replace("max_db_age_days = 14", "max_db_age_days = \"two weeks\"");
    std::fs::write(env.path("bad.toml"), &bad).unwrap();
    let line = bad
        .lines()
        .position(|l| l.starts_with("max_db_age_days"))
        .unwrap()
        + 1;
    let (code, out, err) = env.run(&["gate", B, "--policy", &env.s("bad.toml")]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains(&format!("bad.toml line {line}")), "{err}");
    assert!(
        out.is_empty(),
        "no verdict may be printed from a broken policy: {out}"
    );
}

#[test]
fn threat_import_rejects_a_bad_header_precisely() {
    let env = Env::new();
    std::fs::write(
        env.path("e.csv"),
        "#model_version:v1,score_date:2026-01-01T00:00:00Z\ncve,score\nCVE-1,0.1\n",
    )
    .unwrap();
    let (code, _, err) = env.run(&["threat", "import", &env.s("e.csv")]);
    assert_eq!(code, 2);
    assert!(err.contains("line 2"), "{err}");
}

#[test]
fn diff_between_two_sets() {
    let env = Env::new();
    env.ok(&["import", fixture("set-a").to_str().unwrap()]);
    env.ok(&["import", fixture("set-b").to_str().unwrap()]);
    let d = env.json(&["diff", A, B, "--json"], 0);
    // set-a has CVE-2026-1001..1015 on 15 npm packages; set-b has only CVE-2026-2001 on
    // waived-lib@1.0.0, a package set-a also has at the same version.
    let ids = |k: &str| -> Vec<String> {
        d[k].as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(ids("new_findings"), ["CVE-2026-2001"]);
    assert_eq!(ids("fixed_findings").len(), 15);
    assert_eq!(d["unchanged_findings"], 0);
    assert_eq!(d["removed_components"].as_array().unwrap().len(), 14);
    assert_eq!(d["added_components"].as_array().unwrap().len(), 0);
    assert_eq!(d["changed_components"].as_array().unwrap().len(), 0);
}

#[test]
fn gate_says_when_signatures_were_verified_under_another_policy() {
    let env = Env::new();
    let set_b = env.copy_dir("set-b", "set-b");
    env.ok(&["import", set_b.to_str().unwrap()]);
    let relaxed = unsigned_ok_policy(&env);
    let relaxed_sha = dossier::analysis::policy::Policy::load(Path::new(&relaxed))
        .unwrap()
        .sha256;
    let default_sha = dossier::analysis::policy::Policy::default_policy().sha256;
    let differs = |r: &Value| -> Vec<Value> {
        r["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["code"] == "verify-policy-differs")
            .cloned()
            .collect()
    };

    // Verified under the default policy (set-b carries no signature: the run is recorded,
    // and exits 1 because nothing verified); gating under the same policy says nothing.
    assert_eq!(env.run(&["verify", B]).0, 1);
    let r = env.json(&["gate", B, "--json"], 1);
    assert!(differs(&r).is_empty(), "{r}");
    // Gating under another policy names both, at the level that policy gives signatures
    // (the relaxed policy lets an unsigned image through, so it warns).
    // set-b's one MEDIUM finding is an undisposed WARN: CONDITIONAL (3) under that policy.
    let r = env.json(&["gate", B, "--policy", &relaxed, "--json"], 3);
    let d = differs(&r);
    assert_eq!(d.len(), 1, "{r}");
    assert_eq!(d[0]["level"], "warn");
    let msg = d[0]["message"].as_str().unwrap();
    assert!(
        msg.contains(&format!("sha256:{default_sha}"))
            && msg.contains(&format!("sha256:{relaxed_sha}")),
        "{msg}"
    );
    // The text report says it too, although a warning is no reason for the verdict.
    let (code, out, _) = env.run(&["gate", B, "--policy", &relaxed]);
    assert_eq!(code, 3);
    assert!(out.contains("verified under policy"), "{out}");

    // Verified under the relaxed policy, gated under the default, which requires a verified
    // signature: a failed required check, given as a reason for the FAIL.
    assert_eq!(env.run(&["verify", B, "--policy", &relaxed]).0, 1);
    let r = env.json(&["gate", B, "--json"], 1);
    assert_eq!(differs(&r)[0]["level"], "fail", "{r}");
    assert!(
        r["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x.as_str().unwrap().contains("verify-policy-differs")),
        "{r}"
    );
    // And the text report says so in words.
    let (code, out, _) = env.run(&["gate", B]);
    assert_eq!(code, 1);
    assert!(out.contains("verified under policy"), "{out}");
}
