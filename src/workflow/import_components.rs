//! The components of a streamed import: every component and dependency edge of every
//! document goes to sorted runs (`runs::Sorter`: a fixed memory budget, spilled to an
//! unlinked temp file beyond it) as it is parsed; the ref -> key resolution is one lookup
//! per edge end in a table of the refs while they fit the component budget, two sort-merge
//! joins beyond it, and the merge by key one k-way read, so memory stays flat at any size.
//! Same rows, same order as `ingest::merge`.

use super::import_stream::SpoolSink;
use super::runs::{key_str, key_str_len, key_u64, read_key_str, read_key_u64, Sorter};
use crate::ingest::components::{self, ComponentSink, RootView, Spooled};
use crate::ingest::formats::stream::FindingSink;
use crate::ingest::merge::SUBJECT;
use crate::model::{Component, ComponentKey, DocKind, Document, FindingRecord};
use crate::store::{self, StoreError};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::AtomicUsize;

/// Memory the component records may take before a run is spilled (~60,000 Syft components;
/// 64 MiB, one run at 110,000, measured no faster and 35 MiB larger).
const COMP_BUDGET: usize = 32 << 20;
/// The same for local refs and for each stage of the edges (a quarter of it).
const EDGE_BUDGET: usize = COMP_BUDGET / 4;

/// (component, edge) budgets: the defaults, or `DOSSIER_RUN_BUDGET_MIB` for measuring
/// (the component budget; edges get a quarter).
fn budgets() -> (usize, usize) {
    std::env::var("DOSSIER_RUN_BUDGET_MIB")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|m| (1..=4096).contains(m))
        .map_or((COMP_BUDGET, EDGE_BUDGET), |m| (m << 20, (m << 20) / 4))
}

fn io(e: std::io::Error) -> StoreError {
    StoreError::Invalid(format!("component sort file: {e}"))
}

fn bad(what: &str) -> StoreError {
    StoreError::Invalid(format!("component sort file: a damaged {what} record"))
}

fn text(b: &[u8]) -> store::Result<&str> {
    std::str::from_utf8(b).map_err(|_| bad("text"))
}

/// A callback over (number, key or ref, record or resolved key).
type RowFn<'a, N> = dyn FnMut(N, &[u8], &[u8]) -> store::Result<()> + 'a;

/// A callback over (from key, to key) of a resolved edge.
type PairFn<'a> = dyn FnMut(&[u8], &[u8]) -> store::Result<()> + 'a;

/// One document of the import, as the runs know it.
#[derive(Default)]
struct DocInfo {
    /// Place in the merge; `None` until `place` (a discarded parse never gets one).
    rank: Option<usize>,
    path: String,
    is_sbom: bool,
    is_scan: bool,
    /// Refs that denote the subject (edges from them start at the image).
    subject: HashSet<Vec<u8>>,
    /// Refs whose components are not components (the SPDX described roots).
    excluded: HashSet<Vec<u8>>,
    /// Components so far (the next one's number).
    count: u64,
}

/// The runs of one import.
struct Runs {
    docs: Vec<DocInfo>,
    /// key: (component key, doc); payload: seq (u64 LE) then `components::encode`.
    comps: Sorter,
    /// key: `ref_key` (doc, local ref); payload: component key. The first per ref is the first
    /// component with it (ties keep insertion order, which is document order).
    refs: Sorter,
    /// key: `ref_key` (doc, from ref); payload: to ref.
    edges: Sorter,
    edge_budget: usize,
    kbuf: Vec<u8>,
    pbuf: Vec<u8>,
    resolved: Option<Resolved>,
}

/// After `resolve`: the distinct edges by key and, per key, whether it is in the graph and
/// whether the subject points at it.
struct Resolved {
    /// key: (from key, to key), may repeat.
    deps: Sorter,
    /// key: (component key); payload: 1 when the edge came from the subject.
    graph: Sorter,
    has_subject_edges: bool,
    /// The edges were resolved through a `RefTable`, not the joins (tests check both run).
    #[cfg_attr(not(test), allow(dead_code))]
    by_table: bool,
}

impl Runs {
    fn new(comp_budget: usize, edge_budget: usize) -> Self {
        Self {
            docs: Vec::new(),
            comps: Sorter::new(comp_budget),
            refs: Sorter::new(edge_budget),
            edges: Sorter::new(edge_budget),
            edge_budget,
            kbuf: Vec::new(),
            pbuf: Vec::new(),
            resolved: None,
        }
    }

