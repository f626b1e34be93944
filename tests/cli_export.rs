//! `dossier export` / `verify-package` end to end over the hand-written evidence in
//! tests/fixtures/export. Expected values are read from the raw Trivy JSON with
//! serde_json::Value, never from dossier's own parser. External tools (pdftotext, qpdf,
//! openssl, Python jsonschema / cyclonedx-python-lib) are used when present; a test that
//! needs an absent one prints why and skips that part.

use assert_cmd::Command;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command as Proc;

const AS_OF: &str = "2026-11-27";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/export")
}

fn dossier(store: &Path) -> Command {
    let mut c = Command::cargo_bin("dossier").unwrap();
    c.arg("--store")
        .arg(store)
        .env_remove("SOURCE_DATE_EPOCH")
        .env("DOSSIER_ACTOR", "R. Reviewer");
    c
}

fn have(tool: &str, arg: &str) -> bool {
    Proc::new(tool)
        .arg(arg)
        .output()
        .map(|o| o.status.success() || !o.stdout.is_empty())
        .unwrap_or(false)
}

fn python_has(module: &str) -> bool {
    Proc::new("python3")
        .args(["-c", &format!("import {module}")])
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

struct Raw {
    /// (digest, every vulnerability id) per fixture image.
    sets: Vec<(String, BTreeSet<String>)>,
    total: usize,
}

/// Reads the fixtures' digests and vulnerability ids straight from the JSON.
fn raw() -> Raw {
    let mut sets = Vec::new();
    let mut total = 0;
    for name in ["app", "db"] {
        let v: Value = serde_json::from_slice(
            &std::fs::read(fixtures().join(name).join("trivy.json")).unwrap(),
        )
        .unwrap();
        let digest = v["Metadata"]["RepoDigests"][0]
            .as_str()
            .unwrap()
            .split('@')
            .nth(1)
            .unwrap()
            .to_string();
        let mut ids = BTreeSet::new();
        for r in v["Results"].as_array().unwrap() {
            for x in r["Vulnerabilities"].as_array().unwrap() {
                ids.insert(x["VulnerabilityID"].as_str().unwrap().to_string());
                total += 1;
            }
        }
        sets.push((digest, ids));
    }
    Raw { sets, total }
}

/// A store with both fixture images imported as package `fx`.
fn store() -> (tempfile::TempDir, PathBuf) {
    let d = tempfile::tempdir().unwrap();
    let s = d.path().join("s.db");
    dossier(&s)
        .arg("import")
        .arg(fixtures().join("app"))
        .arg(fixtures().join("db"))
        .args(["--package", "fx"])
        .assert()
        .success();
    (d, s)
}

/// A P-256 reviewer key pair (PKCS#8 private, SPKI public) written to `dir`.
fn keypair(dir: &Path) -> (PathBuf, PathBuf) {
    use p256::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
    let sk = p256::ecdsa::SigningKey::from_slice(&[0x42; 32]).unwrap();
    let k = dir.join("reviewer.key");
    let p = dir.join("reviewer-public.pem");
    std::fs::write(&k, sk.to_pkcs8_pem(LineEnding::LF).unwrap().as_bytes()).unwrap();
    // Private keys must not be group/world readable (crypto::privkey refuses them).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&k, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    std::fs::write(
        &p,
        sk.verifying_key()
            .to_public_key_pem(LineEnding::LF)
            .unwrap(),
    )
    .unwrap();
    (k, p)
}

fn export(s: &Path, out: &Path, extra: &[&str]) {
    dossier(s)
        .args([
            "export",
            "--package",
            "fx",
            "--as-of",
            AS_OF,
            "--classification",
            "CUI//TEST BANNER",
        ])
        .arg("--out")
        .arg(out)
        .args(extra)
        .assert()
        .success();
}

