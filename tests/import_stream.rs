//! Streaming import (issue 8): the same evidence imported whole and as a stream must leave
//! the same store, row for row: sets, files, blobs, components, dependencies, findings and
//! their scanner views. And a broken report that is streamed fails cleanly, with its
//! position, and leaves none of its findings behind.

use dossier::devgen::synthetic::{generate, SynthFormat, SynthOptions};
use dossier::ingest::limits::Limits;
use dossier::store::Store;
use dossier::workflow::{self, Actor, ImportOptions, ImportReport};
use std::path::{Path, PathBuf};

fn actor() -> Actor {
    Actor {
        name: "test".into(),
        role: None,
        key_fingerprint: None,
    }
}

/// Imports each of `steps` in turn into a fresh store; `stream` sets the threshold to 0
/// (every plain file over 0 bytes goes the large-file way) or leaves it far above the files.
fn import(db: &Path, steps: &[PathBuf], stream: bool) -> Vec<ImportReport> {
    let mut store = Store::open(db).unwrap();
    let opts = ImportOptions {
        limits: Limits {
            stream_above_bytes: if stream { 0 } else { u64::MAX },
            ..Limits::default()
        },
        ..ImportOptions::default()
    };
    steps
        .iter()
        .map(|p| {
            workflow::import_paths(
                &mut store,
                std::slice::from_ref(p),
                &opts,
                &actor(),
                &mut |_| {},
            )
            .unwrap()
        })
        .collect()
}

/// Every row of `table`, all columns but timestamps, in rowid (or key) order.
fn rows(db: &Path, table: &str) -> Vec<String> {
    let c = rusqlite::Connection::open(db).unwrap();
    // WITHOUT ROWID tables (dependency) are ordered by their key.
    let mut st = c
        .prepare(&format!("SELECT * FROM {table} ORDER BY rowid"))
        .or_else(|_| c.prepare(&format!("SELECT * FROM {table} ORDER BY 1, 2, 3")))
        .unwrap();
    let names: Vec<String> = st.column_names().iter().map(|s| s.to_string()).collect();
    st.query_map([], |r| {
        let mut out = Vec::new();
        for (i, name) in names.iter().enumerate() {
            // Blob bytes are compared decoded (`same_store`).
            if name.ends_with("_at") || (table == "blob" && name == "data") {
                continue;
            }
            let v: rusqlite::types::Value = r.get(i)?;
            out.push(format!("{name}={v:?}"));
        }
        Ok(out.join(" "))
    })
    .unwrap()
    .collect::<rusqlite::Result<_>>()
    .unwrap()
}

const TABLES: [&str; 7] = [
    "evidence_set",
    "evidence_file",
    "blob",
    "component",
    "dependency",
    "finding",
    "finding_source",
];

/// `s` without ", column N": serde_json's reader may count an error's column one byte
/// further on than the slice parser; message and line are the same.
fn drop_column(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find(", column ") {
        out.push_str(&rest[..i]);
        rest = rest[i + 9..].trim_start_matches(|c: char| c.is_ascii_digit());
    }
    out.push_str(rest);
    out
}

/// Row for row the same store. Blobs are compared by their decoded bytes (how deflate
/// cuts its output may depend on how the bytes were fed to it) and by every other column;
/// views by their stored text and by the view each finding's reader gives back.
fn same_store(a: &Path, b: &Path) {
    for t in TABLES {
        let x: Vec<String> = rows(a, t).iter().map(|r| drop_column(r)).collect();
        let y: Vec<String> = rows(b, t).iter().map(|r| drop_column(r)).collect();
        assert_eq!(x.len(), y.len(), "{t}: row counts differ");
        for (i, (p, q)) in x.iter().zip(&y).enumerate() {
            assert_eq!(p, q, "{t}: row {i} differs");
        }
    }
    let (sa, sb) = (Store::open(a).unwrap(), Store::open(b).unwrap());
    let shas: Vec<String> = column(a, "SELECT sha256 FROM blob ORDER BY rowid");
    assert_eq!(shas, column(b, "SELECT sha256 FROM blob ORDER BY rowid"));
    for sha in &shas {
        let bytes = sa.blob(sha).unwrap().unwrap();
        assert_eq!(dossier::ingest::discover::sha256_hex(&bytes), *sha);
        assert_eq!(sb.blob(sha).unwrap().unwrap(), bytes, "blob {sha}");
    }
    let ids: Vec<String> = column(a, "SELECT id FROM finding ORDER BY id");
    assert_eq!(ids, column(b, "SELECT id FROM finding ORDER BY id"));
    for id in &ids {
        let id: i64 = id.parse().unwrap();
        let views = sa.finding_sources(id).unwrap();
        assert!(!views.is_empty(), "finding {id} has no views");
        assert_eq!(
            sb.finding_sources(id).unwrap(),
            views,
            "views of finding {id}"
        );
    }
}

