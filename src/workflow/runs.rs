//! External sort of byte records for the streamed import's components and dependency edges:
//! records wait in a buffer up to a fixed budget, are sorted by their sort key and spilled as
//! one run to an unlinked temp file when it is full; reading merges the runs (k-way) with what
//! is still buffered. With a single run nothing touches disk. Ties keep insertion order.

use std::cmp::Ordering;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::os::unix::fs::FileExt;

/// Bytes a spilled run reads at a time.
const READ: usize = 256 * 1024;
/// Record header: key length, payload length (u32 little-endian each).
const HEAD: usize = 8;

pub struct Sorter {
    budget: usize,
    /// Records: header, sort key, payload.
    buf: Vec<u8>,
    /// (first 32 bytes of the key, big-endian; offset) of each record in `buf`, sorted by
    /// key once `finish` ran. Most comparisons end at the prefix, without touching `buf`.
    idx: Vec<(Prefix, usize)>,
    file: Option<File>,
    /// (offset, length) of each spilled run in `file`, in spill order.
    runs: Vec<(u64, u64)>,
    file_len: u64,
    /// Bytes of every record pushed, spilled or not.
    pushed: u64,
    /// Records pushed, spilled or not.
    records: u64,
    sorted: bool,
}

fn u32_at(b: &[u8], at: usize) -> usize {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]) as usize
}

/// (key, payload) of the record at `at` (complete in `b`).
fn record(b: &[u8], at: usize) -> (&[u8], &[u8]) {
    let k = u32_at(b, at);
    let p = u32_at(b, at + 4);
    let ks = at + HEAD;
    (&b[ks..ks + k], &b[ks + k..ks + k + p])
}

/// A key's first 32 bytes, as two big-endian numbers.
type Prefix = [u128; 2];

/// The key's first 32 bytes (zero-padded): comparing two prefixes orders the keys unless
/// they are equal, as a shorter key that is a prefix of a longer one pads with zeros and
/// `key_str` ends every string with 0x00 0x00. 32, not 16: purls share their first 16
/// bytes ("pkg:deb/debian/a..."), and every tie reads both records from `buf` at random
/// (perf: a third of the SBOM import's ref resolution).
fn prefix(key: &[u8]) -> Prefix {
    let mut b = [0u8; 32];
    let n = key.len().min(32);
    b[..n].copy_from_slice(&key[..n]);
    let (hi, lo) = b.split_at(16);
    let half = |h: &[u8]| {
        let mut a = [0u8; 16];
        a.copy_from_slice(h);
        u128::from_be_bytes(a)
    };
    [half(hi), half(lo)]
}

fn len32(n: usize) -> std::io::Result<[u8; 4]> {
    u32::try_from(n)
        .map(u32::to_le_bytes)
        .map_err(|_| std::io::Error::other("a sort record over 4 GiB"))
}

impl Sorter {
    pub fn new(budget: usize) -> Self {
        Self {
            budget: budget.max(1),
            buf: Vec::new(),
            idx: Vec::new(),
            file: None,
            runs: Vec::new(),
            file_len: 0,
            pushed: 0,
            records: 0,
            sorted: false,
        }
    }

    /// Adds one record. Records are read back in (key, insertion) order.
    pub fn push(&mut self, key: &[u8], payload: &[u8]) -> std::io::Result<()> {
        let n = HEAD + key.len() + payload.len();
        if !self.idx.is_empty() && self.used() + n > self.budget {
            self.spill()?;
        }
        self.sorted = false;
        self.pushed += n as u64;
        self.records += 1;
        self.idx.push((prefix(key), self.buf.len()));
        self.buf.extend_from_slice(&len32(key.len())?);
        self.buf.extend_from_slice(&len32(payload.len())?);
        self.buf.extend_from_slice(key);
        self.buf.extend_from_slice(payload);
        Ok(())
    }

    /// Bytes of every record pushed so far (header, key, payload), spilled or not.
    pub fn pushed(&self) -> u64 {
        self.pushed
    }

    /// Records pushed so far, spilled or not.
    pub fn records(&self) -> u64 {
        self.records
    }

    fn used(&self) -> usize {
        self.buf.len() + self.idx.len() * std::mem::size_of::<(Prefix, usize)>()
    }

    /// Number of runs on disk (tests).
    #[cfg(test)]
    pub fn spilled(&self) -> usize {
        self.runs.len()
    }

