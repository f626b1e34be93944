//! A JSON document read in large chunks and cut into the byte ranges of its values, so each
//! array element is parsed with `serde_json::from_slice` (borrowing its strings) instead of
//! through serde_json's byte-at-a-time `IoRead`. The walker is strict at the few levels it
//! walks (serde_json's own messages at the real line and column) and hands every other
//! value to serde whole, so it accepts and refuses exactly what the whole-document parse does.

use super::stream::StreamError;
use super::FormatError;
use serde::de::{self, Deserialize, DeserializeSeed, Deserializer, IgnoredAny, SeqAccess, Visitor};
use std::fmt;
use std::io::Read;
use std::marker::PhantomData;

/// Bytes read at a time.
pub(super) const CHUNK: usize = 1 << 20;
/// Largest single value held at once (an array element, or a key's whole value): one this
/// large is as large as a file that is read whole (`Limits::stream_above_bytes`).
pub(super) const MAX_VALUE: usize = 32 << 20;
/// serde_json refuses the container that would be its 128th level of nesting.
const SERDE_DEPTH: u32 = 128;

/// Where one value lies in the buffer, and how deep its containers nest (`{}` is 1).
#[derive(Debug, Clone, Copy)]
pub(super) struct Span {
    start: usize,
    end: usize,
    inner: u32,
}

/// Parses a value that sits `depth` containers deep as the whole parse would meet it
/// there: a closure over `nested::<T>` (see `checker!`), run only when serde's nesting
/// limit could be reached.
pub(super) type Check<'c> = &'c dyn Fn(&[u8], u32) -> serde_json::Result<()>;

/// `Check` for a wire type: `checker!(Vuln)`.
macro_rules! checker {
    ($t:ty) => {
        &|b: &[u8], d: u32| {
            let w = $crate::ingest::formats::slices::wrap(b, d);
            $crate::ingest::formats::slices::nested::<$t>(&w, d)
        }
    };
}
pub(super) use checker;

pub(super) struct Json<R> {
    r: R,
    buf: Vec<u8>,
    /// Next unread byte; bytes before it may be dropped when more are read.
    pos: usize,
    /// End of the bytes read so far.
    end: usize,
    /// Offset in the file of `buf[0]`.
    base: u64,
    eof: bool,
    chunk: usize,
    max_value: usize,
    /// Line number of `base` and the file offset where that line starts.
    line: u64,
    line_start: u64,
    /// Containers open around `pos`.
    depth: u32,
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\n' | b'\t' | b'\r')
}

impl<R: Read> Json<R> {
    pub(super) fn new(r: R, chunk: usize, max_value: usize) -> Self {
        let chunk = chunk.max(1);
        Self {
            r,
            buf: vec![0; chunk.min(max_value.max(1))],
            pos: 0,
            end: 0,
            base: 0,
            eof: false,
            chunk,
            max_value: max_value.max(1),
            line: 1,
            line_start: 0,
            depth: 0,
        }
    }

