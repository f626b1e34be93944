//! View chunks: texts read back exactly across chunk boundaries (empty, large, and too large
//! for a chunk), damaged chunks give errors, rows from before 015 and a store at schema 14
//! still read, and the whole-set fix cross-check reads chunked views.

use super::*;
use crate::store::{Store, MIGRATIONS};

fn set(s: &Store, id: i64) {
    s.conn()
        .execute(
            "INSERT INTO evidence_set(id, source, imported_at) VALUES (?1, 'x', 't')",
            [id],
        )
        .unwrap();
}

/// Writes `texts` through a `ChunkWriter` into set 1 and returns where each went.
fn write(s: &mut Store, texts: &[String]) -> Vec<Option<Place>> {
    set(s, 1);
    let tx = s.conn_mut().transaction().unwrap();
    let mut w = ChunkWriter::new(&tx, 1).unwrap();
    let places = texts.iter().map(|t| w.push(&tx, t).unwrap()).collect();
    w.finish(&tx).unwrap();
    tx.commit().unwrap();
    places
}

fn texts() -> Vec<String> {
    let mut v: Vec<String> = (0..3000)
        .map(|i| format!(r#"{{"scanner":"trivy","n":{i},"urls":["https://x.test/{i}"],"é":"ü"}}"#))
        .collect();
    v.insert(10, String::new());
    v.insert(500, "x".repeat(CHUNK_TARGET * 2 + 3));
    v.insert(1200, String::new());
    v
}

#[test]
fn texts_read_back_exactly_across_chunk_boundaries() {
    let mut s = Store::open_in_memory().unwrap();
    let t = texts();
    let total: usize = t.iter().map(String::len).sum();
    let places = write(&mut s, &t);
    let mut r = ChunkReader::default();
    for (text, p) in t.iter().zip(&places) {
        let (id, at, len) = p.expect("every text here fits a chunk");
        assert_eq!(len as usize, text.len());
        let back = r
            .text(s.conn(), None, (Some(id), Some(at), Some(len)))
            .unwrap();
        assert_eq!(&back, text);
    }
    // Read in reverse too (no reliance on the one-chunk cache going forward).
    let mut r = ChunkReader::default();
    for (text, p) in t.iter().zip(&places).rev() {
        let (id, at, len) = p.unwrap();
        assert_eq!(
            &r.text(s.conn(), None, (Some(id), Some(at), Some(len)))
                .unwrap(),
            text
        );
    }
    let (chunks, raw): (i64, i64) = s
        .conn()
        .query_row(
            "SELECT COUNT(*), SUM(raw_len) FROM view_chunk WHERE set_id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(raw as usize, total, "every byte stored once");
    // At least total / (target + the largest text) chunks, and more than one.
    assert!(
        chunks >= 2 && chunks as usize >= total / (CHUNK_TARGET * 3),
        "{chunks}"
    );
    let ids: std::collections::BTreeSet<i64> = places.iter().map(|p| p.unwrap().0).collect();
    assert_eq!(
        ids.len() as i64,
        chunks,
        "every chunk written is referenced"
    );
    // The big text sits alone at the end of its chunk, which is sealed after it.
    let big = places[500].unwrap();
    assert_eq!(places[501].unwrap().0, big.0 + 1);
    assert_eq!(places[501].unwrap().1, 0);
}

#[test]
fn a_second_import_takes_new_chunk_ids_and_inline_rows_read_as_they_are() {
    let mut s = Store::open_in_memory().unwrap();
    let first = write(&mut s, &["a".repeat(CHUNK_TARGET), "b".into()]);
    set(&s, 2);
    let tx = s.conn_mut().transaction().unwrap();
    let mut w = ChunkWriter::new(&tx, 2).unwrap();
    let p = w.push(&tx, "second").unwrap().unwrap();
    w.finish(&tx).unwrap();
    tx.commit().unwrap();
    assert_eq!(first[0].unwrap().0, 1);
    assert_eq!(first[1].unwrap().0, 2);
    assert_eq!(p, (3, 0, 6));
    let mut r = ChunkReader::default();
    assert_eq!(
        r.text(s.conn(), None, (Some(3), Some(0), Some(6))).unwrap(),
        "second"
    );
    // An inline view wins whatever the chunk columns say.
    assert_eq!(
        r.text(s.conn(), Some("{\"inline\":1}".into()), (None, None, None))
            .unwrap(),
        "{\"inline\":1}"
    );
    assert!(r.text(s.conn(), None, (None, None, None)).is_err());
}

#[test]
fn a_view_too_large_for_a_chunk_is_left_inline() {
    let mut s = Store::open_in_memory().unwrap();
    let huge = "y".repeat(MAX_VIEW_IN_CHUNK + 1);
    let places = write(&mut s, &["small".into(), huge, "after".into()]);
    assert!(places[0].is_some() && places[2].is_some());
    assert_eq!(places[1], None);
    assert_eq!(places[2].unwrap(), (places[0].unwrap().0, 5, 5));
}

fn err(s: &Store, id: i64) -> String {
    match load(s.conn(), id) {
        Err(e) => e.to_string(),
        Ok(v) => panic!("damaged chunk read as {} bytes", v.len()),
    }
}

#[test]
fn damaged_chunks_are_errors_not_panics_nor_unbounded() {
    let mut s = Store::open_in_memory().unwrap();
    let text = "z".repeat(CHUNK_TARGET / 2) + "end";
    let p = write(&mut s, std::slice::from_ref(&text))[0].unwrap();
    assert_eq!(load(s.conn(), p.0).unwrap(), text.as_bytes());
    let c = s.conn();
    let data: Vec<u8> = c
        .query_row("SELECT data FROM view_chunk WHERE id = ?1", [p.0], |r| {
            r.get(0)
        })
        .unwrap();
    let restore = || {
        c.execute(
            "UPDATE view_chunk SET data = ?2, raw_len = ?3 WHERE id = ?1",
            rusqlite::params![p.0, data, text.len() as i64],
        )
        .unwrap();
    };
    // Truncated compressed bytes.
    c.execute(
        "UPDATE view_chunk SET data = ?2 WHERE id = ?1",
        rusqlite::params![p.0, &data[..data.len() / 2]],
    )
    .unwrap();
    assert!(err(&s, p.0).contains(&format!("chunk {}", p.0)));
    restore();
    // Garbage instead of deflate.
    c.execute(
        "UPDATE view_chunk SET data = x'ffffffffffffffff' WHERE id = ?1",
        [p.0],
    )
    .unwrap();
    assert!(err(&s, p.0).contains("corrupt") || err(&s, p.0).contains("inflates"));
    restore();
    // A recorded length shorter than the text: stops one byte past it.
    c.execute("UPDATE view_chunk SET raw_len = 10 WHERE id = ?1", [p.0])
        .unwrap();
    assert!(err(&s, p.0).contains("more than 10"), "{}", err(&s, p.0));
    // Out of range lengths are refused before inflating.
    for bad in [-1, MAX_CHUNK_RAW as i64 + 1, i64::MAX] {
        c.execute(
            "UPDATE view_chunk SET raw_len = ?2 WHERE id = ?1",
            [p.0, bad],
        )
        .unwrap();
        assert!(err(&s, p.0).contains("out of range"), "{bad}");
    }
    restore();
    // Same length, other bytes: the sha256 catches it.
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::new(1));
    e.write_all(&text.as_bytes()[1..]).unwrap();
    e.write_all(b"!").unwrap();
    c.execute(
        "UPDATE view_chunk SET data = ?2 WHERE id = ?1",
        rusqlite::params![p.0, e.finish().unwrap()],
    )
    .unwrap();
    assert!(err(&s, p.0).contains("sha256"));
    restore();
    // A slice outside the chunk, and bytes that are not UTF-8.
    let mut r = ChunkReader::default();
    let n = text.len() as i64;
    for (at, len) in [(n, 1), (0, n + 1), (-1, 2), (1, -2), (i64::MAX, i64::MAX)] {
        assert!(
            r.text(c, None, (Some(p.0), Some(at), Some(len))).is_err(),
            "{at}+{len}"
        );
    }
    assert!(load(c, 999).unwrap_err().to_string().contains("missing"));
}

#[test]
fn a_store_at_schema_14_upgrades_and_its_inline_views_still_read() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("s.db");
    {
        let mut c = rusqlite::Connection::open(&p).unwrap();
        let tx = c.transaction().unwrap();
        for sql in &MIGRATIONS[..14] {
            tx.execute_batch(sql).unwrap();
        }
        tx.pragma_update(None, "user_version", 14).unwrap();
        tx.execute_batch(
            r#"INSERT INTO evidence_set(id, source, imported_at) VALUES (1, 'x', 't');
             INSERT INTO evidence_file(id, set_id, path, sha256, size, stored, status, imported_at)
                 VALUES (1, 1, 'trivy.json', 'aa', 1, 0, 'parsed', 't'), (2, 1, 'grype.json', 'bb', 1, 0, 'parsed', 't');
             INSERT INTO finding(id, set_id, vuln_id, component_key, severity, severity_rank, fix_state,
                 scanners, fix_disagrees)
                 VALUES (1, 1, 'CVE-1', 'k', 'HIGH', 4, 'fixed', '["trivy","grype"]', 1);
             INSERT INTO finding_text(finding_id, title, description) VALUES (1, 'T', 'D');
"#,
        )
        .unwrap();
        // Views as stores since migration 010 hold them: trivy's title and description are
        // the finding's and left out; grype's own are null and kept.
        let view = |scanner: &str, fixed: &str| crate::model::ScannerView {
            scanner: scanner.into(),
            fixed_versions: vec![fixed.into()],
            fix_state: "fixed".into(),
            ..Default::default()
        };
        let trivy = serde_json::to_string(&view("trivy", "1.1"))
            .unwrap()
            .replace(r#","title":null,"description":null"#, "");
        assert!(!trivy.contains("title"), "{trivy}");
        let grype = serde_json::to_string(&view("grype", "1.2")).unwrap();
        tx.execute(
            "INSERT INTO finding_source VALUES (1, 1, 'trivy', ?1), (1, 2, 'grype', ?2)",
            [trivy, grype],
        )
        .unwrap();
        tx.commit().unwrap();
    }
    let s = Store::open(&p).unwrap();
    s.integrity_check().unwrap();
    let v: i64 = s
        .conn()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, MIGRATIONS.len() as i64);
    let src = s.finding_sources(1).unwrap();
    assert_eq!(src.len(), 2);
    // Ordered by scanner: grype first.
    assert_eq!(src[0].scanner, "grype");
    assert_eq!(src[0].view.fixed_versions, vec!["1.2".to_string()]);
    assert_eq!(
        (
            src[0].view.title.as_deref(),
            src[0].view.description.as_deref()
        ),
        (None, None)
    );
    assert_eq!(src[1].view.title.as_deref(), Some("T"));
    assert_eq!(src[1].view.description.as_deref(), Some("D"));
    assert_eq!(src[1].view.fixed_versions, vec!["1.1".to_string()]);
    assert_eq!(
        s.fix_disagreements(1).unwrap(),
        vec![(
            "CVE-1".to_string(),
            "k".to_string(),
            r#"trivy=["1.1"]; grype=["1.2"]"#.to_string()
        )]
    );
    // A row must have exactly one of an inline view and a chunk.
    for bad in [
        "INSERT INTO finding_source(finding_id, file_id, scanner) VALUES (1, 1, 'x')",
        "INSERT OR REPLACE INTO finding_source(finding_id, file_id, scanner, view, chunk_id, chunk_at, chunk_len)
             VALUES (1, 1, 'x', '{}', 1, 0, 2)",
    ] {
        assert!(s.conn().execute(bad, []).is_err(), "{bad}");
    }
}
