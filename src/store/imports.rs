//! Writing one import: the set, its new files and blobs, and the merged components,
//! dependencies and findings, all in one transaction (it lands whole or not at all).

use super::{blobs, import_findings, journal, now_utc, view_chunks, PackedBlob, Result, Store};
use crate::model::{SetComponent, SetFinding};
use rusqlite::{params, OptionalExtension};
use std::collections::{BTreeSet, HashMap};

/// A new evidence file row.
#[derive(Debug, Clone)]
pub struct FileRow {
    pub path: String,
    pub sha256: String,
    pub size: u64,
    pub bytes: Option<Vec<u8>>,
    pub format: Option<String>,
    pub spec_version: Option<String>,
    pub status: String,
    pub message: Option<String>,
    pub named_digests: Vec<String>,
    pub doc_kind: Option<String>,
    pub scanner: Option<String>,
    pub scanner_version: Option<String>,
    pub db_built: Option<String>,
    pub scanned_at: Option<String>,
}

pub struct SetWrite<'a> {
    /// The set this import adds to, or `None` to create one.
    pub existing: Option<i64>,
    pub package: Option<&'a str>,
    pub digest: Option<&'a str>,
    pub image: Option<&'a str>,
    pub repository: Option<&'a str>,
    pub source: &'a str,
    pub image_user: Option<&'a str>,
    /// Files new to this set.
    pub new_files: &'a [FileRow],
    /// sha256 of every file the merge indexes (`SetFinding::views` file indices point here).
    pub file_shas: &'a [String],
    /// The complete merged content; replaces what the set held.
    pub components: &'a [SetComponent],
    pub dependencies: &'a BTreeSet<(String, String)>,
    pub findings: &'a [SetFinding],
}

pub struct ImportWrite {
    pub set_id: i64,
}

/// Findings handed to the write one at a time, in the order they are to be inserted (a
/// streamed import reads each merged finding's views back from its spool).
pub trait FindingStream: Send {
    fn next_finding(&mut self) -> Result<Option<SetFinding>>;
}

/// Components and dependency edges handed to the write in their final order, after
/// `SetWrite::components` / `dependencies` (a streamed import merges them from its sorted
/// runs as they are written, on a producer thread beside the SQLite one:
/// `component_write`).
pub trait ComponentFeed {
    /// Calls `write` with each merged component, in key order.
    fn components(&mut self, write: &mut dyn FnMut(&SetComponent) -> Result<()>) -> Result<()>;
    /// Calls `write` with each (from key, to key), in order, each pair once.
    fn dependencies(&mut self, write: &mut dyn FnMut(&str, &str) -> Result<()>) -> Result<()>;
}