/// One column of a query, as text.
fn column(db: &Path, sql: &str) -> Vec<String> {
    let c = rusqlite::Connection::open(db).unwrap();
    let mut st = c.prepare(sql).unwrap();
    st.query_map([], |r| {
        let v: rusqlite::types::Value = r.get(0)?;
        Ok(match v {
            rusqlite::types::Value::Text(s) => s,
            rusqlite::types::Value::Integer(i) => i.to_string(),
            other => format!("{other:?}"),
        })
    })
    .unwrap()
    .collect::<rusqlite::Result<_>>()
    .unwrap()
}

fn strip_streamed(r: &[ImportReport]) -> Vec<ImportReport> {
    let mut r = r.to_vec();
    for s in r.iter_mut().flat_map(|r| &mut r.sets) {
        for f in &mut s.files {
            f.streamed = false;
        }
    }
    r
}

fn count(db: &Path, sql: &str) -> i64 {
    rusqlite::Connection::open(db)
        .unwrap()
        .query_row(sql, [], |r| r.get(0))
        .unwrap()
}

#[test]
fn a_streamed_import_writes_the_same_rows_as_a_whole_one() {
    let dir = tempfile::tempdir().unwrap();
    let ev = dir.path().join("ev");
    // Scan reports over 1 MiB: the parse reads them from the blob packer in several pieces.
    let opts = SynthOptions {
        seed: 7,
        components: 80,
        findings: 1500,
        formats: vec![
            SynthFormat::Trivy,
            SynthFormat::Grype,
            SynthFormat::CycloneDx,
        ],
    };
    let files = generate(&opts, &ev).unwrap();
    for (p, size) in &files {
        let scan = !p.to_string_lossy().contains("cdx");
        assert!(!scan || *size > 1 << 20, "{}: {size} bytes", p.display());
    }
    let (a, b) = (dir.path().join("whole.db"), dir.path().join("stream.db"));
    let whole = import(&a, std::slice::from_ref(&ev), false);
    let stream = import(&b, std::slice::from_ref(&ev), true);
    assert_eq!(strip_streamed(&whole), strip_streamed(&stream));
    // Every file went the streaming way: the scan reports and the CycloneDX JSON SBOM.
    let by_path = |r: &ImportReport, name: &str| {
        r.sets[0]
            .files
            .iter()
            .find(|f| f.path.ends_with(name))
            .unwrap()
            .streamed
    };
    for (p, _) in &files {
        let name = p.file_name().unwrap().to_str().unwrap();
        assert!(by_path(&stream[0], name), "{name}");
        assert!(!by_path(&whole[0], name), "{name}");
    }
    same_store(&a, &b);
    assert!(count(&b, "SELECT count(*) FROM finding") > 1200);
    // The same import through the binary with the spool, the keys and the sort all on
    // disk (no memory budget, runs of 97 items), as a report past ~1M findings would go.
    let c = dir.path().join("disk.db");
    assert_cmd::Command::cargo_bin("dossier")
        .unwrap()
        .env("DOSSIER_STREAM_ABOVE_BYTES", "0")
        .env("DOSSIER_SPOOL_MEMORY_MIB", "0")
        .env("DOSSIER_SPOOL_KEY_MEMORY_MIB", "0")
        .env("DOSSIER_KEY_SORT_CHUNK", "97")
        .args([
            "--store",
            c.to_str().unwrap(),
            "import",
            ev.to_str().unwrap(),
        ])
        .assert()
        .success();
    same_store(&a, &c);
    // The audit entry of each import counts what it wrote: the streamed import's findings
    // are counted by its key merge, which runs beside the write.
    for db in [&a, &b, &c] {
        let q = |what: &str| {
            count(
                db,
                &format!("SELECT json_extract(details, '$.{what}') FROM audit_log WHERE action = 'import'"),
            )
        };
        assert_eq!(q("findings"), count(db, "SELECT count(*) FROM finding"));
        assert_eq!(q("components"), count(db, "SELECT count(*) FROM component"));
    }
    // Grype's related CVEs merge with Trivy's ids: some findings carry both scanners.
    assert!(
        count(
            &b,
            "SELECT count(*) FROM finding WHERE scanners LIKE '%trivy%' AND scanners LIKE '%grype%'"
        ) > 0
    );
    // The raw bytes are kept exactly.
    let store = Store::open(&b).unwrap();
    for (p, _) in &files {
        let bytes = std::fs::read(p).unwrap();
        let sha = dossier::ingest::discover::sha256_hex(&bytes);
        assert_eq!(store.blob(&sha).unwrap().as_deref(), Some(&bytes[..]));
    }
}

