//! The in-memory finding index of one opened evidence set: the narrow columns the findings
//! list filters and sorts on (severity, ids, component identifiers, gate class,
//! disposition), so a filter keystroke over a million findings is one pass in memory.
//! Pure data: the store streams rows in, the workstation asks questions.

use crate::model::Severity;
use memchr::memmem::Finder;
use std::collections::HashMap;

/// How many orders the list can take (the caller maps its sort enum onto `0..ORDERS`).
pub const ORDERS: usize = 3;

/// What the list shows: text is an ASCII-case-insensitive substring over the finding's id,
/// its aliases as stored (JSON text), the component key, name and purl; empty lists mean
/// "everything".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IndexFilter {
    pub text: String,
    pub severities: Vec<Severity>,
    pub gates: Vec<String>,
    pub dispositions: Vec<String>,
}

/// One query's answer: the matching entries in the order asked for, and the matches per
/// severity under every filter but the severity toggles (indexed by `Severity as usize`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IndexResult {
    pub entries: Vec<u32>,
    pub counts: [u64; 6],
}

/// Strings stored once and referred to by a small code; code 0 is "none".
#[derive(Debug, Clone, Default)]
struct Interner {
    names: Vec<String>,
}

impl Interner {
    fn code(&mut self, s: &str) -> u16 {
        if let Some(i) = self.names.iter().position(|n| n == s) {
            return u16::try_from(i + 1).unwrap_or(0);
        }
        if self.names.len() >= usize::from(u16::MAX) - 1 {
            return 0;
        }
        self.names.push(s.to_string());
        u16::try_from(self.names.len()).unwrap_or(0)
    }

    fn name(&self, code: u16) -> Option<&str> {
        self.names
            .get(usize::from(code).checked_sub(1)?)
            .map(String::as_str)
    }

    /// A membership table over codes for these names (`None` when `want` is empty).
    fn mask(&self, want: &[String]) -> Option<Vec<bool>> {
        if want.is_empty() {
            return None;
        }
        let mut m = vec![false; self.names.len() + 1];
        for (i, n) in self.names.iter().enumerate() {
            if want.contains(n) {
                m[i + 1] = true;
            }
        }
        Some(m)
    }
}

/// Lowercased texts of many entries in one buffer; each entry's fields end with a NUL so
/// a match (the needle never holds a NUL) never spans two fields or two entries.
#[derive(Debug, Clone, Default)]
struct Haystack {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl Haystack {
    fn push(&mut self, fields: &[&str]) {
        for f in fields {
            self.bytes.extend(f.bytes().map(|b| b.to_ascii_lowercase()));
            self.bytes.push(0);
        }
        self.ends.push(self.bytes.len());
    }

    fn len(&self) -> usize {
        self.ends.len()
    }

    /// Marks every entry whose text contains the needle: one forward scan, skipping the
    /// rest of an entry once it matched.
    fn mark(&self, finder: &Finder<'_>, out: &mut [bool]) {
        let n = finder.needle().len();
        let mut pos = 0usize;
        let mut e = 0usize;
        while pos < self.bytes.len() {
            let Some(i) = self.bytes.get(pos..).and_then(|h| finder.find(h)) else {
                break;
            };
            let at = pos + i;
            // The entry only moves forward, so a linear advance costs O(entries) over the
            // whole scan; a binary search per match was ~20 cache misses each on dense
            // terms ("c" in every "cve-...").
            while self.ends.get(e).is_some_and(|&end| end <= at) {
                e += 1;
            }
            let Some(&end) = self.ends.get(e) else {
                break;
            };
            if at + n <= end {
                if let Some(slot) = out.get_mut(e) {
                    *slot = true;
                }
                pos = end;
            } else {
                pos = at + 1;
            }
        }
    }
}

/// The index. Entries are numbered in the order findings were added (the store's rowid
/// order, so ids ascend and an id's entry is a binary search).
#[derive(Clone, Default)]
pub struct FindingIndex {
    ids: Vec<i64>,
    sev: Vec<u8>,
    comp: Vec<u32>,
    gate: Vec<u16>,
    disp: Vec<u16>,
    gates: Interner,
    disps: Interner,
    vulns: Haystack,
    comps: Haystack,
    comp_of: HashMap<String, u32>,
    orders: [Option<Vec<u32>>; ORDERS],
    /// Ids arrived out of order (not the store's rowid order): look entries up linearly.
    unsorted_ids: bool,
}

impl std::fmt::Debug for FindingIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FindingIndex")
            .field("findings", &self.ids.len())
            .field("components", &self.comps.len())
            .finish()
    }
}

