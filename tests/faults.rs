//! Faults through the real binary: SIGKILL at random points of import, review and export;
//! two processes on one store; a full disk; and secrets that must never leak. After every
//! fault the store must pass `PRAGMA integrity_check`, hold only whole imports, and keep a
//! verifiable audit chain; exports must never leave a partial file under a final name.

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

const COMPONENTS: &str = "120";
const FINDINGS: &str = "800";

fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("dossier")
}

fn cmd(store: &Path) -> std::process::Command {
    let mut c = std::process::Command::new(bin());
    c.env("DOSSIER_ACTOR", "fault-tester")
        .env_remove("DOSSIER_STORE")
        .arg("--store")
        .arg(store);
    c
}

fn run(store: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(bin())
        .env("DOSSIER_ACTOR", "fault-tester")
        .env_remove("DOSSIER_STORE")
        .arg("--store")
        .arg(store)
        .args(args)
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn gen(out: &Path, seed: u64) {
    gen_sized(out, seed, COMPONENTS, FINDINGS);
}

fn gen_sized(out: &Path, seed: u64, components: &str, findings: &str) {
    let s = seed.to_string();
    let args = [
        "dev",
        "gen",
        "--seed",
        &s,
        "--components",
        components,
        "--findings",
        findings,
        "--out",
        out.to_str().unwrap(),
    ];
    let st = std::process::Command::new(bin())
        .args(args)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
}

/// Deterministic xorshift so a failing run can be replayed (the seed is printed).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn integrity(store: &Path) {
    let c = rusqlite::Connection::open(store).unwrap();
    let r: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(r, "ok", "integrity_check");
}

/// (digest, components, findings, files) per set.
fn sets(store: &Path) -> Vec<(String, i64, i64, usize)> {
    let (code, out, err) = run(store, &["list", "--json"]);
    assert_eq!(code, 0, "list: {err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let id = s["id"].to_string();
            let (_, show, _) = run(store, &["show", &id, "--json"]);
            let files = serde_json::from_str::<Value>(&show).unwrap()["files"]
                .as_array()
                .map(|a| a.len())
                .unwrap_or(0);
            (
                s["digest"].as_str().unwrap_or("").to_string(),
                s["components"].as_i64().unwrap(),
                s["findings"].as_i64().unwrap(),
                files,
            )
        })
        .collect()
}

fn audit_ok(store: &Path) {
    let (code, out, err) = run(store, &["audit", "verify"]);
    assert_eq!(code, 0, "audit chain broken: {out} {err}");
}

/// Every file under a final export name is whole: JSON parses, a PDF ends with %%EOF.
fn exports_whole(dir: &Path) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.filter_map(Result::ok) {
        let name = e.file_name().to_string_lossy().into_owned();
        let bytes = std::fs::read(e.path()).unwrap();
        if name.ends_with(".json") {
            assert!(
                serde_json::from_slice::<Value>(&bytes).is_ok(),
                "half-written export under its final name: {name} ({} bytes)",
                bytes.len()
            );
        } else if name.ends_with(".pdf") {
            let tail = &bytes[bytes.len().saturating_sub(32)..];
            assert!(
                tail.windows(5).any(|w| w == b"%%EOF"),
                "half-written PDF under its final name: {name}"
            );
        }
    }
}

/// The export every kill test runs, but its output directory.
const EXPORT: [&str; 8] = [
    "export",
    "--set",
    "1",
    "--format",
    "json,pdf",
    "--as-of",
    "2026-11-27",
    "--out",
];

