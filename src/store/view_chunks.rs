//! Scanner views in deflated chunks (migration 015): the import appends each stored view's
//! JSON text to a chunk of ~256 KiB, deflated on a helper thread while SQLite writes the
//! rows, and `finding_source` points into it; readers get the text back checked and bounded.

use super::{Result, StoreError};
use rusqlite::OptionalExtension;
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::sync::mpsc;

/// A chunk is sealed once its text reaches this many bytes.
pub(super) const CHUNK_TARGET: usize = 256 << 10;
/// Views longer than this stay inline in `finding_source.view`, so that a chunk never holds
/// more than `MAX_CHUNK_RAW` bytes and a reader never inflates more than that.
pub(super) const MAX_VIEW_IN_CHUNK: usize = 16 << 20;
/// The most a chunk may inflate to; a row claiming more is refused before inflating.
pub(super) const MAX_CHUNK_RAW: u64 = (CHUNK_TARGET + MAX_VIEW_IN_CHUNK) as u64;

/// Where `ChunkWriter::push` put a view's text: (chunk id, byte offset, byte length).
pub(super) type Place = (i64, i64, i64);
/// A `finding_source` row's `chunk_id`, `chunk_at`, `chunk_len` (all NULL for inline views).
pub(super) type ChunkCols = (Option<i64>, Option<i64>, Option<i64>);

pub(super) struct Packed {
    id: i64,
    raw_len: usize,
    sha256: [u8; 32],
    data: Vec<u8>,
}

/// Level 1, as for evidence blobs: view JSON shrinks ~5x at several hundred MB/s.
fn pack(id: i64, raw: &[u8]) -> std::io::Result<Packed> {
    let mut e = flate2::write::DeflateEncoder::new(
        Vec::with_capacity(raw.len() / 4),
        flate2::Compression::new(1),
    );
    e.write_all(raw)?;
    Ok(Packed {
        id,
        raw_len: raw.len(),
        sha256: Sha256::digest(raw).into(),
        data: e.finish()?,
    })
}

/// The deflate thread, started with the first full chunk (small imports never start it).
struct Helper {
    to: mpsc::SyncSender<(i64, Vec<u8>)>,
    from: mpsc::Receiver<std::io::Result<Packed>>,
    handle: std::thread::JoinHandle<()>,
}

/// A deflated chunk ready to insert (`insert_packed`).
pub(super) type PackedChunk = std::io::Result<Packed>;

/// The chunks of one import without the database: appends view texts, numbers the chunks
/// from `next_id` on and deflates them on a helper thread. Whoever holds the transaction
/// inserts what `ready` and `finish` give back, in any order, before the commit.
pub(super) struct ChunkPacker {
    next_id: i64,
    buf: Vec<u8>,
    helper: Option<Helper>,
    in_flight: usize,
}

/// The id the import's first chunk takes: after the largest in the store, read inside the
/// import's IMMEDIATE transaction, so the `finding_source` rows can name a chunk before
/// it exists.
pub(super) fn first_chunk_id(tx: &rusqlite::Transaction<'_>) -> Result<i64> {
    let max: i64 = tx.query_row("SELECT COALESCE(MAX(id), 0) FROM view_chunk", [], |r| {
        r.get(0)
    })?;
    Ok(max + 1)
}

impl ChunkPacker {
    pub(super) fn new(next_id: i64) -> Self {
        Self {
            next_id,
            buf: Vec::with_capacity(CHUNK_TARGET + (16 << 10)),
            helper: None,
            in_flight: 0,
        }
    }

    /// Adds `text` to the current chunk and says where it is; `None` for a text too long for
    /// a chunk, which the caller stores inline.
    pub(super) fn push(&mut self, text: &str) -> Result<Option<Place>> {
        if text.len() > MAX_VIEW_IN_CHUNK {
            return Ok(None);
        }
        let at = self.buf.len();
        self.buf.extend_from_slice(text.as_bytes());
        let place = (self.next_id, at as i64, text.len() as i64);
        if self.buf.len() >= CHUNK_TARGET {
            self.seal()?;
        }
        Ok(Some(place))
    }

