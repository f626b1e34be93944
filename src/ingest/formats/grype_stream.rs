//! Grype JSON as a stream: the report is walked with `slices::Json`, each element of
//! `matches[]` and `ignoredMatches[]` parsed from its own slice into the borrowed `Match` and
//! converted by the whole parse's `add_match`, then sent to the sink. `descriptor` (the
//! Grype version) follows the matches in real reports, so views sent before it take the
//! version afterwards (`Streamed::late_scanner_version`). `ignoredMatches` before `matches`
//! is unstreamable.

use super::{add_match, convert, nonempty, Descriptor, Index, Match, Report, Source};
use crate::ingest::detect::{top_value_of, TopKeys};
use crate::ingest::formats::slices::{checker, one, Json};
use crate::ingest::formats::stream::{FindingSink, StreamError, Streamed};
use crate::model::{DocKind, Document};
use serde::de::IgnoredAny;
use std::io::Read;

struct St<'s> {
    sink: &'s mut dyn FindingSink,
    doc: Document,
    index: Index,
    version: Option<String>,
    sent_without_version: bool,
    /// An `ignoredMatches` array with elements was already sent.
    ignored_sent: bool,
    meta: Report<'static>,
    top_keys: TopKeys,
}

pub(in crate::ingest::formats) fn parse<R: Read>(
    reader: R,
    sink: &mut dyn FindingSink,
    chunk: usize,
    max_value: usize,
) -> Result<(Streamed, TopKeys), StreamError> {
    let mut st = St {
        sink,
        doc: Document::new(DocKind::Scan),
        index: Index::default(),
        version: None,
        sent_without_version: false,
        ignored_sent: false,
        meta: Report::default(),
        top_keys: TopKeys::new(),
    };
    let mut j = Json::new(reader, chunk, max_value);
    match j.peek()? {
        Some(b'{') => top(&mut j, &mut st)?,
        // serde reads a struct from an array too; too odd to stream, so parse it whole.
        Some(b'[') => {
            return Err(StreamError::Unstreamable(
                "a Grype report written as a JSON array".into(),
            ))
        }
        _ => {
            let s = j.span()?;
            j.parse::<Report>(s, checker!(Report))?;
        }
    }
    j.end()?;
    let mut doc = convert(st.meta);
    doc.components = st.doc.components;
    doc.warnings.extend(st.doc.warnings);
    Ok((
        Streamed {
            doc,
            late_scanner_version: st.version.filter(|_| st.sent_without_version),
        },
        st.top_keys,
    ))
}

impl St<'_> {
    fn add(&mut self, m: Match, ignored: bool) -> Result<(), StreamError> {
        self.ignored_sent |= ignored;
        add_match(
            &mut self.doc,
            &mut self.index,
            m,
            self.version.as_deref(),
            ignored,
        );
        for f in self.doc.findings.drain(..) {
            self.sent_without_version |= self.version.is_none();
            self.sink.finding(f).map_err(StreamError::Sink)?;
        }
        Ok(())
    }
}

fn top<R: Read>(j: &mut Json<R>, st: &mut St) -> Result<(), StreamError> {
    j.open();
    let (mut first, mut seen) = (true, 0u16);
    while let Some(k) = j.next_key(&mut first)? {
        let bit = match k.as_str() {
            "matches" => 1,
            "ignoredMatches" => 2,
            "source" => 4,
            "descriptor" => 8,
            _ => 0,
        };
        if bit != 0 {
            if seen & bit != 0 {
                return Err(j.duplicate(&k));
            }
            seen |= bit;
        }
        if bit == 1 && st.ignored_sent {
            return Err(StreamError::Unstreamable(
                "a Grype report lists ignoredMatches before matches".into(),
            ));
        }
        j.colon()?;
        match bit {
            1 | 2 => matches(j, st, bit == 2)?,
            4 => {
                let s = j.span()?;
                st.meta.source = j.parse(s, checker!(Option<Source>))?;
            }
            8 => {
                let s = j.span()?;
                st.meta.descriptor = j.parse(s, checker!(Option<Descriptor>))?;
                st.version = st
                    .meta
                    .descriptor
                    .as_ref()
                    .and_then(|d| nonempty(d.version.clone()));
            }
            _ => {
                let s = j.span()?;
                j.parse::<IgnoredAny>(s, checker!(IgnoredAny))?;
                st.top_keys.insert(k, top_value_of(j.bytes(s)));
                continue;
            }
        }
        // No registry rule reads the value of a key parsed here, only its presence.
        st.top_keys.insert(k, None);
    }
    Ok(())
}

fn matches<R: Read>(j: &mut Json<R>, st: &mut St, ignored: bool) -> Result<(), StreamError> {
    if j.peek()? != Some(b'[') {
        // `null`, or what serde refuses.
        let s = j.span()?;
        let all: Option<Vec<Match>> = j.parse(s, checker!(Option<Vec<Match>>))?;
        for m in all.unwrap_or_default() {
            st.add(m, ignored)?;
        }
        return Ok(());
    }
    j.open();
    let mut first = true;
    while j.next_element(&mut first)? {
        let stopped = j.elements(|text, depth| {
            let Some((m, n)) = one::<Match>(text, depth) else {
                return Ok(None);
            };
            st.add(m, ignored)?;
            Ok(Some(n))
        })?;
        if !stopped {
            continue;
        }
        let s = j.span()?;
        let m: Match = j.parse(s, checker!(Match))?;
        st.add(m, ignored)?;
    }
    Ok(())
}