#[test]
fn json_package_holds_every_set_and_finding_and_matches_its_schema() {
    let (d, s) = store();
    let out = d.path().join("out");
    export(&s, &out, &["--format", "json"]);
    let pkg: Value =
        serde_json::from_slice(&std::fs::read(out.join("package.json")).unwrap()).unwrap();
    assert_eq!(pkg["schema_version"], "dossier.package/v1");
    assert_eq!(pkg["name"], "fx");
    assert_eq!(pkg["generated_at"], "2026-11-27T00:00:00Z");
    assert_eq!(pkg["reviewer"]["name"], "R. Reviewer");
    let raw = raw();
    let sets = pkg["sets"].as_array().unwrap();
    assert_eq!(sets.len(), raw.sets.len());
    for (digest, ids) in &raw.sets {
        let set = sets
            .iter()
            .find(|x| x["digest"] == digest.as_str())
            .unwrap_or_else(|| panic!("no set {digest}"));
        let got: BTreeSet<String> = set["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["vuln_id"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(&got, ids);
        assert_eq!(set["counts"]["total"], ids.len());
        // Every evidence file carries its sha256 and size, and the hash is the file's.
        let ev = &set["evidence"][0];
        let name = if digest.starts_with("sha256:a1b2") {
            "app"
        } else {
            "db"
        };
        let bytes = std::fs::read(fixtures().join(name).join("trivy.json")).unwrap();
        use sha2::Digest;
        assert_eq!(ev["sha256"], hex::encode(sha2::Sha256::digest(&bytes)));
        assert_eq!(ev["size"], bytes.len());
    }
    // Judging is not wired in yet: the export must say so rather than invent a verdict.
    if pkg["verdict"]["status"] == "not evaluated" {
        assert!(sets.iter().all(|s| s["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["gate"] == "not evaluated")));
    }

    if python_has("jsonschema") {
        let schema =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/schemas/package.schema.json");
        let st = Proc::new("python3")
            .args([
                "-c",
                "import json,sys,jsonschema; jsonschema.Draft202012Validator(json.load(open(sys.argv[1]))).validate(json.load(open(sys.argv[2])))",
            ])
            .arg(&schema)
            .arg(out.join("package.json"))
            .status()
            .unwrap();
        assert!(
            st.success(),
            "package.json does not validate against its JSON Schema"
        );
    } else {
        eprintln!("skipped: Python jsonschema not installed (python3 -m pip install jsonschema)");
    }
}

#[test]
fn detached_signature_verifies_with_openssl_and_any_flipped_byte_fails_verify_package() {
    let (d, s) = store();
    let (key, public) = keypair(d.path());
    let out = d.path().join("out");
    export(
        &s,
        &out,
        &[
            "--format",
            "json",
            "--sign-key",
            key.to_str().unwrap(),
            "--with-evidence",
        ],
    );
    for f in [
        "package.json",
        "package.json.sig",
        "package.sig.der",
        "package.dsse.json",
        "reviewer.pub",
        "package.tar",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    if have("openssl", "version") {
        let o = Proc::new("openssl")
            .args(["dgst", "-sha256", "-verify"])
            .arg(&public)
            .arg("-signature")
            .arg(out.join("package.sig.der"))
            .arg(out.join("package.json"))
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "openssl: {}",
            String::from_utf8_lossy(&o.stdout)
        );
        assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "Verified OK");
    } else {
        eprintln!("skipped: openssl not installed");
    }
    dossier(&s)
        .arg("verify-package")
        .arg(&out)
        .arg("--key")
        .arg(&public)
        .assert()
        .success();
    dossier(&s)
        .arg("verify-package")
        .arg(out.join("package.tar"))
        .arg("--key")
        .arg(&public)
        .assert()
        .success();

    // One flipped byte in the package: the signature check fails (exit 1).
    let mut bytes = std::fs::read(out.join("package.json")).unwrap();
    let i = bytes.len() / 2;
    bytes[i] ^= 0x01;
    std::fs::write(out.join("package.json"), &bytes).unwrap();
    let o = dossier(&s)
        .arg("verify-package")
        .arg(&out)
        .arg("--key")
        .arg(&public)
        .arg("--json")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    let sig = r["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["check"] == "signature")
        .unwrap();
    assert_eq!(sig["ok"], false);

    // One flipped byte inside a bundled evidence file: the evidence check fails.
    let mut tar = std::fs::read(out.join("package.tar")).unwrap();
    let needle = b"CVE-2024-6119";
    let pos = tar
        .windows(needle.len())
        .rposition(|w| w == needle)
        .unwrap();
    tar[pos] = b'X';
    let bad = d.path().join("bad.tar");
    std::fs::write(&bad, &tar).unwrap();
    let o = dossier(&s)
        .arg("verify-package")
        .arg(&bad)
        .arg("--key")
        .arg(&public)
        .arg("--json")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    let ev = r["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["check"] == "evidence")
        .unwrap();
    assert_eq!(ev["ok"], false);
}

fn pdf_text(pdf: &Path) -> Option<String> {
    if !have("pdftotext", "-v") {
        eprintln!("skipped: pdftotext not installed (apt-get install poppler-utils)");
        return None;
    }
    let o = Proc::new("pdftotext").arg(pdf).arg("-").output().unwrap();
    assert!(o.status.success());
    Some(String::from_utf8(o.stdout).unwrap())
}

#[test]
fn pdf_shows_digests_verdicts_findings_and_banner_and_is_structurally_clean() {
    let (d, s) = store();
    let out = d.path().join("out");
    export(&s, &out, &["--format", "pdf"]);
    let pdf = out.join("package.pdf");
    let bytes = std::fs::read(&pdf).unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    let pkg: Value =
        serde_json::from_slice(&std::fs::read(out.join("package.json")).unwrap()).unwrap();
    let raw = raw();

    // Read back in Rust: page count, and the banner on every page's text.
    let doc = lopdf::Document::load_mem(&bytes).unwrap();
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    assert!(pages.len() >= 3, "cover, summary and findings need pages");
    for p in &pages {
        let t = doc.extract_text(&[*p]).unwrap();
        assert!(t.contains("CUI//TEST BANNER"), "page {p} has no banner");
        assert!(
            t.contains(&format!("Page {p} of {}", pages.len())),
            "page {p} has no page number"
        );
    }

    if let Some(text) = pdf_text(&pdf) {
        for (digest, ids) in &raw.sets {
            // The key/value block prints each digest whole.
            assert!(
                text.contains(digest.as_str()),
                "digest {digest} not in the PDF text"
            );
            let set = pkg["sets"]
                .as_array()
                .unwrap()
                .iter()
                .find(|x| x["digest"] == digest.as_str())
                .unwrap();
            assert!(
                text.contains(&format!(
                    "Verdict {}",
                    set["verdict"]["status"].as_str().unwrap()
                )) || text.contains(set["verdict"]["status"].as_str().unwrap())
            );
            // Every BLOCK and WARN finding (and every one the policy could not class) is listed;
            // the ids are the raw report's, the classes the signed JSON's.
            for f in set["findings"].as_array().unwrap() {
                let id = f["vuln_id"].as_str().unwrap();
                assert!(ids.contains(id));
                if ["BLOCK", "WARN", "not evaluated"].contains(&f["gate"].as_str().unwrap()) {
                    assert!(
                        text.contains(id),
                        "{} finding {id} not in the PDF text",
                        f["gate"]
                    );
                }
            }
        }
        let verdict = pkg["verdict"]["status"].as_str().unwrap();
        assert!(text.contains(&format!("Overall verdict: {verdict}")));
        let sha = {
            use sha2::Digest;
            hex::encode(sha2::Sha256::digest(
                std::fs::read(out.join("package.json")).unwrap(),
            ))
        };
        assert!(text.contains(&format!("package sha256: {sha}")));
        assert!(
            text.contains("библиотека-ünï"),
            "non-Latin text must survive"
        );
        assert!(
            !text.contains('\u{1b}'),
            "escape sequences must not reach the PDF"
        );
        for w in pkg["sets"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["waivers"].as_array().cloned().unwrap_or_default())
        {
            assert!(text.contains(w["id"].as_str().unwrap()));
        }
    }
    if have("qpdf", "--version") {
        let o = Proc::new("qpdf").arg("--check").arg(&pdf).output().unwrap();
        let so = String::from_utf8_lossy(&o.stdout);
        assert!(
            o.status.success() && so.contains("No syntax or stream encoding errors"),
            "qpdf: {so}"
        );
    } else {
        eprintln!("skipped: qpdf not installed");
    }
}

#[test]
fn two_exports_with_the_same_as_of_are_byte_identical() {
    let (d, s) = store();
    let (key, _) = keypair(d.path());
    let a = d.path().join("a");
    let b = d.path().join("b");
    let extra = [
        "--format",
        "all",
        "--sign-key",
        key.to_str().unwrap(),
        "--with-evidence",
    ];
    export(&s, &a, &extra);
    export(&s, &b, &extra);
    let names: BTreeSet<String> = std::fs::read_dir(&a)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert!(
        names.contains("package.pdf")
            && names.contains("package.poam.csv")
            && names.contains("package.tar")
    );
    for n in &names {
        assert_eq!(
            std::fs::read(a.join(n)).unwrap(),
            std::fs::read(b.join(n)).unwrap(),
            "{n} differs"
        );
    }
    // SOURCE_DATE_EPOCH does the same job when --as-of is absent.
    let c = d.path().join("c");
    dossier(&s)
        .env("SOURCE_DATE_EPOCH", "1795737600")
        .args([
            "export",
            "--package",
            "fx",
            "--format",
            "json",
            "--classification",
            "CUI//TEST BANNER",
        ])
        .arg("--out")
        .arg(&c)
        .assert()
        .success();
    let pkg: Value =
        serde_json::from_slice(&std::fs::read(c.join("package.json")).unwrap()).unwrap();
    assert_eq!(pkg["generated_at"], "2026-11-27T00:00:00Z");
}

#[test]
fn vex_and_poam_outputs_follow_their_specs() {
    let (d, s) = store();
    let out = d.path().join("out");
    export(&s, &out, &["--format", "openvex,cyclonedx-vex,poam-csv"]);
    let raw = raw();

    let ov: Value =
        serde_json::from_slice(&std::fs::read(out.join("package.openvex.json")).unwrap()).unwrap();
    // OpenVEX 0.2.0 required fields and statement rules (formats.md 7.1), checked by hand:
    // the official schema is not packaged for offline use.
    for k in [
        "@context",
        "@id",
        "author",
        "timestamp",
        "version",
        "statements",
    ] {
        assert!(ov.get(k).is_some(), "OpenVEX document lacks {k}");
    }
    assert_eq!(ov["@context"], "https://openvex.dev/ns/v0.2.0");
    let st = ov["statements"].as_array().unwrap();
    assert_eq!(st.len(), raw.total);
    for s in st {
        let status = s["status"].as_str().unwrap();
        assert!(["not_affected", "affected", "fixed", "under_investigation"].contains(&status));
        if status == "not_affected" {
            assert!(s.get("justification").is_some() != s.get("impact_statement").is_some());
        }
        if status == "affected" {
            assert!(s.get("action_statement").is_some());
        }
        assert!(s["products"][0]["@id"]
            .as_str()
            .unwrap()
            .starts_with("pkg:oci/"));
    }

    let cdx_path = out.join("package.cdx-vex.json");
    let cdx: Value = serde_json::from_slice(&std::fs::read(&cdx_path).unwrap()).unwrap();
    assert_eq!(cdx["bomFormat"], "CycloneDX");
    assert_eq!(cdx["vulnerabilities"].as_array().unwrap().len(), raw.total);
    if python_has("cyclonedx.validation.json") {
        let o = Proc::new("python3")
            .args([
                "-c",
                "import sys\nfrom cyclonedx.validation.json import JsonStrictValidator\nfrom cyclonedx.schema import SchemaVersion\n\
                 e = JsonStrictValidator(SchemaVersion.V1_6).validate_str(open(sys.argv[1]).read())\n\
                 print(e)\nsys.exit(1 if e else 0)",
            ])
            .arg(&cdx_path)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "CycloneDX 1.6 schema: {}",
            String::from_utf8_lossy(&o.stdout)
        );
    } else {
        eprintln!("skipped: cyclonedx-python-lib not installed (python3 -m pip install 'cyclonedx-python-lib[json-validation]')");
    }

    // POA&M: without decisions every finding is open, so one Ongoing row each, with a date
    // and a milestone.
    let mut r = csv::Reader::from_path(out.join("package.poam.csv")).unwrap();
    let h = r.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|x| x == n).unwrap();
    let rows: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
    let open = rows
        .iter()
        .filter(|x| &x[col("Status")] == "Ongoing")
        .count();
    let accepted = rows
        .iter()
        .filter(|x| &x[col("Status")] == "Risk Accepted")
        .count();
    assert_eq!(open + accepted, rows.len());
    for x in &rows {
        if &x[col("Status")] == "Ongoing" {
            assert!(!x[col("Scheduled Completion Date")].is_empty());
            assert!(!x[col("Milestone with Completion Dates")].is_empty());
        } else {
            assert!(!x[col("Comments")].is_empty());
            assert!(x[col("Milestone with Completion Dates")].is_empty());
        }
    }
    let pkg_findings = raw.total;
    assert!(rows.len() <= pkg_findings);
}

#[test]
fn usage_errors_exit_2_with_a_message() {
    let (d, s) = store();
    let out = d.path().join("out");
    dossier(&s)
        .args(["export", "--package", "fx", "--format", "docx"])
        .arg("--out")
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("unknown export format 'docx'"));
    dossier(&s)
        .args(["export", "--package", "nope"])
        .arg("--out")
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "no package named 'nope' (known: fx)",
        ));
    dossier(&s)
        .args(["export", "--package", "fx", "--set", "1"])
        .arg("--out")
        .arg(&out)
        .assert()
        .code(2);
    // One set on its own exports too.
    dossier(&s)
        .args(["export", "--set", "1", "--format", "json"])
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let pkg: Value =
        serde_json::from_slice(&std::fs::read(out.join("package.json")).unwrap()).unwrap();
    assert_eq!(pkg["sets"].as_array().unwrap().len(), 1);
}