    /// The memory up to which `resolve` looks each edge's ends up in a table of the refs
    /// instead of two sort-merge joins: the component budget, so the table stays within
    /// what the component runs may hold (~27 MiB at 110,000 Syft components); beyond it,
    /// and in the tests' tiny budgets, the joins keep memory flat.
    fn table_budget(&self) -> u64 {
        (self.edge_budget as u64).saturating_mul(4)
    }

    /// What a `RefTable` of the refs would take: their bytes, plus per ref its span (24
    /// bytes) and its hash-table slot (two slices, 33 bytes, at up to twice that after the
    /// table's power-of-two rounding and load factor). Counted per ref, not only in bytes,
    /// so that a document of a million tiny refs cannot make the table several times its
    /// budget.
    fn table_bytes(&self) -> u64 {
        const PER_REF: u64 = 24 + 2 * 33;
        self.refs
            .pushed()
            .saturating_add(self.refs.records().saturating_mul(PER_REF))
    }

    fn new_doc(&mut self) -> usize {
        self.docs.push(DocInfo::default());
        self.docs.len() - 1
    }

    fn component(
        &mut self,
        doc: usize,
        c: &Component,
        root: Option<&RootView>,
    ) -> std::io::Result<ComponentKey> {
        let d = &mut self.docs[doc];
        let seq = d.count;
        d.count += 1;
        let key = c.key();
        self.kbuf.clear();
        key_str(&mut self.kbuf, key.0.as_bytes());
        key_u64(&mut self.kbuf, doc as u64);
        self.pbuf.clear();
        self.pbuf.extend_from_slice(&seq.to_le_bytes());
        components::encode(c, root, &mut self.pbuf);
        self.comps.push(&self.kbuf, &self.pbuf)?;
        if let Some(r) = c.local_ref.as_deref() {
            self.kbuf.clear();
            ref_key(&mut self.kbuf, doc, r.as_bytes());
            self.refs.push(&self.kbuf, key.0.as_bytes())?;
        }
        Ok(key)
    }

    fn edge(&mut self, doc: usize, from: &str, to: &str) -> std::io::Result<()> {
        self.kbuf.clear();
        ref_key(&mut self.kbuf, doc, from.as_bytes());
        self.edges.push(&self.kbuf, to.as_bytes())
    }

    /// Every component record of `doc` that `pick` accepts (given its local ref), as
    /// (seq, record), in no particular order.
    fn scan(
        &mut self,
        doc: usize,
        pick: &mut dyn FnMut(Option<&[u8]>) -> bool,
        f: &mut RowFn<'_, u64>,
    ) -> store::Result<()> {
        self.comps.finish();
        let mut it = self.comps.iter().map_err(io)?;
        while let Some((k, p)) = it.next().map_err(io)? {
            let n = key_str_len(k).ok_or_else(|| bad("component"))?;
            let (d, _) = read_key_u64(&k[n..]).ok_or_else(|| bad("component"))?;
            if d != doc as u64 || p.len() < 8 {
                continue;
            }
            let rec = &p[8..];
            let r = components::local_ref_of(rec).map_err(|e| bad(&e))?;
            if pick(r) {
                let seq = u64::from_le_bytes(p[..8].try_into().map_err(|_| bad("component"))?);
                f(seq, &k[..n], rec)?;
            }
        }
        Ok(())
    }

    /// Joins `edges` (key: doc, ref; payload: other end) with the refs: each edge whose ref
    /// names the subject or a component goes to `out` with what it resolved to.
    fn join(
        docs: &[DocInfo],
        refs: &Sorter,
        edges: &Sorter,
        out: &mut RowFn<'_, usize>,
    ) -> store::Result<()> {
        let mut ri = refs.iter().map_err(io)?;
        let (mut rkey, mut rval, mut have) = (Vec::new(), Vec::new(), false);
        if let Some((k, v)) = ri.next().map_err(io)? {
            (rkey, rval, have) = (k.to_vec(), v.to_vec(), true);
        }
        let mut ei = edges.iter().map_err(io)?;
        while let Some((ek, other)) = ei.next().map_err(io)? {
            while have && rkey.as_slice() < ek {
                match ri.next().map_err(io)? {
                    Some((k, v)) => {
                        rkey.clear();
                        rkey.extend_from_slice(k);
                        rval.clear();
                        rval.extend_from_slice(v);
                    }
                    None => have = false,
                }
            }
            let Some((doc, d, r)) = edge_ref(docs, ek)? else {
                continue;
            };
            let resolved: &[u8] = if d.subject.contains(r.as_ref()) {
                SUBJECT.as_bytes()
            } else if have && rkey.as_slice() == ek {
                &rval
            } else {
                continue;
            };
            out(doc, other, resolved)?;
        }
        Ok(())
    }

