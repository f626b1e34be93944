//! Import: discover -> detect -> parse -> identify the image -> merge -> one transaction.
//! Re-importing the same bytes changes nothing and says so; adding files to a known image
//! re-merges the set from every stored file so the result never depends on import order.

use super::import_components::Components;
use super::import_stream::{self, Spool, SpoolSink, Staged};
use super::Actor;
use crate::ingest::{self, discover, limits::Limits, FileStatus, ParsedFile};
use crate::store::{self, FileRow, SetWrite, Store};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    pub package: Option<String>,
    pub limits: Limits,
    /// The policy whose `[signature]` rules verification applies; `None` = embedded default.
    pub policy: Option<crate::analysis::policy::Policy>,
}

#[derive(Debug, Clone)]
pub struct ImportProgress {
    pub path: String,
    pub done: usize,
    pub total: usize,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FileReport {
    pub path: String,
    pub sha256: String,
    pub size: u64,
    pub format: Option<String>,
    pub spec_version: Option<String>,
    pub status: String,
    pub message: Option<String>,
    /// Read as a stream (over `Limits::stream_above_bytes`, Trivy or Grype), never whole.
    #[serde(skip)]
    pub streamed: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SetReport {
    pub id: i64,
    pub image: Option<String>,
    pub digest: Option<String>,
    pub package: Option<String>,
    pub source: String,
    pub components: i64,
    pub findings: i64,
    /// True when nothing new was found (every file already in the set).
    pub unchanged: bool,
    pub files: Vec<FileReport>,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct ImportReport {
    pub sets: Vec<SetReport>,
}

impl ImportReport {
    /// True when any file failed to parse (exit code 1).
    pub fn any_failed(&self) -> bool {
        self.sets
            .iter()
            .flat_map(|s| &s.files)
            .any(|f| f.status == FileStatus::Failed.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Discover(#[from] discover::DiscoverError),
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error("{0}: nothing to import (no files found)")]
    Empty(String),
    #[error("import scratch file: {0}")]
    Spool(std::io::Error),
    #[error("storing the raw bytes of {0}")]
    Pack(std::io::Error),
    #[error(transparent)]
    Large(#[from] ingest::large::LargeError),
}

/// A large file's raw bytes being compressed on a helper thread (`store::pack_file`).
type Packing = std::thread::JoinHandle<std::io::Result<store::PackedBlob>>;

/// The large files of one import: the spool their findings went to, each streamed file's
/// keys (by index in the parsed list) and its raw bytes, compressed on a second core while
/// this one parses them.
#[derive(Default)]
struct Streaming {
    spool: Option<Spool>,
    staged: HashMap<usize, Staged>,
    paths: HashMap<String, PathBuf>,
    packing: HashMap<String, Packing>,
    comps: Components,
}

impl Streaming {
    fn parse(
        &mut self,
        lf: discover::LargeFile,
        parsed: &mut Vec<ParsedFile>,
    ) -> Result<(), ImportError> {
        if self.spool.is_none() {
            self.spool = Some(Spool::new());
        }
        let Some(spool) = self.spool.as_mut() else {
            return Ok(());
        };
        let mut staged = Staged::default();
        let mut sink = self.comps.sinks(SpoolSink::new(spool, &mut staged));
        // The file is read once, by the helper, which hashes and deflates it and hands each
        // piece to the parse as well: the parse and the stored blob see the same bytes, and
        // this thread neither reads nor hashes them. (A parse that falls back to reading the
        // file itself is checked at the write: the blob's digest must be the parse's.)
        let path = lf.fs_path.clone();
        let (mut tap, feed) = ingest::feed::channel();
        let mut packing = Some(std::thread::spawn(move || {
            store::pack_file(&path, &mut tap)
        }));
        let outcome = ingest::large::parse_large(&lf, Some(feed), &mut sink);
        if !matches!(outcome, Ok(ingest::large::LargeOutcome::Streamed { .. })) {
            // Held in memory after all (or failed): its bytes go the in-memory way.
            if let Some(h) = packing.take() {
                let _ = h.join();
            }
        }
        let comp_doc = sink.finish();
        match outcome? {
            ingest::large::LargeOutcome::Whole(pf) => parsed.push(pf),
            ingest::large::LargeOutcome::Streamed {
                file,
                late_scanner_version,
            } => {
                if let Some(h) = packing {
                    self.packing.insert(file.sha256.clone(), h);
                }
                self.paths.insert(file.sha256.clone(), lf.fs_path);
                if file.status == FileStatus::Parsed {
                    self.comps.keep(&file.sha256, comp_doc);
                    staged.late_scanner_version = late_scanner_version;
                    self.staged.insert(parsed.len(), staged);
                }
                parsed.push(file);
            }
        }
        Ok(())
    }

    /// (sha256, packed bytes) of the new file rows whose bytes were packed from disk:
    /// waits for the helpers (they normally finished during the parse).
    fn blob_files(
        &mut self,
        rows: &[FileRow],
    ) -> Result<Vec<(String, store::PackedBlob)>, ImportError> {
        let mut out = Vec::new();
        for r in rows.iter().filter(|r| r.bytes.is_none()) {
            let Some(h) = self.packing.remove(&r.sha256) else {
                continue;
            };
            let packed = h
                .join()
                .map_err(|_| {
                    ImportError::Pack(std::io::Error::other(format!(
                        "{}: the compressing thread failed",
                        r.path
                    )))
                })?
                .map_err(ImportError::Pack)?;
            out.push((r.sha256.clone(), packed));
        }
        Ok(out)
    }
}

impl store::ReadTap for ingest::feed::Tap {
    fn piece(&mut self, bytes: &[u8]) {
        ingest::feed::Tap::piece(self, bytes);
    }
    fn end(&mut self, sha256: String, size: u64) {
        ingest::feed::Tap::end(self, sha256, size);
    }
}

/// Imports each PATH as one evidence set.
pub fn import_paths(
    store: &mut Store,
    paths: &[PathBuf],
    opts: &ImportOptions,
    actor: &Actor,
    progress: &mut dyn FnMut(ImportProgress),
) -> Result<ImportReport, ImportError> {
    let mut report = ImportReport::default();
    if paths.len() < 2 {
        for p in paths {
            report
                .sets
                .push(import_one(store, p, opts, actor, progress)?);
        }
        return Ok(report);
    }
    // A package of many images: read and parse the next path on a helper thread while
    // this one is merged, written and verified (the write is mostly I/O and fsync). The
    // rendezvous channel keeps at most one parsed set waiting, so memory stays ~2 sets.
    let limits = &opts.limits;
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel(0);
        scope.spawn(move || {
            for p in paths {
                let mut events = Vec::new();
                let r = prepare(p, limits, &mut |e| events.push(e));
                if tx.send((events, r)).is_err() {
                    break;
                }
            }
        });
        for p in paths {
            let Ok((events, prepared)) = rx.recv() else {
                // The helper ended early (it only does so after a panic): parse here.
                report
                    .sets
                    .push(import_one(store, p, opts, actor, progress)?);
                continue;
            };
            for e in events {
                progress(e);
            }
            let (parsed, streamed) = prepared?;
            report
                .sets
                .push(import_parsed(store, p, parsed, streamed, opts, actor)?);
        }
        Ok(report)
    })
}

fn refused_file(r: discover::Refused) -> ParsedFile {
    ParsedFile {
        path: r.path,
        sha256: String::new(),
        size: 0,
        bytes: None,
        format: None,
        spec_version: None,
        status: FileStatus::Failed,
        message: Some(r.reason),
        doc: None,
    }
}

fn import_one(
    store: &mut Store,
    path: &Path,
    opts: &ImportOptions,
    actor: &Actor,
    progress: &mut dyn FnMut(ImportProgress),
) -> Result<SetReport, ImportError> {
    let started = std::time::Instant::now();
    let (parsed, streamed) = prepare(path, &opts.limits, progress)?;
    if std::env::var_os("DOSSIER_TIMINGS").is_some() {
        eprintln!("import: parse: {:.3} s", started.elapsed().as_secs_f64());
    }
    import_parsed(store, path, parsed, streamed, opts, actor)
}

/// Discovers and parses every file under `path` (no store access, so it can run on a
/// helper thread): parsed files, then refused entries, then skipped layer blobs; large
/// files are streamed into the spool held by the returned `Streaming`.
fn prepare(
    path: &Path,
    limits: &Limits,
    progress: &mut dyn FnMut(ImportProgress),
) -> Result<(Vec<ParsedFile>, Streaming), ImportError> {
    let source = path.display().to_string();
    let disc = discover::discover(path, limits)?;
    if disc.files.is_empty()
        && disc.refused.is_empty()
        && disc.skipped.is_empty()
        && disc.large.is_empty()
    {
        return Err(ImportError::Empty(source));
    }
    let total = disc.files.len() + disc.large.len();
    let mut parsed: Vec<ParsedFile> = Vec::with_capacity(total + disc.refused.len());
    // Large files are streamed: their findings go to the spool, keyed by index in `parsed`.
    let mut streamed = Streaming::default();
    let mut large = disc.large.into_iter().peekable();
    for (i, f) in disc.files.into_iter().enumerate() {
        while let Some(lf) = large.next_if(|l| l.before <= i) {
            progress(ImportProgress {
                path: lf.path.clone(),
                done: parsed.len(),
                total,
            });
            streamed.parse(lf, &mut parsed)?;
        }
        progress(ImportProgress {
            path: f.path.clone(),
            done: parsed.len(),
            total,
        });
        parsed.push(ingest::parse_file(f));
    }
    for lf in large {
        progress(ImportProgress {
            path: lf.path.clone(),
            done: parsed.len(),
            total,
        });
        streamed.parse(lf, &mut parsed)?;
    }
    progress(ImportProgress {
        path: source.clone(),
        done: total,
        total,
    });
    // Refused entries have no bytes; hash their reason so they are distinct, stable rows.
    for r in disc.refused {
        let mut pf = refused_file(r);
        pf.sha256 = format!("refused:{}", discover::sha256_hex(pf.path.as_bytes()));
        parsed.push(pf);
    }
    // Image layer blobs: accounted for as unrecognised, never parsed or stored.
    parsed.extend(disc.skipped.into_iter().map(discover::Skipped::into_parsed));
    Ok((parsed, streamed))
}

/// Identifies, merges, writes and verifies one prepared set.
fn import_parsed(
    store: &mut Store,
    path: &Path,
    mut parsed: Vec<ParsedFile>,
    mut streamed: Streaming,
    opts: &ImportOptions,
    actor: &Actor,
) -> Result<SetReport, ImportError> {
    let source = path.display().to_string();
    let started = std::time::Instant::now();
    let ident = ingest::identify(&parsed);
    let existing = match &ident.digest {
        Some(d) => store.find_set_by_digest(d)?,
        None => {
            let shas: Vec<String> = parsed.iter().map(|f| f.sha256.clone()).collect();
            store.find_set_holding_all(&shas)?
        }
    };
    let held: Vec<(String, String, String)> = match existing {
        Some(id) => store.set_file_hashes(id)?,
        None => Vec::new(),
    };
    let held_shas: HashSet<&str> = held.iter().map(|(s, _, _)| s.as_str()).collect();

    // Mark duplicates (already in the set, or twice in this input) and digest mismatches.
    let mut seen: HashSet<String> = HashSet::new();
    for f in &mut parsed {
        if held_shas.contains(f.sha256.as_str()) || !seen.insert(f.sha256.clone()) {
            f.status = FileStatus::Duplicate;
            f.message = Some("already imported (same sha256): nothing new".into());
            f.bytes = None;
            continue;
        }
        if let Some(d) = &ident.digest {
            if f.status == FileStatus::Parsed && ingest::names_other_digest(f, d) {
                f.message = Some(format!(
                    "names image {} but this set is {d}: kept and flagged, not merged",
                    f.named_digests().join(", ")
                ));
            }
        }
    }

    let new_idx: Vec<usize> = (0..parsed.len())
        .filter(|i| parsed[*i].status != FileStatus::Duplicate)
        .collect();
    let mut file_reports: Vec<FileReport> = parsed.iter().map(file_report).collect();
    for r in &mut file_reports {
        r.streamed =
            r.status != FileStatus::Duplicate.as_str() && streamed.paths.contains_key(&r.sha256);
    }
    if let (Some(id), true) = (existing, new_idx.is_empty()) {
        let s = store.set(id)?;
        return Ok(SetReport {
            id,
            image: s.image,
            digest: s.digest,
            package: s.package,
            source: s.source,
            components: s.components,
            findings: s.findings,
            unchanged: true,
            files: file_reports,
        });
    }

    // Merge over every file of the set: those already stored (re-parsed from their blobs)
    // plus the new ones, in a stable order. The documents move into the merge (their views
    // become the findings' views), so a large report is held once, never copied.
    let mut reparsed: Vec<ParsedFile> = Vec::new();
    for (sha, p, status) in &held {
        if status != FileStatus::Parsed.as_str() {
            continue;
        }
        if let Some(bytes) = store.blob(sha)? {
            let mut pf = ingest::parse_file(discover::DiscoveredFile {
                path: p.clone(),
                bytes,
                sha256: sha.clone(),
            });
            pf.bytes = None;
            reparsed.push(pf);
        }
    }
    let digest = ident.digest.clone();
    // File rows first: they read the scan metadata from the documents the merge consumes.
    // The raw bytes move into the rows (no copy).
    let rows: Vec<FileRow> = new_idx.iter().map(|i| file_row(&mut parsed[*i])).collect();
    let blob_files = streamed.blob_files(&rows)?;
    let mut new_files: Vec<(ParsedFile, Option<Staged>)> = Vec::with_capacity(new_idx.len());
    for (k, f) in parsed.into_iter().enumerate() {
        if new_idx.binary_search(&k).is_ok() {
            let st = streamed.staged.remove(&k);
            new_files.push((f, st));
        }
    }
    let spool = streamed.spool.take();
    let mut comps = std::mem::take(&mut streamed.comps);
    drop(streamed);
    let all: Vec<(ParsedFile, Option<Staged>)> = reparsed
        .into_iter()
        .map(|f| (f, None))
        .chain(new_files)
        .collect();
    let file_shas: Vec<String> = all.iter().map(|(f, _)| f.sha256.clone()).collect();
    let mut paths: Vec<String> = Vec::new();
    let mut docs: Vec<(usize, crate::model::Document)> = Vec::new();
    let mut staged: Vec<Option<Staged>> = Vec::new();
    for (i, (f, st)) in all.into_iter().enumerate() {
        if digest
            .as_deref()
            .is_some_and(|d| ingest::names_other_digest(&f, d))
        {
            continue;
        }
        if let Some(doc) = f.doc {
            paths.push(f.path);
            docs.push((i, doc));
            staged.push(st);
        }
    }
    // A streamed import spools every document's findings and merges over keys, beside the
    // write's first steps (`MergeBeside`).
    let key_merge = match spool {
        Some(mut spool) => {
            let mut keyed = Vec::with_capacity(docs.len());
            for (((i, doc), st), path) in docs.iter_mut().zip(staged).zip(&paths) {
                // A streamed SBOM's components are in a scratch file: every document's go
                // there too, and the set's components are merged from it.
                let keys = if comps.active() {
                    let has =
                        !doc.findings.is_empty() || st.as_ref().is_some_and(|s| !s.is_empty());
                    Some(comps.stage(*i, path, &file_shas[*i], doc, has)?)
                } else {
                    None
                };
                let st = match st {
                    Some(st) => st,
                    None => {
                        import_stream::stage_doc(&mut spool, doc).map_err(ImportError::Spool)?
                    }
                };
                let keys = keys.unwrap_or_else(|| doc.components.iter().map(|c| c.key()).collect());
                keyed.push((*i, keys, st));
            }
            Some(import_stream::MergeBeside::start(keyed, spool).map_err(ImportError::Spool)?)
        }
        None => None,
    };
    let merged = ingest::merge::merge_owned(
        docs.into_iter()
            .zip(&paths)
            .map(|((i, d), p)| (i, p.as_str(), d))
            .collect(),
    );
    // The streamed components are counted as the write merges them (no pass of their own).
    let comp_count = std::sync::atomic::AtomicUsize::new(0);
    let mut comp_feed = comps.merged_counting(&comp_count)?;
    let repository = ident.image.as_deref().map(ingest::repository_of);
    let w = SetWrite {
        existing,
        package: opts.package.as_deref(),
        digest: digest.as_deref(),
        image: ident.image.as_deref(),
        repository: repository.as_deref(),
        source: &source,
        image_user: ident.image_user.as_deref(),
        new_files: &rows,
        file_shas: &file_shas,
        components: &merged.components,
        dependencies: &merged.dependencies,
        findings: &merged.findings,
    };
    // The streamed findings are counted as the write reads them (the entry comes after).
    let streamed_count = key_merge.as_ref().map(import_stream::MergeBeside::emitted);
    let finding_count = || {
        merged.findings.len()
            + streamed_count
                .as_ref()
                .map_or(0, |c| c.load(std::sync::atomic::Ordering::Relaxed))
    };
    // Built when the audit entry is written, after the components (`comp_count`).
    let details = || {
        serde_json::json!({
            "source": source,
            "digest": digest,
            "new_files": rows.iter().map(|r| serde_json::json!({"path": r.path, "sha256": r.sha256, "status": r.status})).collect::<Vec<_>>(),
            "components": merged.components.len() + comp_count.load(std::sync::atomic::Ordering::Relaxed),
            "findings": finding_count(),
        })
    };
    let label = actor.label();
    let target = digest.clone().unwrap_or_else(|| source.clone());
    // The audit entry is written inside the import's transaction (the closure's argument
    // type stays inferred: the workflow never names the SQL layer's types).
    if std::env::var_os("DOSSIER_TIMINGS").is_some() {
        eprintln!("import: merge: {:.3} s", started.elapsed().as_secs_f64());
    }
    let written = match key_merge {
        Some(mut k) => {
            let written = store.write_import_streamed(
                &w,
                &blob_files,
                &mut k,
                comp_feed
                    .as_mut()
                    .map(|c| c as &mut (dyn store::ComponentFeed + Send)),
                &|tx, _set| {
                    store::audit::append(tx, &label, "import", &target, &details()).map(|_| ())
                },
            );
            // Freeing the spool's blocks (then also a key per finding) took ~20 ms of a 1 s
            // import (perf); the verification and the report need not wait for it. (Should
            // the thread not start, the closure and the merge are dropped here.)
            let _ = std::thread::Builder::new()
                .name("import-free".into())
                .spawn(move || drop(k));
            written?
        }
        None => store.write_import(&w, &|tx, _set| {
            store::audit::append(tx, &label, "import", &target, &details()).map(|_| ())
        })?,
    };
    match &opts.policy {
        Some(p) => super::verify::verify_set_with(store, written.set_id, actor, p)?,
        None => super::verify::verify_set(store, written.set_id, actor)?,
    };
    let s = store.set(written.set_id)?;
    Ok(SetReport {
        id: written.set_id,
        image: s.image,
        digest: s.digest,
        package: s.package,
        source: s.source,
        components: s.components,
        findings: s.findings,
        unchanged: false,
        files: file_reports,
    })
}

fn file_report(f: &ParsedFile) -> FileReport {
    FileReport {
        path: f.path.clone(),
        sha256: f.sha256.clone(),
        size: f.size,
        format: f.format.map(|x| x.name().to_string()),
        spec_version: f.spec_version.clone(),
        status: f.status.as_str().to_string(),
        message: f.message.clone(),
        streamed: false,
    }
}

fn file_row(f: &mut ParsedFile) -> FileRow {
    let bytes = f.bytes.take();
    let scan = f.doc.as_ref().and_then(|d| d.scan.as_ref());
    FileRow {
        path: f.path.clone(),
        sha256: f.sha256.clone(),
        size: f.size,
        bytes,
        format: f.format.map(|x| x.name().to_string()),
        spec_version: f.spec_version.clone(),
        status: f.status.as_str().to_string(),
        message: f.message.clone(),
        named_digests: f.named_digests(),
        doc_kind: f.doc.as_ref().map(|d| {
            serde_json::to_value(d.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        }),
        scanner: scan.map(|s| s.scanner.clone()),
        scanner_version: scan.and_then(|s| s.scanner_version.clone()),
        db_built: scan.and_then(|s| s.db_built.clone()),
        scanned_at: scan.and_then(|s| s.scanned_at.clone()),
    }
}
