//! The components of a streamed import: every component and dependency edge of every
//! document goes to a scratch file (`store::scratch::Scratch`) as it is parsed, and the merge
//! by key, the ref -> key resolution and `direct` run as sorted reads of it while the rows are
//! written, so no map of every component is held. Same rows, same order as `ingest::merge`.

use super::import_stream::SpoolSink;
use crate::ingest::components::{self, ComponentSink, RootView, Spooled};
use crate::ingest::formats::stream::FindingSink;
use crate::ingest::merge;
use crate::model::{Component, ComponentKey, DocKind, Document, FindingRecord, SetComponent};
use crate::store::scratch::Scratch;
use crate::store::{self, ComponentFeed, StoreError};
use std::collections::{HashMap, HashSet};

/// The scratch file of one import (made at the first component) and which scratch document
/// holds each streamed file's components.
#[derive(Default)]
pub(super) struct Components {
    scratch: Option<Scratch>,
    /// sha256 of a streamed file whose parse was kept -> its scratch document.
    docs: HashMap<String, i64>,
}

struct Doc {
    id: i64,
    seq: i64,
}

/// The sink of one large file: findings to the import's spool, components and edges to the
/// scratch file (under a scratch document made at the first one).
pub(super) struct Sinks<'a> {
    findings: SpoolSink<'a>,
    comps: &'a mut Components,
    doc: Option<Doc>,
    buf: Vec<u8>,
}

impl Components {
    pub(super) fn sinks<'a>(&'a mut self, findings: SpoolSink<'a>) -> Sinks<'a> {
        Sinks {
            findings,
            comps: self,
            doc: None,
            buf: Vec::new(),
        }
    }

    fn scratch(&mut self) -> store::Result<&mut Scratch> {
        if self.scratch.is_none() {
            self.scratch = Some(Scratch::new()?);
        }
        self.scratch
            .as_mut()
            .ok_or_else(|| StoreError::Invalid("component scratch file".into()))
    }

    /// True once any component went to the scratch file: the set's components are then
    /// written from it (`merged`).
    pub(super) fn active(&self) -> bool {
        self.scratch.is_some()
    }

    /// Moves `doc`'s components, edges and subject refs into the scratch file (after those it
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
        let scratch = self.scratch()?;
        let id = match streamed {
            Some(id) => id,
            None => scratch.new_doc()?,
        };
        let first = scratch.count(id)?;
        let mut keys: Vec<ComponentKey> = if has_findings && first > 0 {
            scratch
                .keys(id)?
                .into_iter()
                .map(|k| ComponentKey(k.unwrap_or_default()))
                .collect()
        } else {
            Vec::new()
        };
        let mut buf = Vec::new();
        for (seq, c) in (first..).zip(std::mem::take(&mut doc.components)) {
            let key = c.key();
            buf.clear();
            components::encode(&c, None, &mut buf);
            scratch.component(id, seq, &key.0, c.local_ref.as_deref(), &buf)?;
            if has_findings {
                keys.push(key);
            }
        }
        for (f, t) in std::mem::take(&mut doc.dependencies) {
            scratch.edge(id, &f, &t)?;
        }
        for r in doc.subject.iter().flat_map(|s| s.refs.iter()) {
            scratch.subject_ref(id, r)?;
        }
        scratch.place(
            id,
            i64::try_from(rank).unwrap_or(i64::MAX),
            path,
            is_sbom,
            is_scan,
        )?;
        Ok(keys)
    }

    /// The merged components and edges of every staged document, for the store write, and
    /// how many distinct components there are. `None` when nothing was staged.
    pub(super) fn merged(&mut self) -> store::Result<Option<(Merged<'_>, usize)>> {
        let Some(scratch) = self.scratch.as_mut() else {
            return Ok(None);
        };
        let n = scratch.resolve()?;
        Ok(Some((Merged { scratch }, usize::try_from(n).unwrap_or(0))))
    }
}

impl Sinks<'_> {
    /// The scratch document of this file's components, if any went there.
    pub(super) fn finish(self) -> Option<i64> {
        self.doc.map(|d| d.id)
    }

    /// Marks `sha256` as the streamed file whose components are in `doc`.
    fn open(&mut self) -> Result<(&mut Scratch, &mut Doc), String> {
        let scratch = self.comps.scratch().map_err(|e| e.to_string())?;
        if self.doc.is_none() {
            self.doc = Some(Doc {
                id: scratch.new_doc().map_err(|e| e.to_string())?,
                seq: 0,
            });
        }
        match self.doc.as_mut() {
            Some(d) => Ok((scratch, d)),
            None => Err("component scratch file".into()),
        }
    }
}

