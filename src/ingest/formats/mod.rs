//! One parser per external evidence format, each turning bytes into a `model::Document`.
//! Wire types are private to each module; only the conversion into the model is shared.
//! Formats whose meaning is read later (signatures, VEX, waivers, ...) are parsed by their
//! analysis module; here they yield an `Other` document naming the digests they mention.

mod conv;
mod cyclonedx_json;
mod cyclonedx_model;
mod cyclonedx_xml;
mod cyclonedx_xmltree;
mod grype;
mod oci;
mod refs;
mod slices;
mod spdx_json;
mod spdx_model;
mod spdx_tagvalue;
pub mod stream;
mod trivy;

use super::detect::Format;
use crate::model::Document;
use std::fmt;

/// A parse failure with the position in the file when the format can tell.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct FormatError {
    pub message: String,
    pub line: Option<u64>,
    pub column: Option<u64>,
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "line {l}, column {c}: {}", self.message),
            (Some(l), None) => write!(f, "line {l}: {}", self.message),
            _ => f.write_str(&self.message),
        }
    }
}

impl FormatError {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            line: None,
            column: None,
        }
    }

    pub fn at(message: impl Into<String>, line: u64, column: Option<u64>) -> Self {
        Self {
            message: message.into(),
            line: Some(line),
            column,
        }
    }

    /// serde_json errors carry line and column; keep them.
    pub fn json(e: &serde_json::Error) -> Self {
        let msg = e.to_string();
        // serde_json appends " at line L column C"; the position is reported separately.
        let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
        Self {
            message: msg,
            line: Some(e.line() as u64),
            column: Some(e.column() as u64),
        }
    }

    /// Position of a byte offset, for parsers that only know offsets (quick-xml).
    pub fn at_offset(message: impl Into<String>, bytes: &[u8], offset: u64) -> Self {
        let off = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(bytes.len());
        let before = &bytes[..off];
        let line = before.iter().filter(|b| **b == b'\n').count() as u64 + 1;
        let col = (off
            - before
                .iter()
                .rposition(|b| *b == b'\n')
                .map_or(0, |p| p + 1)) as u64
            + 1;
        Self::at(message, line, Some(col))
    }
}

/// True for the formats `parse_reader` reads as a stream: the scan reports of `stream` and
/// the JSON SBOMs (CycloneDX, SPDX), whose lists are read one element at a time.
pub fn streamable(format: Format) -> bool {
    stream::streamable(format) || matches!(format, Format::CycloneDxJson | Format::SpdxJson)
}

/// Parses `reader` as `format` (one of `streamable`) without holding its bytes: findings go
/// to `sink`; the returned document is what `parse` gives, less its findings.
pub fn parse_reader<R: std::io::Read>(
    format: Format,
    reader: R,
    sink: &mut dyn stream::FindingSink,
) -> Result<stream::Streamed, stream::StreamError> {
    match format {
        Format::CycloneDxJson => cyclonedx_json::stream::parse(reader, sink),
        Format::SpdxJson => spdx_json::stream::parse(reader, sink),
        other => stream::parse_stream(other, reader, sink),
    }
}

/// Parses `bytes` as `format`.
pub fn parse(format: Format, bytes: &[u8]) -> Result<Document, FormatError> {
    match format {
        Format::CycloneDxJson => cyclonedx_json::parse(bytes),
        Format::CycloneDxXml => cyclonedx_xml::parse(bytes),
        Format::SpdxJson => spdx_json::parse(bytes),
        Format::SpdxTagValue => spdx_tagvalue::parse(bytes),
        Format::TrivyJson => trivy::parse(bytes),
        Format::GrypeJson => grype::parse(bytes),
        Format::OciManifest
        | Format::OciIndex
        | Format::OciImageConfig
        | Format::SkopeoInspect
        | Format::ImageDigest
        | Format::ImageReference => oci::parse(format, bytes),
        other => refs::parse(other, bytes),
    }
}

#[cfg(test)]
#[path = "sbom_stream_tests.rs"]
mod sbom_stream_tests;
