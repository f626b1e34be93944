//! The `import`, `list`, `show`, `components` and `findings` commands driven through the
//! real binary with `--store` in a temporary directory: JSON contract field names, exit
//! codes, idempotent re-import, malformed files, and SET resolution.
//!
//! The fixtures in `tests/fixtures/scan/` were written for these tests: a Trivy report with
//! busybox, netbase (package only) and lodash (three findings), and a Grype report of the
//! same image digest with lodash (GHSA id, CVE as related), busybox (same CVE as Trivy) and
//! zlib1g (new). Merged by hand: 4 components (busybox, netbase, lodash, zlib1g) and 4
//! findings (CVE-2022-28391 and CVE-2021-42374 on busybox, CVE-2021-23337 = GHSA-35jh-r3h4-6jhm
//! on lodash, CVE-2023-0001 on zlib1g).

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

const DIGEST: &str = "sha256:5e1b7a1c0ffee00000000000000000000000000000000000000000000000c0de";
const IMAGE: &str = "reg.example/team/app:1.0";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/scan")
        .join(name)
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
    fn store(&self) -> PathBuf {
        self.dir.path().join("store.db")
    }
    /// An evidence directory holding copies of the named fixtures.
    fn evidence(&self, name: &str, files: &[&str]) -> PathBuf {
        let d = self.dir.path().join(name);
        std::fs::create_dir_all(&d).unwrap();
        for f in files {
            std::fs::copy(fixture(f), d.join(f)).unwrap();
        }
        d
    }
    fn run(&self, args: &[&str]) -> (i32, String, String) {
        let out = Command::cargo_bin("dossier")
            .unwrap()
            .env("DOSSIER_ACTOR", "tester")
            .env_remove("DOSSIER_STORE")
            .arg("--store")
            .arg(self.store())
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
    fn json(&self, args: &[&str]) -> (i32, Value) {
        let (code, out, err) = self.run(args);
        let v = serde_json::from_str(&out)
            .unwrap_or_else(|e| panic!("{args:?}: {e}\nstdout: {out}\nstderr: {err}"));
        (code, v)
    }
}

fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    k.sort_unstable();
    k
}

fn has_keys(v: &Value, want: &[&str]) {
    for k in want {
        assert!(v.get(*k).is_some(), "missing {k:?} in {:?}", keys(v));
    }
}

#[test]
fn import_json_contract_and_merged_counts() {
    let env = Env::new();
    let ev = env.evidence("ev", &["trivy.json", "grype.json"]);
    let (code, v) = env.json(&[
        "import",
        ev.to_str().unwrap(),
        "--package",
        "sys-a",
        "--json",
    ]);
    assert_eq!(code, 0, "all files parsed: {v}");
    let sets = v["sets"].as_array().unwrap();
    assert_eq!(sets.len(), 1);
    let s = &sets[0];
    has_keys(
        s,
        &[
            "id",
            "image",
            "digest",
            "package",
            "components",
            "findings",
            "files",
        ],
    );
    assert_eq!(s["digest"], DIGEST);
    assert_eq!(s["image"], IMAGE);
    assert_eq!(s["package"], "sys-a");
    assert_eq!(s["components"], 4);
    assert_eq!(s["findings"], 4);
    let files = s["files"].as_array().unwrap();
    assert_eq!(files.len(), 2);
    for f in files {
        has_keys(
            f,
            &[
                "path",
                "sha256",
                "format",
                "spec_version",
                "status",
                "message",
            ],
        );
        assert_eq!(f["status"], "parsed");
        assert_eq!(f["sha256"].as_str().unwrap().len(), 64);
    }
    let formats: Vec<&str> = files
        .iter()
        .map(|f| f["format"].as_str().unwrap())
        .collect();
    assert_eq!(formats, vec!["grype-json", "trivy-json"]);
}

