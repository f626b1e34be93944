//! The bundled `sample-evidence/` is exactly what the generator writes (so its README's
//! regeneration command is true), and the demo store built from it tells the story the
//! sample was designed for: 1.4.0 fails the gate (a CRITICAL with a fix), 1.5.0 is
//! conditional (only WARN findings lack waivers).

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(root).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn committed_sample_equals_generator_output() {
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-evidence");
    let tmp = tempfile::tempdir().unwrap();
    dossier::devgen::gen_sample(tmp.path()).unwrap();
    let a = files(&committed);
    let b = files(tmp.path());
    assert_eq!(a, b, "file lists differ");
    for f in &a {
        let x = std::fs::read(committed.join(f)).unwrap();
        let y = std::fs::read(tmp.path().join(f)).unwrap();
        assert!(x == y, "{} differs from the generator's output: rerun `cargo run -- dev gen-sample sample-evidence`", f.display());
    }
}

#[test]
fn demo_store_gates_the_two_versions_as_designed() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("demo.db");
    Command::cargo_bin("dossier")
        .unwrap()
        .args(["demo", "--prepare-only"])
        .arg(&db)
        .assert()
        .success();
    // 1.4.0 carries CVE-2023-38545 (CRITICAL, fix available): FAIL, exit 1.
    Command::cargo_bin("dossier")
        .unwrap()
        .arg("--store")
        .arg(&db)
        .args(["gate", "1"])
        .assert()
        .code(1);
    let by_ref = |tag: &str| format!("registry.example.mil/platform/payments-api:{tag}");
    Command::cargo_bin("dossier")
        .unwrap()
        .arg("--store")
        .arg(&db)
        .args(["gate", &by_ref("1.4.0")])
        .assert()
        .code(1);
    // 1.5.0: no BLOCK left, expat (HIGH, no fix) and others need waivers: CONDITIONAL, exit 3.
    Command::cargo_bin("dossier")
        .unwrap()
        .arg("--store")
        .arg(&db)
        .args(["gate", &by_ref("1.5.0")])
        .assert()
        .code(3);
    // The sample's pipeline signature verifies against the trusted sample key.
    let out = Command::cargo_bin("dossier")
        .unwrap()
        .arg("--store")
        .arg(&db)
        .args(["verify", &by_ref("1.5.0"), "--json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let outcomes: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, vec!["verified", "verified"], "{v}");
}
