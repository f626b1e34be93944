//! Trivy JSON as a stream: `Results[].Vulnerabilities[]` is visited one element at a time and
//! each finding goes to the sink; packages, metadata and warnings come out as `parse` builds
//! them. A result whose `Type` or `Packages` follow its `Vulnerabilities` is unstreamable.

use super::{add_vuln, convert, nonempty, package_component, secrets_warning};
use super::{Builder, ModifiedFinding, Package, Report, Vuln};
use crate::ingest::detect::{top_value, TopKeys};
use crate::ingest::formats::stream::{once, Ctl, FindingSink, StreamError, Streamed};
use crate::model::{DocKind, Document};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::collections::HashMap;
use std::fmt;
use std::io::Read;

struct St<'s> {
    ctl: Ctl<'s>,
    b: Builder,
    version: Option<String>,
    sent_without_version: bool,
    secrets: usize,
    misconfigs: usize,
    /// Everything but `Results`, converted at the end exactly as the whole parse does.
    meta: Report,
    top_keys: TopKeys,
}

pub(in crate::ingest::formats) fn parse<R: Read>(
    reader: R,
    sink: &mut dyn FindingSink,
) -> Result<(Streamed, TopKeys), StreamError> {
    let mut st = St {
        ctl: Ctl::new(sink),
        b: Builder {
            doc: Document::new(DocKind::Scan),
            index: HashMap::new(),
        },
        version: None,
        sent_without_version: false,
        secrets: 0,
        misconfigs: 0,
        meta: Report::default(),
        top_keys: TopKeys::new(),
    };
    let mut de = serde_json::Deserializer::from_reader(reader);
    let r = Top { st: &mut st }
        .deserialize(&mut de)
        .and_then(|()| de.end());
    st.ctl.finish(r)?;
    let mut doc = convert(st.meta);
    doc.components = st.b.doc.components;
    doc.warnings.extend(st.b.doc.warnings);
    if st.secrets + st.misconfigs > 0 {
        doc.warnings
            .push(secrets_warning(st.secrets, st.misconfigs));
    }
    Ok((
        Streamed {
            doc,
            late_scanner_version: st.version.filter(|_| st.sent_without_version),
        },
        st.top_keys,
    ))
}

impl St<'_> {
    /// Hands over the finding `add_vuln` just built (if it built one).
    fn emit<E: de::Error>(&mut self) -> Result<(), E> {
        match self.b.doc.findings.pop() {
            Some(f) => {
                self.sent_without_version |= self.version.is_none();
                self.ctl.send(f)
            }
            None => Ok(()),
        }
    }

    fn packages(&mut self, packages: Option<Vec<Package>>, rtype: Option<&str>) {
        for p in packages.unwrap_or_default() {
            let Some(c) = package_component(&p, rtype) else {
                continue;
            };
            self.b.component(c);
        }
    }
}

struct Top<'a, 's> {
    st: &'a mut St<'s>,
}

impl<'de> DeserializeSeed<'de> for Top<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Top<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Trivy report (a JSON object or array)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let st = self.st;
        let mut seen = 0u16;
        while let Some(k) = map.next_key::<String>()? {
            match k.as_str() {
                "Trivy" => {
                    once(&mut seen, 1, "Trivy")?;
                    st.meta.trivy = map.next_value()?;
                    st.version = st
                        .meta
                        .trivy
                        .as_ref()
                        .and_then(|t| nonempty(t.version.clone()));
                }
                "CreatedAt" => {
                    once(&mut seen, 2, "CreatedAt")?;
                    st.meta.created_at = map.next_value()?;
                }
                "ArtifactName" => {
                    once(&mut seen, 4, "ArtifactName")?;
                    st.meta.artifact_name = map.next_value()?;
                }
                "ArtifactType" => {
                    once(&mut seen, 8, "ArtifactType")?;
                    st.meta.artifact_type = map.next_value()?;
                }
                "Metadata" => {
                    once(&mut seen, 16, "Metadata")?;
                    st.meta.metadata = map.next_value()?;
                }
                "Results" => {
                    once(&mut seen, 32, "Results")?;
                    map.next_value_seed(Opt(Results { st: &mut *st }))?;
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

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        Results { st: self.st }.visit_seq(seq)
    }
}

/// `null` or the inner seed's value (serde's `Option` for a seed).
struct Opt<S>(S);

impl<'de, S: DeserializeSeed<'de, Value = ()>> DeserializeSeed<'de> for Opt<S> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de, S: DeserializeSeed<'de, Value = ()>> Visitor<'de> for Opt<S> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a sequence or null")
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        self.0.deserialize(d)
    }
}