#[test]
fn adding_a_streamed_report_to_a_set_merges_like_the_whole_path() {
    // The fixtures of tests/cli_import.rs: a Trivy and a Grype report of one image digest,
    // imported one after the other (the second re-merges the set with the first).
    let fx = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/scan");
    let dir = tempfile::tempdir().unwrap();
    let steps = [
        fx.join("trivy.json"),
        fx.join("grype.json"),
        fx.join("trivy.json"),
    ];
    let (a, b) = (dir.path().join("whole.db"), dir.path().join("stream.db"));
    let whole = import(&a, &steps, false);
    let stream = import(&b, &steps, true);
    assert_eq!(strip_streamed(&whole), strip_streamed(&stream));
    assert!(stream[0].sets[0].files[0].streamed);
    // Re-importing the same bytes is a duplicate and changes nothing.
    assert!(stream[2].sets[0].unchanged);
    same_store(&a, &b);
    // Merged by hand in tests/cli_import.rs: 4 findings over 4 components.
    assert_eq!(stream[1].sets[0].findings, 4);
    assert_eq!(stream[1].sets[0].components, 4);
}

#[test]
fn a_broken_streamed_report_fails_with_its_position_and_leaves_no_findings() {
    let dir = tempfile::tempdir().unwrap();
    let ev = dir.path().join("ev");
    let opts = SynthOptions {
        seed: 9,
        components: 20,
        findings: 200,
        formats: vec![SynthFormat::Trivy],
    };
    let (path, _) = generate(&opts, &ev).unwrap().remove(0);
    let good = std::fs::read(&path).unwrap();
    // Truncated in the middle of the findings, and a number where a finding should be.
    let mid = good.len() / 2;
    let key = b"\"VulnerabilityID\"";
    let k = mid
        + good[mid..]
            .windows(key.len())
            .position(|w| w == key)
            .unwrap();
    let at = good[..k].iter().rposition(|b| *b == b'{').unwrap();
    let mut wrong = good[..at].to_vec();
    wrong.extend_from_slice(b"42, ");
    wrong.extend_from_slice(&good[at..]);
    for (name, bytes) in [("cut.json", good[..mid].to_vec()), ("wrong.json", wrong)] {
        let d = dir.path().join(name.trim_end_matches(".json"));
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join(name), &bytes).unwrap();
        let (a, b) = (d.join("whole.db"), d.join("stream.db"));
        let whole = import(&a, &[d.join(name)], false);
        let stream = import(&b, &[d.join(name)], true);
        let f = &stream[0].sets[0].files[0];
        assert!(f.streamed);
        assert_eq!(f.status, "failed");
        assert!(f.path.ends_with(name));
        let m = f.message.as_deref().unwrap();
        assert!(m.starts_with("line ") && m.contains(", column "), "{m}");
        let no_column = |r: &[ImportReport]| {
            let mut r = strip_streamed(r);
            for f in r
                .iter_mut()
                .flat_map(|r| &mut r.sets)
                .flat_map(|s| &mut s.files)
            {
                f.message = f.message.as_deref().map(drop_column);
            }
            r
        };
        assert_eq!(no_column(&whole), no_column(&stream));
        assert_eq!(count(&b, "SELECT count(*) FROM finding"), 0);
        assert_eq!(count(&b, "SELECT count(*) FROM component"), 0);
        same_store(&a, &b);
    }
}

#[test]
fn reports_whose_first_bytes_name_no_format_stream_the_careful_way_with_the_same_rows() {
    // A 70 KB key before everything else: the first 64 KiB give nothing to guess from, so
    // the file is hashed, detected from all its keys and then streamed (three passes
    // instead of one); the rows must not depend on which way it went.
    let dir = tempfile::tempdir().unwrap();
    let ev = dir.path().join("ev");
    let opts = SynthOptions {
        seed: 13,
        components: 40,
        findings: 300,
        formats: vec![SynthFormat::Trivy, SynthFormat::Grype],
    };
    let files = generate(&opts, &ev).unwrap();
    let pad = format!("{{\"x-padding\":\"{}\",", "p".repeat(70_000));
    for (p, _) in &files {
        let text = std::fs::read_to_string(p).unwrap();
        let open = text.find('{').unwrap();
        std::fs::write(p, format!("{pad}{}", &text[open + 1..])).unwrap();
    }
    let (a, b) = (dir.path().join("whole.db"), dir.path().join("stream.db"));
    let whole = import(&a, std::slice::from_ref(&ev), false);
    let stream = import(&b, std::slice::from_ref(&ev), true);
    assert_eq!(strip_streamed(&whole), strip_streamed(&stream));
    assert!(stream[0].sets[0].files.iter().all(|f| f.streamed));
    assert!(stream[0].sets[0].files.iter().all(|f| f.status == "parsed"));
    same_store(&a, &b);
    assert!(count(&b, "SELECT count(*) FROM finding") > 250);
}
