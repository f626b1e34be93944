//! The streamed half of an import: every finding's view and a small key go to the spool
//! (memory up to a budget, then unlinked scratch files; never the store's WAL). The merge
//! runs over the keys with `ingest::merge`'s rules, and the store write reads each merged
//! finding's views back from the spool, in the order the in-memory merge would give.

use super::import_spool;
use super::interner::{Interner, Names};
use super::key_runs::{Item, ItemSorter, SortedItems, CHUNK};
use super::scratch::{Scratch, ScratchReader};
use crate::ingest::formats::stream::FindingSink;
use crate::ingest::merge::preferred;
use crate::model::{ComponentKey, Document, FindingRecord, ScannerView, SetFinding};
use crate::store::{self, FindingStream};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Scanner views written once, read back by offset, and the merge's key for each: the id as
/// a number (the interner keeps each distinct id once), its component, where its view is,
/// and its aliases. The first `SPOOL_MEMORY` bytes of views stay in memory and only the
/// rest goes to a scratch file: writing a 110 MB report's ~90 MB of views through the page
/// cache cost the parse thread 0.13 s of kernel copying (perf), a quarter of its time. The
/// keys (~26 bytes a finding) keep `KEY_MEMORY` in memory. Memory is bounded in findings;
/// what grows is one entry per distinct vulnerability id.
pub(super) struct Spool {
    views: Scratch,
    keys: Scratch,
    ids: Interner,
    buf: Vec<u8>,
    key_buf: Vec<u8>,
}

/// What the spool keeps of views in memory before it writes to its scratch file.
/// `DOSSIER_SPOOL_MEMORY_MIB` overrides it, for measuring and tests.
const SPOOL_MEMORY: u64 = 64 << 20;
/// Keys kept in memory, ~150k findings (a 250 MB report); `DOSSIER_SPOOL_KEY_MEMORY_MIB`
/// overrides it. They are written and read once, in order: the file costs little.
const KEY_MEMORY: u64 = 4 << 20;

impl Spool {
    pub(super) fn new() -> Self {
        let mib = |var: &str, default: u64| {
            std::env::var(var)
                .ok()
                .and_then(|v| v.parse::<u64>().ok())
                .filter(|m| *m <= 4096)
                .map_or(default, |m| m << 20)
        };
        Self::with_memory(
            mib("DOSSIER_SPOOL_MEMORY_MIB", SPOOL_MEMORY),
            mib("DOSSIER_SPOOL_KEY_MEMORY_MIB", KEY_MEMORY),
        )
    }

    pub(super) fn with_memory(views: u64, keys: u64) -> Self {
        Self {
            views: Scratch::with_memory(views),
            keys: Scratch::with_memory(keys),
            ids: Interner::new(),
            buf: Vec::new(),
            key_buf: Vec::new(),
        }
    }

    /// Writes `view` as one record (`import_spool`).
    fn put(&mut self, view: &ScannerView) -> std::io::Result<(u64, u32)> {
        self.buf.clear();
        import_spool::encode(view, &mut self.buf);
        let len = u32::try_from(self.buf.len())
            .map_err(|_| std::io::Error::other("a scanner view of over 4 GiB"))?;
        Ok((self.views.put(&self.buf)?, len))
    }

    /// The record `put` wrote, into `out`.
    #[cfg(test)]
    fn read(&mut self, at: u64, len: u32, out: &mut Vec<u8>) -> std::io::Result<()> {
        self.views.flush()?;
        out.resize(len as usize, 0);
        self.views.read_at(at, out)
    }