    /// Reads more bytes, first dropping those before `pos` (so indexes move down by the
    /// returned shift). `false` in `.1` at the end of the file.
    fn more(&mut self) -> Result<(usize, bool), StreamError> {
        let shift = self.pos;
        if shift > 0 {
            let gone = &self.buf[..shift];
            let n = memchr::memchr_iter(b'\n', gone).count() as u64;
            if n > 0 {
                self.line += n;
                let last = memchr::memrchr(b'\n', gone).unwrap_or(0);
                self.line_start = self.base + last as u64 + 1;
            }
            self.buf.copy_within(shift..self.end, 0);
            self.end -= shift;
            self.pos = 0;
            self.base += shift as u64;
        }
        if self.eof {
            return Ok((shift, false));
        }
        if self.end == self.buf.len() {
            if self.end >= self.max_value {
                return Err(self.fail_at(
                    1.min(self.end),
                    format!(
                        "a single JSON value of more than {} MiB (the largest the stream holds at once); the file cannot be imported",
                        self.max_value >> 20
                    ),
                ));
            }
            let grown = (self.buf.len() * 2).max(self.chunk).min(self.max_value);
            self.buf.resize(grown, 0);
        }
        loop {
            match self.r.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok((shift, false));
                }
                Ok(k) => {
                    self.end += k;
                    return Ok((shift, true));
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(StreamError::Format(FormatError::new(e.to_string()))),
            }
        }
    }

    /// serde_json's position of buffer index `i` (its `SliceRead::position_of_index`):
    /// the line, and the count of bytes before `i` on that line.
    fn position(&self, i: usize) -> (u64, u64) {
        let i = i.min(self.end);
        let part = &self.buf[..i];
        match memchr::memrchr(b'\n', part) {
            Some(last) => {
                let n = memchr::memchr_iter(b'\n', part).count() as u64;
                (self.line + n, (i - last - 1) as u64)
            }
            None => (self.line, self.base + i as u64 - self.line_start),
        }
    }

    fn fail_at(&self, i: usize, message: String) -> StreamError {
        let (line, col) = self.position(i);
        StreamError::Format(FormatError::at(message, line, Some(col)))
    }

    /// An error about the byte at `i` as serde_json places it (`peek_error`: one past it).
    fn peek_fail(&self, i: usize, message: &str) -> StreamError {
        self.fail_at((i + 1).min(self.end), message.to_string())
    }

    /// serde's error for the value starting at buffer index `start`, placed in the file.
    fn serde_fail(&self, start: usize, e: &serde_json::Error, shift: u64) -> StreamError {
        let mut f = FormatError::json(e);
        let (l0, c0) = self.position(start);
        let (l, c) = (e.line() as u64, e.column() as u64);
        let (line, col) = match l {
            0 => (l0, c0),
            1 => (l0, c0 + c.saturating_sub(shift)),
            _ => (l0 + l - 1, c),
        };
        f.line = Some(line);
        f.column = Some(col);
        StreamError::Format(f)
    }

    /// The error serde_json gives a derived struct for a field named twice: placed after
    /// the key and the whitespace that follows it (where its `end_map` stops looking).
    pub(super) fn duplicate(&mut self, name: &str) -> StreamError {
        if let Err(e) = self.peek() {
            return e;
        }
        self.fail_at(self.pos, format!("duplicate field `{name}`"))
    }

    /// Marks `bit` in `seen` for a field of a derived struct; a second time is serde's
    /// duplicate error, so a streamed parse refuses what the whole parse refuses.
    pub(super) fn once(&mut self, seen: &mut u16, bit: u16, name: &str) -> Result<(), StreamError> {
        if *seen & bit != 0 {
            return Err(self.duplicate(name));
        }
        *seen |= bit;
        Ok(())
    }

    /// Skips whitespace; the next byte, `None` at the end of the file.
    pub(super) fn peek(&mut self) -> Result<Option<u8>, StreamError> {
        loop {
            while self.pos < self.end {
                let b = self.buf[self.pos];
                if !is_ws(b) {
                    return Ok(Some(b));
                }
                self.pos += 1;
            }
            if !self.more()?.1 {
                return Ok(None);
            }
        }
    }

    /// Enters the container whose opening byte `peek` just returned.
    pub(super) fn open(&mut self) {
        self.pos += 1;
        self.depth += 1;
    }

    /// serde_json's `MapAccess::next_key`: the next key of the object entered with `open`,
    /// `None` after its `}`. `first` starts `true` for each object.
    pub(super) fn next_key(&mut self, first: &mut bool) -> Result<Option<String>, StreamError> {
        let b = match self.peek()? {
            Some(b'}') => {
                self.pos += 1;
                self.depth -= 1;
                return Ok(None);
            }
            Some(b',') if !*first => {
                self.pos += 1;
                self.peek()?
            }
            Some(b) if *first => {
                *first = false;
                Some(b)
            }
            Some(_) => return Err(self.peek_fail(self.pos, "expected `,` or `}`")),
            None => return Err(self.peek_fail(self.end, "EOF while parsing an object")),
        };
        match b {
            Some(b'"') => {
                let s = self.span()?;
                let k: String = self.parse(s, checker!(String))?;
                Ok(Some(k))
            }
            Some(b'}') => Err(self.peek_fail(self.pos, "trailing comma")),
            Some(_) => Err(self.peek_fail(self.pos, "key must be a string")),
            None => Err(self.peek_fail(self.end, "EOF while parsing a value")),
        }
    }

    /// The `:` after a key (serde_json reads it when the value is asked for).
    pub(super) fn colon(&mut self) -> Result<(), StreamError> {
        match self.peek()? {
            Some(b':') => {
                self.pos += 1;
                Ok(())
            }
            Some(_) => Err(self.peek_fail(self.pos, "expected `:`")),
            None => Err(self.peek_fail(self.end, "EOF while parsing an object")),
        }
    }

    /// serde_json's `SeqAccess::next_element` for the array entered with `open`: `true`
    /// when an element follows (read it with `span`), `false` after the `]`.
    pub(super) fn next_element(&mut self, first: &mut bool) -> Result<bool, StreamError> {
        let b = match self.peek()? {
            Some(b']') => {
                self.pos += 1;
                self.depth -= 1;
                return Ok(false);
            }
            Some(b',') if !*first => {
                self.pos += 1;
                self.peek()?
            }
            Some(b) if *first => {
                *first = false;
                Some(b)
            }
            Some(_) => return Err(self.peek_fail(self.pos, "expected `,` or `]`")),
            None => return Err(self.peek_fail(self.end, "EOF while parsing a list")),
        };
        match b {
            Some(b']') => Err(self.peek_fail(self.pos, "trailing comma")),
            Some(_) => Ok(true),
            None => Err(self.peek_fail(self.end, "EOF while parsing a value")),
        }
    }

    /// After the top-level value: only whitespace may follow.
    pub(super) fn end(&mut self) -> Result<(), StreamError> {
        match self.peek()? {
            None => Ok(()),
            Some(_) => Err(self.peek_fail(self.pos, "trailing characters")),
        }
    }

    /// The next value's bytes, read into the buffer whole, and the walk moved past it.
    /// The span covers exactly what serde_json reads of the value when it is well formed,
    /// and reaches at least the first byte serde refuses when it is not (or the end of the
    /// file), so `parse` on it gives the whole parse's answer.
    pub(super) fn span(&mut self) -> Result<Span, StreamError> {
        let first = self.peek()?;
        let mut i = self.pos;
        let mut inner = 0u32;
        match first {
            None => {}
            Some(b'"') => {
                i += 1;
                let mut esc = false;
                'str: loop {
                    while i < self.end {
                        if esc {
                            esc = false;
                            i += 1;
                            continue;
                        }
                        match memchr::memchr2(b'"', b'\\', &self.buf[i..self.end]) {
                            None => i = self.end,
                            Some(k) => {
                                i += k + 1;
                                if self.buf[i - 1] == b'"' {
                                    break 'str;
                                }
                                esc = true;
                            }
                        }
                    }
                    let (shift, got) = self.more()?;
                    i -= shift;
                    if !got {
                        break;
                    }
                }
            }
            Some(b'{' | b'[') => {
                let mut depth = 0u32;
                let mut in_str = false;
                let mut esc = false;
                'scan: loop {
                    while i < self.end {
                        if in_str {
                            if esc {
                                esc = false;
                                i += 1;
                                continue;
                            }
                            match memchr::memchr2(b'"', b'\\', &self.buf[i..self.end]) {
                                None => i = self.end,
                                Some(k) => {
                                    i += k + 1;
                                    if self.buf[i - 1] == b'"' {
                                        in_str = false;
                                    } else {
                                        esc = true;
                                    }
                                }
                            }
                            continue;
                        }
                        let b = self.buf[i];
                        i += 1;
                        match b {
                            b'"' => in_str = true,
                            b'{' | b'[' => {
                                depth += 1;
                                inner = inner.max(depth);
                            }
                            b'}' | b']' => {
                                depth -= 1;
                                if depth == 0 {
                                    break 'scan;
                                }
                            }
                            _ => {}
                        }
                    }
                    let (shift, got) = self.more()?;
                    i -= shift;
                    if !got {
                        break;
                    }
                }
            }
            Some(b't') => i = self.literal(b"true")?,
            Some(b'f') => i = self.literal(b"false")?,
            Some(b'n') => i = self.literal(b"null")?,
            Some(b'-' | b'0'..=b'9') => i = self.number()?,
            // serde refuses it at this byte ("expected value"): that byte is enough.
            Some(_) => i += 1,
        }
        let s = Span {
            start: self.pos,
            end: i,
            inner,
        };
        self.pos = i;
        Ok(s)
    }

    /// The first byte from `pos` on that `skip` does not pass over, reading on as needed
    /// (`None` at the end of the file); nothing is consumed.
    pub(super) fn first_past(
        &mut self,
        skip: impl Fn(u8) -> bool,
    ) -> Result<Option<u8>, StreamError> {
        let mut k = 0;
        while let Some(b) = self.byte_at(k)? {
            if !skip(b) {
                return Ok(Some(b));
            }
            k += 1;
        }
        Ok(None)
    }

    /// The byte at `pos + k`, reading on as needed (`None` at the end of the file).
    fn byte_at(&mut self, k: usize) -> Result<Option<u8>, StreamError> {
        while self.pos + k >= self.end {
            if !self.more()?.1 {
                return Ok(None);
            }
        }
        Ok(Some(self.buf[self.pos + k]))
    }

    /// `true`/`false`/`null`: its bytes, or up to the first one that differs (serde's
    /// "expected ident" there).
    fn literal(&mut self, word: &[u8]) -> Result<usize, StreamError> {
        for (k, w) in word.iter().enumerate() {
            match self.byte_at(k)? {
                Some(b) if b == *w => {}
                Some(_) => return Ok(self.pos + k + 1),
                None => return Ok(self.end),
            }
        }
        Ok(self.pos + word.len())
    }

    /// A number as serde_json reads one: `-`? (`0` | [1-9][0-9]*) (`.` [0-9]+)?
    /// ([eE] [+-]? [0-9]+)?; a byte that breaks the grammar where a digit is required is
    /// included, so serde names it.
    fn number(&mut self) -> Result<usize, StreamError> {
        let mut k = 0;
        let digit = |b: Option<u8>| matches!(b, Some(b'0'..=b'9'));
        if self.byte_at(k)? == Some(b'-') {
            k += 1;
        }
        // Where a digit is required, anything else is serde's error at that byte.
        let required = |s: &mut Self, k: usize| -> Result<Option<usize>, StreamError> {
            match s.byte_at(k)? {
                Some(b'0'..=b'9') => Ok(None),
                Some(_) => Ok(Some(s.pos + k + 1)),
                None => Ok(Some(s.end)),
            }
        };
        if let Some(stop) = required(self, k)? {
            return Ok(stop);
        }
        if self.byte_at(k)? == Some(b'0') {
            k += 1;
            if digit(self.byte_at(k)?) {
                return Ok(self.pos + k + 1);
            }
        } else {
            while digit(self.byte_at(k)?) {
                k += 1;
            }
        }
        if self.byte_at(k)? == Some(b'.') {
            k += 1;
            if let Some(stop) = required(self, k)? {
                return Ok(stop);
            }
            while digit(self.byte_at(k)?) {
                k += 1;
            }
        }
        if matches!(self.byte_at(k)?, Some(b'e' | b'E')) {
            k += 1;
            if matches!(self.byte_at(k)?, Some(b'+' | b'-')) {
                k += 1;
            }
            if let Some(stop) = required(self, k)? {
                return Ok(stop);
            }
            while digit(self.byte_at(k)?) {
                k += 1;
            }
        }
        Ok(self.pos + k)
    }

    /// The bytes of a span (valid until the walk reads on).
    pub(super) fn bytes(&self, s: Span) -> &[u8] {
        &self.buf[s.start..s.end]
    }

    /// The span parsed as `T` with serde_json's answer for it at its place in the file:
    /// errors placed at their real line and column, the nesting limit counted from the
    /// top of the document (`check`, only when the limit is within reach).
    pub(super) fn parse<'b, T: Deserialize<'b>>(
        &'b self,
        s: Span,
        check: Check<'_>,
    ) -> Result<T, StreamError> {
        let bytes = &self.buf[s.start..s.end];
        if self.depth + s.inner >= SERDE_DEPTH {
            if let Err(e) = check(bytes, self.depth) {
                // Past the value's last byte, serde met the `]` that `wrap` appended, not
                // the file: the whole parse meets the file's end there, and so does the plain
                // parse below.
                if !past_end(bytes, self.depth, &e) {
                    return Err(self.serde_fail(s.start, &e, u64::from(self.depth)));
                }
            }
        }
        // One UTF-8 check over the value instead of one per borrowed string (serde's
        // `StrRead` trusts a `&str`); bytes that are not UTF-8 get serde's own error.
        match std::str::from_utf8(bytes) {
            Ok(text) => serde_json::from_str(text),
            Err(_) => serde_json::from_slice(bytes),
        }
        .map_err(|e| self.serde_fail(s.start, &e, 0))
    }

    /// `span` then `parse`, for a value that is only checked.
    pub(super) fn skip(&mut self) -> Result<(), StreamError> {
        let s = self.span()?;
        self.parse::<IgnoredAny>(s, checker!(IgnoredAny)).map(drop)
    }
}