    /// Hands the current chunk to the helper (started now if need be).
    fn seal(&mut self) -> Result<()> {
        let raw = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK_TARGET + (16 << 10)));
        let id = self.next_id;
        self.next_id += 1;
        let helper = match &mut self.helper {
            Some(h) => h,
            None => self.helper.insert(spawn()?),
        };
        // The helper only stops when its receiver is gone, which is never while we hold it.
        if helper.to.send((id, raw)).is_err() {
            return Err(helper_gone());
        }
        self.in_flight += 1;
        Ok(())
    }

    /// The chunks the helper has finished so far, into `out`.
    pub(super) fn ready(&mut self, out: &mut Vec<PackedChunk>) {
        if let Some(h) = &self.helper {
            while let Ok(p) = h.from.try_recv() {
                self.in_flight -= 1;
                out.push(p);
            }
        }
    }

    /// Every chunk still pending, into `out`: the last (partial) one deflated here.
    pub(super) fn finish(mut self, out: &mut Vec<PackedChunk>) -> Result<()> {
        if !self.buf.is_empty() {
            out.push(pack(self.next_id, &self.buf));
        }
        if let Some(h) = self.helper.take() {
            drop(h.to);
            for _ in 0..self.in_flight {
                out.push(h.from.recv().map_err(|_| helper_gone())?);
            }
            h.handle.join().map_err(|_| helper_gone())?;
        }
        Ok(())
    }
}

/// `ChunkPacker` inserting as it goes, for a writer that holds the transaction itself (the
/// tests; the import packs on its producer thread, `import_findings`).
#[cfg(test)]
pub(super) struct ChunkWriter {
    set_id: i64,
    packer: ChunkPacker,
    done: Vec<PackedChunk>,
}

#[cfg(test)]
impl ChunkWriter {
    pub(super) fn new(tx: &rusqlite::Transaction<'_>, set_id: i64) -> Result<Self> {
        Ok(Self {
            set_id,
            packer: ChunkPacker::new(first_chunk_id(tx)?),
            done: Vec::new(),
        })
    }

    /// `ChunkPacker::push`, inserting the chunks the helper has finished.
    pub(super) fn push(
        &mut self,
        tx: &rusqlite::Transaction<'_>,
        text: &str,
    ) -> Result<Option<Place>> {
        let place = self.packer.push(text)?;
        self.packer.ready(&mut self.done);
        for p in self.done.drain(..) {
            insert_packed(tx, self.set_id, p)?;
        }
        Ok(place)
    }

    /// Inserts every chunk still pending.
    pub(super) fn finish(mut self, tx: &rusqlite::Transaction<'_>) -> Result<()> {
        self.packer.finish(&mut self.done)?;
        for p in self.done.drain(..) {
            insert_packed(tx, self.set_id, p)?;
        }
        Ok(())
    }
}

fn spawn() -> Result<Helper> {
    // Two chunks queued at most: the SQL thread never runs far ahead of the deflate.
    let (to, rx) = mpsc::sync_channel::<(i64, Vec<u8>)>(2);
    let (tx_back, from) = mpsc::channel();
    let handle = std::thread::Builder::new()
        .name("view-chunks".into())
        .spawn(move || {
            for (id, raw) in rx {
                if tx_back.send(pack(id, &raw)).is_err() {
                    return;
                }
            }
        })
        .map_err(|e| StoreError::Invalid(format!("view chunk thread: {e}")))?;
    Ok(Helper { to, from, handle })
}

fn helper_gone() -> StoreError {
    StoreError::Invalid("view chunk thread stopped unexpectedly".into())
}

pub(super) fn insert_packed(
    tx: &rusqlite::Transaction<'_>,
    set_id: i64,
    p: PackedChunk,
) -> Result<()> {
    let p = p.map_err(|e| StoreError::Invalid(format!("deflating a view chunk: {e}")))?;
    tx.prepare_cached(
        "INSERT INTO view_chunk(id, set_id, raw_len, sha256, data) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(rusqlite::params![
        p.id,
        set_id,
        p.raw_len as i64,
        &p.sha256[..],
        p.data
    ])?;
    Ok(())
}

