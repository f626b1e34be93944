//! The write side of the runs: components folded by key in one k-way pass (each
//! document's views folded in document order, documents combined in rank order) with their
//! graph flags, and the distinct dependency edges, both in key order.

use super::{bad, io, text, Runs};
use crate::ingest::{components, merge};
use crate::model::{ComponentKey, SetComponent};
use crate::store::{self, ComponentFeed, StoreError};
use crate::workflow::runs::{key_str_len, read_key_str, read_key_u64};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The merged components of the runs, written by the store as they are merged.
pub(in crate::workflow) struct Merged<'a> {
    pub(super) runs: &'a mut Runs,
    /// Where the number of components written goes, when the caller counts that way.
    pub(super) written: Option<&'a AtomicUsize>,
}

/// The views one document has of the key being merged, folded in document order.
struct Part {
    rank: usize,
    doc: u64,
    c: SetComponent,
}

/// Adds a later document's folded view (`merge::absorb` of each of its components, in
/// order, gives the same: first purl, first-met order of licenses, CPEs and locations).
fn combine(e: &mut SetComponent, p: SetComponent) {
    if e.purl.is_none() {
        e.purl = p.purl;
    }
    merge::push_missing(&mut e.licenses, p.licenses);
    merge::push_missing(&mut e.cpes, p.cpes);
    merge::push_missing(&mut e.locations, p.locations);
    e.in_sbom |= p.in_sbom;
    e.in_scan |= p.in_scan;
}

impl ComponentFeed for Merged<'_> {
    fn components(
        &mut self,
        write: &mut dyn FnMut(&SetComponent) -> store::Result<()>,
    ) -> store::Result<()> {
        let runs = &*self.runs;
        let Some(res) = runs.resolved.as_ref() else {
            return Err(StoreError::Invalid(
                "component runs read before resolve".into(),
            ));
        };
        let mut n = 0usize;
        let mut gi = res.graph.iter().map_err(io)?;
        let mut gcur: Option<(Vec<u8>, bool)> =
            gi.next().map_err(io)?.map(|(k, p)| (k.to_vec(), p == [1]));
        let mut flush = |key: &[u8], parts: &mut Vec<Part>| -> store::Result<()> {
            if parts.is_empty() {
                return Ok(());
            }
            parts.sort_by_key(|p| p.rank);
            let mut it = parts.drain(..);
            let Some(mut c) = it.next().map(|p| p.c) else {
                return Ok(());
            };
            for p in it {
                combine(&mut c, p.c);
            }
            let (mut in_graph, mut direct) = (false, false);
            while let Some((gk, d)) = gcur.as_mut() {
                match gk.as_slice().cmp(key) {
                    std::cmp::Ordering::Less => {}
                    std::cmp::Ordering::Equal => {
                        in_graph = true;
                        direct |= *d;
                    }
                    std::cmp::Ordering::Greater => break,
                }
                match gi.next().map_err(io)? {
                    Some((k, p)) => {
                        gk.clear();
                        gk.extend_from_slice(k);
                        *d = p == [1];
                    }
                    None => gcur = None,
                }
            }
            merge::finish_component(&mut c, direct, res.has_subject_edges, in_graph);
            n += 1;
            write(&c)
        };
        let mut it = runs.comps.iter().map_err(io)?;
        let mut group: Vec<u8> = Vec::new();
        let mut key = String::new();
        let mut parts: Vec<Part> = Vec::new();
        while let Some((k, p)) = it.next().map_err(io)? {
            let kl = key_str_len(k).ok_or_else(|| bad("component"))?;
            if group.as_slice() != &k[..kl] {
                flush(&group, &mut parts)?;
                group.clear();
                group.extend_from_slice(&k[..kl]);
                let (s, _) = read_key_str(&k[..kl]).ok_or_else(|| bad("component"))?;
                key = text(&s)?.to_string();
            }
            let Some(d) = runs.row_doc(&k[kl..], p)? else {
                continue;
            };
            let (doc, _) = read_key_u64(&k[kl..]).ok_or_else(|| bad("component"))?;
            let rank = d.rank.unwrap_or(usize::MAX);
            let (c, _) = components::decode(&p[8..]).map_err(|e| bad(&e))?;
            match parts.last_mut() {
                Some(last) if last.doc == doc => {
                    merge::absorb(&mut last.c, c, &d.path, d.is_sbom, d.is_scan);
                }
                _ => parts.push(Part {
                    rank,
                    doc,
                    c: merge::first_view(
                        ComponentKey(key.clone()),
                        c,
                        &d.path,
                        d.is_sbom,
                        d.is_scan,
                    ),
                }),
            }
        }
        flush(&group, &mut parts)?;
        if let Some(w) = self.written {
            w.store(n, Ordering::Relaxed);
        }
        Ok(())
    }

    fn dependencies(
        &mut self,
        write: &mut dyn FnMut(&str, &str) -> store::Result<()>,
    ) -> store::Result<()> {
        let Some(res) = self.runs.resolved.as_ref() else {
            return Err(StoreError::Invalid(
                "component runs read before resolve".into(),
            ));
        };
        let mut last: Vec<u8> = Vec::new();
        let mut it = res.deps.iter().map_err(io)?;
        while let Some((k, _)) = it.next().map_err(io)? {
            if !last.is_empty() && last.as_slice() == k {
                continue;
            }
            last.clear();
            last.extend_from_slice(k);
            let (f, rest) = read_key_str(k).ok_or_else(|| bad("edge"))?;
            let (t, _) = read_key_str(rest).ok_or_else(|| bad("edge"))?;
            write(text(&f)?, text(&t)?)?;
        }
        Ok(())
    }
}
