//! SPDX JSON as a stream: the document is walked with `slices::Json`, each element of
//! `packages[]` and `relationships[]` parsed from its own slice and mapped at once by the
//! whole parser's `package` / `relationship`; `files[]` and `snippets[]` are only checked;
//! the document is then built by `spdx_model` as usual.

use super::{package, relationship, WPackage, WRelationship};
use crate::ingest::components::ComponentSink;
use crate::ingest::formats::cyclonedx_json::stream::each;
use crate::ingest::formats::cyclonedx_json::{List, L};
use crate::ingest::formats::slices::{checker, Json, CHUNK, MAX_VALUE};
use crate::ingest::formats::spdx_model::{self as m, SpdxDoc};
use crate::ingest::formats::stream::{FindingSink, StreamError, Streamed};
use std::io::Read;

/// With a component sink, packages and edges go to it as they are read (`spooled`).
struct Spool<'k> {
    sink: &'k mut dyn ComponentSink,
    doc: m::SpooledSpdx,
}

pub(in crate::ingest::formats) fn parse<R: Read>(
    reader: R,
    sink: &mut dyn FindingSink,
) -> Result<Streamed, StreamError> {
    parse_chunked(reader, sink, CHUNK, MAX_VALUE)
}

/// `parse` reading `chunk` bytes at a time and holding at most `max_value` bytes of one
/// value (tests use tiny ones to cut elements across reads).
pub(in crate::ingest::formats) fn parse_chunked<R: Read>(
    reader: R,
    sink: &mut dyn FindingSink,
    chunk: usize,
    max_value: usize,
) -> Result<Streamed, StreamError> {
    let mut doc = SpdxDoc::default();
    let mut spool = sink.components().map(|sink| Spool {
        sink,
        doc: m::SpooledSpdx::default(),
    });
    let mut j = Json::new(reader, chunk, max_value);
    if j.peek()? != Some(b'{') {
        // An array (serde reads a struct from one too) or what serde refuses: the whole
        // parse gives its answer.
        return Err(StreamError::Unstreamable(
            "an SPDX document that is not a JSON object".into(),
        ));
    }
    top(&mut j, &mut doc, spool.as_mut())?;
    j.end()?;
    let doc = match spool {
        Some(mut s) => {
            s.doc.id = doc.id;
            s.doc.name = doc.name;
            s.doc.describes = doc.describes;
            m::to_document_spooled(s.doc, s.sink).map_err(StreamError::Sink)?
        }
        None => m::to_document(doc),
    };
    Ok(Streamed {
        doc,
        late_scanner_version: None,
    })
}

fn top<R: Read>(
    j: &mut Json<R>,
    d: &mut SpdxDoc,
    mut spool: Option<&mut Spool<'_>>,
) -> Result<(), StreamError> {
    j.open();
    let (mut first, mut seen) = (true, 0u16);
    while let Some(k) = j.next_key(&mut first)? {
        let bit = match k.as_str() {
            "SPDXID" => 1,
            "name" => 2,
            "documentDescribes" => 4,
            "packages" => 8,
            "relationships" => 16,
            "bomFormat" | "specVersion" => {
                // Detection from the file's head chose SPDX; CycloneDX's keys later on
                // would make the whole file's detection differ, so let it decide.
                return Err(StreamError::Unstreamable(
                    "an SPDX document with CycloneDX keys".into(),
                ));
            }
            _ => 0,
        };
        if bit != 0 {
            j.once(&mut seen, bit, &k)?;
        }
        j.colon()?;
        match bit {
            1 | 2 => {
                let s = j.span()?;
                let v: L = j.parse(s, checker!(L))?;
                if bit == 1 {
                    d.id = v.0;
                } else {
                    d.name = v.0;
                }
            }
            4 => {
                let out = &mut d.describes;
                each(j, checker!(L), checker!(List<L>), |x: L| {
                    out.extend(x.0);
                    Ok(())
                })?
            }
            8 => match spool.as_deref_mut() {
                Some(sp) => each(
                    j,
                    checker!(WPackage),
                    checker!(List<WPackage>),
                    |w: WPackage| m::spool_package(package(w), sp.sink),
                )?,
                None => {
                    let out = &mut d.packages;
                    each(
                        j,
                        checker!(WPackage),
                        checker!(List<WPackage>),
                        |w: WPackage| {
                            out.push(package(w));
                            Ok(())
                        },
                    )?
                }
            },
            16 => match spool.as_deref_mut() {
                Some(sp) => each(
                    j,
                    checker!(WRelationship),
                    checker!(List<WRelationship>),
                    |w: WRelationship| match relationship(w) {
                        Some(r) => m::spool_relationship(&mut sp.doc, r, sp.sink),
                        None => Ok(()),
                    },
                )?,
                None => {
                    let out = &mut d.relationships;
                    each(
                        j,
                        checker!(WRelationship),
                        checker!(List<WRelationship>),
                        |w: WRelationship| {
                            out.extend(relationship(w));
                            Ok(())
                        },
                    )?
                }
            },
            _ => j.skip()?,
        }
    }
    Ok(())
}