#[test]
fn decisions_reach_every_output_and_not_affected_round_trips_through_openvex() {
    let d = tempfile::tempdir().unwrap();
    let s = d.path().join("s.db");
    dossier(&s)
        .arg("import")
        .arg(fixtures().join("app"))
        .args(["--package", "fx"])
        .assert()
        .success();
    dossier(&s)
        .args(["review", "1", "CVE-2024-2511", "--state", "not_affected"])
        .args([
            "--justification",
            "vulnerable_code_not_in_execute_path",
            "--note",
            "sidecar TLS",
        ])
        .assert()
        .success();
    dossier(&s)
        .args(["review", "1", "CVE-2024-6119", "--state", "patched"])
        .assert()
        .success();
    dossier(&s)
        .args([
            "waiver",
            "new",
            "1",
            "CVE-2023-50387",
            "--text",
            "no fix yet",
            "--out",
        ])
        .arg(d.path().join("w.yaml"))
        .assert()
        .success();
    let out = d.path().join("out");
    dossier(&s)
        .args([
            "export",
            "--package",
            "fx",
            "--format",
            "all",
            "--as-of",
            AS_OF,
        ])
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let pkg: Value =
        serde_json::from_slice(&std::fs::read(out.join("package.json")).unwrap()).unwrap();
    let set = &pkg["sets"][0];
    let f = |id: &str| {
        set["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["vuln_id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(f("CVE-2024-2511")["disposition"], "not_affected");
    assert_eq!(
        f("CVE-2024-2511")["justification"],
        "vulnerable_code_not_in_execute_path"
    );
    assert_eq!(f("CVE-2024-6119")["disposition"], "patched");
    let waiver_ids: Vec<String> = set["waivers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        waiver_ids.len(),
        1,
        "the drafted waiver is in scope of the set"
    );

    let ov: Value =
        serde_json::from_slice(&std::fs::read(out.join("package.openvex.json")).unwrap()).unwrap();
    let st = |id: &str| {
        ov["statements"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["vulnerability"]["name"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(st("CVE-2024-2511")["status"], "not_affected");
    assert_eq!(
        st("CVE-2024-2511")["justification"],
        "vulnerable_code_not_in_execute_path"
    );
    assert_eq!(st("CVE-2024-6119")["status"], "fixed");

    if let Some(text) = pdf_text(&out.join("package.pdf")) {
        for w in &waiver_ids {
            assert!(text.contains(w.as_str()), "waiver {w} not in the PDF text");
        }
        assert!(text.contains("not_affected") && text.contains("patched"));
    }

    // Round trip: the same evidence plus the exported OpenVEX in a fresh store reproduces the
    // not_affected decision (with its justification) through the judge's VEX reader.
    let ev = d.path().join("ev");
    std::fs::create_dir_all(&ev).unwrap();
    std::fs::copy(fixtures().join("app/trivy.json"), ev.join("trivy.json")).unwrap();
    std::fs::copy(
        out.join("package.openvex.json"),
        ev.join("package.openvex.json"),
    )
    .unwrap();
    let s2 = d.path().join("s2.db");
    dossier(&s2).arg("import").arg(&ev).assert().success();
    let o = dossier(&s2)
        .args(["findings", "1", "--json", "--as-of", AS_OF])
        .output()
        .unwrap();
    let rows: Value = serde_json::from_slice(&o.stdout).unwrap();
    let row = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "CVE-2024-2511")
        .unwrap();
    assert_eq!(row["disposition"], "not_affected");
    assert_eq!(
        row["vex"]["justification"],
        "vulnerable_code_not_in_execute_path"
    );
}