    /// Writes one finding's key: id, component, view length and offset, then its aliases
    /// (little-endian; `read_key` reads it back).
    fn put_key(&mut self, f: FindingRecord, len: u32, at: u64) -> std::io::Result<()> {
        let FindingRecord {
            vuln_id,
            aliases,
            component,
            ..
        } = f;
        let too_many = || std::io::Error::other("over 2^32 distinct vulnerability ids");
        let mut alias_ids = Vec::new();
        for a in &aliases {
            if !a.is_empty() && *a != vuln_id {
                alias_ids.push(self.ids.add(a).ok_or_else(too_many)?);
            }
        }
        let v = self.ids.add(&vuln_id).ok_or_else(too_many)?;
        let b = &mut self.key_buf;
        b.clear();
        b.extend_from_slice(&v.to_le_bytes());
        b.extend_from_slice(&u32::try_from(component).unwrap_or(u32::MAX).to_le_bytes());
        b.extend_from_slice(&len.to_le_bytes());
        b.extend_from_slice(&at.to_le_bytes());
        b.extend_from_slice(&(alias_ids.len() as u32).to_le_bytes());
        for a in alias_ids {
            b.extend_from_slice(&a.to_le_bytes());
        }
        self.keys.put(&self.key_buf)?;
        Ok(())
    }
}

/// One finding's key as `put_key` wrote it, its aliases still to be read (`alias_count`).
struct Key {
    id: u32,
    component: u32,
    len: u32,
    at: u64,
    alias_count: u32,
}

fn read_key(r: &mut ScratchReader<'_>) -> std::io::Result<Key> {
    Ok(Key {
        id: r.u32()?,
        component: r.u32()?,
        len: r.u32()?,
        at: r.u64()?,
        alias_count: r.u32()?,
    })
}

/// The spooled findings of one file: a range of the key scratch.
#[derive(Default)]
pub(super) struct Staged {
    start: u64,
    end: u64,
    count: usize,
    /// Applied to this file's views that have no scanner version (`Streamed`).
    pub late_scanner_version: Option<String>,
}

impl Staged {
    /// Findings staged.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.count
    }

    pub(super) fn is_empty(&self) -> bool {
        self.count == 0
    }
}

pub(super) struct SpoolSink<'a> {
    spool: &'a mut Spool,
    staged: &'a mut Staged,
}

impl<'a> SpoolSink<'a> {
    /// Findings from here on are `staged`'s.
    pub(super) fn new(spool: &'a mut Spool, staged: &'a mut Staged) -> Self {
        staged.start = spool.keys.len;
        staged.end = spool.keys.len;
        staged.count = 0;
        Self { spool, staged }
    }
}

impl FindingSink for SpoolSink<'_> {
    fn discard(&mut self) {
        // What was written stays in the spool as dead bytes; no range covers it. Its ids
        // stay interned, linked to nothing.
        self.staged.start = self.spool.keys.len;
        self.staged.end = self.spool.keys.len;
        self.staged.count = 0;
    }

    fn finding(&mut self, f: FindingRecord) -> Result<(), String> {
        let io = |e: std::io::Error| format!("import spool: {e}");
        let (at, len) = self.spool.put(&f.view).map_err(io)?;
        self.spool.put_key(f, len, at).map_err(io)?;
        self.staged.end = self.spool.keys.len;
        self.staged.count += 1;
        Ok(())
    }
}

/// Moves a parsed document's in-memory findings into the spool.
pub(super) fn stage_doc(spool: &mut Spool, doc: &mut Document) -> std::io::Result<Staged> {
    let mut staged = Staged::default();
    let mut sink = SpoolSink::new(spool, &mut staged);
    for f in std::mem::take(&mut doc.findings) {
        sink.finding(f).map_err(std::io::Error::other)?;
    }
    Ok(staged)
}

/// The merged findings of a streamed import, read in `merge`'s order.
pub(super) struct KeyMerge {
    items: SortedItems,
    names: Names,
    /// Each group's id, by rank.
    roots: Vec<u32>,
    /// Group `r`'s other ids, in order, are `alias_ids[alias_start[r]..alias_start[r + 1]]`.
    alias_start: Vec<u32>,
    alias_ids: Vec<u32>,
    /// Every component key, sorted: items name them by rank.
    comps: Vec<ComponentKey>,
    /// Each document's late scanner version, by the items' `late`.
    lates: Vec<Option<String>>,
    views: Scratch,
    /// The spool record read last.
    rec: Vec<u8>,
}

