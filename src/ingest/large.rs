//! Files too large to read whole (`discover::LargeFile`): hashed and detected in streaming
//! passes, then Trivy and Grype reports are parsed as a stream into a `FindingSink`. Any
//! other format, or a report in an order the stream cannot follow, is read whole and
//! parsed as usual, so the outcome never depends on which path ran.

use super::detect::{self, Detection, Format};
use super::discover::{sha256_hex, DiscoveredFile, LargeFile};
use super::feed::Feed;
use super::formats::stream::{self, FindingSink, StreamError, Streamed};
use super::formats::{parse_reader, streamable};
use super::{layout_blob_name, parse_file, FileStatus, ParsedFile};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{BufReader, Read};

const BUF: usize = 1 << 20;
/// What detection sniffs of a large file (`detect_reader`'s `head`).
const HEAD: usize = 64 * 1024;

/// How a large file was read.
#[derive(Debug)]
pub enum LargeOutcome {
    /// Read whole and parsed by `parse_file` (bytes in memory, as for any small file).
    Whole(ParsedFile),
    /// Parsed as a stream: the findings went to the sink (valid only when `file.status` is
    /// `Parsed`); `file.bytes` is `None` and the raw bytes are to be stored from `path`.
    Streamed {
        file: ParsedFile,
        late_scanner_version: Option<String>,
    },
}

/// The sink failed (spool I/O): the import cannot go on.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct LargeError {
    pub path: String,
    pub message: String,
}

/// sha256 hex of a whole file, read in 1 MiB pieces.
pub fn sha256_file(path: &std::path::Path) -> std::io::Result<(String, u64)> {
    let mut f = File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; BUF];
    let mut n = 0u64;
    loop {
        let k = f.read(&mut buf)?;
        if k == 0 {
            break;
        }
        h.update(&buf[..k]);
        n += k as u64;
    }
    Ok((hex::encode(h.finalize()), n))
}

fn failed(lf: &LargeFile, message: String) -> ParsedFile {
    ParsedFile {
        path: lf.path.clone(),
        sha256: format!("refused:{}", sha256_hex(lf.path.as_bytes())),
        size: 0,
        bytes: None,
        format: None,
        spec_version: None,
        status: FileStatus::Failed,
        message: Some(message),
        doc: None,
    }
}

fn whole(lf: &LargeFile) -> LargeOutcome {
    match std::fs::read(&lf.fs_path) {
        Ok(bytes) => {
            let sha256 = sha256_hex(&bytes);
            LargeOutcome::Whole(parse_file(DiscoveredFile {
                path: lf.path.clone(),
                bytes,
                sha256,
            }))
        }
        Err(e) => LargeOutcome::Whole(failed(lf, e.to_string())),
    }
}

/// Hashes, detects and parses one large file. Findings reach `sink` only from a streamed
/// parse; the caller keeps them only for a `Streamed` outcome whose status is `Parsed`.
/// With a `feed`, the common case reads the file's bytes from it (the blob packer's one
/// read and hash) instead of the file; any other path reads the file itself.
pub fn parse_large(
    lf: &LargeFile,
    feed: Option<Feed>,
    sink: &mut dyn FindingSink,
) -> Result<LargeOutcome, LargeError> {
    if layout_blob_name(&lf.path).is_some() {
        // Content-addressed layout blobs get the name check of `parse_file`.
        return Ok(whole(lf));
    }
    if let Some(done) = one_pass(lf, feed, sink)? {
        return Ok(done);
    }
    sink.discard();
    checked(lf, sink)
}

/// The common case in one read of the file: the format guessed from the first 64 KiB,
/// the stream parsed and hashed together, and the guess confirmed afterwards from every
/// top-level key the parser saw (`detect::detect_with_keys`, the answer `detect_reader`
/// gives); a JSON SBOM, which names itself in its first keys, parsed in the same read.
/// `None` when the guess was wrong, the file is broken, cannot be streamed or could not
/// be read: `checked` then reads it the careful way, so errors and answers are exactly as
/// before.
fn one_pass(
    lf: &LargeFile,
    feed: Option<Feed>,
    sink: &mut dyn FindingSink,
) -> Result<Option<LargeOutcome>, LargeError> {
    let Some((head, src)) = Source::open_head(lf, feed) else {
        return Ok(None);
    };
    let Some(guess) = detect::guess_streamable(&head) else {
        return named_sbom(lf, head, src, sink);
    };
    // No `BufReader`: the stream reads in large chunks of its own.
    let mut reader = std::io::Cursor::new(head).chain(src);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        stream::parse_stream_with_keys(guess, &mut reader, sink)
    }));
    let (s, keys) = match result {
        Ok(Ok((s, Some(keys)))) => (s, keys),
        Ok(Err(StreamError::Sink(message))) => {
            return Err(LargeError {
                path: lf.path.clone(),
                message,
            })
        }
        _ => return Ok(None),
    };
    let (head, src) = reader.into_inner();
    let spec_version = match detect::detect_with_keys(head.get_ref(), keys) {
        Detection::Supported {
            format,
            spec_version,
        } if format == guess => spec_version,
        _ => return Ok(None),
    };
    let Ok((sha256, size)) = src.finish() else {
        return Ok(None);
    };
    let mut pf = ParsedFile {
        path: lf.path.clone(),
        sha256,
        size,
        bytes: None,
        format: Some(guess),
        spec_version,
        status: FileStatus::Parsed,
        message: None,
        doc: None,
    };
    if !s.doc.warnings.is_empty() {
        pf.message = Some(s.doc.warnings.join("; "));
    }
    pf.doc = Some(s.doc);
    Ok(Some(LargeOutcome::Streamed {
        file: pf,
        late_scanner_version: s.late_scanner_version,
    }))
}

