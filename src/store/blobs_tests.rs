use super::*;

fn sha(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

/// Deterministic bytes that deflate cannot shrink (xorshift64).
fn noise(n: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// JSON-like text: what evidence mostly is, and compressible.
fn report(n: usize) -> Vec<u8> {
    let mut s = String::new();
    let mut i = 0u64;
    while s.len() < n {
        s.push_str(&format!(
            "{{\"VulnerabilityID\":\"CVE-2024-{i}\",\"PkgName\":\"lib{}\",\"Severity\":\"HIGH\"}},\n",
            i % 97
        ));
        i += 1;
    }
    s.truncate(n);
    s.into_bytes()
}

fn encoding_of(s: &Store, sha: &str) -> (String, i64, i64) {
    s.conn()
        .query_row(
            "SELECT encoding, size, length(data) FROM blob WHERE sha256 = ?1",
            [sha],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap()
}

#[test]
fn empty_small_large_and_incompressible_bytes_round_trip() {
    let mut s = Store::open_in_memory().unwrap();
    let cases: Vec<Vec<u8>> = vec![
        Vec::new(),
        b"{}".to_vec(),
        report(CHUNK * 5 / 2 + 3),
        noise(CHUNK + 5),
    ];
    let tx = s.conn_mut().transaction().unwrap();
    for c in &cases {
        put(&tx, &sha(c), c).unwrap();
    }
    // A second put under a known digest changes nothing.
    put(
        &tx,
        &sha(&cases[2]),
        b"other bytes under the same name are ignored",
    )
    .unwrap();
    tx.commit().unwrap();
    for c in &cases {
        assert_eq!(s.blob(&sha(c)).unwrap().as_deref(), Some(&c[..]));
    }
    assert_eq!(s.blob(&"0".repeat(64)).unwrap(), None);
    // The report is stored deflated and smaller; the recorded size is the original's.
    let (enc, size, stored) = encoding_of(&s, &sha(&cases[2]));
    assert_eq!(enc, "deflate");
    assert_eq!(size, cases[2].len() as i64);
    assert!(stored * 4 < size, "{stored} of {size}");
    // Noise would only grow: kept as it is.
    let (enc, size, stored) = encoding_of(&s, &sha(&cases[3]));
    assert_eq!(
        (enc.as_str(), size, stored),
        ("identity", cases[3].len() as i64, size)
    );
    // Nothing to shrink in no bytes either.
    assert_eq!(encoding_of(&s, &sha(b"")).0, "identity");
}

#[test]
fn a_row_written_before_migration_013_still_reads() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("s.db");
    let bytes = report(5000);
    {
        let c = rusqlite::Connection::open(&p).unwrap();
        for sql in &crate::store::MIGRATIONS[..11] {
            c.execute_batch(sql).unwrap();
        }
        c.execute(
            "INSERT INTO blob(sha256, size, data) VALUES (?1, ?2, ?3)",
            rusqlite::params![sha(&bytes), bytes.len() as i64, bytes],
        )
        .unwrap();
        c.execute_batch("PRAGMA user_version = 11").unwrap();
    }
    let s = Store::open(&p).unwrap();
    assert_eq!(encoding_of(&s, &sha(&bytes)).0, "identity");
    assert_eq!(s.blob(&sha(&bytes)).unwrap(), Some(bytes));
    s.integrity_check().unwrap();
    // `data` stays the last column: SQLite keeps a zeroblob unexpanded only there.
    let cols: Vec<String> = s
        .conn()
        .prepare("SELECT name FROM pragma_table_info('blob') ORDER BY cid")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(cols, ["sha256", "size", "encoding", "data"]);
}

/// Overwrites the stored `data` of `sha` and reads it back through `Store::blob`.
fn tampered(encoding: &str, size: i64, data: &[u8], sha: &str) -> StoreError {
    let s = Store::open_in_memory().unwrap();
    s.conn()
        .execute(
            "INSERT INTO blob(sha256, size, data, encoding) VALUES (?1, ?2, ?3, ?4)",
            rusqlite::params![sha, size, data, encoding],
        )
        .unwrap();
    s.blob(sha).unwrap_err()
}

#[test]
fn corrupt_compressed_bytes_are_an_error_and_never_inflate_past_the_recorded_size() {
    let bytes = report(200_000);
    let packed = deflate(&bytes).unwrap();
    let id = sha(&bytes);
    // Garbage where the deflate stream should be.
    let e = tampered("deflate", bytes.len() as i64, &noise(4096), &id);
    assert!(
        e.to_string().contains("compressed bytes are corrupt"),
        "{e}"
    );
    assert!(e.to_string().contains(&id), "{e}");
    // A cut stream.
    let e = tampered(
        "deflate",
        bytes.len() as i64,
        &packed[..packed.len() / 2],
        &id,
    );
    assert!(
        e.to_string().contains("compressed bytes are corrupt"),
        "{e}"
    );
    // A recorded size smaller than what the stream holds: stops one byte past it.
    let e = tampered("deflate", 1000, &packed, &id);
    assert!(
        e.to_string().contains("more than the 1000 bytes recorded"),
        "{e}"
    );
    // A "bomb": 64 MiB of zeros in ~64 KB, recorded as 10 bytes.
    let bomb = deflate(&vec![0u8; 64 << 20]).unwrap();
    assert!(bomb.len() < 1 << 20);
    let e = tampered("deflate", 10, &bomb, &id);
    assert!(
        e.to_string().contains("more than the 10 bytes recorded"),
        "{e}"
    );
    let d = inflate(&bomb[..], 10).unwrap_err();
    assert!(d.to_string().contains("more than"), "{d}");
    // An encoding this dossier does not know (the column's CHECK keeps them out; a raw
    // edit of the file could still put one in).
    let s = Store::open_in_memory().unwrap();
    s.conn()
        .execute_batch("PRAGMA ignore_check_constraints = ON")
        .unwrap();
    s.conn()
        .execute(
            "INSERT INTO blob(sha256, size, data, encoding) VALUES (?1, 2, x'7b7d', 'zstd')",
            [&id],
        )
        .unwrap();
    let e = s.blob(&id).unwrap_err();
    assert!(e.to_string().contains("unknown encoding 'zstd'"), "{e}");
}

#[test]
fn bytes_that_do_not_match_their_sha256_are_refused_on_read() {
    let bytes = report(10_000);
    let other = report(10_001);
    let e = tampered("identity", other.len() as i64, &other, &sha(&bytes));
    assert!(e.to_string().contains("do not match their sha256"), "{e}");
    let e = tampered(
        "deflate",
        other.len() as i64,
        &deflate(&other).unwrap(),
        &sha(&bytes),
    );
    assert!(e.to_string().contains("do not match their sha256"), "{e}");
    // Identity rows whose length disagrees with the recorded size.
    let e = tampered("identity", 5, &bytes, &sha(&bytes));
    assert!(e.to_string().contains("recorded"), "{e}");
}

#[test]
fn a_packed_file_is_stored_deflated_and_reads_back_and_a_changed_file_fails() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("f.json");
    // 3 pieces and a bit of compressible text, then noise, so the stream is > 1 piece.
    let mut bytes = report(CHUNK * 3 + 17);
    bytes.extend(noise(CHUNK * 2));
    std::fs::write(&p, &bytes).unwrap();
    let packed = pack_file(&p, &mut ()).unwrap();
    assert_eq!(packed.sha256, sha(&bytes));
    assert_eq!(packed.size, bytes.len() as u64);
    assert!(packed.len > CHUNK as u64 && packed.len < bytes.len() as u64);
    let mut s = Store::open_in_memory().unwrap();
    let tx = s.conn_mut().transaction().unwrap();
    put_packed(&tx, &sha(&bytes), "f.json", &packed).unwrap();
    // Recorded under another digest (the file changed after it was parsed): an error that
    // names the file (the import rolls back).
    let err = put_packed(&tx, &"0".repeat(64), "f.json", &packed).unwrap_err();
    assert!(
        err.to_string()
            .contains("f.json: the file changed while it was imported"),
        "{err}"
    );
    tx.commit().unwrap();
    assert_eq!(s.blob(&sha(&bytes)).unwrap().as_deref(), Some(&bytes[..]));
    assert_eq!(encoding_of(&s, &sha(&bytes)).0, "deflate");
    // An empty file packs to a (tiny) stream and reads back as no bytes.
    std::fs::write(&p, b"").unwrap();
    let empty = pack_file(&p, &mut ()).unwrap();
    let tx = s.conn_mut().transaction().unwrap();
    put_packed(&tx, &sha(b""), "e.json", &empty).unwrap();
    tx.commit().unwrap();
    assert_eq!(s.blob(&sha(b"")).unwrap(), Some(Vec::new()));
    // A missing file names its path.
    let e = pack_file(&dir.path().join("gone.json"), &mut ()).unwrap_err();
    assert!(e.to_string().contains("gone.json"), "{e}");
    assert_eq!(
        last_first((CHUNK * 2 + 1) as u64).collect::<Vec<_>>(),
        vec![(CHUNK * 2) as u64, CHUNK as u64, 0]
    );
    assert_eq!(last_first(0).count(), 0);
}

#[test]
fn finding_source_is_a_rowid_table_keyed_by_finding_and_file() {
    let s = Store::open_in_memory().unwrap();
    let sql: String = s
        .conn()
        .query_row(
            "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'finding_source'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(!sql.to_ascii_uppercase().contains("WITHOUT ROWID"), "{sql}");
    assert!(sql.contains("PRIMARY KEY (finding_id, file_id)"), "{sql}");
}

#[test]
fn migration_009_keeps_the_sources_of_an_existing_store() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("s.db");
    {
        let c = rusqlite::Connection::open(&p).unwrap();
        for sql in &crate::store::MIGRATIONS[..6] {
            c.execute_batch(sql).unwrap();
        }
        c.execute_batch(
            "INSERT INTO evidence_set(id, source, imported_at) VALUES (1, 'x', 't');
             INSERT INTO evidence_file(id, set_id, path, sha256, size, stored, status, imported_at)
                 VALUES (1, 1, 'a.json', 'aa', 1, 0, 'parsed', 't'), (2, 1, 'b.json', 'bb', 1, 0, 'parsed', 't');
             INSERT INTO finding(id, set_id, vuln_id, component_key, severity, severity_rank, fix_state)
                 VALUES (1, 1, 'CVE-1', 'k', 'high', 4, 'fixed');
             INSERT INTO finding_source VALUES (1, 1, 'trivy', '{\"a\":1}'), (1, 2, 'grype', '{\"b\":2}');
             PRAGMA user_version = 6;",
        )
        .unwrap();
    }
    let s = Store::open(&p).unwrap();
    let rows: Vec<(i64, i64, String, String)> = s
        .conn()
        .prepare("SELECT finding_id, file_id, scanner, view FROM finding_source ORDER BY file_id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(
        rows,
        vec![
            (1, 1, "trivy".to_string(), r#"{"a":1}"#.to_string()),
            (1, 2, "grype".to_string(), r#"{"b":2}"#.to_string()),
        ]
    );
    // The key still holds: a second row for (finding, file) replaces the first.
    s.conn()
        .execute(
            "INSERT OR REPLACE INTO finding_source(finding_id, file_id, scanner, view) VALUES (1, 1, 'trivy', '{}')",
            [],
        )
        .unwrap();
    let n: i64 = s
        .conn()
        .query_row("SELECT count(*) FROM finding_source", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 2);
    s.integrity_check().unwrap();
}

#[derive(Default)]
struct Recorded {
    bytes: Vec<u8>,
    pieces: usize,
    ends: Vec<(String, u64)>,
}

impl ReadTap for Recorded {
    fn piece(&mut self, bytes: &[u8]) {
        assert!(self.ends.is_empty(), "a piece after the end");
        self.bytes.extend_from_slice(bytes);
        self.pieces += 1;
    }
    fn end(&mut self, sha256: String, size: u64) {
        self.ends.push((sha256, size));
    }
}

#[test]
fn the_tap_sees_every_byte_packed_in_order_then_their_digest_once() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("f.json");
    let mut bytes = report(CHUNK * 2 + 5);
    bytes.extend(noise(CHUNK));
    std::fs::write(&p, &bytes).unwrap();
    let mut tap = Recorded::default();
    let packed = pack_file(&p, &mut tap).unwrap();
    assert_eq!(tap.bytes, bytes);
    assert!(tap.pieces >= 4, "{} pieces", tap.pieces);
    assert_eq!(tap.ends, vec![(sha(&bytes), bytes.len() as u64)]);
    assert_eq!((packed.sha256, packed.size), tap.ends[0].clone());
    // A file that cannot be read ends the tap without a digest.
    let mut gone = Recorded::default();
    assert!(pack_file(&dir.path().join("gone.json"), &mut gone).is_err());
    assert!(gone.ends.is_empty() && gone.pieces == 0);
}