#[test]
fn sigkill_at_random_points_of_import_review_and_export_50_times() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store.db");
    // Reference: what each whole import holds, from an uninterrupted run on its own store.
    let mut expect = std::collections::HashMap::new();
    // How long an uninterrupted import, review and export take here: each kill comes at a
    // random point within that (a fixed window let a machine twice as fast finish most
    // commands before the kill).
    let mut took = [Duration::ZERO; 3];
    let evs: Vec<PathBuf> = (0..4)
        .map(|i| {
            let d = tmp.path().join(format!("ev{i}"));
            gen(&d, 100 + i);
            let rs = tmp.path().join(format!("ref{i}.db"));
            let t = Instant::now();
            assert!(run(&rs, &["import", d.to_str().unwrap()]).0 == 0);
            took[0] = took[0].max(t.elapsed());
            let s = sets(&rs);
            expect.insert(s[0].0.clone(), (s[0].1, s[0].2, s[0].3));
            d
        })
        .collect();
    // One set present from the start, so review and export have something to work on.
    assert_eq!(run(&store, &["import", evs[0].to_str().unwrap()]).0, 0);
    let (_, fj, _) = run(&store, &["findings", "1", "--json"]);
    let findings: Vec<(String, String)> = serde_json::from_str::<Value>(&fj)
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .take(50)
        .map(|f| {
            (
                f["id"].as_str().unwrap().to_string(),
                f["component"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let (id0, comp0) = &findings[0];
    let t = Instant::now();
    let review = [
        "review",
        "1",
        id0,
        "--component",
        comp0,
        "--state",
        "open",
        "--note",
        "t",
    ];
    assert_eq!(run(&store, &review).0, 0);
    took[1] = t.elapsed();
    let t = Instant::now();
    let out_ref = tmp.path().join("out-ref");
    let mut export = EXPORT.to_vec();
    export.push(out_ref.to_str().unwrap());
    assert_eq!(run(&store, &export).0, 0);
    took[2] = t.elapsed();
    eprintln!("uninterrupted import, review, export: {took:?}");
    let seed = 0x5EED_F00D_u64;
    eprintln!("kill schedule seed {seed:#x}");
    let mut rng = Lcg(seed);
    let (mut killed, mut finished) = (0, 0);
    let t0 = Instant::now();
    for i in 0..50 {
        let out_dir = tmp.path().join(format!("out{i}"));
        let mut c = cmd(&store);
        match i % 3 {
            0 => {
                c.args(["import", evs[(rng.next() % 4) as usize].to_str().unwrap()]);
            }
            1 => {
                let (id, comp) = &findings[(rng.next() % findings.len() as u64) as usize];
                let state = ["not_affected", "false_positive", "open"][(rng.next() % 3) as usize];
                c.args([
                    "review",
                    "1",
                    id,
                    "--component",
                    comp,
                    "--state",
                    state,
                    "--note",
                    "kill test",
                ]);
                if state == "not_affected" {
                    c.args(["--justification", "component_not_present"]);
                }
            }
            _ => {
                c.args(EXPORT).arg(&out_dir);
            }
        }
        let mut child = c
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let window = took[i % 3].as_millis() as u64 * 5 / 4 + 1;
        std::thread::sleep(Duration::from_millis(rng.next() % window));
        match child.try_wait().unwrap() {
            Some(_) => finished += 1,
            None => {
                child.kill().unwrap();
                killed += 1;
            }
        }
        child.wait().unwrap();
        integrity(&store);
        for (digest, comps, finds, files) in sets(&store) {
            let want = expect
                .get(&digest)
                .unwrap_or_else(|| panic!("a set nobody imported: {digest}"));
            assert_eq!(
                (comps, finds, files),
                *want,
                "half-imported set {digest} after iteration {i}"
            );
        }
        audit_ok(&store);
        exports_whole(&out_dir);
    }
    eprintln!(
        "50 runs: {killed} killed mid-way, {finished} finished first, {:?}",
        t0.elapsed()
    );
    assert!(
        killed >= 10,
        "the schedule must actually interrupt work ({killed} kills)"
    );
}

#[test]
fn two_processes_on_one_store_both_succeed_or_report_busy() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store.db");
    let a = tmp.path().join("a");
    let b = tmp.path().join("b");
    gen(&a, 1);
    gen(&b, 2);
    assert_eq!(run(&store, &["import", a.to_str().unwrap()]).0, 0);
    let (_, fj, _) = run(&store, &["findings", "1", "--json"]);
    let f0 = serde_json::from_str::<Value>(&fj).unwrap()[0].clone();
    let (id, comp) = (
        f0["id"].as_str().unwrap().to_string(),
        f0["component"].as_str().unwrap().to_string(),
    );
    let importer = cmd(&store)
        .args(["import", b.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut reviewers = Vec::new();
    for k in 0..4 {
        let note = format!("concurrent {k}");
        reviewers.push(
            cmd(&store)
                .args([
                    "review",
                    "1",
                    &id,
                    "--component",
                    &comp,
                    "--state",
                    "false_positive",
                    "--note",
                    &note,
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap(),
        );
    }
    for c in std::iter::once(importer).chain(reviewers) {
        let out = c.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() || err.contains("busy"),
            "neither success nor a clear 'store busy': {:?} {err}",
            out.status
        );
        assert!(!err.contains("panicked"));
    }
    integrity(&store);
    audit_ok(&store);
    assert_eq!(sets(&store).len(), 2);
}

/// Mounts a 4 MiB tmpfs (a new store of 32 KiB pages is ~1.6 MB, its WAL as much again), or returns None (printed) where mounting is not permitted.
struct Tiny(PathBuf);
impl Tiny {
    fn mount(at: &Path) -> Option<Tiny> {
        std::fs::create_dir_all(at).ok()?;
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=4m", "tmpfs"])
            .arg(at)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            eprintln!("SKIPPED: cannot mount a tmpfs here (needs root); disk-full not exercised");
            return None;
        }
        Some(Tiny(at.to_path_buf()))
    }
}
impl Drop for Tiny {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn disk_full_fails_clearly_and_leaves_the_store_intact() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(tiny) = Tiny::mount(&tmp.path().join("tiny")) else {
        return;
    };
    // Import: the store lives on the tiny disk; a small set fits, a big one does not.
    let store = tiny.0.join("store.db");
    let small = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/scan/trivy.json");
    assert_eq!(run(&store, &["import", small.to_str().unwrap()]).0, 0);
    let before = sets(&store);
    let big = tmp.path().join("big");
    gen_sized(&big, 9, "400", "4000");
    let (code, out, err) = run(&store, &["import", big.to_str().unwrap()]);
    assert_ne!(code, 0, "an import that cannot fit must fail: {out}");
    let all = format!("{out}{err}").to_lowercase();
    assert!(
        all.contains("full") || all.contains("space"),
        "no clear disk-full message: {out} {err}"
    );
    assert!(!err.contains("panicked"));
    integrity(&store);
    assert_eq!(sets(&store), before, "the failed import changed the store");
    audit_ok(&store);

    // Export: the store on the big disk, the package written to the tiny one.
    let store2 = tmp.path().join("store2.db");
    assert_eq!(run(&store2, &["import", big.to_str().unwrap()]).0, 0);
    for e in std::fs::read_dir(&tiny.0).unwrap().filter_map(Result::ok) {
        let _ = std::fs::remove_file(e.path());
    }
    let out_dir = tiny.0.join("pkg");
    let (code, out, err) = run(
        &store2,
        &[
            "export",
            "--set",
            "1",
            "--format",
            "all",
            "--as-of",
            "2026-11-27",
            "--out",
            out_dir.to_str().unwrap(),
        ],
    );
    assert_ne!(code, 0, "an export that cannot fit must fail: {out}");
    let all = format!("{out}{err}").to_lowercase();
    assert!(
        all.contains("full") || all.contains("space"),
        "no clear disk-full message: {out} {err}"
    );
    exports_whole(&out_dir);
    integrity(&store2);
    audit_ok(&store2);
}

fn find_all(hay: &[u8], needles: &[Vec<u8>]) -> Option<String> {
    needles
        .iter()
        .find(|n| hay.windows(n.len()).any(|w| w == n.as_slice()))
        .map(|n| String::from_utf8_lossy(n).into_owned())
}

fn files_under(dir: &Path, into: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
    {
        let p = e.path();
        if p.is_dir() {
            files_under(&p, into);
        } else {
            into.push(p);
        }
    }
}

#[test]
fn secrets_never_reach_store_logs_audit_or_exports() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store.db");
    let pass = "correct-horse-SECRET-9f2c71";
    let pp = tmp.path().join("pass.txt");
    std::fs::write(&pp, format!("{pass}\n")).unwrap();
    let keys = tmp.path().join("keys");
    let mut outputs = String::new();
    let mut step = |args: &[&str]| {
        let (code, out, err) = run(&store, args);
        outputs.push_str(&out);
        outputs.push_str(&err);
        code
    };
    assert_eq!(
        step(&[
            "keys",
            "generate",
            "--out",
            keys.to_str().unwrap(),
            "--name",
            "rev",
            "--passphrase-file",
            pp.to_str().unwrap()
        ]),
        0
    );
    let key_pem = std::fs::read_to_string(keys.join("rev.key")).unwrap();
    // The key's encoded body, line by line: none of it may be copied anywhere.
    let mut needles: Vec<Vec<u8>> = key_pem
        .lines()
        .filter(|l| !l.starts_with("-----") && l.len() >= 24)
        .map(|l| l.as_bytes().to_vec())
        .collect();
    needles.push(pass.as_bytes().to_vec());
    let ev = tmp.path().join("ev");
    gen(&ev, 5);
    // A private key dropped into the evidence: refused, never stored.
    std::fs::copy(keys.join("rev.key"), ev.join("leaked.key")).unwrap();
    step(&["import", ev.to_str().unwrap()]);
    let (_, fj, _) = run(&store, &["findings", "1", "--json"]);
    let f0 = serde_json::from_str::<Value>(&fj).unwrap()[0].clone();
    let (id, comp) = (
        f0["id"].as_str().unwrap().to_string(),
        f0["component"].as_str().unwrap().to_string(),
    );
    step(&[
        "review",
        "1",
        &id,
        "--component",
        &comp,
        "--state",
        "false_positive",
        "--note",
        "secrets test",
    ]);
    let out_dir = tmp.path().join("pkg");
    let kp = keys.join("rev.key");
    assert_eq!(
        step(&[
            "export",
            "--set",
            "1",
            "--format",
            "all",
            "--as-of",
            "2026-11-27",
            "--out",
            out_dir.to_str().unwrap(),
            "--sign-key",
            kp.to_str().unwrap(),
            "--passphrase-file",
            pp.to_str().unwrap(),
            "--with-evidence"
        ]),
        0
    );
    // A wrong passphrase: the error must not echo either passphrase.
    let wrong = tmp.path().join("wrong.txt");
    std::fs::write(&wrong, "WRONG-pass-77\n").unwrap();
    assert_ne!(
        step(&[
            "keys",
            "import",
            kp.to_str().unwrap(),
            "--passphrase-file",
            wrong.to_str().unwrap(),
            "--no-copy"
        ]),
        0
    );
    needles.push(b"WRONG-pass-77".to_vec());
    step(&["audit", "list", "--json"]);

    assert_eq!(
        find_all(outputs.as_bytes(), &needles),
        None,
        "secret in command output"
    );
    let mut files = Vec::new();
    files_under(&out_dir, &mut files);
    for f in ["store.db", "store.db-wal", "store.db-journal"] {
        files.push(tmp.path().join(f));
    }
    for f in files {
        let bytes = std::fs::read(&f).unwrap_or_default();
        assert_eq!(
            find_all(&bytes, &needles),
            None,
            "secret in {}",
            f.display()
        );
    }
}