/// The key merge on a thread of its own, so that the write's first steps (the set, its
/// files and blobs, its components) go on beside it; the first finding asked for waits for
/// it. It counts the findings it hands out: the import's audit entry, written after them,
/// reads the count.
pub(super) struct MergeBeside {
    running: Option<std::thread::JoinHandle<std::io::Result<KeyMerge>>>,
    merged: Option<KeyMerge>,
    emitted: Arc<AtomicUsize>,
}

impl MergeBeside {
    pub(super) fn start(docs: Vec<StagedDoc>, spool: Spool) -> std::io::Result<Self> {
        let timed = std::env::var_os("DOSSIER_TIMINGS").is_some();
        let running = std::thread::Builder::new()
            .name("import-merge".into())
            .spawn(move || {
                let t = std::time::Instant::now();
                let k = merge_keys(docs, spool);
                if timed {
                    eprintln!(
                        "import: key merge (beside the write): {:.3} s",
                        t.elapsed().as_secs_f64()
                    );
                }
                k
            })?;
        Ok(Self {
            running: Some(running),
            merged: None,
            emitted: Arc::new(AtomicUsize::new(0)),
        })
    }

    /// The merged findings handed out so far.
    pub(super) fn emitted(&self) -> Arc<AtomicUsize> {
        Arc::clone(&self.emitted)
    }

    fn merged(&mut self) -> store::Result<&mut KeyMerge> {
        let failed =
            |e: &dyn std::fmt::Display| store::StoreError::Invalid(format!("import spool: {e}"));
        if let Some(h) = self.running.take() {
            let k = h
                .join()
                .map_err(|_| failed(&"the key merge thread stopped unexpectedly"))?
                .map_err(|e| failed(&e))?;
            self.merged = Some(k);
        }
        self.merged
            .as_mut()
            .ok_or_else(|| failed(&"the key merge failed before"))
    }
}

impl FindingStream for MergeBeside {
    fn next_finding(&mut self) -> store::Result<Option<SetFinding>> {
        let f = self.merged()?.next_finding()?;
        if f.is_some() {
            self.emitted.fetch_add(1, Ordering::Relaxed);
        }
        Ok(f)
    }
}

/// Union-find over interned ids; the same operations as `merge`'s `Aliases`, so the same
/// groups and the same root (the preferred id of each group) whatever the order.
struct Ids<'a> {
    names: &'a Names,
    parent: Vec<u32>,
}

impl Ids<'_> {
    fn find(&mut self, x: u32) -> u32 {
        let mut r = x;
        while self.parent[r as usize] != r {
            r = self.parent[r as usize];
        }
        let mut c = x;
        while self.parent[c as usize] != r {
            let n = self.parent[c as usize];
            self.parent[c as usize] = r;
            c = n;
        }
        r
    }
    fn union(&mut self, a: u32, b: u32) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            let (keep, other) = if preferred(self.names.name(ra), self.names.name(rb)) {
                (ra, rb)
            } else {
                (rb, ra)
            };
            self.parent[other as usize] = keep;
        }
    }
}

/// The alias groups of every id (`ids.union` over each finding's aliases).
struct Groups {
    /// Each group's id (its root), by rank: the order of the ids' strings.
    roots: Vec<u32>,
    /// Each id's group rank.
    of: Vec<u32>,
    /// Group `r`'s other ids, by name, are `alias_ids[alias_start[r]..alias_start[r + 1]]`.
    alias_start: Vec<u32>,
    alias_ids: Vec<u32>,
}

type StagedDoc = (usize, Vec<ComponentKey>, Staged);

