//! An import that has the store to itself writes through a rollback journal and puts WAL
//! mode back (store::journal). Driven through the real binary: other dossier processes
//! started while that import runs still read the store (they may wait, never fail), the
//! import lands whole, and the store ends in WAL mode with no journal file left.

use assert_cmd::cargo::cargo_bin;
use dossier::devgen::synthetic::{generate, SynthFormat, SynthOptions};
use std::path::Path;
use std::process::{Command, Stdio};

fn dossier(store: &Path) -> Command {
    let mut c = Command::new(cargo_bin("dossier"));
    c.arg("--store").arg(store);
    c.env_remove("DOSSIER_IMPORT_JOURNAL");
    c
}

fn journal_mode(store: &Path) -> String {
    let c = rusqlite::Connection::open(store).unwrap();
    let _: i64 = c.query_row("PRAGMA page_count", [], |r| r.get(0)).unwrap();
    c.query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn readers_started_during_a_lone_import_read_and_the_store_ends_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.db");
    let gen = |seed: u64, out: &str| {
        let opts = SynthOptions {
            seed,
            components: 300,
            findings: 6000,
            formats: vec![SynthFormat::Trivy],
        };
        generate(&opts, &dir.path().join(out)).unwrap().remove(0).0
    };
    let (first, second) = (gen(1, "a"), gen(2, "b"));
    // A store with one set, so that the readers below have something to list.
    let out = dossier(&store).arg("import").arg(&first).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(journal_mode(&store), "wal");

    let mut import = dossier(&store)
        .arg("import")
        .arg(&second)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Byte 18 of the file header is 2 in WAL mode and 1 with a rollback journal: wait for
    // the import to switch, so that the readers below start while it holds the store so.
    let mut switched = false;
    while !switched && import.try_wait().unwrap().is_none() {
        let head = std::fs::read(&store).unwrap_or_default();
        switched = head.get(18) == Some(&1);
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    assert!(switched, "the import never went to a rollback journal");
    let mut reads = 0;
    let status = loop {
        // Every read succeeds, whatever the import is doing at that moment.
        let out = dossier(&store).arg("list").output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "read {reads} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        let sets = text.lines().filter(|l| l.contains("sha256:")).count();
        assert!(
            sets == 1 || sets == 2,
            "a reader sees the set before or after the import, never half of it:\n{text}"
        );
        reads += 1;
        if let Some(s) = import.try_wait().unwrap() {
            break s;
        }
    };
    let out = import.wait_with_output().unwrap();
    assert!(status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(reads >= 1);
    assert_eq!(journal_mode(&store), "wal");
    assert_eq!(std::fs::read(&store).unwrap()[18], 2);
    assert!(!dir.path().join("s.db-journal").exists());
    let c = rusqlite::Connection::open(&store).unwrap();
    let (sets, findings): (i64, i64) = c
        .query_row(
            "SELECT (SELECT count(*) FROM evidence_set), (SELECT count(*) FROM finding)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(sets, 2);
    assert!(findings > 6000, "{findings}");
    let integrity: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
}