impl FindingIndex {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a component's identifiers once; findings refer to it by `key`.
    pub fn add_component(&mut self, key: &str, name: &str, purl: Option<&str>) {
        if self.comp_of.contains_key(key) {
            return;
        }
        let Ok(i) = u32::try_from(self.comps.len()) else {
            return;
        };
        self.comps.push(&[key, name, purl.unwrap_or("")]);
        self.comp_of.insert(key.to_string(), i);
    }

    /// Adds a finding. `aliases` is the aliases text as stored; a component key never
    /// added as a component stands for itself (the list shows the key as its name).
    pub fn add_finding(
        &mut self,
        id: i64,
        severity_rank: u8,
        vuln_id: &str,
        aliases: &str,
        component_key: &str,
    ) {
        if !self.comp_of.contains_key(component_key) {
            self.add_component(component_key, component_key, None);
        }
        let Some(&c) = self.comp_of.get(component_key) else {
            return;
        };
        if self.ids.last().is_some_and(|&last| last >= id) {
            self.unsorted_ids = true;
        }
        self.ids.push(id);
        self.sev.push(severity_rank.min(5));
        self.comp.push(c);
        self.gate.push(0);
        self.disp.push(0);
        self.vulns.push(&[vuln_id, aliases]);
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The entry of a finding id.
    pub fn entry_of(&self, id: i64) -> Option<u32> {
        let i = if self.unsorted_ids {
            self.ids.iter().position(|&x| x == id)?
        } else {
            self.ids.binary_search(&id).ok()?
        };
        u32::try_from(i).ok()
    }

    pub fn id(&self, entry: u32) -> Option<i64> {
        self.ids.get(entry as usize).copied()
    }

    /// Forgets every gate class and disposition (before a fresh judgement is loaded).
    pub fn clear_judgements(&mut self) {
        self.gate.iter_mut().for_each(|g| *g = 0);
        self.disp.iter_mut().for_each(|d| *d = 0);
    }

    /// Records a finding's gate class and disposition; unknown ids are ignored.
    pub fn set_judgement(&mut self, id: i64, gate: &str, disposition: &str) {
        let Some(e) = self.entry_of(id) else {
            return;
        };
        let (g, d) = (self.gates.code(gate), self.disps.code(disposition));
        if let (Some(gs), Some(ds)) = (self.gate.get_mut(e as usize), self.disp.get_mut(e as usize))
        {
            *gs = g;
            *ds = d;
        }
    }

    /// A finding's (gate class, disposition) when it has been judged.
    pub fn judgement(&self, entry: u32) -> Option<(&str, &str)> {
        let e = entry as usize;
        let g = self.gates.name(*self.gate.get(e)?)?;
        let d = self.disps.name(*self.disp.get(e)?)?;
        Some((g, d))
    }

    /// Sets order `slot` from finding ids in display order; ids not in the index are
    /// skipped and entries the ids missed follow in entry order, so an order always holds
    /// every entry exactly once.
    pub fn set_order(&mut self, slot: usize, ids: impl IntoIterator<Item = i64>) {
        if slot >= ORDERS {
            return;
        }
        let mut seen = vec![false; self.ids.len()];
        let mut order = Vec::with_capacity(self.ids.len());
        for id in ids {
            if let Some(e) = self.entry_of(id) {
                if let Some(s) = seen.get_mut(e as usize) {
                    if !*s {
                        *s = true;
                        order.push(e);
                    }
                }
            }
        }
        for (e, s) in seen.iter().enumerate() {
            if !*s {
                if let Ok(e) = u32::try_from(e) {
                    order.push(e);
                }
            }
        }
        self.orders[slot] = Some(order);
    }

    pub fn has_order(&self, slot: usize) -> bool {
        self.orders.get(slot).is_some_and(Option::is_some)
    }

    /// Every entry matching `f`, in order `slot` (entry order when that order is unset),
    /// with the severity counts, in one pass.
    pub fn query(&self, f: &IndexFilter, slot: usize) -> IndexResult {
        let needle = f.text.trim().to_ascii_lowercase();
        let (vm, cm) = if needle.is_empty() {
            (None, None)
        } else if needle.as_bytes().contains(&0) {
            // Fields are NUL-separated; a NUL in the term can match nothing real.
            return IndexResult::default();
        } else {
            let finder = Finder::new(needle.as_bytes());
            let mut vm = vec![false; self.vulns.len()];
            self.vulns.mark(&finder, &mut vm);
            let mut cm = vec![false; self.comps.len()];
            self.comps.mark(&finder, &mut cm);
            (Some(vm), Some(cm))
        };
        let gmask = self.gates.mask(&f.gates);
        let dmask = self.disps.mask(&f.dispositions);
        let mut shown = [true; 6];
        if !f.severities.is_empty() {
            shown = [false; 6];
            for s in &f.severities {
                shown[*s as usize] = true;
            }
        }
        let mut out = IndexResult::default();
        let mut visit = |e: u32| {
            let i = e as usize;
            if let (Some(vm), Some(cm)) = (&vm, &cm) {
                let comp_hit = self
                    .comp
                    .get(i)
                    .and_then(|c| cm.get(*c as usize))
                    .copied()
                    .unwrap_or(false);
                if !comp_hit && !vm.get(i).copied().unwrap_or(false) {
                    return;
                }
            }
            if let Some(m) = &gmask {
                let code = self.gate.get(i).copied().unwrap_or(0);
                if !m.get(usize::from(code)).copied().unwrap_or(false) {
                    return;
                }
            }
            if let Some(m) = &dmask {
                let code = self.disp.get(i).copied().unwrap_or(0);
                if !m.get(usize::from(code)).copied().unwrap_or(false) {
                    return;
                }
            }
            let s = usize::from(self.sev.get(i).copied().unwrap_or(0));
            out.counts[s] += 1;
            if shown[s] {
                out.entries.push(e);
            }
        };
        match self.orders.get(slot).and_then(Option::as_ref) {
            Some(order) => order.iter().for_each(|&e| visit(e)),
            None => (0..self.ids.len())
                .filter_map(|e| u32::try_from(e).ok())
                .for_each(&mut visit),
        }
        out
    }

    /// Heap bytes held, roughly (for the memory figures).
    pub fn heap_bytes(&self) -> usize {
        let orders: usize = self.orders.iter().flatten().map(|o| o.capacity() * 4).sum();
        self.ids.capacity() * 8
            + self.sev.capacity()
            + self.comp.capacity() * 4
            + (self.gate.capacity() + self.disp.capacity()) * 2
            + self.vulns.bytes.capacity()
            + self.vulns.ends.capacity() * 8
            + self.comps.bytes.capacity()
            + self.comps.ends.capacity() * 8
            + self
                .comp_of
                .keys()
                .map(|k| k.capacity() + 32)
                .sum::<usize>()
            + orders
    }

    /// Drops the build-time key map (the index is complete) to save memory.
    pub fn finish(&mut self) {
        self.comp_of = HashMap::new();
        self.vulns.bytes.shrink_to_fit();
        self.comps.bytes.shrink_to_fit();
    }
}

#[cfg(test)]
#[path = "finding_index_tests.rs"]
mod tests;