    fn sort(&mut self) {
        if !self.sorted {
            let b = &self.buf;
            // Equal keys keep the order they were pushed in: offsets grow with it.
            self.idx.sort_unstable_by(|x, y| {
                x.0.cmp(&y.0)
                    .then_with(|| record(b, x.1).0.cmp(record(b, y.1).0))
                    .then(x.1.cmp(&y.1))
            });
            self.sorted = true;
        }
    }

    fn spill(&mut self) -> std::io::Result<()> {
        self.sort();
        if self.file.is_none() {
            self.file = Some(tempfile::tempfile()?);
        }
        let Some(file) = self.file.as_mut() else {
            return Ok(());
        };
        let start = self.file_len;
        let mut w = BufWriter::with_capacity(READ, &mut *file);
        let mut n = 0u64;
        for (_, at) in &self.idx {
            let (k, p) = record(&self.buf, *at);
            let len = HEAD + k.len() + p.len();
            w.write_all(&self.buf[*at..*at + len])?;
            n += len as u64;
        }
        w.flush()?;
        drop(w);
        self.runs.push((start, n));
        self.file_len += n;
        self.buf.clear();
        self.idx.clear();
        Ok(())
    }

    /// Sorts what is buffered; call before `iter` (pushing again undoes it).
    pub fn finish(&mut self) {
        self.sort();
    }

    /// Every record in (key, insertion) order. May be called again for another pass.
    pub fn iter(&self) -> std::io::Result<Iter<'_>> {
        if !self.sorted {
            return Err(std::io::Error::other("sort runs read before finish"));
        }
        let mut sources = Vec::with_capacity(self.runs.len() + 1);
        if let Some(file) = self.file.as_ref() {
            for (start, len) in &self.runs {
                let mut r = Run {
                    file,
                    next: *start,
                    left: *len,
                    buf: Vec::new(),
                    pos: 0,
                    end: 0,
                };
                if r.fill()? {
                    sources.push(Source::Run(r));
                }
            }
        }
        if !self.idx.is_empty() {
            sources.push(Source::Mem {
                buf: &self.buf,
                idx: &self.idx,
                i: 0,
            });
        }
        Ok(Iter::new(sources))
    }
}

/// A spilled run being read: `buf[pos..end]` holds the next bytes, the current record at `pos`.
struct Run<'a> {
    file: &'a File,
    next: u64,
    left: u64,
    buf: Vec<u8>,
    pos: usize,
    end: usize,
}

impl Run<'_> {
    /// Makes the record at `pos` whole in `buf`; `false` at the end of the run.
    fn fill(&mut self) -> std::io::Result<bool> {
        loop {
            let have = self.end - self.pos;
            if have >= HEAD {
                let need = HEAD + u32_at(&self.buf, self.pos) + u32_at(&self.buf, self.pos + 4);
                if have >= need {
                    return Ok(true);
                }
                if need > self.buf.len() {
                    self.buf.copy_within(self.pos..self.end, 0);
                    self.end = have;
                    self.pos = 0;
                    self.buf.resize(need.max(self.want()), 0);
                }
            }
            if self.left == 0 {
                if have == 0 {
                    return Ok(false);
                }
                return Err(std::io::Error::other("sort run truncated"));
            }
            if self.pos > 0 {
                self.buf.copy_within(self.pos..self.end, 0);
                self.end = have;
                self.pos = 0;
            }
            if self.buf.len() < self.want() {
                self.buf.resize(self.want(), 0);
            }
            let room = (self.buf.len() - self.end).min(usize::try_from(self.left).unwrap_or(READ));
            let k = self
                .file
                .read_at(&mut self.buf[self.end..self.end + room], self.next)?;
            if k == 0 {
                return Err(std::io::Error::other("sort run truncated"));
            }
            self.end += k;
            self.next += k as u64;
            self.left -= k as u64;
        }
    }

    /// The buffer a run reads into: `READ`, or less for a short run (many tiny runs must
    /// not each take `READ`).
    fn want(&self) -> usize {
        let left = usize::try_from(self.left).unwrap_or(READ);
        READ.min(left + (self.end - self.pos))
    }

    fn current(&self) -> (&[u8], &[u8]) {
        record(&self.buf, self.pos)
    }

    fn advance(&mut self) -> std::io::Result<bool> {
        let (k, p) = self.current();
        self.pos += HEAD + k.len() + p.len();
        self.fill()
    }
}

enum Source<'a> {
    Run(Run<'a>),
    Mem {
        buf: &'a [u8],
        idx: &'a [(Prefix, usize)],
        i: usize,
    },
}

