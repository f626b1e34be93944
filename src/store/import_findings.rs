//! The findings of one import written on two threads: a producer reads the merged findings
//! (the spool reads of a streamed import), summarises them, builds every column and packs
//! the stored views into chunks; the thread holding the transaction only binds and steps.

use super::finding_summary::{fix_disagrees, summarize};
use super::json_text;
use super::view_chunks::{self, ChunkPacker, PackedChunk, Place};
use super::{stored_view, FindingStream, Result, StoreError};
use crate::model::SetFinding;
use rusqlite::params;
use std::collections::HashMap;
use std::sync::mpsc;

/// Findings per message: large enough that the channel costs nothing per row, small enough
/// that a few batches in flight stay a few MB.
const BATCH: usize = 256;
/// Batches queued at most: the producer never runs far ahead of SQLite (memory stays flat).
const QUEUED: usize = 4;

/// What the write needs besides the findings themselves.
pub(super) struct Ctx<'a> {
    pub set_id: i64,
    /// sha256 of every file the merge indexes (`SetFinding::views` file indices point here).
    pub file_shas: &'a [String],
    /// evidence_file id by sha256, for this set's files.
    pub file_ids: &'a HashMap<String, i64>,
    /// The id the first view chunk takes.
    pub first_chunk: i64,
    /// The set's component ids by key, when `component_write` kept them.
    pub component_ids: Option<&'a HashMap<Box<str>, i64>>,
}

/// The most text buffer a reused batch keeps: 256 typical findings take ~200 KB.
const KEEP_TEXT: usize = 4 << 20;

/// A string's bytes in its batch's `text`.
type Span = std::ops::Range<usize>;

/// One `finding_source` row but its finding id.
struct SourceRow {
    file_id: i64,
    scanner: Span,
    /// The view's text when it is too long for a chunk.
    inline: Option<Span>,
    chunk: Option<Place>,
}

/// One `finding` row with its text and its sources, every value ready to bind. Strings
/// are spans of the batch's one text buffer: a few allocations per batch instead of a
/// dozen per row, which the producer freed again when the batch came back (perf: a fifth
/// of its time in `free`).
struct Row {
    vuln_id: Span,
    aliases: Span,
    component_key: Span,
    severity: &'static str,
    severity_rank: i64,
    severity_disagrees: bool,
    v2: Option<Span>,
    v3: Option<Span>,
    v3_score: Option<f64>,
    v4: Option<Span>,
    epss: Option<f64>,
    epss_percentile: Option<f64>,
    epss_date: Option<Span>,
    kev: Option<bool>,
    fixed: Span,
    fix_state: Span,
    scanners: Span,
    fix_disagrees: bool,
    title: Option<Span>,
    description: Option<Span>,
    /// Into the batch's `sources`.
    sources: Span,
}

#[derive(Default)]
struct Batch {
    rows: Vec<Row>,
    sources: Vec<SourceRow>,
    text: String,
    chunks: Vec<PackedChunk>,
    /// The producer's last batch.
    done: bool,
}

impl Batch {
    fn put(&mut self, s: &str) -> Span {
        let at = self.text.len();
        self.text.push_str(s);
        at..self.text.len()
    }
    fn put_opt(&mut self, s: Option<&str>) -> Option<Span> {
        s.map(|s| self.put(s))
    }
    /// The list as JSON text.
    fn put_strs<S: AsRef<str>>(&mut self, v: &[S]) -> Span {
        let at = self.text.len();
        json_text::push_strings(&mut self.text, v);
        at..self.text.len()
    }
    /// The text at `span`, which `put` made in this batch (an empty string for any other:
    /// a bug, caught in debug builds).
    fn get(&self, span: &Span) -> &str {
        let text = self.text.get(span.clone());
        debug_assert!(text.is_some(), "a span outside its batch");
        text.unwrap_or_default()
    }
    fn get_opt(&self, span: &Option<Span>) -> Option<&str> {
        span.as_ref().map(|s| self.get(s))
    }
    /// Empty for reuse. A text buffer grown past a few MB (a batch with a huge view) is
    /// let go rather than kept by every batch in flight.
    fn clear(&mut self) {
        self.rows.clear();
        self.sources.clear();
        if self.text.capacity() > KEEP_TEXT {
            self.text = String::new();
        } else {
            self.text.clear();
        }
    }
}

/// Writes `slice`, then whatever `stream` yields, as finding, finding_text and
/// finding_source rows (and their view chunks) inside `tx`. The stream moves to a
/// producer thread; an error on either side ends both and is returned.
pub(super) fn write(
    tx: &rusqlite::Transaction<'_>,
    ctx: &Ctx<'_>,
    slice: &[SetFinding],
    stream: Option<&mut dyn FindingStream>,
) -> Result<()> {
    let (to, from) = mpsc::sync_channel::<Result<Batch>>(QUEUED);
    let (back, spent) = mpsc::channel::<Batch>();
    std::thread::scope(|scope| {
        let producer = std::thread::Builder::new()
            .name("import-findings".into())
            .spawn_scoped(scope, move || produce(ctx, slice, stream, to, spent))
            .map_err(|e| StoreError::Invalid(format!("import findings thread: {e}")))?;
        let written = consume(tx, ctx.set_id, ctx.component_ids, &from, &back);
        // The producer's next send fails once the receiver is gone, so it stops however
        // the write ended; only then is it joined.
        drop(from);
        let produced = producer.join();
        written?;
        match produced {
            Ok(()) => Ok(()),
            Err(_) => Err(StoreError::Invalid(
                "import findings thread stopped unexpectedly".into(),
            )),
        }
    })
}