struct Results<'a, 's> {
    st: &'a mut St<'s>,
}

impl<'de> DeserializeSeed<'de> for Results<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Results<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a sequence")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq
            .next_element_seed(OneResult { st: &mut *self.st })?
            .is_some()
        {}
        Ok(())
    }
}

struct OneResult<'a, 's> {
    st: &'a mut St<'s>,
}

impl<'de> DeserializeSeed<'de> for OneResult<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for OneResult<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("struct TResult")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let st = self.st;
        let mut seen = 0u16;
        let mut kind: Option<String> = None;
        let mut pending: Option<Vec<Package>> = None;
        let mut modified: Option<Vec<ModifiedFinding>> = None;
        while let Some(k) = map.next_key::<String>()? {
            match k.as_str() {
                "Target" => {
                    once(&mut seen, 1, "Target")?;
                    map.next_value::<Option<String>>()?;
                }
                "Class" => {
                    once(&mut seen, 2, "Class")?;
                    map.next_value::<Option<String>>()?;
                }
                "Type" => {
                    once(&mut seen, 4, "Type")?;
                    kind = map.next_value()?;
                }
                "Packages" => {
                    once(&mut seen, 8, "Packages")?;
                    if seen & 16 != 0 {
                        return Err(st
                            .ctl
                            .unstreamable("a Trivy result lists Packages after Vulnerabilities"));
                    }
                    pending = map.next_value()?;
                }
                "Vulnerabilities" => {
                    once(&mut seen, 16, "Vulnerabilities")?;
                    if seen & 4 == 0 {
                        return Err(st
                            .ctl
                            .unstreamable("a Trivy result lists Vulnerabilities before Type"));
                    }
                    st.packages(pending.take(), kind.as_deref());
                    map.next_value_seed(Opt(Vulns {
                        st: &mut *st,
                        rtype: kind.as_deref(),
                    }))?;
                }
                "ExperimentalModifiedFindings" => {
                    once(&mut seen, 32, "ExperimentalModifiedFindings")?;
                    modified = map.next_value()?;
                }
                "Secrets" => {
                    once(&mut seen, 64, "Secrets")?;
                    let v: Option<Vec<IgnoredAny>> = map.next_value()?;
                    st.secrets += v.map_or(0, |v| v.len());
                }
                "Misconfigurations" => {
                    once(&mut seen, 128, "Misconfigurations")?;
                    let v: Option<Vec<IgnoredAny>> = map.next_value()?;
                    st.misconfigs += v.map_or(0, |v| v.len());
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let rtype = kind.as_deref();
        st.packages(pending.take(), rtype);
        for m in modified.unwrap_or_default() {
            if m.kind.as_deref().is_some_and(|k| k != "vulnerability") {
                continue;
            }
            let Some(f) = m.finding else { continue };
            let why = serde_json::json!({
                "status": m.status, "statement": m.statement, "source": m.source,
            })
            .to_string();
            add_vuln(&mut st.b, f, rtype, st.version.as_deref(), Some(why));
            st.emit()?;
        }
        Ok(())
    }
}

struct Vulns<'a, 's, 'k> {
    st: &'a mut St<'s>,
    rtype: Option<&'k str>,
}

impl<'de> DeserializeSeed<'de> for Vulns<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Vulns<'_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a sequence")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let st = self.st;
        while let Some(v) = seq.next_element::<Vuln>()? {
            add_vuln(&mut st.b, v, self.rtype, st.version.as_deref(), None);
            st.emit()?;
        }
        Ok(())
    }
}