    /// Resolves the edges of the placed documents to keys (the subject's refs first, then
    /// the first component with the ref), as `ingest::merge` does.
    fn resolve(&mut self) -> store::Result<()> {
        if self.resolved.is_some() {
            return Ok(());
        }
        self.refs.finish();
        self.edges.finish();
        // -> (from key, to key)
        let mut deps = Sorter::new(self.edge_budget);
        let mut k = Vec::new();
        let mut dep = |fk: &[u8], tk: &[u8]| {
            if fk == tk || tk == SUBJECT.as_bytes() {
                return Ok(());
            }
            k.clear();
            key_str(&mut k, fk);
            key_str(&mut k, tk);
            deps.push(&k, &[]).map_err(io)
        };
        let by_table = self.table_bytes() <= self.table_budget();
        if by_table {
            let table = RefTable::new(&self.refs)?;
            table.edges(&self.docs, &self.edges, &mut dep)?;
        } else {
            // (doc, from, to) -> (doc, to, from key) -> (from key, to key)
            let mut by_to = Sorter::new(self.edge_budget);
            let mut bk = Vec::new();
            Self::join(&self.docs, &self.refs, &self.edges, &mut |doc, to, fk| {
                bk.clear();
                ref_key(&mut bk, doc, to);
                by_to.push(&bk, fk).map_err(io)
            })?;
            self.edges = Sorter::new(1);
            by_to.finish();
            Self::join(&self.docs, &self.refs, &by_to, &mut |_, fk, tk| dep(fk, tk))?;
        }
        self.edges = Sorter::new(1);
        self.refs = Sorter::new(1);
        deps.finish();
        let mut graph = Sorter::new(self.edge_budget);
        let mut has_subject_edges = false;
        let subject = subject_key();
        {
            let mut last: Option<Vec<u8>> = None;
            let mut last_from: Vec<u8> = Vec::new();
            let mut it = deps.iter().map_err(io)?;
            while let Some((dk, _)) = it.next().map_err(io)? {
                if last.as_deref() == Some(dk) {
                    continue;
                }
                let l = last.get_or_insert_with(Vec::new);
                l.clear();
                l.extend_from_slice(dk);
                let n = key_str_len(dk).ok_or_else(|| bad("edge"))?;
                let (f, t) = dk.split_at(n);
                let from_subject = f == subject.as_slice();
                has_subject_edges |= from_subject;
                // The edges come sorted by their from key: one graph record per from key is
                // enough (the merge ORs a key's records), and ~a third fewer to sort.
                if !from_subject && last_from.as_slice() != f {
                    graph.push(f, &[0]).map_err(io)?;
                    last_from.clear();
                    last_from.extend_from_slice(f);
                }
                graph.push(t, &[u8::from(from_subject)]).map_err(io)?;
            }
        }
        graph.finish();
        self.resolved = Some(Resolved {
            deps,
            graph,
            has_subject_edges,
            by_table,
        });
        Ok(())
    }

    /// Number of distinct keys among the components of the placed documents (tests; the
    /// import counts as it writes, `merged_counting`).
    #[cfg(test)]
    fn count(&mut self) -> store::Result<usize> {
        self.comps.finish();
        let mut it = self.comps.iter().map_err(io)?;
        let mut n = 0usize;
        let mut last: Vec<u8> = Vec::new();
        let mut counted = false;
        while let Some((k, p)) = it.next().map_err(io)? {
            let kl = key_str_len(k).ok_or_else(|| bad("component"))?;
            if last.as_slice() != &k[..kl] {
                last.clear();
                last.extend_from_slice(&k[..kl]);
                counted = false;
            }
            if !counted && self.row_counts(&k[kl..], p)? {
                counted = true;
                n += 1;
            }
        }
        Ok(n)
    }

