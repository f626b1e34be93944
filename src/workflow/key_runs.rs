//! The merged order of a streamed import's findings, one fixed-size item per scanner view.
//! Up to `CHUNK` items sort in memory; past it, each chunk is sorted and written as a run to
//! an unlinked temp file and the runs are merged as they are read, so memory stays bounded
//! however many findings one report holds. Ties keep the order the items were pushed in.
//! Not `runs::Sorter`: its records are variable byte strings (~76 bytes each in memory
//! for these 28) and its merge borrows the sorter, which the store write's producer thread
//! cannot hold while it streams; these items are fixed-size and the merge owns its file.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::os::unix::fs::FileExt;

/// One scanner view of a merged finding: where its record is in the view spool and what it
/// sorts by (the ranks of its group's id and of its component).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Item {
    pub root: u32,
    pub comp: u32,
    pub file: u32,
    pub late: u32,
    pub len: u32,
    pub at: u64,
}

const ITEM_BYTES: usize = 28;

impl Item {
    fn key(&self) -> (u32, u32) {
        (self.root, self.comp)
    }

    fn write(&self, out: &mut impl Write) -> std::io::Result<()> {
        let mut b = [0u8; ITEM_BYTES];
        for (i, v) in [self.root, self.comp, self.file, self.late, self.len]
            .into_iter()
            .enumerate()
        {
            b[i * 4..i * 4 + 4].copy_from_slice(&v.to_le_bytes());
        }
        b[20..].copy_from_slice(&self.at.to_le_bytes());
        out.write_all(&b)
    }

    fn read(b: &[u8]) -> Self {
        let u = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let mut at = [0u8; 8];
        at.copy_from_slice(&b[20..28]);
        Self {
            root: u(0),
            comp: u(4),
            file: u(8),
            late: u(12),
            len: u(16),
            at: u64::from_le_bytes(at),
        }
    }
}

/// Items sorted in memory at a time (8 MiB): a report of up to ~260k findings (~450 MB),
/// far past any real one, never touches disk.
pub(super) const CHUNK: usize = 1 << 18;

/// Collects items, then hands them back sorted by (root, comp), ties in push order.
pub(super) struct ItemSorter {
    chunk: usize,
    buf: Vec<Item>,
    file: Option<BufWriter<File>>,
    /// (offset, items) of each run in the file, in push order.
    runs: Vec<(u64, u64)>,
    file_len: u64,
}

impl ItemSorter {
    /// `expected`: how many items will be pushed (sizes the buffer once).
    pub(super) fn new(chunk: usize, expected: usize) -> Self {
        let chunk = chunk.max(1);
        Self {
            chunk,
            buf: Vec::with_capacity(expected.min(chunk)),
            file: None,
            runs: Vec::new(),
            file_len: 0,
        }
    }

    pub(super) fn push(&mut self, it: Item) -> std::io::Result<()> {
        if self.buf.len() == self.chunk {
            self.spill()?;
        }
        self.buf.push(it);
        Ok(())
    }

    fn spill(&mut self) -> std::io::Result<()> {
        // Stable: equal keys keep push order within the run, and earlier runs win ties.
        self.buf.sort_by_key(Item::key);
        let w = match &mut self.file {
            Some(w) => w,
            None => self
                .file
                .insert(BufWriter::with_capacity(1 << 20, tempfile::tempfile()?)),
        };
        for it in &self.buf {
            it.write(w)?;
        }
        let n = self.buf.len() as u64;
        self.runs.push((self.file_len, n));
        self.file_len += n * ITEM_BYTES as u64;
        self.buf.clear();
        Ok(())
    }

    pub(super) fn finish(mut self) -> std::io::Result<SortedItems> {
        if self.file.is_none() {
            self.buf.sort_by_key(Item::key);
            return Ok(SortedItems::Memory {
                items: self.buf,
                next: 0,
            });
        }
        if !self.buf.is_empty() {
            self.spill()?;
        }
        let file = match self.file.take() {
            Some(w) => w.into_inner().map_err(|e| e.into_error())?,
            None => return Err(std::io::Error::other("key runs lost their file")),
        };
        let mut runs = Vec::with_capacity(self.runs.len());
        let mut heap = BinaryHeap::with_capacity(self.runs.len());
        for (i, (at, n)) in self.runs.into_iter().enumerate() {
            let mut r = Run {
                next: at,
                left: n,
                buf: Vec::new(),
                pos: 0,
                cur: None,
            };
            r.advance(&file)?;
            if let Some(it) = r.cur {
                heap.push(Reverse((it.key(), i)));
            }
            runs.push(r);
        }
        Ok(SortedItems::Runs { file, runs, heap })
    }
}