/// Reads view texts back, keeping the last chunk inflated: consecutive findings share one.
#[derive(Default)]
pub(super) struct ChunkReader {
    cached: Option<(i64, Vec<u8>)>,
}

impl ChunkReader {
    /// The text of a `finding_source` row: its inline `view`, or its slice of a chunk.
    pub(super) fn text(
        &mut self,
        conn: &rusqlite::Connection,
        view: Option<String>,
        chunk: ChunkCols,
    ) -> Result<String> {
        if let Some(v) = view {
            return Ok(v);
        }
        let bad = |why: String| StoreError::Invalid(format!("stored scanner view: {why}"));
        let (Some(id), Some(at), Some(len)) = chunk else {
            return Err(bad("the row has neither a view nor a chunk".into()));
        };
        if self.cached.as_ref().map(|c| c.0) != Some(id) {
            self.cached = None;
            self.cached = Some((id, load(conn, id)?));
        }
        let raw = self.cached.as_ref().map_or(&[][..], |c| &c.1[..]);
        let range = usize::try_from(at)
            .ok()
            .zip(usize::try_from(len).ok())
            .and_then(|(a, l)| Some(a..a.checked_add(l)?))
            .filter(|r| r.end <= raw.len())
            .ok_or_else(|| {
                bad(format!(
                    "bytes {at}+{len} lie outside chunk {id} ({} bytes)",
                    raw.len()
                ))
            })?;
        std::str::from_utf8(&raw[range])
            .map(str::to_string)
            .map_err(|e| bad(format!("chunk {id} at {at}: {e}")))
    }
}

/// One chunk inflated, never past its recorded length (itself at most `MAX_CHUNK_RAW`),
/// and checked against its sha256.
pub(super) fn load(conn: &rusqlite::Connection, id: i64) -> Result<Vec<u8>> {
    let bad = |why: String| StoreError::Invalid(format!("stored view chunk {id}: {why}"));
    let row: Option<(i64, Vec<u8>, Vec<u8>)> = conn
        .prepare_cached("SELECT raw_len, sha256, data FROM view_chunk WHERE id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let Some((raw_len, sha, data)) = row else {
        return Err(bad("missing".into()));
    };
    let size = u64::try_from(raw_len)
        .ok()
        .filter(|n| *n <= MAX_CHUNK_RAW)
        .ok_or_else(|| bad(format!("recorded length {raw_len} is out of range")))?;
    let mut out = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    flate2::read::DeflateDecoder::new(&data[..])
        .take(size + 1)
        .read_to_end(&mut out)
        .map_err(|e| bad(format!("compressed bytes are corrupt: {e}")))?;
    if out.len() as u64 != size {
        return Err(bad(format!(
            "inflates to {}{} bytes, {size} recorded",
            if out.len() as u64 > size {
                "more than "
            } else {
                ""
            },
            out.len().min(usize::try_from(size).unwrap_or(usize::MAX))
        )));
    }
    if Sha256::digest(&out)[..] != sha[..] {
        return Err(bad(
            "the text does not match its sha256 (the store was altered or damaged)".into(),
        ));
    }
    Ok(out)
}

/// Test fixture: every chunked view of the store moved inline, as a store from before
/// migration 015 holds them (for tests of older migrations' SQL over `view`).
#[cfg(test)]
pub(crate) fn inline_all_for_test(conn: &rusqlite::Connection) {
    let rows: Vec<(i64, Option<String>, ChunkCols)> = conn
        .prepare("SELECT rowid, view, chunk_id, chunk_at, chunk_len FROM finding_source")
        .and_then(|mut st| {
            st.query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, (r.get(2)?, r.get(3)?, r.get(4)?)))
            })?
            .collect()
        })
        .expect("sources read");
    let mut r = ChunkReader::default();
    for (rowid, view, chunk) in rows {
        let text = r.text(conn, view, chunk).expect("view text");
        conn.execute(
            "UPDATE finding_source SET view = ?2, chunk_id = NULL, chunk_at = NULL, chunk_len = NULL
             WHERE rowid = ?1",
            rusqlite::params![rowid, text],
        )
        .expect("inlined");
    }
}

#[cfg(test)]
#[path = "view_chunks_tests.rs"]
mod tests;