/// The SQLite side: binds and steps each row of each batch, until the producer's last.
/// Each batch goes `back` to the producer once written: its strings are freed on the thread
/// that allocated them. Freed here, glibc took the producer's arena lock for each one while
/// the producer allocated under it (perf: ~12 % of this thread in malloc, free and futex).
fn consume(
    tx: &rusqlite::Transaction<'_>,
    set_id: i64,
    component_ids: Option<&HashMap<Box<str>, i64>>,
    from: &mpsc::Receiver<Result<Batch>>,
    back: &mpsc::Sender<Batch>,
) -> Result<()> {
    // The component id comes from the ids the component write kept (?20), or is looked up
    // in SQL when it kept none (past 20k components, to keep import RSS flat) or has no
    // such key (then there is no such component and the lookup gives NULL too). COALESCE
    // stops at its first non-NULL argument: the lookup runs only when ?20 is NULL. The
    // lookup per row was ~10 % of this thread, which bounds the rows phase.
    let mut ins = tx.prepare(
        "INSERT INTO finding(set_id, vuln_id, aliases, component_key, severity, severity_rank, severity_disagrees,
            cvss_v2_vector, cvss_v3_vector, cvss_v3_score, cvss_v4_vector, epss, epss_percentile, epss_date, kev,
            fixed_versions, fix_state, scanners, fix_disagrees, component_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19,
            COALESCE(?20, (SELECT id FROM component WHERE set_id = ?1 AND key = ?4)))",
    )?;
    // The long text apart from the row the gate scans (migration 010).
    let mut text =
        tx.prepare("INSERT INTO finding_text(finding_id, title, description) VALUES (?1, ?2, ?3)")?;
    // A plain INSERT: `add` keeps one view per file, so (finding, file) is unique. OR
    // REPLACE made SQLite open a statement journal for every row (a copy of each page the
    // row touched; ~10 % of this thread).
    let mut src = tx.prepare(
        "INSERT INTO finding_source(finding_id, file_id, scanner, view, chunk_id, chunk_at, chunk_len)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    // A producer that stops without sending its last batch has failed: `recv` then errs.
    loop {
        let mut batch = from.recv().map_err(|_| {
            StoreError::Invalid("import findings thread stopped unexpectedly".into())
        })??;
        let last = batch.done;
        for r in &batch.rows {
            let key = batch.get(&r.component_key);
            let component_id = component_ids.and_then(|m| m.get(key)).copied();
            ins.execute(params![
                set_id,
                batch.get(&r.vuln_id),
                batch.get(&r.aliases),
                key,
                r.severity,
                r.severity_rank,
                r.severity_disagrees,
                batch.get_opt(&r.v2),
                batch.get_opt(&r.v3),
                r.v3_score,
                batch.get_opt(&r.v4),
                r.epss,
                r.epss_percentile,
                batch.get_opt(&r.epss_date),
                r.kev,
                batch.get(&r.fixed),
                batch.get(&r.fix_state),
                batch.get(&r.scanners),
                r.fix_disagrees,
                component_id,
            ])?;
            let fid = tx.last_insert_rowid();
            if r.title.is_some() || r.description.is_some() {
                text.execute(params![
                    fid,
                    batch.get_opt(&r.title),
                    batch.get_opt(&r.description)
                ])?;
            }
            for s in batch.sources.get(r.sources.clone()).unwrap_or_default() {
                let (c, at, len) = match s.chunk {
                    Some((c, at, len)) => (Some(c), Some(at), Some(len)),
                    None => (None, None, None),
                };
                src.execute(params![
                    fid,
                    s.file_id,
                    batch.get(&s.scanner),
                    batch.get_opt(&s.inline),
                    c,
                    at,
                    len
                ])?;
            }
        }
        for p in batch.chunks.drain(..) {
            view_chunks::insert_packed(tx, set_id, p)?;
        }
        // A producer that has finished no longer listens; the batch is then freed here.
        let _ = back.send(batch);
        if last {
            return Ok(());
        }
    }
}

/// The producer's state: the batch being filled and the chunk being packed.
struct Producer<'c> {
    ctx: &'c Ctx<'c>,
    packer: ChunkPacker,
    batch: Batch,
    /// The views each finding stores: (view index, file id).
    kept: Vec<(usize, i64)>,
    /// The stored text of the view being added (reused).
    view_text: String,
    /// Batches the SQLite thread has written, to be freed (and reused) here.
    spent: mpsc::Receiver<Batch>,
}

