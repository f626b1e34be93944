//! The streamed half of an import: every finding view goes to a spool file (unlinked scratch
//! space, never the store's WAL) and only a small key per finding stays in memory. The merge
//! runs over the keys with `ingest::merge`'s rules, and the store write reads each merged
//! finding's views back from the spool, in the order the in-memory merge would give.

use super::import_spool;
use crate::ingest::formats::stream::FindingSink;
use crate::ingest::merge::preferred;
use crate::model::{ComponentKey, Document, FindingRecord, ScannerView, SetFinding};
use crate::store::{self, FindingStream};
use std::collections::{BTreeSet, HashMap};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::os::unix::fs::FileExt;

/// Scanner views written once, read back by offset. The first `SPOOL_MEMORY` bytes stay in
/// memory and only the rest goes to the scratch file: writing a 110 MB report's ~90 MB of
/// views through the page cache cost the parse thread 0.13 s of kernel copying (perf), a
/// quarter of its time, while memory stays bounded whatever the file size.
pub(super) struct Spool {
    /// In fixed blocks, never reallocated: no copy and no doubled peak as it grows.
    mem: Vec<Vec<u8>>,
    /// Bytes held in `mem`; records at offsets below it are there, the rest in the file.
    mem_len: u64,
    budget: u64,
    /// Once a record has gone to the file, every later one does too.
    file: Option<BufWriter<File>>,
    len: u64,
    buf: Vec<u8>,
}

/// What the spool keeps in memory before it writes to its scratch file.
/// `DOSSIER_SPOOL_MEMORY_MIB` overrides it, for measuring.
const SPOOL_MEMORY: u64 = 64 << 20;
const SPOOL_BLOCK: usize = 1 << 20;

impl Spool {
    pub(super) fn new() -> Self {
        let budget = std::env::var("DOSSIER_SPOOL_MEMORY_MIB")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .filter(|m| *m <= 4096)
            .map_or(SPOOL_MEMORY, |m| m << 20);
        Self::with_memory(budget)
    }

    pub(super) fn with_memory(budget: u64) -> Self {
        Self {
            mem: Vec::new(),
            mem_len: 0,
            budget,
            file: None,
            len: 0,
            buf: Vec::new(),
        }
    }

    /// Writes `view` as one record (`import_spool`).
    fn put(&mut self, view: &ScannerView) -> std::io::Result<(u64, u32)> {
        self.buf.clear();
        import_spool::encode(view, &mut self.buf);
        let n = self.buf.len() as u64;
        let len =
            u32::try_from(n).map_err(|_| std::io::Error::other("a scanner view of over 4 GiB"))?;
        if self.file.is_none() && self.mem_len + n <= self.budget {
            let mut rest = self.buf.as_slice();
            while !rest.is_empty() {
                if self.mem.last().is_none_or(|b| b.len() == SPOOL_BLOCK) {
                    self.mem.push(Vec::with_capacity(SPOOL_BLOCK));
                }
                if let Some(block) = self.mem.last_mut() {
                    let take = rest.len().min(SPOOL_BLOCK - block.len());
                    block.extend_from_slice(&rest[..take]);
                    rest = &rest[take..];
                }
            }
            self.mem_len += n;
        } else {
            let w = match &mut self.file {
                Some(w) => w,
                // Unlinked at once: the space comes back when the import ends, however it ends.
                None => self
                    .file
                    .insert(BufWriter::with_capacity(1 << 20, tempfile::tempfile()?)),
            };
            w.write_all(&self.buf)?;
        }
        let at = self.len;
        self.len += n;
        Ok((at, len))
    }

    /// The record `put` wrote, into `out`.
    fn read(&mut self, at: u64, len: u32, out: &mut Vec<u8>) -> std::io::Result<()> {
        out.clear();
        if at < self.mem_len {
            let end = at + u64::from(len);
            if end > self.mem_len {
                return Err(std::io::Error::other("a spool record past its end"));
            }
            let mut pos = at;
            while pos < end {
                let (b, off) = (
                    (pos / SPOOL_BLOCK as u64) as usize,
                    (pos % SPOOL_BLOCK as u64) as usize,
                );
                let block = self
                    .mem
                    .get(b)
                    .ok_or_else(|| std::io::Error::other("a spool record past its end"))?;
                let take = (SPOOL_BLOCK - off).min((end - pos) as usize);
                let piece = block
                    .get(off..off + take)
                    .ok_or_else(|| std::io::Error::other("a spool record past its end"))?;
                out.extend_from_slice(piece);
                pos += take as u64;
            }
            return Ok(());
        }
        let w = self
            .file
            .as_mut()
            .ok_or_else(|| std::io::Error::other("a spool record past its end"))?;
        w.flush()?;
        out.resize(len as usize, 0);
        w.get_ref().read_exact_at(out, at - self.mem_len)
    }
}

