//! Content-addressed raw evidence bytes, so a package can be re-exported after the image
//! and its pipeline are gone. Stored deflate-compressed (migration 013; older rows stay
//! `identity`), always given back as the exact original bytes, checked against their sha256.

use super::{Result, Store, StoreError};
use rusqlite::OptionalExtension;
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;

/// `blob.encoding` of rows written before migration 013, and of bytes deflate cannot shrink.
const IDENTITY: &str = "identity";
/// Raw deflate (RFC 1951) of the original bytes.
const DEFLATE: &str = "deflate";

/// Level 1: the report JSON shrinks ~4x at ~300 MB/s (zlib-rs backend), fast enough to run
/// beside the parse on the second core; higher levels gain ~25% of size at half the speed.
fn level() -> flate2::Compression {
    flate2::Compression::new(1)
}

impl Store {
    /// The raw bytes of a stored file, exactly as imported. Compressed rows are inflated
    /// straight from incremental blob I/O (SQLite never holds a copy), never past the
    /// recorded size; every row is checked against its sha256 before it is handed out.
    pub fn blob(&self, sha256: &str) -> Result<Option<Vec<u8>>> {
        let row: Option<(i64, i64, i64, String)> = self
            .conn()
            .query_row(
                "SELECT rowid, size, length(data), encoding FROM blob WHERE sha256 = ?1",
                [sha256],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        let Some((rowid, size, stored, encoding)) = row else {
            return Ok(None);
        };
        let bad = |why: String| StoreError::Invalid(format!("stored evidence {sha256}: {why}"));
        let size = u64::try_from(size).map_err(|_| bad(format!("negative size {size}")))?;
        let out = match encoding.as_str() {
            IDENTITY => {
                let mut out = vec![0u8; usize::try_from(stored).unwrap_or(0)];
                if !out.is_empty() {
                    let b =
                        self.conn()
                            .blob_open(rusqlite::MAIN_DB, "blob", "data", rowid, true)?;
                    b.read_at_exact(&mut out, 0)?;
                }
                out
            }
            DEFLATE => {
                let b = self
                    .conn()
                    .blob_open(rusqlite::MAIN_DB, "blob", "data", rowid, true)?;
                inflate(b, size).map_err(|e| bad(format!("compressed bytes are corrupt: {e}")))?
            }
            other => return Err(bad(format!("unknown encoding '{other}'"))),
        };
        if out.len() as u64 != size {
            return Err(bad(format!("{} bytes stored, {size} recorded", out.len())));
        }
        if hex::encode(Sha256::digest(&out)) != sha256.to_ascii_lowercase() {
            return Err(bad(
                "the stored bytes do not match their sha256 (the store was altered or damaged)"
                    .into(),
            ));
        }
        Ok(Some(out))
    }
}

/// Inflates `r` to exactly `size` bytes: more output than that is an error, found after
/// at most one byte past `size`, so a damaged or hostile row cannot expand without limit.
fn inflate(r: impl Read, size: u64) -> std::io::Result<Vec<u8>> {
    // The capacity is a hint only: `size` comes from the row, so it is not trusted for one
    // allocation; the vector grows as real bytes arrive.
    let cap = usize::try_from(size.min(64 << 20)).unwrap_or(0);
    let mut out = Vec::with_capacity(cap);
    let mut d = flate2::read::DeflateDecoder::new(r).take(size.saturating_add(1));
    d.read_to_end(&mut out)?;
    if out.len() as u64 > size {
        return Err(std::io::Error::other(format!(
            "they inflate to more than the {size} bytes recorded"
        )));
    }
    if (out.len() as u64) < size {
        return Err(std::io::Error::other(format!(
            "they inflate to {} bytes, {size} recorded",
            out.len()
        )));
    }
    Ok(out)
}

/// `bytes` deflated, or `None` when that would not make them smaller.
fn deflate(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut e = flate2::write::DeflateEncoder::new(Vec::with_capacity(bytes.len() / 4), level());
    e.write_all(bytes).ok()?;
    let out = e.finish().ok()?;
    (out.len() < bytes.len()).then_some(out)
}

/// Inserts the row for `sha256` unless there is one, with a zero-filled `data` of `len`
/// bytes to be written through incremental blob I/O; the new rowid, or `None` if the row
/// was there already.
fn insert_row(
    tx: &rusqlite::Transaction<'_>,
    sha256: &str,
    size: u64,
    encoding: &str,
    len: u64,
) -> Result<Option<i64>> {
    let inserted = tx.execute(
        "INSERT INTO blob(sha256, size, data, encoding) VALUES (?1, ?2, zeroblob(?3), ?4)
         ON CONFLICT(sha256) DO NOTHING",
        rusqlite::params![sha256, size as i64, len as i64, encoding],
    )?;
    Ok((inserted > 0).then(|| tx.last_insert_rowid()))
}

/// Stores `bytes` under `sha256` unless already there, deflated when that shrinks them.
/// The row is created with a zero-filled blob and then written through incremental blob
/// I/O in 1 MiB pieces: binding a large value instead makes SQLite copy it twice (bind,
/// then the record).
pub(super) fn put(tx: &rusqlite::Transaction<'_>, sha256: &str, bytes: &[u8]) -> Result<()> {
    let packed = deflate(bytes);
    let (encoding, data) = match &packed {
        Some(p) => (DEFLATE, &p[..]),
        None => (IDENTITY, bytes),
    };
    let Some(rowid) = insert_row(tx, sha256, bytes.len() as u64, encoding, data.len() as u64)?
    else {
        return Ok(());
    };
    if data.is_empty() {
        return Ok(());
    }
    let mut blob = tx.blob_open(rusqlite::MAIN_DB, "blob", "data", rowid, false)?;
    for at in last_first(data.len() as u64) {
        let at = usize::try_from(at).unwrap_or(usize::MAX);
        blob.write_at(&data[at..(at + CHUNK).min(data.len())], at)?;
    }
    blob.close()?;
    Ok(())
}

const CHUNK: usize = 1 << 20;

/// Offsets of the 1 MiB pieces of a blob of `size` bytes, the last piece first. The row
/// was just written with zeros, and when the blob is larger than the page cache SQLite has
/// already spilled its first pages (to the WAL, or the file in rollback mode), in the order they were dirtied: writing
/// from the end finds the most recent pages still in the cache and spills each piece once,
/// with its bytes. Front to back, every zero page would be spilled, read back and written
/// again (the blob written twice).
fn last_first(size: u64) -> impl Iterator<Item = u64> {
    let n = size.div_ceil(CHUNK as u64);
    (0..n).rev().map(|i| i * CHUNK as u64)
}

/// A file's bytes deflated into unlinked scratch space, with the sha256 and size of the
/// bytes that were read: made by `pack_file` on a helper thread while the import parses
/// the same file, so compressing costs the import no wall time.
#[derive(Debug)]
pub struct PackedBlob {
    /// sha256 (hex) of the raw bytes that were compressed.
    pub sha256: String,
    /// Their length.
    pub size: u64,
    file: std::fs::File,
    len: u64,
}

/// Sees every piece `pack_file` reads, in order, then the digest of them all: how the
/// import's parse reads the same bytes without reading or hashing the file again.
pub trait ReadTap {
    fn piece(&mut self, bytes: &[u8]);
    fn end(&mut self, sha256: String, size: u64);
}

impl ReadTap for () {
    fn piece(&mut self, _: &[u8]) {}
    fn end(&mut self, _: String, _: u64) {}
}

/// Reads `path` once, hashing and deflating it into an unlinked scratch file in the temp
/// directory (in 1 MiB pieces: memory stays flat whatever the size). Errors name the path.
/// Each piece goes to `tap` once it is hashed (before it is deflated, so the tap is not held
/// up by the compression), and the digest as soon as the last piece is read; a read error
/// ends the tap without a digest. `&mut ()` for no tap.
pub fn pack_file(path: &Path, tap: &mut dyn ReadTap) -> std::io::Result<PackedBlob> {
    let named =
        |e: std::io::Error| std::io::Error::new(e.kind(), format!("{}: {e}", path.display()));
    let mut src = std::fs::File::open(path).map_err(named)?;
    let scratch = scratch_file().map_err(|e| {
        std::io::Error::new(
            e.kind(),
            format!("scratch file for {}: {e}", path.display()),
        )
    })?;
    let mut h = Sha256::new();
    let mut size: u64 = 0;
    let out = std::io::BufWriter::with_capacity(CHUNK / 4, scratch);
    let mut enc = flate2::write::DeflateEncoder::new(out, level());
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = match src.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(named(e)),
        };
        h.update(&buf[..n]);
        tap.piece(&buf[..n]);
        enc.write_all(&buf[..n])?;
        size += n as u64;
    }
    let sha256 = hex::encode(h.finalize());
    tap.end(sha256.clone(), size);
    let file = enc.finish()?.into_inner().map_err(|e| e.into_error())?;
    let len = file.metadata()?.len();
    Ok(PackedBlob {
        sha256,
        size,
        file,
        len,
    })
}

