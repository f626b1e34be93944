//! Streaming parse of the scan formats that reach hundreds of MB (Trivy and Grype JSON):
//! the report is read from an `io::Read` in large chunks (`slices`), each finding element is
//! parsed from its own slice and goes to a `FindingSink` as soon as it is converted, so no
//! whole document or findings vector is ever held.

use super::slices::{CHUNK, MAX_VALUE};
use super::FormatError;
use crate::ingest::detect::{Format, TopKeys};
use crate::model::{Document, FindingRecord};
use std::io::Read;

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

#[cfg(test)]
#[path = "stream_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "stream_chunk_tests.rs"]
mod chunk_tests;