/// One spooled finding: what the merge needs, ~80 bytes.
pub(super) struct StagedKey {
    vuln_id: Box<str>,
    aliases: Box<[Box<str>]>,
    component: u32,
    len: u32,
    at: u64,
}

/// The spooled findings of one file.
#[derive(Default)]
pub(super) struct Staged {
    pub keys: Vec<StagedKey>,
    /// Applied to this file's views that have no scanner version (`Streamed`).
    pub late_scanner_version: Option<String>,
}

pub(super) struct SpoolSink<'a> {
    pub spool: &'a mut Spool,
    pub keys: &'a mut Vec<StagedKey>,
}

impl FindingSink for SpoolSink<'_> {
    fn discard(&mut self) {
        // The views already written stay in the spool as dead bytes; no key points at them.
        self.keys.clear();
    }

    fn finding(&mut self, f: FindingRecord) -> Result<(), String> {
        let (at, len) = self
            .spool
            .put(&f.view)
            .map_err(|e| format!("import spool: {e}"))?;
        self.keys.push(StagedKey {
            vuln_id: f.vuln_id.into_boxed_str(),
            aliases: f.aliases.into_iter().map(String::into_boxed_str).collect(),
            component: u32::try_from(f.component).unwrap_or(u32::MAX),
            len,
            at,
        });
        Ok(())
    }
}

/// Moves a parsed document's in-memory findings into the spool.
pub(super) fn stage_doc(spool: &mut Spool, doc: &mut Document) -> std::io::Result<Staged> {
    let mut keys = Vec::with_capacity(doc.findings.len());
    let mut sink = SpoolSink {
        spool,
        keys: &mut keys,
    };
    for f in std::mem::take(&mut doc.findings) {
        sink.finding(f).map_err(std::io::Error::other)?;
    }
    Ok(Staged {
        keys,
        late_scanner_version: None,
    })
}

struct Item {
    root: u32,
    comp: u32,
    file: u32,
    late: u32,
    len: u32,
    at: u64,
}

/// The merged findings of a streamed import, as keys sorted like `merge`'s output.
pub(super) struct KeyMerge {
    items: Vec<Item>,
    next: usize,
    roots: Vec<Box<str>>,
    aliases: Vec<Vec<String>>,
    comps: Vec<ComponentKey>,
    lates: Vec<Option<String>>,
    spool: Spool,
    /// The spool record read last.
    rec: Vec<u8>,
    pub count: usize,
}

/// Union-find over interned ids; the same operations as `merge`'s `Aliases`, so the same
/// groups and the same root (the preferred id of each group) whatever the order.
struct Ids {
    names: Vec<Box<str>>,
    parent: Vec<u32>,
}

impl Ids {
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
            let (keep, other) = if preferred(&self.names[ra as usize], &self.names[rb as usize]) {
                (ra, rb)
            } else {
                (rb, ra)
            };
            self.parent[other as usize] = keep;
        }
    }
}

/// Numbers each distinct id once. The key's own allocation moves into the map: one hash and
/// no copy per id (SipHash, kept against crafted ids).
struct Interner {
    index: HashMap<Box<str>, u32>,
}

impl Interner {
    fn add(&mut self, x: Box<str>) -> u32 {
        let next = u32::try_from(self.index.len()).unwrap_or(u32::MAX);
        *self.index.entry(x).or_insert(next)
    }
    /// The ids by number.
    fn into_names(self) -> Vec<Box<str>> {
        let mut names: Vec<Box<str>> = vec![Box::from(""); self.index.len()];
        for (name, i) in self.index {
            names[i as usize] = name;
        }
        names
    }
}