/// Unlinked at once (`tempfile`): the space comes back when the import ends, however it ends.
fn scratch_file() -> std::io::Result<std::fs::File> {
    tempfile::tempfile()
}

/// Stores a packed file under `sha256` (the digest the import parsed and recorded) unless
/// already there. The bytes the helper read must hash to it: a file that changed between
/// the parse and the compression fails the write, and the transaction with it.
pub(super) fn put_packed(
    tx: &rusqlite::Transaction<'_>,
    sha256: &str,
    path: &str,
    packed: &PackedBlob,
) -> Result<()> {
    if packed.sha256 != sha256 {
        return Err(StoreError::Invalid(format!(
            "{path}: the file changed while it was imported (it no longer has sha256 {sha256}); nothing was written"
        )));
    }
    let Some(rowid) = insert_row(tx, sha256, packed.size, DEFLATE, packed.len)? else {
        return Ok(());
    };
    if packed.len == 0 {
        return Ok(());
    }
    let io = |e: std::io::Error| StoreError::Invalid(format!("{path}: import scratch file: {e}"));
    let mut blob = tx.blob_open(rusqlite::MAIN_DB, "blob", "data", rowid, false)?;
    let mut buf = vec![0u8; CHUNK];
    for at in last_first(packed.len) {
        let n = usize::try_from((packed.len - at).min(CHUNK as u64)).unwrap_or(CHUNK);
        let piece = &mut buf[..n];
        packed.file.read_exact_at(piece, at).map_err(io)?;
        blob.write_at(piece, usize::try_from(at).unwrap_or(usize::MAX))?;
    }
    blob.close()?;
    Ok(())
}

#[cfg(test)]
#[path = "blobs_tests.rs"]
mod tests;