/// Where a streamed parse reads a large file from: the file itself, hashed here, or the
/// pieces the blob packer read and hashed (`Feed`).
enum Source {
    File { f: File, h: Sha256, n: u64 },
    Feed(Feed),
}

impl Source {
    fn open(lf: &LargeFile, feed: Option<Feed>) -> std::io::Result<Self> {
        Ok(match feed {
            Some(feed) => Self::Feed(feed),
            None => Self::File {
                f: File::open(&lf.fs_path)?,
                h: Sha256::new(),
                n: 0,
            },
        })
    }

    /// The source and its first `HEAD` bytes (what detection sniffs); `None` when the file
    /// cannot be opened or read.
    fn open_head(lf: &LargeFile, feed: Option<Feed>) -> Option<(Vec<u8>, Self)> {
        let mut src = Self::open(lf, feed).ok()?;
        let mut head = Vec::with_capacity(HEAD);
        (&mut src).take(HEAD as u64).read_to_end(&mut head).ok()?;
        Some((head, src))
    }

    /// sha256 (hex) and length of the whole file: what the parse read, then the rest, so
    /// the file's row always carries the digest of all its bytes.
    fn finish(self) -> std::io::Result<(String, u64)> {
        match self {
            Self::File { f, mut h, mut n } => {
                let mut rest = Hashing {
                    inner: f,
                    h: &mut h,
                    n: &mut n,
                };
                std::io::copy(&mut rest, &mut std::io::sink())?;
                Ok((hex::encode(h.finalize()), n))
            }
            Self::Feed(feed) => feed.finish(),
        }
    }
}

impl Read for Source {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Self::File { f, h, n } => {
                let k = f.read(buf)?;
                h.update(&buf[..k]);
                *n += k as u64;
                Ok(k)
            }
            Self::Feed(feed) => feed.read(buf),
        }
    }
}

/// Hashes the file, detects it from a pass over its top-level keys, then parses it: the
/// path for every file `one_pass` does not take.
fn checked(lf: &LargeFile, sink: &mut dyn FindingSink) -> Result<LargeOutcome, LargeError> {
    // A JSON SBOM names itself in its first keys, and no later key can change the answer
    // (CycloneDX is the registry's first rule; the SPDX stream refuses CycloneDX's keys):
    // hash and parse it in one read.
    if let Some((head, src)) = Source::open_head(lf, None) {
        if let Some(done) = named_sbom(lf, head, src, sink)? {
            return Ok(done);
        }
    }
    let (sha256, size) = match sha256_file(&lf.fs_path) {
        Ok(x) => x,
        Err(e) => return Ok(LargeOutcome::Whole(failed(lf, e.to_string()))),
    };
    let det = match (File::open(&lf.fs_path), File::open(&lf.fs_path)) {
        (Ok(a), Ok(b)) => {
            let mut head = Vec::with_capacity(HEAD);
            if let Err(e) = a.take(HEAD as u64).read_to_end(&mut head) {
                return Ok(LargeOutcome::Whole(failed(lf, e.to_string())));
            }
            match detect::detect(&head) {
                // A JSON SBOM names itself in its first keys, and no later key can change
                // the answer (CycloneDX is the registry's first rule; the SPDX stream refuses
                // CycloneDX's keys): skip the second pass over the file.
                d @ Detection::Supported {
                    format: Format::CycloneDxJson | Format::SpdxJson,
                    ..
                } => d,
                _ => detect::detect_reader(&head, BufReader::with_capacity(BUF, b)),
            }
        }
        (Err(e), _) | (_, Err(e)) => return Ok(LargeOutcome::Whole(failed(lf, e.to_string()))),
    };
    let (format, spec_version) = match det {
        Detection::Supported {
            format,
            spec_version,
        } if streamable(format) => (format, spec_version),
        _ => return Ok(whole(lf)),
    };
    let mut pf = ParsedFile {
        path: lf.path.clone(),
        sha256: sha256.clone(),
        size,
        bytes: None,
        format: Some(format),
        spec_version,
        status: FileStatus::Failed,
        message: None,
        doc: None,
    };
    let (mut h, mut n) = (Sha256::new(), 0u64);
    let reader = match hashing(lf, &mut h, &mut n) {
        Ok(r) => r,
        Err(e) => return Ok(LargeOutcome::Whole(failed(lf, e.to_string()))),
    };
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        parse_reader(format, reader, sink)
    }));
    if matches!(result, Ok(Ok(_))) && (n != size || hex::encode(h.finalize()) != sha256) {
        pf.message = Some(format!(
            "the file changed while it was read (it no longer has sha256 {sha256})"
        ));
        return Ok(LargeOutcome::Streamed {
            file: pf,
            late_scanner_version: None,
        });
    }
    outcome(lf, format, pf, result)
}