#[test]
fn listing_commands_carry_the_contract_fields() {
    let env = Env::new();
    let ev = env.evidence("ev", &["trivy.json", "grype.json"]);
    assert_eq!(env.run(&["import", ev.to_str().unwrap()]).0, 0);

    let (code, list) = env.json(&["list", "--json"]);
    assert_eq!(code, 0);
    let row = &list.as_array().unwrap()[0];
    has_keys(
        row,
        &[
            "id",
            "image",
            "digest",
            "package",
            "components",
            "findings",
            "imported_at",
        ],
    );
    assert_eq!(row["digest"], DIGEST);

    let (code, comps) = env.json(&["components", "1", "--json"]);
    assert_eq!(code, 0);
    let comps = comps.as_array().unwrap();
    assert_eq!(comps.len(), 4);
    for c in comps {
        has_keys(
            c,
            &[
                "key",
                "purl",
                "type",
                "name",
                "version",
                "licenses",
                "direct",
                "locations",
                "findings",
            ],
        );
    }
    let mut got: Vec<&str> = comps.iter().map(|c| c["key"].as_str().unwrap()).collect();
    got.sort_unstable();
    assert_eq!(
        got,
        vec![
            "pkg:deb/debian/busybox@1.30.1-6",
            "pkg:deb/debian/netbase@6.3",
            "pkg:deb/debian/zlib1g@1:1.2.11.dfsg-2",
            "pkg:npm/lodash@4.17.20"
        ]
    );
    let busybox = comps.iter().find(|c| c["name"] == "busybox").unwrap();
    assert_eq!(busybox["findings"], 2);

    let (code, finds) = env.json(&["findings", "1", "--json"]);
    assert_eq!(code, 0);
    let finds = finds.as_array().unwrap();
    assert_eq!(finds.len(), 4);
    for f in finds {
        has_keys(
            f,
            &[
                "id",
                "aliases",
                "component",
                "purl",
                "name",
                "version",
                "severity",
                "cvss_v3_score",
                "cvss_v3_vector",
                "epss",
                "kev",
                "fixed_versions",
                "fix_state",
                "direct",
                "scanners",
                "locations",
            ],
        );
    }
    let lodash = finds.iter().find(|f| f["name"] == "lodash").unwrap();
    assert_eq!(
        lodash["id"], "CVE-2021-23337",
        "the CVE names the merged group"
    );
    assert_eq!(
        lodash["aliases"],
        serde_json::json!(["GHSA-35jh-r3h4-6jhm"])
    );
    let mut scanners: Vec<&str> = lodash["scanners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    scanners.sort_unstable();
    assert_eq!(scanners, vec!["grype", "trivy"]);
    let bb = finds.iter().find(|f| f["id"] == "CVE-2022-28391").unwrap();
    // Trivy said HIGH, Grype Critical: disagreement resolves upwards.
    assert_eq!(bb["severity"], "CRITICAL");

    let (code, show) = env.json(&["show", "1", "--json"]);
    assert_eq!(code, 0);
    assert_eq!(show["set"]["digest"], DIGEST);
    assert_eq!(show["files"].as_array().unwrap().len(), 2);
}

#[test]
fn reimport_says_unchanged_and_changes_nothing() {
    let env = Env::new();
    let ev = env.evidence("ev", &["trivy.json", "grype.json"]);
    assert_eq!(env.run(&["import", ev.to_str().unwrap()]).0, 0);
    let (_, before) = env.json(&["list", "--json"]);
    let (_, comps_before) = env.json(&["components", "1", "--json"]);
    let (code, again) = env.json(&["import", ev.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0);
    let s = &again["sets"][0];
    assert_eq!(s["unchanged"], true);
    assert!(s["files"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["status"] == "duplicate"));
    let (_, after) = env.json(&["list", "--json"]);
    assert_eq!(before, after);
    assert_eq!(comps_before, env.json(&["components", "1", "--json"]).1);
    let (_, _, stderr) = env.run(&["import", ev.to_str().unwrap()]);
    let (_, out, _) = env.run(&["import", ev.to_str().unwrap()]);
    assert!(out.contains("unchanged"), "{out}{stderr}");
}

#[test]
fn a_malformed_file_fails_with_its_position_and_the_rest_imports() {
    let env = Env::new();
    let ev = env.evidence("ev", &["trivy.json", "grype.json", "malformed-trivy.json"]);
    let (code, v) = env.json(&["import", ev.to_str().unwrap(), "--json"]);
    assert_eq!(code, 1, "some files failed");
    let s = &v["sets"][0];
    assert_eq!(s["digest"], DIGEST);
    assert_eq!(s["components"], 4);
    assert_eq!(s["findings"], 4);
    let bad = s["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| {
            f["path"]
                .as_str()
                .unwrap()
                .ends_with("malformed-trivy.json")
        })
        .unwrap();
    assert_eq!(bad["status"], "failed");
    assert_eq!(bad["format"], "trivy-json");
    // Line 5, column 71 is the second comma of `,,` in the file.
    let msg = bad["message"].as_str().unwrap();
    assert!(msg.starts_with("line 5, column 71: "), "{msg}");
}

#[test]
fn exit_code_2_for_a_missing_path() {
    let env = Env::new();
    let missing = env.dir.path().join("does-not-exist");
    let (code, _, err) = env.run(&["import", missing.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("does-not-exist"), "{err}");
    // The OS's reason once: the path's error and its cause say the same thing.
    let os = std::fs::metadata(&missing).unwrap_err().to_string();
    assert_eq!(err.matches(&os).count(), 1, "{err}");
}

#[test]
fn set_resolves_by_id_digest_prefix_and_image_reference() {
    let env = Env::new();
    let ev = env.evidence("ev", &["trivy.json", "grype.json"]);
    assert_eq!(env.run(&["import", ev.to_str().unwrap()]).0, 0);
    let pinned = format!("reg.example/team/app@{DIGEST}");
    for q in [
        "1",
        &DIGEST[..19],
        &DIGEST[7..20],
        IMAGE,
        "reg.example/team/app",
        pinned.as_str(),
    ] {
        let (code, v) = env.json(&["show", q, "--json"]);
        assert_eq!(code, 0, "{q}");
        assert_eq!(v["set"]["id"], 1, "{q}");
    }
    let (code, _, err) = env.run(&["show", "sha256:ffff", "--json"]);
    assert_eq!(code, 2, "{err}");
}
