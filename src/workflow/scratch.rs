//! Append-only scratch bytes for a streamed import: the first `budget` bytes stay in memory
//! in fixed blocks and the rest go to an unlinked temp file, so memory is bounded whatever
//! the input size and nothing is left on disk however the import ends.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::os::unix::fs::FileExt;

const BLOCK: usize = 1 << 20;

pub(super) struct Scratch {
    /// In fixed blocks, never reallocated: no copy and no doubled peak as it grows.
    mem: Vec<Vec<u8>>,
    /// Bytes held in `mem`; offsets below it are there, the rest in the file.
    pub(super) mem_len: u64,
    budget: u64,
    /// Once bytes have gone to the file, every later byte does too.
    file: Option<BufWriter<File>>,
    pub(super) len: u64,
}

fn past_end() -> std::io::Error {
    std::io::Error::other("a scratch record past its end")
}

impl Scratch {
    pub(super) fn with_memory(budget: u64) -> Self {
        Self {
            mem: Vec::new(),
            mem_len: 0,
            budget,
            file: None,
            len: 0,
        }
    }

    /// Appends `bytes` whole (in memory or in the file, never split between them) and
    /// returns their offset.
    pub(super) fn put(&mut self, bytes: &[u8]) -> std::io::Result<u64> {
        let n = bytes.len() as u64;
        if self.file.is_none() && self.mem_len + n <= self.budget {
            let mut rest = bytes;
            while !rest.is_empty() {
                if self.mem.last().is_none_or(|b| b.len() == BLOCK) {
                    self.mem.push(Vec::with_capacity(BLOCK));
                }
                if let Some(block) = self.mem.last_mut() {
                    let take = rest.len().min(BLOCK - block.len());
                    block.extend_from_slice(&rest[..take]);
                    rest = &rest[take..];
                }
            }
            self.mem_len += n;
        } else {
            let w = match &mut self.file {
                Some(w) => w,
                None => self
                    .file
                    .insert(BufWriter::with_capacity(1 << 20, tempfile::tempfile()?)),
            };
            w.write_all(bytes)?;
        }
        let at = self.len;
        self.len += n;
        Ok(at)
    }

    /// Makes every byte `put` so far readable by `read_at`.
    pub(super) fn flush(&mut self) -> std::io::Result<()> {
        match &mut self.file {
            Some(w) => w.flush(),
            None => Ok(()),
        }
    }

    /// Fills `out` with the bytes at `at`; they must have been flushed if in the file. A
    /// range that straddles memory and file, or runs past the end, is an error.
    pub(super) fn read_at(&self, at: u64, out: &mut [u8]) -> std::io::Result<()> {
        let end = at
            .checked_add(out.len() as u64)
            .filter(|e| *e <= self.len)
            .ok_or_else(past_end)?;
        if at < self.mem_len {
            if end > self.mem_len {
                return Err(past_end());
            }
            let mut pos = at;
            let mut done = 0;
            while pos < end {
                let (b, off) = ((pos / BLOCK as u64) as usize, (pos % BLOCK as u64) as usize);
                let take = (BLOCK - off).min((end - pos) as usize);
                let piece = self
                    .mem
                    .get(b)
                    .and_then(|block| block.get(off..off + take))
                    .ok_or_else(past_end)?;
                out[done..done + take].copy_from_slice(piece);
                done += take;
                pos += take as u64;
            }
            return Ok(());
        }
        let f = self.file.as_ref().ok_or_else(past_end)?;
        f.get_ref().read_exact_at(out, at - self.mem_len)
    }
}

/// Reads `[at, end)` of a flushed scratch front to back, a piece at a time.
pub(super) struct ScratchReader<'a> {
    scratch: &'a Scratch,
    next: u64,
    end: u64,
    buf: Vec<u8>,
    pos: usize,
}

/// Bytes a reader holds at a time.
const PIECE: u64 = 256 * 1024;

impl<'a> ScratchReader<'a> {
    pub(super) fn new(scratch: &'a Scratch, at: u64, end: u64) -> Self {
        Self {
            scratch,
            next: at,
            end,
            buf: Vec::new(),
            pos: 0,
        }
    }

    /// Whether every byte of the range has been taken.
    pub(super) fn at_end(&self) -> bool {
        self.pos == self.buf.len() && self.next >= self.end
    }

    /// The next `n` bytes of the range.
    pub(super) fn take(&mut self, n: usize) -> std::io::Result<&[u8]> {
        if self.buf.len() - self.pos < n {
            self.buf.drain(..self.pos);
            self.pos = 0;
            while self.buf.len() < n {
                if self.next >= self.end {
                    return Err(past_end());
                }
                // A piece never straddles the memory/file boundary (`read_at`).
                let mut stop = (self.next + PIECE.max(n as u64)).min(self.end);
                if self.next < self.scratch.mem_len {
                    stop = stop.min(self.scratch.mem_len);
                }
                let have = self.buf.len();
                self.buf.resize(have + (stop - self.next) as usize, 0);
                self.scratch.read_at(self.next, &mut self.buf[have..])?;
                self.next = stop;
            }
        }
        let out = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    pub(super) fn u32(&mut self) -> std::io::Result<u32> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub(super) fn u64(&mut self) -> std::io::Result<u64> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_read_back_from_memory_blocks_and_the_file() {
        // Records of 1..=3000 bytes; a 1.5 MiB budget puts the first ones in memory (across
        // the 1 MiB block boundary) and the rest in the file; 0 puts all in the file.
        let records: Vec<Vec<u8>> = (0..1500u32)
            .map(|i| (0..1 + i * 2).map(|j| (i ^ j) as u8).collect())
            .collect();
        for budget in [0, 3 << 19, 1 << 30] {
            let mut s = Scratch::with_memory(budget);
            let at: Vec<u64> = records.iter().map(|r| s.put(r).unwrap()).collect();
            s.flush().unwrap();
            let in_memory = at.iter().filter(|a| **a < s.mem_len).count();
            match budget {
                0 => assert_eq!(in_memory, 0),
                b if b > 1 << 29 => assert_eq!(in_memory, records.len()),
                _ => assert!(in_memory > 100 && in_memory < records.len(), "{in_memory}"),
            }
            for i in (0..records.len()).rev() {
                let mut out = vec![0; records[i].len()];
                s.read_at(at[i], &mut out).unwrap();
                assert_eq!(out, records[i], "record {i}, budget {budget}");
            }
            // The whole range front to back, in uneven takes that cross every boundary.
            let mut r = ScratchReader::new(&s, 0, s.len);
            for rec in &records {
                assert_eq!(r.take(rec.len()).unwrap(), rec.as_slice());
            }
            assert!(r.at_end());
            // Past the end: an error, not a panic.
            assert!(r.take(1).is_err());
            assert!(s.read_at(s.len - 1, &mut [0, 0]).is_err());
            assert!(s.read_at(u64::MAX, &mut [0]).is_err());
        }
    }
}
