//! SPDX JSON as a stream: `packages[]` and `relationships[]` are read one element at a time
//! and mapped at once by the whole parser's `package` / `relationship`; `files[]` and
//! `snippets[]` are skipped unread. The document is then built by `spdx_model` as usual.

use super::{package, relationship, WPackage, WRelationship};
use crate::ingest::components::ComponentSink;
use crate::ingest::formats::cyclonedx_json::stream::Each;
use crate::ingest::formats::cyclonedx_json::L;
use crate::ingest::formats::spdx_model::{self as m, SpdxDoc};
use crate::ingest::formats::stream::{once, Ctl, FindingSink, StreamError, Streamed};
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;
use std::io::Read;

/// SPDX reports no findings; the caller's sink is used only for its component sink.
struct NoFindings;

impl FindingSink for NoFindings {
    fn finding(&mut self, _: crate::model::FindingRecord) -> Result<(), String> {
        Ok(())
    }
}

/// With a component sink, packages and edges go to it as they are read (`spooled`).
struct Spool<'k> {
    sink: &'k mut dyn ComponentSink,
    doc: m::SpooledSpdx,
    error: Option<String>,
}

pub(in crate::ingest::formats) fn parse<R: Read>(
    reader: R,
    sink: &mut dyn FindingSink,
) -> Result<Streamed, StreamError> {
    let mut doc = SpdxDoc::default();
    let mut spool = sink.components().map(|sink| Spool {
        sink,
        doc: m::SpooledSpdx::default(),
        error: None,
    });
    let mut none = NoFindings;
    let mut ctl = Ctl::new(&mut none);
    let mut de = serde_json::Deserializer::from_reader(reader);
    let r = Top {
        doc: &mut doc,
        spool: spool.as_mut(),
        ctl: &mut ctl,
    }
    .deserialize(&mut de)
    .and_then(|()| de.end());
    if let Some(e) = spool.as_mut().and_then(|s| s.error.take()) {
        return Err(StreamError::Sink(e));
    }
    ctl.finish(r)?;
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

struct Top<'a, 'c, 's, 'p, 'k> {
    doc: &'a mut SpdxDoc,
    spool: Option<&'p mut Spool<'k>>,
    ctl: &'c mut Ctl<'s>,
}

/// The field names of the whole parser's `WDoc`, so serde's messages read the same.
const FIELDS: &[&str] = &[
    "SPDXID",
    "name",
    "documentDescribes",
    "packages",
    "relationships",
];

impl<'de> DeserializeSeed<'de> for Top<'_, '_, '_, '_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_struct("WDoc", FIELDS, self)
    }
}

impl<'de> Visitor<'de> for Top<'_, '_, '_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("struct WDoc")
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        let d = self.doc;
        let mut seen = 0u16;
        while let Some(k) = map.next_key::<String>()? {
            match k.as_str() {
                "SPDXID" => {
                    once(&mut seen, 1, "SPDXID")?;
                    d.id = map.next_value::<L>()?.0;
                }
                "name" => {
                    once(&mut seen, 2, "name")?;
                    d.name = map.next_value::<L>()?.0;
                }
                "documentDescribes" => {
                    once(&mut seen, 4, "documentDescribes")?;
                    let out = &mut d.describes;
                    map.next_value_seed(Each::new(|x: L| out.extend(x.0)))?;
                }
                "packages" => {
                    once(&mut seen, 8, "packages")?;
                    match self.spool.as_deref_mut() {
                        Some(sp) => map.next_value_seed(Each::new(|w: WPackage| {
                            if sp.error.is_none() {
                                sp.error = m::spool_package(package(w), sp.sink).err();
                            }
                        }))?,
                        None => {
                            let out = &mut d.packages;
                            map.next_value_seed(Each::new(|w: WPackage| out.push(package(w))))?;
                        }
                    }
                }
                "relationships" => {
                    once(&mut seen, 16, "relationships")?;
                    match self.spool.as_deref_mut() {
                        Some(sp) => map.next_value_seed(Each::new(|w: WRelationship| {
                            if let (None, Some(r)) = (&sp.error, relationship(w)) {
                                sp.error = m::spool_relationship(&mut sp.doc, r, sp.sink).err();
                            }
                        }))?,
                        None => {
                            let out = &mut d.relationships;
                            map.next_value_seed(Each::new(|w: WRelationship| {
                                out.extend(relationship(w))
                            }))?;
                        }
                    }
                }
                "bomFormat" | "specVersion" => {
                    // Detection from the file's head chose SPDX; CycloneDX's keys later on
                    // would make the whole file's detection differ, so let it decide.
                    return Err(self
                        .ctl
                        .unstreamable("an SPDX document with CycloneDX keys"));
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        // serde reads a struct from an array too; too odd to stream, so parse it whole.
        Err(self
            .ctl
            .unstreamable("an SPDX document written as a JSON array"))
    }
}