impl Components {
    /// Keeps the components the file `sha256` streamed into scratch document `doc`.
    pub(super) fn keep(&mut self, sha256: &str, doc: Option<i64>) {
        if let Some(d) = doc {
            self.docs.insert(sha256.to_string(), d);
        }
    }
}

impl FindingSink for Sinks<'_> {
    fn finding(&mut self, f: FindingRecord) -> Result<(), String> {
        self.findings.finding(f)
    }

    fn discard(&mut self) {
        self.findings.discard();
        // Rows already written stay behind under a document nothing places in the merge.
        self.doc = None;
    }

    fn components(&mut self) -> Option<&mut dyn ComponentSink> {
        Some(self)
    }
}

impl ComponentSink for Sinks<'_> {
    fn component(&mut self, c: &Component, root: Option<&RootView>) -> Result<(), String> {
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        components::encode(c, root, &mut buf);
        let key = c.key();
        let (scratch, d) = self.open()?;
        let r = scratch
            .component(d.id, d.seq, &key.0, c.local_ref.as_deref(), &buf)
            .map_err(|e| e.to_string());
        d.seq += 1;
        self.buf = buf;
        r
    }

    fn edge(&mut self, from: &str, to: &str) -> Result<(), String> {
        let (scratch, d) = self.open()?;
        scratch.edge(d.id, from, to).map_err(|e| e.to_string())
    }

    fn exclude(&mut self, refs: &[String]) -> Result<(), String> {
        let (scratch, d) = self.open()?;
        for r in refs {
            scratch.exclude(d.id, r).map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    fn find(&mut self, refs: &HashSet<String>) -> Result<Vec<Spooled>, String> {
        let Some(id) = self.doc.as_ref().map(|d| d.id) else {
            return Ok(Vec::new());
        };
        let (scratch, _) = self.open()?;
        let mut out = Vec::new();
        let mut bad = None;
        scratch
            .find(
                id,
                &|r| refs.contains(r),
                &mut |seq, rec| match components::decode(rec) {
                    Ok((component, root)) => out.push(Spooled {
                        index: usize::try_from(seq).unwrap_or(usize::MAX),
                        component,
                        root,
                    }),
                    Err(e) => bad = Some(e),
                },
            )
            .map_err(|e| e.to_string())?;
        match bad {
            Some(e) => Err(e),
            None => Ok(out),
        }
    }
}

/// The merged components of the scratch file, written by the store as they are merged.
pub(super) struct Merged<'a> {
    scratch: &'a mut Scratch,
}

impl ComponentFeed for Merged<'_> {
    fn components(
        &mut self,
        write: &mut dyn FnMut(&SetComponent) -> store::Result<()>,
    ) -> store::Result<()> {
        let has_subject_edges = self.scratch.has_subject_edges()?;
        let mut cur: Option<(SetComponent, bool, bool)> = None;
        let mut flush = |cur: Option<(SetComponent, bool, bool)>| -> store::Result<()> {
            if let Some((mut c, direct, in_graph)) = cur {
                merge::finish_component(&mut c, direct, has_subject_edges, in_graph);
                write(&c)?;
            }
            Ok(())
        };
        self.scratch.merged_components(&mut |row| {
            let (c, _) = components::decode(row.rec)
                .map_err(|e| StoreError::Invalid(format!("component scratch file: {e}")))?;
            match cur.as_mut() {
                Some((e, _, _)) if e.key.0 == row.key => {
                    merge::absorb(e, c, row.path, row.is_sbom, row.is_scan);
                }
                _ => {
                    flush(cur.take())?;
                    let key = ComponentKey(row.key.to_string());
                    cur = Some((
                        merge::first_view(key, c, row.path, row.is_sbom, row.is_scan),
                        row.direct,
                        row.in_graph,
                    ));
                }
            }
            Ok(())
        })?;
        flush(cur)
    }

    fn dependencies(
        &mut self,
        write: &mut dyn FnMut(&str, &str) -> store::Result<()>,
    ) -> store::Result<()> {
        self.scratch.dependencies(write)
    }
}

#[cfg(test)]
#[path = "import_components_tests.rs"]
mod tests;