/// `sbom` for a file whose first bytes name a JSON SBOM; `None` for any other file.
fn named_sbom(
    lf: &LargeFile,
    head: Vec<u8>,
    src: Source,
    sink: &mut dyn FindingSink,
) -> Result<Option<LargeOutcome>, LargeError> {
    match detect::detect(&head) {
        Detection::Supported {
            format: format @ (Format::CycloneDxJson | Format::SpdxJson),
            spec_version,
        } => sbom(lf, format, spec_version, head, src, sink),
        _ => Ok(None),
    }
}

/// A JSON SBOM in one read, `head` its first bytes and `src` the rest: parsed from a
/// reader that hashes what it passes on; what the parse leaves unread (it stopped at an
/// error) is hashed after it, so the file's row always carries the digest of its bytes.
/// `None` when the packer's feed failed (the caller reads the file itself instead).
fn sbom(
    lf: &LargeFile,
    format: Format,
    spec_version: Option<String>,
    head: Vec<u8>,
    src: Source,
    sink: &mut dyn FindingSink,
) -> Result<Option<LargeOutcome>, LargeError> {
    let fed = matches!(src, Source::Feed(_));
    let mut reader = BufReader::with_capacity(BUF, std::io::Cursor::new(head).chain(src));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        parse_reader(format, &mut reader, sink)
    }));
    // What the `BufReader` holds beyond the parse was read (and hashed) already.
    let (_, src) = reader.into_inner().into_inner();
    let (sha256, size) = match src.finish() {
        Ok(x) => x,
        Err(_) if fed => return Ok(None),
        Err(e) => return Ok(Some(LargeOutcome::Whole(failed(lf, e.to_string())))),
    };
    let pf = ParsedFile {
        path: lf.path.clone(),
        sha256,
        size,
        bytes: None,
        format: Some(format),
        spec_version,
        status: FileStatus::Failed,
        message: None,
        doc: None,
    };
    outcome(lf, format, pf, result).map(Some)
}

/// What a streamed parse's result makes of the file: parsed, failed with the parser's message,
/// parsed whole after all, or the import stopped (the sink failed).
fn outcome(
    lf: &LargeFile,
    format: Format,
    mut pf: ParsedFile,
    result: std::thread::Result<Result<Streamed, StreamError>>,
) -> Result<LargeOutcome, LargeError> {
    let failed_with = |mut pf: ParsedFile, message: String| {
        pf.message = Some(message);
        Ok(LargeOutcome::Streamed {
            file: pf,
            late_scanner_version: None,
        })
    };
    match result {
        Ok(Ok(s)) => {
            pf.status = FileStatus::Parsed;
            if !s.doc.warnings.is_empty() {
                pf.message = Some(s.doc.warnings.join("; "));
            }
            pf.doc = Some(s.doc);
            Ok(LargeOutcome::Streamed {
                file: pf,
                late_scanner_version: s.late_scanner_version,
            })
        }
        Ok(Err(StreamError::Format(e))) => failed_with(pf, e.to_string()),
        Ok(Err(StreamError::Unstreamable(_))) => Ok(whole(lf)),
        Ok(Err(StreamError::Sink(message))) => Err(LargeError {
            path: lf.path.clone(),
            message,
        }),
        Err(_) => failed_with(
            pf,
            format!(
                "internal error while parsing {format} (a bug: please report it with this file)"
            ),
        ),
    }
}

/// `lf` opened for reading through `Hashing`, so the parse's own reads hash the file.
fn hashing<'a>(
    lf: &LargeFile,
    h: &'a mut Sha256,
    n: &'a mut u64,
) -> std::io::Result<BufReader<Hashing<'a, File>>> {
    let inner = File::open(&lf.fs_path)?;
    Ok(BufReader::with_capacity(BUF, Hashing { inner, h, n }))
}

/// Hashes what passes through, under the `BufReader` so it sees large reads.
struct Hashing<'a, R> {
    inner: R,
    h: &'a mut Sha256,
    n: &'a mut u64,
}

impl<R: Read> Read for Hashing<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let k = self.inner.read(buf)?;
        self.h.update(&buf[..k]);
        *self.n += k as u64;
        Ok(k)
    }
}

#[cfg(test)]
#[path = "large_tests.rs"]
mod tests;