    /// The document of a component row, when it is placed and the row is not excluded.
    #[cfg(test)]
    fn row_counts(&self, doc_part: &[u8], payload: &[u8]) -> store::Result<bool> {
        Ok(self.row_doc(doc_part, payload)?.is_some())
    }

    fn row_doc(&self, doc_part: &[u8], payload: &[u8]) -> store::Result<Option<&DocInfo>> {
        let (doc, _) = read_key_u64(doc_part).ok_or_else(|| bad("component"))?;
        let Some(d) = usize::try_from(doc).ok().and_then(|i| self.docs.get(i)) else {
            return Ok(None);
        };
        if d.rank.is_none() {
            return Ok(None);
        }
        if !d.excluded.is_empty() {
            let rec = payload.get(8..).ok_or_else(|| bad("component"))?;
            if let Some(r) = components::local_ref_of(rec).map_err(|e| bad(&e))? {
                if d.excluded.contains(r) {
                    return Ok(None);
                }
            }
        }
        Ok(Some(d))
    }
}

/// The sort key of a document's local ref: (doc, a hash of the ref, the ref). The joins only
/// need refs grouped, not in text order; the hash ends most comparisons in the sorter's
/// 16-byte prefix.
fn ref_key(out: &mut Vec<u8>, doc: usize, r: &[u8]) {
    key_u64(out, doc as u64);
    // FNV-1a: fixed, so runs sort alike.
    let h = r.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    });
    key_u64(out, h);
    key_str(out, r);
}

/// The first component key of each (doc, local ref), as `join` finds it, copied out of the
/// refs' runs into one buffer: (ref key, component key) records, each ref key once.
struct RefTable {
    bytes: Vec<u8>,
    /// (start, ref key length, component key length) of each record in `bytes`.
    spans: Vec<(usize, usize, usize)>,
}

impl RefTable {
    fn new(refs: &Sorter) -> store::Result<Self> {
        let mut t = RefTable {
            bytes: Vec::with_capacity(usize::try_from(refs.pushed()).unwrap_or(0)),
            spans: Vec::new(),
        };
        let mut it = refs.iter().map_err(io)?;
        while let Some((k, v)) = it.next().map_err(io)? {
            // Equal ref keys come in insertion order: the first is the one `join` takes.
            if t.spans
                .last()
                .is_some_and(|&(at, kl, _)| &t.bytes[at..at + kl] == k)
            {
                continue;
            }
            t.spans.push((t.bytes.len(), k.len(), v.len()));
            t.bytes.extend_from_slice(k);
            t.bytes.extend_from_slice(v);
        }
        Ok(t)
    }

    /// Resolves each edge of `edges` (key: doc, from ref; payload: to ref) as the two joins
    /// of `Runs::resolve` do, one lookup per end, and hands (from key, to key) to `out`.
    fn edges(&self, docs: &[DocInfo], edges: &Sorter, out: &mut PairFn<'_>) -> store::Result<()> {
        let map: HashMap<&[u8], &[u8]> = self
            .spans
            .iter()
            .map(|&(at, kl, vl)| (&self.bytes[at..at + kl], &self.bytes[at + kl..at + kl + vl]))
            .collect();
        let mut to_key = Vec::new();
        let mut it = edges.iter().map_err(io)?;
        while let Some((ek, to)) = it.next().map_err(io)? {
            let Some((doc, d, from)) = edge_ref(docs, ek)? else {
                continue;
            };
            let resolve = |r: &[u8], k: &[u8]| -> Option<&[u8]> {
                if d.subject.contains(r) {
                    Some(SUBJECT.as_bytes())
                } else {
                    map.get(k).copied()
                }
            };
            let Some(fk) = resolve(from.as_ref(), ek) else {
                continue;
            };
            to_key.clear();
            ref_key(&mut to_key, doc, to);
            if let Some(tk) = resolve(to, &to_key) {
                out(fk, tk)?;
            }
        }
        Ok(())
    }
}

/// (document number, document, ref) of an edge.
type EdgeRef<'d, 'k> = (usize, &'d DocInfo, std::borrow::Cow<'k, [u8]>);