impl Store {
    pub fn find_set_by_digest(&self, digest: &str) -> Result<Option<i64>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT id FROM evidence_set WHERE digest = ?1",
                [digest],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// The set holding exactly these file hashes, for inputs that name no digest.
    pub fn find_set_holding_all(&self, shas: &[String]) -> Result<Option<i64>> {
        let Some(first) = shas.first() else {
            return Ok(None);
        };
        let mut stmt = self
            .conn()
            .prepare("SELECT DISTINCT set_id FROM evidence_file WHERE sha256 = ?1")?;
        let candidates: Vec<i64> = stmt
            .query_map([first], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        for c in candidates {
            let held: BTreeSet<String> = self
                .conn()
                .prepare("SELECT sha256 FROM evidence_file WHERE set_id = ?1")?
                .query_map([c], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            if shas.iter().all(|s| held.contains(s)) {
                return Ok(Some(c));
            }
        }
        Ok(None)
    }

    /// sha256 of files already in the set, in insertion order, with their paths.
    pub fn set_file_hashes(&self, set_id: i64) -> Result<Vec<(String, String, String)>> {
        let mut stmt = self.conn().prepare(
            "SELECT sha256, path, status FROM evidence_file WHERE set_id = ?1 ORDER BY id",
        )?;
        let rows = stmt
            .query_map([set_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// Writes an import in one transaction. `extra` runs inside the same transaction (the
    /// workflow uses it to append the audit entry).
    pub fn write_import(
        &mut self,
        w: &SetWrite<'_>,
        extra: &dyn Fn(&rusqlite::Transaction<'_>, i64) -> Result<()>,
    ) -> Result<ImportWrite> {
        self.write_import_inner(w, &[], None, None, extra)
    }

    /// `write_import` for a streamed import: the raw bytes of the new files named in
    /// `blob_files` (the sha256 recorded for the file, and its bytes as `pack_file` packed
    /// them, checked against that sha256) are copied into the store, and the findings come
    /// from `findings` after `w.findings` (and the components and edges from `components`,
    /// when given, after `w`'s).
    pub fn write_import_streamed(
        &mut self,
        w: &SetWrite<'_>,
        blob_files: &[(String, PackedBlob)],
        findings: &mut dyn FindingStream,
        components: Option<&mut (dyn ComponentFeed + Send)>,
        extra: &dyn Fn(&rusqlite::Transaction<'_>, i64) -> Result<()>,
    ) -> Result<ImportWrite> {
        self.write_import_inner(w, blob_files, Some(findings), components, extra)
    }

    /// Runs one import's transaction with a page cache of `IMPORT_CACHE_KIB`, then gives
    /// the connection its own size back. With SQLite's default (2 MB) the pages of a large
    /// import spill to the journal's file one at a time in the middle of the transaction and
    /// are read back when touched again (the zero-filled blob, then its bytes; the indexes).
    /// The transaction goes through a rollback journal when the store is this connection's
    /// alone (`journal::Bulk`).
    fn write_import_inner(
        &mut self,
        w: &SetWrite<'_>,
        blob_files: &[(String, PackedBlob)],
        stream: Option<&mut dyn FindingStream>,
        components: Option<&mut (dyn ComponentFeed + Send)>,
        extra: &dyn Fn(&rusqlite::Transaction<'_>, i64) -> Result<()>,
    ) -> Result<ImportWrite> {
        let before: i64 = self
            .conn()
            .query_row("PRAGMA cache_size", [], |r| r.get(0))?;
        self.conn()
            .pragma_update(None, "cache_size", -import_cache_kib())?;
        let bulk = match journal::Bulk::enter(self.conn()) {
            Ok(b) => b,
            Err(e) => {
                let _ = self.conn().pragma_update(None, "cache_size", before);
                return Err(e);
            }
        };
        if std::env::var_os("DOSSIER_TIMINGS").is_some() {
            let journal = if bulk.switched() { "rollback" } else { "wal" };
            eprintln!("import write: journal: {journal}");
        }
        let r = self.write_import_tx(w, blob_files, stream, components, extra);
        // Shrinking the cache frees the pages the import used.
        let restored = self.conn().pragma_update(None, "cache_size", before);
        // A store left in rollback mode is whole and usable, and the next open puts WAL
        // back: that is no reason to report a landed import as failed.
        let _ = bulk.leave(self.conn());
        let written = r?;
        restored?;
        Ok(written)
    }

    fn write_import_tx(
        &mut self,
        w: &SetWrite<'_>,
        blob_files: &[(String, PackedBlob)],
        stream: Option<&mut dyn FindingStream>,
        components: Option<&mut (dyn ComponentFeed + Send)>,
        extra: &dyn Fn(&rusqlite::Transaction<'_>, i64) -> Result<()>,
    ) -> Result<ImportWrite> {
        let now = now_utc();
        let mut timing = Timings::start();
        let tx = self
            .conn_mut()
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let package_id: Option<i64> = match w.package {
            Some(name) => {
                tx.execute(
                    "INSERT INTO package(name, created_at) VALUES (?1, ?2) ON CONFLICT(name) DO NOTHING",
                    params![name, now],
                )?;
                Some(
                    tx.query_row("SELECT id FROM package WHERE name = ?1", [name], |r| {
                        r.get(0)
                    })?,
                )
            }
            None => None,
        };
        let set_id = match w.existing {
            Some(id) => {
                tx.execute(
                    "UPDATE evidence_set SET
                        package_id = COALESCE(?2, package_id),
                        image = COALESCE(image, ?3),
                        repository = COALESCE(repository, ?4),
                        image_user = COALESCE(?5, image_user)
                     WHERE id = ?1",
                    params![id, package_id, w.image, w.repository, w.image_user],
                )?;
                tx.execute("DELETE FROM component WHERE set_id = ?1", [id])?;
                tx.execute("DELETE FROM dependency WHERE set_id = ?1", [id])?;
                tx.execute("DELETE FROM finding WHERE set_id = ?1", [id])?;
                tx.execute("DELETE FROM view_chunk WHERE set_id = ?1", [id])?;
                id
            }
            None => {
                tx.execute(
                    "INSERT INTO evidence_set(package_id, image, repository, digest, source, image_user, imported_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![package_id, w.image, w.repository, w.digest, w.source, w.image_user, now],
                )?;
                tx.last_insert_rowid()
            }
        };
        {
            let mut ins = tx.prepare(
                "INSERT INTO evidence_file(set_id, path, sha256, size, stored, format, spec_version, status, message,
                    named_digests, doc_kind, scanner, scanner_version, db_built, scanned_at, imported_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)
                 ON CONFLICT(set_id, sha256) DO NOTHING",
            )?;
            for f in w.new_files {
                let from_file = blob_files.iter().find(|(s, _)| *s == f.sha256);
                if let Some(b) = &f.bytes {
                    blobs::put(&tx, &f.sha256, b)?;
                } else if let Some((_, packed)) = from_file {
                    blobs::put_packed(&tx, &f.sha256, &f.path, packed)?;
                }
                ins.execute(params![
                    set_id,
                    f.path,
                    f.sha256,
                    f.size as i64,
                    f.bytes.is_some() || from_file.is_some(),
                    f.format,
                    f.spec_version,
                    f.status,
                    f.message,
                    serde_json::to_string(&f.named_digests).unwrap_or_else(|_| "[]".into()),
                    f.doc_kind,
                    f.scanner,
                    f.scanner_version,
                    f.db_built,
                    f.scanned_at,
                    now,
                ])?;
            }
        }
        timing.mark("files and blobs");
        let file_ids: HashMap<String, i64> = {
            let mut s = tx.prepare("SELECT sha256, id FROM evidence_file WHERE set_id = ?1")?;
            let rows = s.query_map([set_id], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
            })?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let component_ids =
            super::component_write::write(&tx, set_id, w.components, w.dependencies, components)?;
        timing.mark("components and dependencies");
        let ctx = import_findings::Ctx {
            set_id,
            file_shas: w.file_shas,
            file_ids: &file_ids,
            first_chunk: view_chunks::first_chunk_id(&tx)?,
            component_ids: component_ids.as_ref(),
        };
        import_findings::write(&tx, &ctx, w.findings, stream)?;
        timing.mark("findings");
        extra(&tx, set_id)?;
        tx.commit()?;
        timing.mark("commit");
        timing.total();
        Ok(ImportWrite { set_id })
    }
}

/// `DOSSIER_TIMINGS=1`: each phase of the store write on stderr, in seconds, for measuring.
struct Timings {
    on: bool,
    start: std::time::Instant,
    last: std::time::Instant,
    last_cpu: f64,
}

/// CPU time of the calling thread, from Linux's schedstat (0 where there is none).
pub(super) fn thread_cpu_s() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(0.0, |ns| ns / 1e9)
}

impl Timings {
    fn start() -> Self {
        let now = std::time::Instant::now();
        Self {
            on: std::env::var_os("DOSSIER_TIMINGS").is_some(),
            start: now,
            last: now,
            last_cpu: thread_cpu_s(),
        }
    }

    fn mark(&mut self, phase: &str) {
        if self.on {
            let now = std::time::Instant::now();
            let cpu = thread_cpu_s();
            eprintln!(
                "import write: {phase}: {:.3} s wall, {:.3} s CPU on this thread",
                (now - self.last).as_secs_f64(),
                cpu - self.last_cpu
            );
            self.last = now;
            self.last_cpu = cpu;
        }
    }

    fn total(&self) {
        if self.on {
            eprintln!(
                "import write: total: {:.3} s",
                self.start.elapsed().as_secs_f64()
            );
        }
    }
}

/// The import's page cache, KiB: large enough that the indexes of a scan report's findings
/// stay in memory, small enough that peak RSS stays well under 256 MiB however large the
/// file (the cache is a ceiling, filled only as pages are touched). 32 MiB, not 96: with the
/// rollback journal, pages that leave the cache go straight to the file, once, and the 110 MB
/// Trivy report imported as fast (5 interleaved rounds) with 50 MiB less peak RSS (174 ->
/// 124); a 1 GB report peaked at 179 MiB instead of 242. Only a single set of a million
/// findings wrote ~7 % slower (its `finding_set_component` index outgrows the cache).
/// `DOSSIER_IMPORT_CACHE_MIB` overrides it, for measuring.
const IMPORT_CACHE_KIB: i64 = 32 * 1024;

fn import_cache_kib() -> i64 {
    std::env::var("DOSSIER_IMPORT_CACHE_MIB")
        .ok()
        .and_then(|v| v.parse::<i64>().ok())
        .filter(|m| (1..=4096).contains(m))
        .map_or(IMPORT_CACHE_KIB, |m| m * 1024)
}

#[cfg(test)]
#[path = "imports_test_support.rs"]
pub(crate) mod test_support;
