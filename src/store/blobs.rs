//! Content-addressed raw evidence bytes, so a package can be re-exported after the image
//! and its pipeline are gone.

use super::{Result, Store, StoreError};
use rusqlite::OptionalExtension;
use std::path::Path;

impl Store {
    /// The raw bytes of a stored file, read through incremental blob I/O into one buffer
    /// (a plain SELECT would hold the value twice: SQLite's copy and ours).
    pub fn blob(&self, sha256: &str) -> Result<Option<Vec<u8>>> {
        let row: Option<(i64, i64)> = self
            .conn()
            .query_row(
                "SELECT rowid, length(data) FROM blob WHERE sha256 = ?1",
                [sha256],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((rowid, len)) = row else {
            return Ok(None);
        };
        let mut out = vec![0u8; usize::try_from(len).unwrap_or(0)];
        if !out.is_empty() {
            let b = self
                .conn()
                .blob_open(rusqlite::MAIN_DB, "blob", "data", rowid, true)?;
            b.read_at_exact(&mut out, 0)?;
        }
        Ok(Some(out))
    }
}

/// Stores `bytes` under `sha256` unless already there. The row is created with a
/// zero-filled blob and then written through incremental blob I/O in 1 MiB pieces: binding
/// a 100 MB value instead makes SQLite copy it twice (bind, then the record), which was the
/// largest allocation of an import.
pub(super) fn put(tx: &rusqlite::Transaction<'_>, sha256: &str, bytes: &[u8]) -> Result<()> {
    let inserted = tx.execute(
        "INSERT INTO blob(sha256, size, data) VALUES (?1, ?2, zeroblob(?2)) ON CONFLICT(sha256) DO NOTHING",
        rusqlite::params![sha256, bytes.len() as i64],
    )?;
    if inserted == 0 || bytes.is_empty() {
        return Ok(());
    }
    let rowid = tx.last_insert_rowid();
    let mut blob = tx.blob_open(rusqlite::MAIN_DB, "blob", "data", rowid, false)?;
    for at in last_first(bytes.len() as u64) {
        let at = usize::try_from(at).unwrap_or(usize::MAX);
        blob.write_at(&bytes[at..(at + CHUNK).min(bytes.len())], at)?;
    }
    blob.close()?;
    Ok(())
}

const CHUNK: usize = 1 << 20;

/// Offsets of the 1 MiB pieces of a blob of `size` bytes, the last piece first. The row
/// was just written with zeros, and when the blob is larger than the page cache SQLite has
/// already spilled its first pages to the WAL, in the order they were dirtied: writing
/// from the end finds the most recent pages still in the cache and spills each piece once,
/// with its bytes. Front to back, every zero page would be spilled, read back and written
/// again (twice the blob through the WAL).
fn last_first(size: u64) -> impl Iterator<Item = u64> {
    let n = size.div_ceil(CHUNK as u64);
    (0..n).rev().map(|i| i * CHUNK as u64)
}

/// `put` from a file on disk, read in 1 MiB pieces, so a large report is never in memory.
/// The bytes must still hash to `sha256` (the import hashed the file earlier): a file that
/// changed in between fails the write, and the transaction with it.
pub(super) fn put_file(tx: &rusqlite::Transaction<'_>, sha256: &str, path: &Path) -> Result<()> {
    use sha2::{Digest, Sha256};
    use std::io::{Read, Seek, SeekFrom};
    use std::os::unix::fs::FileExt;
    let io = |e: std::io::Error| StoreError::Invalid(format!("{}: {e}", path.display()));
    let mut file = std::fs::File::open(path).map_err(io)?;
    let size = file.metadata().map_err(io)?.len();
    let inserted = tx.execute(
        "INSERT INTO blob(sha256, size, data) VALUES (?1, ?2, zeroblob(?2)) ON CONFLICT(sha256) DO NOTHING",
        rusqlite::params![sha256, size as i64],
    )?;
    if inserted == 0 || size == 0 {
        return Ok(());
    }
    let rowid = tx.last_insert_rowid();
    let mut blob = tx.blob_open(rusqlite::MAIN_DB, "blob", "data", rowid, false)?;
    let mut buf = vec![0u8; CHUNK];
    // The pieces go in last first (see `last_first`), so the digest is taken front to back
    // in a pass of its own after the copy: a file changed during the copy (and not changed
    // back before this pass) fails.
    for at in last_first(size) {
        let piece = &mut buf[..usize::try_from((size - at).min(CHUNK as u64)).unwrap_or(CHUNK)];
        file.read_exact_at(piece, at).map_err(io)?;
        blob.write_at(piece, usize::try_from(at).unwrap_or(usize::MAX))?;
    }
    let mut h = Sha256::new();
    let mut pos: u64 = 0;
    file.seek(SeekFrom::Start(0)).map_err(io)?;
    loop {
        let n = file.read(&mut buf).map_err(io)?;
        if n == 0 || pos + n as u64 > size {
            pos += n as u64;
            break;
        }
        h.update(&buf[..n]);
        pos += n as u64;
    }
    if pos != size || hex::encode(h.finalize()) != sha256 {
        return Err(StoreError::Invalid(format!(
            "{}: the file changed while it was imported (it no longer has sha256 {sha256}); nothing was written",
            path.display()
        )));
    }
    blob.close()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_multi_chunk_blob_round_trips_and_a_second_put_is_a_no_op() {
        let mut s = Store::open_in_memory().unwrap();
        // 2.5 pieces, with a byte pattern that differs in every piece.
        let bytes: Vec<u8> = (0..(CHUNK * 5 / 2)).map(|i| (i % 251) as u8).collect();
        let tx = s.conn_mut().transaction().unwrap();
        put(&tx, "aa", &bytes).unwrap();
        put(&tx, "aa", b"other bytes under the same name are ignored").unwrap();
        put(&tx, "empty", b"").unwrap();
        tx.commit().unwrap();
        assert_eq!(s.blob("aa").unwrap().as_deref(), Some(&bytes[..]));
        assert_eq!(s.blob("empty").unwrap(), Some(Vec::new()));
        assert_eq!(s.blob("missing").unwrap(), None);
        let size: i64 = s
            .conn()
            .query_row("SELECT size FROM blob WHERE sha256 = 'aa'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(size, (CHUNK * 5 / 2) as i64);
    }

    #[test]
    fn a_file_is_copied_last_piece_first_to_the_same_bytes_and_a_changed_file_fails() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.json");
        // 3 pieces and a bit, every piece different.
        let bytes: Vec<u8> = (0..(CHUNK * 3 + 17)).map(|i| (i % 241) as u8).collect();
        std::fs::write(&p, &bytes).unwrap();
        let sha = crate::ingest::discover::sha256_hex(&bytes);
        let mut s = Store::open_in_memory().unwrap();
        let tx = s.conn_mut().transaction().unwrap();
        put_file(&tx, &sha, &p).unwrap();
        // Under another digest the bytes no longer match: an error (the import rolls back).
        let err = put_file(&tx, &"0".repeat(64), &p).unwrap_err();
        assert!(
            err.to_string().contains("changed while it was imported"),
            "{err}"
        );
        tx.commit().unwrap();
        assert_eq!(s.blob(&sha).unwrap().as_deref(), Some(&bytes[..]));
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
            .prepare(
                "SELECT finding_id, file_id, scanner, view FROM finding_source ORDER BY file_id",
            )
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
                "INSERT OR REPLACE INTO finding_source VALUES (1, 1, 'trivy', '{}')",
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
}
