//! Content-addressed raw evidence bytes, so a package can be re-exported after the image
//! and its pipeline are gone.

use super::{Result, Store};
use rusqlite::OptionalExtension;

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
    for (i, chunk) in bytes.chunks(CHUNK).enumerate() {
        blob.write_at(chunk, i * CHUNK)?;
    }
    blob.close()?;
    Ok(())
}

const CHUNK: usize = 1 << 20;