/// A run being read back, `READ_ITEMS` at a time.
pub(super) struct Run {
    next: u64,
    left: u64,
    buf: Vec<u8>,
    pos: usize,
    cur: Option<Item>,
}

const READ_ITEMS: u64 = 4096;

impl Run {
    fn advance(&mut self, file: &File) -> std::io::Result<()> {
        if self.pos == self.buf.len() {
            let n = self.left.min(READ_ITEMS);
            if n == 0 {
                self.cur = None;
                return Ok(());
            }
            self.buf.resize(n as usize * ITEM_BYTES, 0);
            file.read_exact_at(&mut self.buf, self.next)?;
            self.next += n * ITEM_BYTES as u64;
            self.left -= n;
            self.pos = 0;
        }
        self.cur = Some(Item::read(&self.buf[self.pos..self.pos + ITEM_BYTES]));
        self.pos += ITEM_BYTES;
        Ok(())
    }
}

pub(super) enum SortedItems {
    Memory {
        items: Vec<Item>,
        next: usize,
    },
    Runs {
        file: File,
        runs: Vec<Run>,
        /// ((root, comp), run) of each run's current item: the least is next, and on equal
        /// keys the earlier run, which holds the earlier-pushed items.
        heap: BinaryHeap<Reverse<((u32, u32), usize)>>,
    },
}

impl SortedItems {
    /// The next item in order, without moving past it.
    pub(super) fn peek(&self) -> Option<Item> {
        match self {
            SortedItems::Memory { items, next } => items.get(*next).copied(),
            SortedItems::Runs { runs, heap, .. } => {
                let Reverse((_, r)) = heap.peek()?;
                runs.get(*r).and_then(|r| r.cur)
            }
        }
    }

    /// Moves past the item `peek` gave.
    pub(super) fn advance(&mut self) -> std::io::Result<()> {
        match self {
            SortedItems::Memory { next, .. } => *next += 1,
            SortedItems::Runs { file, runs, heap } => {
                if let Some(Reverse((_, r))) = heap.pop() {
                    if let Some(run) = runs.get_mut(r) {
                        run.advance(file)?;
                        if let Some(it) = run.cur {
                            heap.push(Reverse((it.key(), r)));
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Runs on disk (0 when sorted in memory).
    #[cfg(test)]
    pub(super) fn runs(&self) -> usize {
        match self {
            SortedItems::Memory { .. } => 0,
            SortedItems::Runs { runs, .. } => runs.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Items with few distinct keys (many ties), each tagged with its push position in `at`.
    fn items(n: usize, seed: u64) -> Vec<Item> {
        let mut x = seed;
        (0..n)
            .map(|i| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let r = (x >> 33) as u32;
                Item {
                    root: r % 37,
                    comp: (r / 37) % 5,
                    file: r % 3,
                    late: r % 2,
                    len: r,
                    at: i as u64 + (1 << 40),
                }
            })
            .collect()
    }

    fn drain(mut s: SortedItems) -> Vec<Item> {
        let mut out = Vec::new();
        while let Some(it) = s.peek() {
            out.push(it);
            s.advance().unwrap();
        }
        out
    }

    #[test]
    fn runs_on_disk_give_the_same_order_as_one_stable_sort() {
        for (n, chunk) in [
            (0, 4),
            (1, 1),
            (10, 1),
            (1000, 7),
            (1000, 999),
            (1000, 1000),
            (5000, 64),
        ] {
            let input = items(n, n as u64 + 3);
            // The reference is std's stable sort, not this module's code.
            let mut want = input.clone();
            want.sort_by_key(|a| (a.root, a.comp));
            let mut s = ItemSorter::new(chunk, n);
            for it in &input {
                s.push(*it).unwrap();
            }
            let sorted = s.finish().unwrap();
            let expect_runs = if n > chunk { n.div_ceil(chunk) } else { 0 };
            assert_eq!(sorted.runs(), expect_runs, "n {n} chunk {chunk}");
            assert_eq!(drain(sorted), want, "n {n} chunk {chunk}");
        }
    }
}