/// `b` inside `depth` arrays, so serde_json's nesting limit counts the containers around
/// the value as the whole-document parse does. Errors are placed as if the arrays were not
/// there (the caller takes `depth` off the first line's columns).
pub(super) fn wrap(b: &[u8], depth: u32) -> Vec<u8> {
    let n = depth as usize;
    let mut wrapped = Vec::with_capacity(b.len() + 2 * n);
    wrapped.resize(n, b'[');
    wrapped.extend_from_slice(b);
    wrapped.resize(b.len() + 2 * n, b']');
    wrapped
}

/// Whether serde's error over `wrap(b, depth)` lies beyond `b`'s last byte (in the `]`
/// appended after it). serde places an error at the column of the last byte it read, 1-based
/// (0 just after a newline); `wrap`'s `[` count on the first line only.
fn past_end(b: &[u8], depth: u32, e: &serde_json::Error) -> bool {
    let end_line = 1 + memchr::memchr_iter(b'\n', b).count() as u64;
    let end_col = match memchr::memrchr(b'\n', b) {
        Some(k) => (b.len() - k - 1) as u64,
        None => u64::from(depth) + b.len() as u64,
    };
    let (l, c) = (e.line() as u64, e.column() as u64);
    l > end_line || (l == end_line && c > end_col)
}

/// Parses what `wrap` made as `T` inside its `depth` arrays.
pub(super) fn nested<'x, T: Deserialize<'x>>(w: &'x [u8], depth: u32) -> serde_json::Result<()> {
    let mut de = serde_json::Deserializer::from_slice(w);
    Nest::<T>(depth, PhantomData).deserialize(&mut de)?;
    de.end()
}

struct Nest<T>(u32, PhantomData<T>);

impl<'de, T: Deserialize<'de>> DeserializeSeed<'de> for Nest<T> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        if self.0 == 0 {
            T::deserialize(d).map(drop)
        } else {
            d.deserialize_seq(self)
        }
    }
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for Nest<T> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a value")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<(), A::Error> {
        s.next_element_seed(Nest::<T>(self.0 - 1, PhantomData))?
            .ok_or_else(|| de::Error::custom("a value"))?;
        while s.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }
}

#[path = "slices_fast.rs"]
mod fast;
pub(super) use fast::one;
