//! Grype JSON as a stream: `matches[]` and `ignoredMatches[]` are visited one element at a
//! time and each finding goes to the sink. `descriptor` (the Grype version) follows the
//! matches in real reports, so views sent before it take the version afterwards
//! (`Streamed::late_scanner_version`). `ignoredMatches` before `matches` is unstreamable.

use super::{add_match, convert, nonempty, Match, Report};
use crate::ingest::detect::{top_value, TopKeys};
use crate::ingest::formats::stream::{once, Ctl, FindingSink, StreamError, Streamed};
use crate::model::{ComponentKey, DocKind, Document};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use std::collections::HashMap;
use std::fmt;
use std::io::Read;

struct St<'s> {
    ctl: Ctl<'s>,
    doc: Document,
    index: HashMap<ComponentKey, usize>,
    version: Option<String>,
    sent_without_version: bool,
    /// An `ignoredMatches` array with elements was already sent.
    ignored_sent: bool,
    meta: Report,
    top_keys: TopKeys,
}

pub(in crate::ingest::formats) fn parse<R: Read>(
    reader: R,
    sink: &mut dyn FindingSink,
) -> Result<(Streamed, TopKeys), StreamError> {
    let mut st = St {
        ctl: Ctl::new(sink),
        doc: Document::new(DocKind::Scan),
        index: HashMap::new(),
        version: None,
        sent_without_version: false,
        ignored_sent: false,
        meta: Report::default(),
        top_keys: TopKeys::new(),
    };
    let mut de = serde_json::Deserializer::from_reader(reader);
    let r = Top { st: &mut st }
        .deserialize(&mut de)
        .and_then(|()| de.end());
    st.ctl.finish(r)?;
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

struct Top<'a, 's> {
    st: &'a mut St<'s>,
}

impl<'de> DeserializeSeed<'de> for Top<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Top<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("struct Report")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let st = self.st;
        let mut seen = 0u16;
        while let Some(k) = map.next_key::<String>()? {
            match k.as_str() {
                "matches" => {
                    once(&mut seen, 1, "matches")?;
                    if st.ignored_sent {
                        return Err(st
                            .ctl
                            .unstreamable("a Grype report lists ignoredMatches before matches"));
                    }
                    map.next_value_seed(Matches {
                        st: &mut *st,
                        ignored: false,
                    })?;
                }
                "ignoredMatches" => {
                    once(&mut seen, 2, "ignoredMatches")?;
                    map.next_value_seed(Matches {
                        st: &mut *st,
                        ignored: true,
                    })?;
                }
                "source" => {
                    once(&mut seen, 4, "source")?;
                    st.meta.source = map.next_value()?;
                }
                "descriptor" => {
                    once(&mut seen, 8, "descriptor")?;
                    st.meta.descriptor = map.next_value()?;
                    st.version = st
                        .meta
                        .descriptor
                        .as_ref()
                        .and_then(|d| nonempty(d.version.clone()));
                }
                _ => {
                    let v = top_value(&mut map)?;
                    st.top_keys.insert(k, v);
                    continue;
                }
            }
            // No registry rule reads the value of a key parsed here, only its presence.
            st.top_keys.insert(k, None);
        }
        Ok(())
    }
}

struct Matches<'a, 's> {
    st: &'a mut St<'s>,
    ignored: bool,
}

impl<'de> DeserializeSeed<'de> for Matches<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for Matches<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a sequence")
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let st = self.st;
        while let Some(m) = seq.next_element::<Match>()? {
            st.ignored_sent |= self.ignored;
            add_match(
                &mut st.doc,
                &mut st.index,
                m,
                st.version.as_deref(),
                self.ignored,
            );
            if let Some(f) = st.doc.findings.pop() {
                st.sent_without_version |= st.version.is_none();
                st.ctl.send(f)?;
            }
        }
        Ok(())
    }
}
