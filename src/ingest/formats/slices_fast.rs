//! The one-pass element walk: while the buffer holds whole array elements, each is parsed
//! by serde straight from a UTF-8-checked window of the buffer (serde finds its end), so
//! the bytes are read once instead of by `span` and then by serde. Whatever it does not
//! take (a partial element, an error, deep nesting, a separator it does not expect) is
//! left where it stands for the general walk, which gives the exact answer.

use super::{is_ws, Json, SERDE_DEPTH};
use crate::ingest::formats::stream::StreamError;
use serde::Deserialize;
use std::io::Read;

impl<R: Read> Json<R> {
    /// Takes as many elements of the array being walked as the buffer holds whole, from the
    /// element at `pos` on (just after `next_element` said one follows): each object is
    /// handed to `each` as the text from its `{` to the end of a UTF-8-checked window, and
    /// `each` answers how many bytes it took (`one` parses it), or `None` to leave the
    /// element to the general walk. Returns `true` when it stopped at an element it did not
    /// take (`pos` at its start: read it with `span`), `false` when it stopped between
    /// elements (`pos` at the separator, `]`, or the end of what was read: go on with
    /// `next_element`). One pass of serde over each element instead of `span`'s and serde's;
    /// whatever the fast walk does not take is read exactly as before.
    pub(in crate::ingest::formats) fn elements<F>(
        &mut self,
        mut each: F,
    ) -> Result<bool, StreamError>
    where
        F: FnMut(&str, u32) -> Result<Option<usize>, StreamError>,
    {
        // A window bounds the UTF-8 check per call (arrays of one element each must not
        // re-check the rest of the buffer every time).
        const WINDOW: usize = 256 << 10;
        loop {
            let (start, stop) = (self.pos, self.end.min(self.pos + WINDOW));
            let limited = stop < self.end;
            let raw = &self.buf[start..stop];
            let text = match std::str::from_utf8(raw) {
                Ok(t) => t,
                Err(e) => std::str::from_utf8(&raw[..e.valid_up_to()]).unwrap_or_default(),
            };
            let b = text.as_bytes();
            let (mut at, mut took) = (0usize, false);
            let at_element = loop {
                // `at` is an element's first byte here.
                if b.get(at) != Some(&b'{') {
                    break true;
                }
                let Some(n) = each(&text[at..], self.depth)? else {
                    break true;
                };
                took = true;
                at += n;
                let mut k = at;
                while k < b.len() && is_ws(b[k]) {
                    k += 1;
                }
                if b.get(k) != Some(&b',') {
                    // `]`, the window's end, or what `next_element` refuses.
                    at = k;
                    break false;
                }
                k += 1;
                while k < b.len() && is_ws(b[k]) {
                    k += 1;
                }
                if b.get(k) != Some(&b'{') {
                    // Leave the `,` to `next_element` (a trailing comma is its error).
                    break false;
                }
                at = k;
            };
            self.pos = start + at;
            let window_cut = limited || text.len() < raw.len();
            // Only an element's first byte may start the next window: a window that ended
            // between elements (after a `}` and its whitespace) leaves the separator to
            // `next_element`, as the general walk would.
            if took && window_cut && at_element {
                continue;
            }
            return Ok(at_element);
        }
    }
}

/// For `Json::elements`: the first value of `text` as `T` and the bytes it took, when
/// serde reads it whole and its nesting is clear of serde's limit at `depth` (counted
/// loosely: every `{` and `[`); `None` sends it to the general walk, which gives the exact
/// answer (a partial element at the window's end, an error, or deep nesting).
pub(in crate::ingest::formats) fn one<'t, T: Deserialize<'t>>(
    text: &'t str,
    depth: u32,
) -> Option<(T, usize)> {
    let mut it = serde_json::Deserializer::from_str(text).into_iter::<T>();
    let v = it.next()?.ok()?;
    let n = it.byte_offset();
    let opens = memchr::memchr2_iter(b'{', b'[', &text.as_bytes()[..n]).count();
    let clear = u64::from(depth) + (opens as u64) < u64::from(SERDE_DEPTH);
    #[cfg(test)]
    if clear {
        FAST_TAKEN.with(|c| c.set(c.get() + 1));
    }
    clear.then_some((v, n))
}

#[cfg(test)]
thread_local! {
    static FAST_TAKEN: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Elements `one` has handed to the fast walk on this thread (tests check it is used).
#[cfg(test)]
pub(in crate::ingest::formats) fn fast_taken() -> usize {
    FAST_TAKEN.with(std::cell::Cell::get)
}

#[cfg(test)]
#[path = "slices_fast_tests.rs"]
mod tests;