/// The producer: every finding into rows, sent in batches, the last one marked `done`; or
/// the first error. Stops quietly when the receiver is gone (the write failed).
fn produce(
    ctx: &Ctx<'_>,
    slice: &[SetFinding],
    stream: Option<&mut dyn FindingStream>,
    to: mpsc::SyncSender<Result<Batch>>,
    spent: mpsc::Receiver<Batch>,
) {
    let mut p = Producer {
        ctx,
        packer: ChunkPacker::new(ctx.first_chunk),
        batch: Batch::default(),
        kept: Vec::new(),
        view_text: String::new(),
        spent,
    };
    let timing = std::env::var_os("DOSSIER_TIMINGS").is_some();
    let cpu = super::imports::thread_cpu_s();
    match p.run(slice, stream, &to) {
        Ok(true) => {}
        Ok(false) => return,
        Err(e) => {
            let _ = to.send(Err(e));
            return;
        }
    }
    let Producer {
        packer, mut batch, ..
    } = p;
    if let Err(e) = packer.finish(&mut batch.chunks) {
        let _ = to.send(Err(e));
        return;
    }
    batch.done = true;
    if timing {
        eprintln!(
            "import write: findings producer: {:.3} s CPU on its thread",
            super::imports::thread_cpu_s() - cpu
        );
    }
    let _ = to.send(Ok(batch));
}

impl Producer<'_> {
    /// False when the receiver is gone.
    fn run(
        &mut self,
        slice: &[SetFinding],
        stream: Option<&mut dyn FindingStream>,
        to: &mpsc::SyncSender<Result<Batch>>,
    ) -> Result<bool> {
        for f in slice {
            self.add(f)?;
            if !self.flush_if_full(to) {
                return Ok(false);
            }
        }
        if let Some(s) = stream {
            while let Some(f) = s.next_finding()? {
                self.add(&f)?;
                if !self.flush_if_full(to) {
                    return Ok(false);
                }
            }
        }
        Ok(true)
    }

    fn flush_if_full(&mut self, to: &mpsc::SyncSender<Result<Batch>>) -> bool {
        if self.batch.rows.len() < BATCH {
            return true;
        }
        self.packer.ready(&mut self.batch.chunks);
        // The next batch reuses a written one's vectors; its rows are dropped here.
        let mut next = Batch::default();
        while let Ok(mut b) = self.spent.try_recv() {
            b.clear();
            next = b;
        }
        to.send(Ok(std::mem::replace(&mut self.batch, next)))
            .is_ok()
    }

    /// One finding's row; its stored views go into the chunk being packed.
    fn add(&mut self, f: &SetFinding) -> Result<()> {
        let ctx = self.ctx;
        let s = summarize(f);
        // One view per file (the last wins), only for files of this set: `consume`'s plain
        // INSERT relies on it.
        let kept = &mut self.kept;
        kept.clear();
        for (i, (idx, _)) in f.views.iter().enumerate() {
            let Some(file_id) = ctx
                .file_shas
                .get(*idx)
                .and_then(|sha| ctx.file_ids.get(sha))
            else {
                continue;
            };
            match kept.iter_mut().find(|(_, id)| id == file_id) {
                Some(slot) => slot.0 = i,
                None => kept.push((i, *file_id)),
            }
        }
        let fix_differs = fix_disagrees(f, kept);
        let b = &mut self.batch;
        let first_source = b.sources.len();
        // In view order, as the rows were always written; a view a later one of the same
        // file replaces is not stored at all.
        for (i, (_, view)) in f.views.iter().enumerate() {
            let Some((_, file_id)) = kept.iter().find(|(k, _)| *k == i) else {
                continue;
            };
            stored_view::write(view, s.title, s.description, &mut self.view_text);
            let chunk = self.packer.push(&self.view_text)?;
            let scanner = b.put(&view.scanner);
            let inline = match chunk {
                Some(_) => None,
                None => Some(b.put(&self.view_text)),
            };
            b.sources.push(SourceRow {
                file_id: *file_id,
                scanner,
                inline,
                chunk,
            });
        }
        let severity = f.severity();
        let (epss, epss_percentile, epss_date) = match s.epss {
            Some(e) => (Some(e.score), e.percentile, e.date.as_deref()),
            None => (None, None, None),
        };
        let row = Row {
            vuln_id: b.put(&f.vuln_id),
            aliases: b.put_strs(&f.aliases),
            component_key: b.put(&f.component_key.0),
            severity: severity.as_str(),
            severity_rank: severity as i64,
            severity_disagrees: f.severity_disagrees(),
            v2: b.put_opt(s.v2),
            v3: b.put_opt(s.v3),
            v3_score: s.v3_score,
            v4: b.put_opt(s.v4),
            epss,
            epss_percentile,
            epss_date: b.put_opt(epss_date),
            kev: s.kev,
            fixed: b.put_strs(&s.fixed),
            fix_state: b.put(s.fix_state),
            scanners: b.put_strs(&s.scanners),
            fix_disagrees: fix_differs,
            title: b.put_opt(s.title),
            description: b.put_opt(s.description),
            sources: first_source..b.sources.len(),
        };
        b.rows.push(row);
        Ok(())
    }
}

#[cfg(test)]
#[path = "import_findings_tests.rs"]
mod tests;