fn alias_groups(names: &Names, keys: &Scratch, docs: &[StagedDoc]) -> std::io::Result<Groups> {
    let n = names.len();
    let mut ids = Ids {
        names,
        parent: (0..n as u32).collect(),
    };
    // Every alias link first: the groups and their roots do not depend on the order (`Ids`).
    for (_, _, st) in docs {
        let mut r = ScratchReader::new(keys, st.start, st.end);
        for _ in 0..st.count {
            let k = read_key(&mut r)?;
            for _ in 0..k.alias_count {
                let a = r.u32()?;
                if k.id as usize >= n || a as usize >= n {
                    return Err(bad_key());
                }
                ids.union(k.id, a);
            }
        }
        if !r.at_end() {
            return Err(bad_key());
        }
    }
    let root_of: Vec<u32> = (0..n as u32).map(|i| ids.find(i)).collect();
    drop(ids);
    // Roots ranked by their string, so sorting by rank sorts by id as the BTreeMap does.
    let mut roots: Vec<u32> = (0..n as u32)
        .filter(|i| root_of[*i as usize] == *i)
        .collect();
    roots.sort_unstable_by(|a, b| names.name(*a).cmp(names.name(*b)));
    let mut rank = vec![u32::MAX; n];
    for (r, id) in roots.iter().enumerate() {
        rank[*id as usize] = r as u32;
    }
    let of: Vec<u32> = root_of.iter().map(|r| rank[*r as usize]).collect();
    drop((root_of, rank));
    // The other ids of each group, by name (interned: no two alike).
    let mut members: Vec<(u32, u32)> = (0..n as u32)
        .filter(|i| roots.get(of[*i as usize] as usize) != Some(i))
        .map(|i| (of[i as usize], i))
        .collect();
    members.sort_unstable_by(|a, b| {
        a.0.cmp(&b.0)
            .then_with(|| names.name(a.1).cmp(names.name(b.1)))
    });
    let mut alias_start = Vec::with_capacity(roots.len() + 1);
    let mut at = 0usize;
    for r in 0..roots.len() as u32 {
        alias_start.push(at as u32);
        while members.get(at).is_some_and(|m| m.0 == r) {
            at += 1;
        }
    }
    alias_start.push(at as u32);
    Ok(Groups {
        roots,
        of,
        alias_start,
        alias_ids: members.into_iter().map(|m| m.1).collect(),
    })
}

/// Every distinct component key of the documents, sorted, and for each document its keys'
/// places in that order.
fn component_ranks(docs: &[StagedDoc]) -> (Vec<ComponentKey>, Vec<Vec<u32>>) {
    let mut comp_index: HashMap<&ComponentKey, u32> = HashMap::new();
    let mut comps: Vec<&ComponentKey> = Vec::new();
    let mut locals: Vec<Vec<u32>> = docs
        .iter()
        .map(|(_, doc_keys, _)| {
            doc_keys
                .iter()
                .map(|k| {
                    let next = comps.len() as u32;
                    *comp_index.entry(k).or_insert_with(|| {
                        comps.push(k);
                        next
                    })
                })
                .collect()
        })
        .collect();
    let mut order: Vec<u32> = (0..comps.len() as u32).collect();
    order.sort_by(|a, b| comps[*a as usize].cmp(comps[*b as usize]));
    let mut comp_rank = vec![0u32; comps.len()];
    for (r, c) in order.iter().enumerate() {
        comp_rank[*c as usize] = r as u32;
    }
    for local in &mut locals {
        for c in local.iter_mut() {
            *c = comp_rank[*c as usize];
        }
    }
    let sorted = order.iter().map(|c| comps[*c as usize].clone()).collect();
    (sorted, locals)
}

/// The key scratch does not read back as it was written.
fn bad_key() -> std::io::Error {
    std::io::Error::other("import spool: the finding keys do not read back as written")
}