/// The document and the ref of an edge's sort key (`ref_key`), when the document is placed
/// in the merge (edges of a discarded parse are skipped).
fn edge_ref<'d, 'k>(docs: &'d [DocInfo], ek: &'k [u8]) -> store::Result<Option<EdgeRef<'d, 'k>>> {
    let (doc, rest) = read_key_u64(ek).ok_or_else(|| bad("edge"))?;
    let (_, rest) = read_key_u64(rest).ok_or_else(|| bad("edge"))?;
    let Some((i, d)) = usize::try_from(doc)
        .ok()
        .and_then(|i| docs.get(i).map(|d| (i, d)))
    else {
        return Ok(None);
    };
    if d.rank.is_none() {
        return Ok(None);
    }
    let (r, _) = read_key_str(rest).ok_or_else(|| bad("edge"))?;
    Ok(Some((i, d, r)))
}

/// `SUBJECT` as it starts an encoded (from, to) key.
fn subject_key() -> Vec<u8> {
    let mut k = Vec::new();
    key_str(&mut k, SUBJECT.as_bytes());
    k
}

/// The sort runs of one import (made at the first component) and which document holds
/// each streamed file's components.
#[derive(Default)]
pub(super) struct Components {
    runs: Option<Runs>,
    /// sha256 of a streamed file whose parse was kept -> its document.
    docs: HashMap<String, usize>,
    /// (component, edge) memory budgets when not the defaults (tests spill with tiny ones).
    budgets: Option<(usize, usize)>,
}

/// The sink of one large file: findings to the import's spool, components and edges to the
/// runs (under a document made at the first one).
pub(super) struct Sinks<'a> {
    findings: SpoolSink<'a>,
    comps: &'a mut Components,
    doc: Option<usize>,
}

impl Components {
    pub(super) fn sinks<'a>(&'a mut self, findings: SpoolSink<'a>) -> Sinks<'a> {
        Sinks {
            findings,
            comps: self,
            doc: None,
        }
    }

    #[cfg(test)]
    pub(super) fn with_budgets(component: usize, edge: usize) -> Self {
        Self {
            budgets: Some((component, edge)),
            ..Self::default()
        }
    }

    fn runs(&mut self) -> &mut Runs {
        let (c, e) = self.budgets.unwrap_or_else(budgets);
        self.runs.get_or_insert_with(|| Runs::new(c, e))
    }

    /// True once any component went to the runs: the set's components are then written
    /// from them (`merged`).
    pub(super) fn active(&self) -> bool {
        self.runs.is_some()
    }

    /// Moves `doc`'s components, edges and subject refs into the runs (after those it
    /// streamed there, if it is the streamed file `sha256`) and places it in the merge at
    /// `rank`. Returns the key of each of its components when `has_findings` (findings
    /// index them), else nothing.
    pub(super) fn stage(
        &mut self,
        rank: usize,
        path: &str,
        sha256: &str,
        doc: &mut Document,
        has_findings: bool,
    ) -> store::Result<Vec<ComponentKey>> {
        let is_sbom = matches!(doc.kind, DocKind::Sbom | DocKind::SbomWithScan);
        let is_scan =
            matches!(doc.kind, DocKind::Scan | DocKind::SbomWithScan) || !doc.findings.is_empty();
        let streamed = self.docs.get(sha256).copied();
        let runs = self.runs();
        let id = match streamed {
            Some(id) => id,
            None => runs.new_doc(),
        };
        let mut keys: Vec<ComponentKey> = if has_findings && runs.docs[id].count > 0 {
            let n = usize::try_from(runs.docs[id].count).unwrap_or(0);
            let mut ks: Vec<ComponentKey> = vec![ComponentKey(String::new()); n];
            runs.scan(id, &mut |_| true, &mut |seq, k, _| {
                let (s, _) = read_key_str(k).ok_or_else(|| bad("component"))?;
                if let Some(slot) = usize::try_from(seq).ok().and_then(|i| ks.get_mut(i)) {
                    *slot = ComponentKey(text(&s)?.to_string());
                }
                Ok(())
            })?;
            ks
        } else {
            Vec::new()
        };
        for c in std::mem::take(&mut doc.components) {
            let key = runs.component(id, &c, None).map_err(io)?;
            if has_findings {
                keys.push(key);
            }
        }
        for (f, t) in std::mem::take(&mut doc.dependencies) {
            runs.edge(id, &f, &t).map_err(io)?;
        }
        let d = &mut runs.docs[id];
        for r in doc.subject.iter().flat_map(|s| s.refs.iter()) {
            d.subject.insert(r.as_bytes().to_vec());
        }
        d.rank = Some(rank);
        d.path = path.to_string();
        d.is_sbom = is_sbom;
        d.is_scan = is_scan;
        Ok(keys)
    }

