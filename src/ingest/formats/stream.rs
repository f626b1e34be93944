//! Streaming parse of the scan formats that reach hundreds of MB (Trivy and Grype JSON):
//! the report is read from an `io::Read` in large chunks (`slices`), each finding element is
//! parsed from its own slice and goes to a `FindingSink` as soon as it is converted, so no
//! whole document or findings vector is ever held.

use super::slices::{CHUNK, MAX_VALUE};
use super::FormatError;
use crate::ingest::detect::{Format, TopKeys};
use crate::model::{Document, FindingRecord};
use std::io::Read;

/// Marks `bit` in `seen` for a top-level key; a key seen twice is refused as serde refuses a
/// duplicate field, so the streamed parse rejects what the whole-document parse rejects.
#[allow(dead_code)] // no stream parses through a visitor any more (the SBOMs walk slices)
pub(crate) fn once<E: serde::de::Error>(
    seen: &mut u16,
    bit: u16,
    name: &'static str,
) -> Result<(), E> {
    if *seen & bit != 0 {
        return Err(E::duplicate_field(name));
    }
    *seen |= bit;
    Ok(())
}

/// Receives each finding of a streamed report, in document order.
pub trait FindingSink {
    /// An `Err` stops the parse; the message is returned as `StreamError::Sink`.
    fn finding(&mut self, f: FindingRecord) -> Result<(), String>;

    /// Forgets every finding received so far: the parse they came from is being thrown
    /// away (its format was a wrong guess) and the file will be read again.
    fn discard(&mut self) {}

    /// Where a streamed SBOM sends its components and edges instead of holding them in the
    /// document (`None`: the document keeps them, as the whole-file parse does).
    fn components(&mut self) -> Option<&mut dyn crate::ingest::components::ComponentSink> {
        None
    }
}

/// What a streamed parse returns besides the findings it handed to the sink.
#[derive(Debug)]
pub struct Streamed {
    /// The document without findings: metadata, components, warnings, as `parse` gives them.
    pub doc: Document,
    /// The scanner version, when the report names it only after some findings were sent
    /// (Grype's `descriptor` follows its matches): those views carry `scanner_version: None`
    /// and take this value, which is what the whole-document parse gives every view.
    pub late_scanner_version: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    /// The report is malformed; the error names the position.
    #[error("{0}")]
    Format(FormatError),
    /// The sink failed (spool I/O); nothing about the file.
    #[error("{0}")]
    Sink(String),
    /// Keys in an order the stream cannot follow without buffering (e.g. a Trivy result's
    /// `Type` after its `Vulnerabilities`): parse the whole document instead.
    #[error("cannot be parsed as a stream: {0}")]
    Unstreamable(String),
}

/// True for the formats `parse_stream` reads.
pub fn streamable(format: Format) -> bool {
    matches!(format, Format::TrivyJson | Format::GrypeJson)
}

/// Parses `reader` as `format` (one of `streamable`), sending findings to `sink`.
pub fn parse_stream<R: Read>(
    format: Format,
    reader: R,
    sink: &mut dyn FindingSink,
) -> Result<Streamed, StreamError> {
    parse_stream_with_keys(format, reader, sink).map(|(s, _)| s)
}

/// `parse_stream`, also returning every top-level key the parser met with its short scalar
/// value, as `detect::detect_reader` records them (`None` for a format whose parser does
/// not collect them), so the caller can confirm the format without a second pass.
pub fn parse_stream_with_keys<R: Read>(
    format: Format,
    reader: R,
    sink: &mut dyn FindingSink,
) -> Result<(Streamed, Option<TopKeys>), StreamError> {
    parse_chunked(format, reader, sink, CHUNK, MAX_VALUE)
}

/// `parse_stream_with_keys` reading `chunk` bytes at a time and holding at most
/// `max_value` bytes of one value (tests use tiny ones to cut elements across reads).
pub(crate) fn parse_chunked<R: Read>(
    format: Format,
    reader: R,
    sink: &mut dyn FindingSink,
    chunk: usize,
    max_value: usize,
) -> Result<(Streamed, Option<TopKeys>), StreamError> {
    let (s, k) = match format {
        Format::TrivyJson => super::trivy::stream::parse(reader, sink, chunk, max_value)?,
        Format::GrypeJson => super::grype::stream::parse(reader, sink, chunk, max_value)?,
        other => {
            return Err(StreamError::Unstreamable(format!(
                "{other} is parsed whole"
            )))
        }
    };
    Ok((s, Some(k)))
}

/// The sink plus why a parse stopped early. Serde can only carry a message through its
/// error type, so the real cause waits here and the caller prefers it to serde's error.
// Trivy and Grype no longer parse through a visitor; the SBOM streams keep this API.
#[allow(dead_code)]
pub(super) struct Ctl<'s> {
    sink: &'s mut dyn FindingSink,
    stop: Option<StreamError>,
}

#[allow(dead_code)]
impl<'s> Ctl<'s> {
    pub(super) fn new(sink: &'s mut dyn FindingSink) -> Self {
        Self { sink, stop: None }
    }

    #[allow(dead_code)]
    pub(super) fn send<E: serde::de::Error>(&mut self, f: FindingRecord) -> Result<(), E> {
        match self.sink.finding(f) {
            Ok(()) => Ok(()),
            Err(m) => {
                self.stop = Some(StreamError::Sink(m));
                Err(E::custom("stopped: the finding sink failed"))
            }
        }
    }

    pub(super) fn unstreamable<E: serde::de::Error>(&mut self, why: &str) -> E {
        self.stop = Some(StreamError::Unstreamable(why.to_string()));
        E::custom(format!("stopped: {why}"))
    }

    /// The parse's result, preferring the cause kept here to serde's message.
    pub(super) fn finish<T>(&mut self, r: serde_json::Result<T>) -> Result<T, StreamError> {
        match (r, self.stop.take()) {
            (_, Some(stop)) => Err(stop),
            (Ok(v), None) => Ok(v),
            (Err(e), None) => Err(StreamError::Format(FormatError::json(&e))),
        }
    }
}

#[cfg(test)]
#[path = "stream_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "stream_chunk_tests.rs"]
mod chunk_tests;
