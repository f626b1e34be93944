//! Content-addressed raw evidence bytes, so a package can be re-exported after the image
//! and its pipeline are gone.

use super::{Result, Store};
use rusqlite::OptionalExtension;

impl Store {
    pub fn blob(&self, sha256: &str) -> Result<Option<Vec<u8>>> {
        Ok(self
            .conn()
            .query_row("SELECT data FROM blob WHERE sha256 = ?1", [sha256], |r| {
                r.get(0)
            })
            .optional()?)
    }
}

pub(super) fn put(tx: &rusqlite::Transaction<'_>, sha256: &str, bytes: &[u8]) -> Result<()> {
    tx.execute(
        "INSERT INTO blob(sha256, size, data) VALUES (?1, ?2, ?3) ON CONFLICT(sha256) DO NOTHING",
        rusqlite::params![sha256, bytes.len() as i64, bytes],
    )?;
    Ok(())
}
