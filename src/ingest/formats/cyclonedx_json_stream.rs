//! CycloneDX JSON as a stream: `components[]`, `dependencies[]` and `vulnerabilities[]` are
//! read one element at a time and each is mapped at once by the whole parser's `list_comp` /
//! `dep` / `vuln`, so neither the file's bytes nor its wire structs are ever held whole.

use super::{dep, finish, list_comp, vuln, FinishError, WComp, WDep, WMeta, WVuln};
use crate::ingest::components::ComponentSink;
use crate::ingest::formats::cyclonedx_model as m;
use crate::ingest::formats::stream::{once, Ctl, FindingSink, StreamError, Streamed};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::fmt;
use std::io::Read;
use std::marker::PhantomData;

/// A lenient list (`cyclonedx_json::List`) whose elements go to `f` as they are read: a
/// list that is `null` or not a list reads as empty, exactly as `List` does.
pub(in crate::ingest::formats) struct Each<T, F> {
    f: F,
    t: PhantomData<fn() -> T>,
}

impl<T, F> Each<T, F> {
    pub(in crate::ingest::formats) fn new(f: F) -> Self {
        Self { f, t: PhantomData }
    }
}

impl<'de, T: Deserialize<'de>, F: FnMut(T)> DeserializeSeed<'de> for Each<T, F> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, T: Deserialize<'de>, F: FnMut(T)> Visitor<'de> for Each<T, F> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list")
    }
    fn visit_seq<A: SeqAccess<'de>>(mut self, mut a: A) -> Result<(), A::Error> {
        while let Some(x) = a.next_element::<T>()? {
            (self.f)(x);
        }
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<(), A::Error> {
        while a.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
}

struct Parts<'s> {
    metadata: Option<WMeta>,
    components: Vec<m::Comp>,
    dependencies: Vec<(String, Vec<String>)>,
    vulnerabilities: Vec<m::Vuln>,
    /// The sink components and edges go to, until the first list decides (`spooled`).
    sink: Option<&'s mut dyn ComponentSink>,
    /// Set when the first of `components` / `dependencies` is met after `metadata`: from
    /// then on they go to the sink. Met before it, they stay in memory (the subject, which
    /// decides which components are kept, is not known yet).
    spooled: Option<m::SpooledBom<'s>>,
    decided: bool,
    /// The first error of the sink (spool I/O); the parse stops at the next element.
    sink_error: Option<String>,
}

impl<'s> Parts<'s> {
    fn decide(&mut self) {
        if self.decided {
            return;
        }
        self.decided = true;
        if let (Some(meta), Some(sink)) = (&self.metadata, self.sink.take()) {
            let key = meta.component.as_ref().and_then(|c| {
                let p = c.purl.0.as_deref()?.trim();
                crate::model::normalize_purl(p).filter(|_| !p.is_empty())
            });
            self.spooled = Some(m::SpooledBom::new(sink, key));
        }
    }
}

/// The stream's stand-in for the caller's sink while it reads: CycloneDX findings need
/// every component, so they are sent to the real sink only at the end.
struct NoFindings;

impl FindingSink for NoFindings {
    fn finding(&mut self, _: crate::model::FindingRecord) -> Result<(), String> {
        Ok(())
    }
}

pub(in crate::ingest::formats) fn parse<R: Read>(
    reader: R,
    sink: &mut dyn FindingSink,
) -> Result<Streamed, StreamError> {
    let mut parts = Parts {
        metadata: None,
        components: Vec::new(),
        dependencies: Vec::new(),
        vulnerabilities: Vec::new(),
        sink: sink.components(),
        spooled: None,
        decided: false,
        sink_error: None,
    };
    let mut none = NoFindings;
    let mut ctl = Ctl::new(&mut none);
    let mut de = serde_json::Deserializer::from_reader(reader);
    let r = Top {
        parts: &mut parts,
        ctl: &mut ctl,
    }
    .deserialize(&mut de)
    .and_then(|()| de.end());
    if let Some(e) = parts.sink_error.take() {
        return Err(StreamError::Sink(e));
    }
    ctl.finish(r)?;
    drop(de);
    let mut doc = finish(
        parts.metadata,
        parts.components,
        parts.dependencies,
        parts.vulnerabilities,
        parts.spooled.as_mut(),
    )
    .map_err(|e| match e {
        FinishError::Format(e) => StreamError::Format(e),
        FinishError::Sink(e) => StreamError::Sink(e),
    })?;
    drop(parts.spooled);
    // Findings need every component (`affects` names bom-refs), so they leave at the end.
    for f in std::mem::take(&mut doc.findings) {
        sink.finding(f).map_err(StreamError::Sink)?;
    }
    Ok(Streamed {
        doc,
        late_scanner_version: None,
    })
}

struct Top<'a, 'c, 's, 'k> {
    parts: &'a mut Parts<'k>,
    ctl: &'c mut Ctl<'s>,
}

/// The field names of the whole parser's `WBom`, so serde's messages read the same.
const FIELDS: &[&str] = &["metadata", "components", "dependencies", "vulnerabilities"];

impl<'de> DeserializeSeed<'de> for Top<'_, '_, '_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_struct("WBom", FIELDS, self)
    }
}

impl<'de> Visitor<'de> for Top<'_, '_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("struct WBom")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let p = self.parts;
        let mut seen = 0u16;
        while let Some(k) = map.next_key::<String>()? {
            match k.as_str() {
                "metadata" => {
                    once(&mut seen, 1, "metadata")?;
                    p.metadata = map.next_value()?;
                }
                "components" => {
                    once(&mut seen, 2, "components")?;
                    p.decide();
                    match p.spooled.as_mut() {
                        Some(sp) => {
                            let err = &mut p.sink_error;
                            map.next_value_seed(Each::new(|w: WComp| {
                                if err.is_none() {
                                    *err = sp.component(list_comp(w)).err();
                                }
                            }))?;
                        }
                        None => {
                            let out = &mut p.components;
                            map.next_value_seed(Each::new(|w: WComp| out.push(list_comp(w))))?;
                        }
                    }
                }
                "dependencies" => {
                    once(&mut seen, 4, "dependencies")?;
                    p.decide();
                    match p.spooled.as_mut() {
                        Some(sp) => {
                            let err = &mut p.sink_error;
                            map.next_value_seed(Each::new(|w: WDep| {
                                let Some((from, tos)) = dep(w) else { return };
                                for to in tos {
                                    if err.is_none() && !from.is_empty() && !to.is_empty() {
                                        *err = sp.sink.edge(&from, &to).err();
                                    }
                                }
                            }))?;
                        }
                        None => {
                            let out = &mut p.dependencies;
                            map.next_value_seed(Each::new(|w: WDep| out.extend(dep(w))))?;
                        }
                    }
                }
                "vulnerabilities" => {
                    once(&mut seen, 8, "vulnerabilities")?;
                    let out = &mut p.vulnerabilities;
                    map.next_value_seed(Each::new(|w: WVuln| out.push(vuln(w))))?;
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
            .unstreamable("a CycloneDX document written as a JSON array"))
    }
}