impl Source<'_> {
    fn current(&self) -> (&[u8], &[u8]) {
        match self {
            Source::Run(r) => r.current(),
            Source::Mem { buf, idx, i } => record(buf, idx[*i].1),
        }
    }

    /// Moves on; `false` when the source is spent.
    fn advance(&mut self) -> std::io::Result<bool> {
        match self {
            Source::Run(r) => r.advance(),
            Source::Mem { idx, i, .. } => {
                *i += 1;
                Ok(*i < idx.len())
            }
        }
    }
}

/// The merge of a sorter's runs: `next` lends each record until it is called again.
pub struct Iter<'a> {
    /// Runs in spill order, then the buffer: on equal keys the first source wins, which is
    /// insertion order.
    sources: Vec<Source<'a>>,
    /// The sources not yet spent, by (current key, source number): the next record is
    /// the first one's. Kept sorted by binary insertion, so k runs cost log k compares.
    order: Vec<usize>,
    started: bool,
}

impl<'a> Iter<'a> {
    fn new(sources: Vec<Source<'a>>) -> Self {
        let mut order: Vec<usize> = (0..sources.len()).collect();
        order.sort_by(|x, y| Self::cmp(&sources, *x, *y));
        Self {
            sources,
            order,
            started: false,
        }
    }

    fn cmp(sources: &[Source<'_>], x: usize, y: usize) -> Ordering {
        sources[x]
            .current()
            .0
            .cmp(sources[y].current().0)
            .then(x.cmp(&y))
    }

    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> std::io::Result<Option<(&[u8], &[u8])>> {
        if self.started {
            let Some(&i) = self.order.first() else {
                return Ok(None);
            };
            self.order.remove(0);
            if self.sources[i].advance()? {
                let sources = &self.sources;
                let at = self
                    .order
                    .partition_point(|o| Self::cmp(sources, *o, i) == Ordering::Less);
                self.order.insert(at, i);
            }
        }
        self.started = true;
        Ok(self.order.first().map(|b| self.sources[*b].current()))
    }
}

/// Appends `s` to a sort key so that byte order of the keys is the order of the strings
/// (and of the fields after it): 0x00 is written 0x00 0xFF, the end 0x00 0x00.
pub fn key_str(out: &mut Vec<u8>, s: &[u8]) {
    let mut rest = s;
    while let Some(i) = memchr::memchr(0, rest) {
        out.extend_from_slice(&rest[..=i]);
        out.push(0xFF);
        rest = &rest[i + 1..];
    }
    out.extend_from_slice(rest);
    out.extend_from_slice(&[0, 0]);
}

/// Appends `v` to a sort key (big-endian, so byte order is numeric order).
pub fn key_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_be_bytes());
}

/// Reads a `key_str` field off the front of `k`: the string's bytes (owned only when it
/// held 0x00) and what follows.
pub fn read_key_str(k: &[u8]) -> Option<(std::borrow::Cow<'_, [u8]>, &[u8])> {
    let mut i = 0;
    let mut owned: Option<Vec<u8>> = None;
    loop {
        let z = i + memchr::memchr(0, &k[i..])?;
        match k.get(z + 1)? {
            0 => {
                let s = match owned {
                    Some(mut o) => {
                        o.extend_from_slice(&k[i..z]);
                        std::borrow::Cow::Owned(o)
                    }
                    None => std::borrow::Cow::Borrowed(&k[..z]),
                };
                return Some((s, &k[z + 2..]));
            }
            0xFF => {
                let o = owned.get_or_insert_with(Vec::new);
                o.extend_from_slice(&k[i..=z]);
                i = z + 2;
            }
            _ => return None,
        }
    }
}

/// The length of the leading `key_str` field of `k`, terminator included.
pub fn key_str_len(k: &[u8]) -> Option<usize> {
    let mut i = 0;
    loop {
        let z = i + memchr::memchr(0, &k[i..])?;
        match k.get(z + 1)? {
            0 => return Some(z + 2),
            0xFF => i = z + 2,
            _ => return None,
        }
    }
}

/// Reads a `key_u64` field off the front of `k`.
pub fn read_key_u64(k: &[u8]) -> Option<(u64, &[u8])> {
    let b: [u8; 8] = k.get(..8)?.try_into().ok()?;
    Some((u64::from_be_bytes(b), &k[8..]))
}

#[cfg(test)]
#[path = "runs_tests.rs"]
mod tests;