/// `docs`: (file index, the document's component keys, its staged findings), in merge order.
pub(super) fn merge_keys(docs: Vec<StagedDoc>, spool: Spool) -> std::io::Result<KeyMerge> {
    // `DOSSIER_KEY_SORT_CHUNK` (items) forces the runs on disk, for tests and measuring.
    let chunk = std::env::var("DOSSIER_KEY_SORT_CHUNK")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|c| *c > 0)
        .map_or(CHUNK, |c| c.min(CHUNK));
    merge_keys_in(docs, spool, chunk)
}

/// `merge_keys` sorting `chunk` items at a time in memory.
pub(super) fn merge_keys_in(
    docs: Vec<StagedDoc>,
    spool: Spool,
    chunk: usize,
) -> std::io::Result<KeyMerge> {
    let Spool {
        mut views,
        mut keys,
        ids: interner,
        ..
    } = spool;
    views.flush()?;
    keys.flush()?;
    let names = interner.into_names();
    let groups = alias_groups(&names, &keys, &docs)?;
    let (comps, locals) = component_ranks(&docs);
    // One item per view; the sort is stable, so views of one finding keep the file and
    // document order `merge` gives them.
    let total: usize = docs.iter().map(|(_, _, st)| st.count).sum();
    let mut sorter = ItemSorter::new(chunk, total);
    let mut lates: Vec<Option<String>> = Vec::with_capacity(docs.len());
    for ((file, _, st), local) in docs.into_iter().zip(&locals) {
        let late = lates.len() as u32;
        lates.push(st.late_scanner_version);
        let mut r = ScratchReader::new(&keys, st.start, st.end);
        for _ in 0..st.count {
            let k = read_key(&mut r)?;
            r.take(4 * k.alias_count as usize)?;
            let group = *groups.of.get(k.id as usize).ok_or_else(bad_key)?;
            // A finding whose component the document does not list has no row (as in
            // `merge`); its ids still joined their groups.
            let Some(&comp) = local.get(k.component as usize) else {
                continue;
            };
            sorter.push(Item {
                root: group,
                comp,
                file: u32::try_from(file).unwrap_or(u32::MAX),
                late,
                len: k.len,
                at: k.at,
            })?;
        }
    }
    Ok(KeyMerge {
        items: sorter.finish()?,
        names,
        roots: groups.roots,
        alias_start: groups.alias_start,
        alias_ids: groups.alias_ids,
        comps,
        lates,
        views,
        rec: Vec::new(),
    })
}

impl FindingStream for KeyMerge {
    fn next_finding(&mut self) -> store::Result<Option<SetFinding>> {
        let spool_err =
            |e: &dyn std::fmt::Display| store::StoreError::Invalid(format!("import spool: {e}"));
        let Some(first) = self.items.peek() else {
            return Ok(None);
        };
        let (root, comp) = (first.root, first.comp);
        let mut views = Vec::with_capacity(1);
        while let Some(it) = self.items.peek() {
            if (it.root, it.comp) != (root, comp) {
                break;
            }
            self.rec.resize(it.len as usize, 0);
            self.views
                .read_at(it.at, &mut self.rec)
                .map_err(|e| spool_err(&e))?;
            let mut v = import_spool::decode(&self.rec).map_err(|e| spool_err(&e))?;
            if v.scanner_version.is_none() {
                v.scanner_version.clone_from(&self.lates[it.late as usize]);
            }
            views.push((it.file as usize, v));
            self.items.advance().map_err(|e| spool_err(&e))?;
        }
        let root = root as usize;
        let (from, to) = (self.alias_start[root], self.alias_start[root + 1]);
        Ok(Some(SetFinding {
            vuln_id: self.names.name(self.roots[root]).to_string(),
            aliases: self.alias_ids[from as usize..to as usize]
                .iter()
                .map(|a| self.names.name(*a).to_string())
                .collect(),
            component_key: self.comps[comp as usize].clone(),
            views,
        }))
    }
}

#[cfg(test)]
#[path = "import_stream_tests.rs"]
mod tests;