/// `docs`: (file index, the document's component keys, its staged findings), in merge order.
pub(super) fn merge_keys(docs: Vec<(usize, Vec<ComponentKey>, Staged)>, spool: Spool) -> KeyMerge {
    // Sized for one id per finding up front: growing the map rehashed every id several
    // times, ~1/3 of this merge on a Grype report.
    let n_keys: usize = docs.iter().map(|(_, _, st)| st.keys.len()).sum();
    let mut interner = Interner {
        index: HashMap::with_capacity(n_keys),
    };
    // Unions wait until every id has its number and name; the groups and their roots do not
    // depend on the order (`Ids`).
    let mut links: Vec<(u32, u32)> = Vec::new();
    let mut comp_index: HashMap<ComponentKey, u32> = HashMap::new();
    let mut comps: Vec<ComponentKey> = Vec::new();
    // Each item's `root` holds its own id's number until the groups are known.
    let mut items: Vec<Item> = Vec::with_capacity(n_keys);
    let mut lates: Vec<Option<String>> = Vec::new();
    for (file, keys, st) in docs {
        let local: Vec<u32> = keys
            .into_iter()
            .map(|k| {
                let next = comps.len() as u32;
                *comp_index.entry(k.clone()).or_insert_with(|| {
                    comps.push(k);
                    next
                })
            })
            .collect();
        let late = lates.len() as u32;
        lates.push(st.late_scanner_version);
        for k in st.keys {
            let StagedKey {
                vuln_id,
                aliases,
                component,
                len,
                at,
            } = k;
            // The aliases first, while the id is still ours to compare with.
            let first = links.len();
            for a in aliases {
                if !a.is_empty() && a != vuln_id {
                    links.push((u32::MAX, interner.add(a)));
                }
            }
            let v = interner.add(vuln_id);
            for l in &mut links[first..] {
                l.0 = v;
            }
            // A finding whose component the document does not list has no row (as in
            // `merge`); its ids still join their groups.
            let Some(&comp) = local.get(component as usize) else {
                continue;
            };
            items.push(Item {
                root: v,
                comp,
                file: u32::try_from(file).unwrap_or(u32::MAX),
                late,
                len,
                at,
            });
        }
    }
    drop(comp_index);
    let names = interner.into_names();
    let n = names.len();
    let mut ids = Ids {
        names,
        parent: (0..n as u32).collect(),
    };
    for (a, b) in links {
        ids.union(a, b);
    }
    let root_of: Vec<u32> = (0..n as u32).map(|i| ids.find(i)).collect();
    // Roots ranked by their string, so sorting by rank sorts by id as the BTreeMap does.
    let mut roots: Vec<u32> = root_of
        .iter()
        .copied()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    roots.sort_by(|a, b| ids.names[*a as usize].cmp(&ids.names[*b as usize]));
    let mut rank = vec![u32::MAX; n];
    for (r, id) in roots.iter().enumerate() {
        rank[*id as usize] = r as u32;
    }
    let mut groups: Vec<BTreeSet<&str>> = vec![BTreeSet::new(); roots.len()];
    for (i, r) in root_of.iter().enumerate() {
        if i as u32 != *r {
            groups[rank[*r as usize] as usize].insert(&ids.names[i]);
        }
    }
    let aliases: Vec<Vec<String>> = groups
        .into_iter()
        .map(|g| g.into_iter().map(str::to_string).collect())
        .collect();
    for it in &mut items {
        it.root = rank[root_of[it.root as usize] as usize];
    }
    let mut order: Vec<u32> = (0..comps.len() as u32).collect();
    order.sort_by(|a, b| comps[*a as usize].cmp(&comps[*b as usize]));
    let mut comp_rank = vec![0u32; comps.len()];
    for (r, c) in order.iter().enumerate() {
        comp_rank[*c as usize] = r as u32;
    }
    let mut sorted: Vec<ComponentKey> = vec![ComponentKey::default(); comps.len()];
    for (c, k) in comps.into_iter().enumerate() {
        sorted[comp_rank[c] as usize] = k;
    }
    for it in &mut items {
        it.comp = comp_rank[it.comp as usize];
    }
    // Stable: views of one finding keep the file and document order `merge` gives them.
    items.sort_by_key(|it| (it.root, it.comp));
    let count = items
        .windows(2)
        .filter(|w| (w[0].root, w[0].comp) != (w[1].root, w[1].comp))
        .count()
        + usize::from(!items.is_empty());
    KeyMerge {
        items,
        next: 0,
        roots: roots
            .iter()
            .map(|r| ids.names[*r as usize].clone())
            .collect(),
        aliases,
        comps: sorted,
        lates,
        spool,
        rec: Vec::new(),
        count,
    }
}

impl FindingStream for KeyMerge {
    fn next_finding(&mut self) -> store::Result<Option<SetFinding>> {
        let Some(first) = self.items.get(self.next) else {
            return Ok(None);
        };
        let (root, comp) = (first.root, first.comp);
        let spool_err =
            |e: &dyn std::fmt::Display| store::StoreError::Invalid(format!("import spool: {e}"));
        let mut views = Vec::with_capacity(1);
        while let Some(it) = self.items.get(self.next) {
            if (it.root, it.comp) != (root, comp) {
                break;
            }
            self.spool
                .read(it.at, it.len, &mut self.rec)
                .map_err(|e| spool_err(&e))?;
            let mut v = import_spool::decode(&self.rec).map_err(|e| spool_err(&e))?;
            if v.scanner_version.is_none() {
                v.scanner_version.clone_from(&self.lates[it.late as usize]);
            }
            views.push((it.file as usize, v));
            self.next += 1;
        }
        Ok(Some(SetFinding {
            vuln_id: self.roots[root as usize].to_string(),
            aliases: self.aliases[root as usize].clone(),
            component_key: self.comps[comp as usize].clone(),
            views,
        }))
    }
}

#[cfg(test)]
#[path = "import_stream_tests.rs"]
mod tests;
