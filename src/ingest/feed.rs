//! One read of a large file shared by two consumers: the thread that hashes and compresses
//! the file for the store hands each piece it read to the parse as well (`Tap`), and the
//! parse reads them back in order (`Feed`) with the digest of exactly those bytes at the end.

use std::io::Read;
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};

/// Pieces in flight at most (1 MiB each): enough to ride out the reader's jitter, small
/// enough that memory stays flat.
const DEPTH: usize = 8;

enum Piece {
    Bytes(Vec<u8>),
    /// Every piece was sent; sha256 (hex) and length of them all.
    End {
        sha256: String,
        size: u64,
    },
}

/// The reading side: copies each piece into a buffer the parse gave back (so buffers are
/// allocated and freed on one thread) and sends it. A parse that stopped listening costs
/// nothing: the reader carries on alone.
pub struct Tap {
    tx: Option<SyncSender<Piece>>,
    spent: Receiver<Vec<u8>>,
}

/// The parse's side: a `Read` over the pieces, in order.
pub struct Feed {
    rx: Receiver<Piece>,
    spent: Sender<Vec<u8>>,
    cur: Vec<u8>,
    at: usize,
    end: Option<(String, u64)>,
}

/// A connected pair.
pub fn channel() -> (Tap, Feed) {
    let (tx, rx) = mpsc::sync_channel(DEPTH);
    let (spent_tx, spent_rx) = mpsc::channel();
    (
        Tap {
            tx: Some(tx),
            spent: spent_rx,
        },
        Feed {
            rx,
            spent: spent_tx,
            cur: Vec::new(),
            at: 0,
            end: None,
        },
    )
}

impl Tap {
    /// Hands `bytes` on, unless the parse has gone.
    pub fn piece(&mut self, bytes: &[u8]) {
        let Some(tx) = &self.tx else { return };
        let mut v = self.spent.try_recv().unwrap_or_default();
        v.clear();
        v.extend_from_slice(bytes);
        if tx.send(Piece::Bytes(v)).is_err() {
            self.tx = None;
        }
    }

    /// Every piece was handed on: their digest and total length. Without this call the
    /// feed ends in an error (the reader failed), never in a short file.
    pub fn end(&mut self, sha256: String, size: u64) {
        if let Some(tx) = self.tx.take() {
            let _ = tx.send(Piece::End { sha256, size });
        }
    }
}

impl Feed {
    /// Reads whatever the parse left and gives the digest and length of every byte the
    /// reader read: the same bytes the parse saw, then the rest of the file.
    pub fn finish(mut self) -> std::io::Result<(String, u64)> {
        std::io::copy(&mut self, &mut std::io::sink())?;
        self.end
            .take()
            .ok_or_else(|| std::io::Error::other("the file's reader ended without its digest"))
    }
}

impl Read for Feed {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            if self.at < self.cur.len() {
                let n = buf.len().min(self.cur.len() - self.at);
                buf[..n].copy_from_slice(&self.cur[self.at..self.at + n]);
                self.at += n;
                return Ok(n);
            }
            if self.end.is_some() || buf.is_empty() {
                return Ok(0);
            }
            if self.cur.capacity() > 0 {
                // Back to the reader for its next piece; it may have gone, which is fine.
                let _ = self.spent.send(std::mem::take(&mut self.cur));
            }
            self.at = 0;
            match self.rx.recv() {
                Ok(Piece::Bytes(v)) => self.cur = v,
                Ok(Piece::End { sha256, size }) => self.end = Some((sha256, size)),
                Err(_) => {
                    return Err(std::io::Error::other(
                        "the file's reader stopped before the end of the file",
                    ))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    fn bytes(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 7 % 251) as u8).collect()
    }

    /// A reader thread over `data` in `piece`-byte pieces, as `pack_file` runs it.
    fn reader(data: Vec<u8>, piece: usize, end: bool) -> (Feed, std::thread::JoinHandle<()>) {
        let (mut tap, feed) = channel();
        let h = std::thread::spawn(move || {
            for p in data.chunks(piece) {
                tap.piece(p);
            }
            if end {
                tap.end(hex::encode(Sha256::digest(&data)), data.len() as u64);
            }
        });
        (feed, h)
    }

    #[test]
    fn the_feed_gives_every_byte_in_order_and_the_readers_digest() {
        let data = bytes(5 * 1024 * 1024 + 17);
        let want = hex::encode(Sha256::digest(&data));
        let (mut feed, h) = reader(data.clone(), 1 << 20, true);
        // Odd-sized reads, across piece boundaries.
        let mut got = Vec::new();
        let mut buf = vec![0u8; 300_007];
        loop {
            let n = feed.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        assert_eq!(got, data);
        assert_eq!(feed.finish().unwrap(), (want, data.len() as u64));
        h.join().unwrap();
    }

    #[test]
    fn finish_drains_what_the_parse_left_unread() {
        let data = bytes(3 * 1024 * 1024);
        let (mut feed, h) = reader(data.clone(), 1 << 20, true);
        let mut head = vec![0u8; 10];
        feed.read_exact(&mut head).unwrap();
        assert_eq!(head, data[..10]);
        let (sha, size) = feed.finish().unwrap();
        assert_eq!(size, data.len() as u64);
        assert_eq!(sha, hex::encode(Sha256::digest(&data)));
        h.join().unwrap();
    }

    #[test]
    fn a_reader_that_stops_without_its_digest_is_an_error_not_a_short_file() {
        let data = bytes(2 * 1024 * 1024);
        let (mut feed, h) = reader(data, 1 << 20, false);
        let mut all = Vec::new();
        let e = feed.read_to_end(&mut all).unwrap_err();
        assert!(e.to_string().contains("stopped before the end"), "{e}");
        h.join().unwrap();
    }

    #[test]
    fn the_reader_carries_on_when_the_parse_has_gone() {
        let data = bytes(20 * 1024 * 1024);
        let (feed, h) = reader(data, 1 << 20, true);
        drop(feed);
        // More pieces than the channel holds: a reader that blocked on them would never end,
        // so wait for it with a deadline (a hang is a failure, not a stuck test).
        let (done, ended) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = done.send(h.join().is_ok());
        });
        let ok = ended.recv_timeout(std::time::Duration::from_secs(30));
        assert_eq!(
            ok,
            Ok(true),
            "the reader blocked or failed once the parse was gone"
        );
    }

    #[test]
    fn an_empty_file_ends_at_once_with_the_empty_digest() {
        let (feed, h) = reader(Vec::new(), 1 << 20, true);
        let (sha, size) = feed.finish().unwrap();
        assert_eq!(size, 0);
        assert_eq!(sha, hex::encode(Sha256::digest(b"")));
        h.join().unwrap();
    }
}