    /// The merged components and edges of every staged document, for the store write, and
    /// how many distinct components there are. `None` when nothing was staged.
    #[cfg(test)]
    pub(super) fn merged(&mut self) -> store::Result<Option<(Merged<'_>, usize)>> {
        let Some(runs) = self.runs.as_mut() else {
            return Ok(None);
        };
        runs.resolve()?;
        let n = runs.count()?;
        Ok(Some((
            Merged {
                runs,
                written: None,
            },
            n,
        )))
    }

    /// Whether the last `resolve` looked the edges up in a `RefTable` (tests).
    #[cfg(test)]
    pub(super) fn resolved_by_table(&self) -> Option<bool> {
        self.runs.as_ref()?.resolved.as_ref().map(|r| r.by_table)
    }

    /// `merged` without the counting pass: the number of components is stored in
    /// `written` as they are written.
    pub(super) fn merged_counting<'a>(
        &'a mut self,
        written: &'a AtomicUsize,
    ) -> store::Result<Option<Merged<'a>>> {
        let Some(runs) = self.runs.as_mut() else {
            return Ok(None);
        };
        runs.resolve()?;
        runs.comps.finish();
        Ok(Some(Merged {
            runs,
            written: Some(written),
        }))
    }

    /// Keeps the components the file `sha256` streamed into document `doc`.
    pub(super) fn keep(&mut self, sha256: &str, doc: Option<usize>) {
        if let Some(d) = doc {
            self.docs.insert(sha256.to_string(), d);
        }
    }
}

impl Sinks<'_> {
    /// The document of this file's components, if any went to the runs.
    pub(super) fn finish(self) -> Option<usize> {
        self.doc
    }

    fn open(&mut self) -> (&mut Runs, usize) {
        let runs = self.comps.runs();
        let id = *self.doc.get_or_insert_with(|| runs.new_doc());
        (runs, id)
    }
}

impl FindingSink for Sinks<'_> {
    fn finding(&mut self, f: FindingRecord) -> Result<(), String> {
        self.findings.finding(f)
    }

    fn discard(&mut self) {
        self.findings.discard();
        // Records already written stay behind under a document nothing places in the merge.
        self.doc = None;
    }

    fn components(&mut self) -> Option<&mut dyn ComponentSink> {
        Some(self)
    }
}

impl ComponentSink for Sinks<'_> {
    fn component(&mut self, c: &Component, root: Option<&RootView>) -> Result<(), String> {
        let (runs, id) = self.open();
        runs.component(id, c, root)
            .map(drop)
            .map_err(|e| io(e).to_string())
    }

    fn edge(&mut self, from: &str, to: &str) -> Result<(), String> {
        let (runs, id) = self.open();
        runs.edge(id, from, to).map_err(|e| io(e).to_string())
    }

    fn exclude(&mut self, refs: &[String]) -> Result<(), String> {
        let (runs, id) = self.open();
        let d = &mut runs.docs[id];
        d.excluded
            .extend(refs.iter().map(|r| r.as_bytes().to_vec()));
        Ok(())
    }

    fn find(&mut self, refs: &HashSet<String>) -> Result<Vec<Spooled>, String> {
        let Some(id) = self.doc else {
            return Ok(Vec::new());
        };
        let (runs, _) = self.open();
        let mut out = Vec::new();
        runs.scan(
            id,
            &mut |r| r.is_some_and(|r| std::str::from_utf8(r).is_ok_and(|r| refs.contains(r))),
            &mut |seq, _, rec| {
                let (component, root) = components::decode(rec).map_err(|e| bad(&e))?;
                out.push(Spooled {
                    index: usize::try_from(seq).unwrap_or(usize::MAX),
                    component,
                    root,
                });
                Ok(())
            },
        )
        .map_err(|e| e.to_string())?;
        out.sort_by_key(|s| s.index);
        Ok(out)
    }
}

#[path = "import_components_merge.rs"]
mod merged;
pub(super) use merged::Merged;

#[cfg(test)]
#[path = "import_components_tests.rs"]
mod tests;
