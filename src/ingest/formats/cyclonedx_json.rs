//! CycloneDX JSON 1.2-1.7: lenient private wire types (every field optional, unknown fields
//! and enum values tolerated, scalars of the wrong JSON type read as text or ignored), read
//! with one `serde_json::from_slice` and mapped onto `cyclonedx_model::Bom`.

use super::cyclonedx_model::{self as m, Bom};
use super::FormatError;
use crate::model::Document;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::fmt;

/// A scalar read as text whatever its JSON type; `null`, objects and arrays read as absent,
/// so one odd field never rejects a whole SBOM.
#[derive(Debug, Default, Clone)]
pub(super) struct L(pub Option<String>);

impl<'de> Deserialize<'de> for L {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = L;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a scalar")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<L, E> {
                Ok(L(Some(v.to_string())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<L, E> {
                Ok(L(Some(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<L, E> {
                Ok(L(Some(v.to_string())))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<L, E> {
                Ok(L(Some(v.to_string())))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<L, E> {
                Ok(L(Some(v.to_string())))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<L, E> {
                Ok(L(Some(v.to_string())))
            }
            fn visit_unit<E: de::Error>(self) -> Result<L, E> {
                Ok(L(None))
            }
            fn visit_none<E: de::Error>(self) -> Result<L, E> {
                Ok(L(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<L, A::Error> {
                while a.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(L(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<L, A::Error> {
                while a.next_element::<IgnoredAny>()?.is_some() {}
                Ok(L(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// A list that may be absent, `null`, or not a list at all (read as empty).
#[derive(Debug)]
pub(super) struct List<T>(pub Vec<T>);

impl<T> Default for List<T> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for List<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = List<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<List<T>, A::Error> {
                let mut v = Vec::new();
                while let Some(x) = a.next_element()? {
                    v.push(x);
                }
                Ok(List(v))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<List<T>, A::Error> {
                while a.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(List(Vec::new()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<List<T>, E> {
                Ok(List(Vec::new()))
            }
            fn visit_none<E: de::Error>(self) -> Result<List<T>, E> {
                Ok(List(Vec::new()))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<List<T>, E> {
                Ok(List(Vec::new()))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<List<T>, E> {
                Ok(List(Vec::new()))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<List<T>, E> {
                Ok(List(Vec::new()))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<List<T>, E> {
                Ok(List(Vec::new()))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<List<T>, E> {
                Ok(List(Vec::new()))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WBom {
    metadata: Option<WMeta>,
    components: List<WComp>,
    dependencies: List<WDep>,
    vulnerabilities: List<WVuln>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WMeta {
    timestamp: L,
    tools: Option<WTools>,
    component: Option<WComp>,
    properties: List<WProp>,
}

/// 1.2-1.4 wrote `tools: [..]`; 1.5+ writes `tools: {components: [..], services: [..]}`.
#[derive(Deserialize)]
#[serde(untagged)]
enum WTools {
    Legacy(Vec<WTool>),
    Modern {
        #[serde(default)]
        components: List<WTool>,
        #[serde(default)]
        services: List<WTool>,
    },
    #[allow(dead_code)]
    Other(IgnoredAny),
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WTool {
    name: L,
    version: L,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WComp {
    #[serde(rename = "bom-ref")]
    bom_ref: L,
    #[serde(rename = "type")]
    kind: L,
    name: L,
    version: L,
    purl: L,
    cpe: L,
    licenses: List<WLicenseChoice>,
    properties: List<WProp>,
    components: List<WComp>,
    evidence: Option<WEvidence>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WLicenseChoice {
    license: Option<WLicense>,
    expression: L,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WLicense {
    id: L,
    name: L,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WProp {
    name: L,
    value: L,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WEvidence {
    occurrences: List<WOccurrence>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WOccurrence {
    location: L,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WDep {
    #[serde(rename = "ref")]
    r#ref: L,
    #[serde(rename = "dependsOn")]
    depends_on: List<L>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WVuln {
    id: L,
    source: Option<WSource>,
    references: List<WReference>,
    ratings: List<WRating>,
    description: L,
    detail: L,
    recommendation: L,
    advisories: List<WAdvisory>,
    published: L,
    analysis: Option<IgnoredAny>,
    affects: List<WAffect>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WSource {
    name: L,
    url: L,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WReference {
    id: L,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WRating {
    source: Option<WSource>,
    score: L,
    severity: L,
    method: L,
    vector: L,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WAdvisory {
    url: L,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WAffect {
    #[serde(rename = "ref")]
    r#ref: L,
}

fn props(p: List<WProp>) -> Vec<(String, String)> {
    p.0.into_iter()
        .filter_map(|p| Some((p.name.0?, p.value.0.unwrap_or_default())))
        .collect()
}

fn comp(c: WComp) -> m::Comp {
    let mut licenses = Vec::new();
    for l in c.licenses.0 {
        if let Some(x) = l.license {
            licenses.extend(x.id.0.or(x.name.0));
        }
        licenses.extend(l.expression.0);
    }
    m::Comp {
        bom_ref: c.bom_ref.0,
        kind: c.kind.0,
        name: c.name.0,
        version: c.version.0,
        purl: c.purl.0,
        cpe: c.cpe.0,
        licenses,
        properties: props(c.properties),
        occurrences: c
            .evidence
            .map(|e| {
                e.occurrences
                    .0
                    .into_iter()
                    .filter_map(|o| o.location.0)
                    .collect()
            })
            .unwrap_or_default(),
        children: c.components.0.into_iter().map(comp).collect(),
        ext_vulns: Vec::new(),
    }
}

/// An element of `components` (not the subject): only the properties the model reads are
/// kept, so a streamed parse does not hold every layer id and cataloger name to the end.
fn list_comp(w: WComp) -> m::Comp {
    fn prune(c: &mut m::Comp) {
        c.properties.retain(|(n, _)| m::is_component_property(n));
        c.children.iter_mut().for_each(prune);
    }
    let mut c = comp(w);
    prune(&mut c);
    c
}

fn vuln(v: WVuln) -> m::Vuln {
    let (source_name, source_url) = v.source.map(|s| (s.name.0, s.url.0)).unwrap_or_default();
    m::Vuln {
        id: v.id.0,
        source_name,
        source_url,
        references: v.references.0.into_iter().filter_map(|r| r.id.0).collect(),
        ratings: v
            .ratings
            .0
            .into_iter()
            .map(|r| m::Rating {
                source: r.source.and_then(|s| s.name.0),
                score: r
                    .score
                    .0
                    .and_then(|s| s.trim().parse::<f64>().ok())
                    .filter(|s| s.is_finite()),
                severity: r.severity.0,
                method: r.method.0,
                vector: r.vector.0,
            })
            .collect(),
        description: v.description.0,
        detail: v.detail.0,
        recommendation: v.recommendation.0,
        advisories: v.advisories.0.into_iter().filter_map(|a| a.url.0).collect(),
        published: v.published.0,
        has_analysis: v.analysis.is_some(),
        affects: v.affects.0.into_iter().filter_map(|a| a.r#ref.0).collect(),
    }
}

fn dep(d: WDep) -> Option<(String, Vec<String>)> {
    Some((
        d.r#ref.0?,
        d.depends_on.0.into_iter().filter_map(|x| x.0).collect(),
    ))
}

pub fn parse(bytes: &[u8]) -> Result<Document, FormatError> {
    let w: WBom = serde_json::from_slice(bytes).map_err(|e| FormatError::json(&e))?;
    finish(
        w.metadata,
        w.components.0.into_iter().map(list_comp).collect(),
        w.dependencies.0.into_iter().filter_map(dep).collect(),
        w.vulnerabilities.0.into_iter().map(vuln).collect(),
        None,
    )
    .map_err(|e| match e {
        FinishError::Format(e) => e,
        FinishError::Sink(e) => FormatError::new(e),
    })
}

enum FinishError {
    Format(FormatError),
    /// The component sink failed (spool I/O), streamed only.
    Sink(String),
}

/// The one conversion of the read parts, whole or streamed (each list already mapped by
/// `comp`, `dep` and `vuln`, element by element; a streamed parse's components may have
/// gone to `spooled` instead).
fn finish(
    metadata: Option<WMeta>,
    components: Vec<m::Comp>,
    dependencies: Vec<(String, Vec<String>)>,
    vulnerabilities: Vec<m::Vuln>,
    spooled: Option<&mut m::SpooledBom>,
) -> Result<Document, FinishError> {
    let meta = metadata.unwrap_or_default();
    let tools = match meta.tools {
        Some(WTools::Legacy(t)) => t,
        Some(WTools::Modern {
            components,
            services,
        }) => components.0.into_iter().chain(services.0).collect(),
        _ => Vec::new(),
    };
    let bom = Bom {
        timestamp: meta.timestamp.0,
        tools: tools
            .into_iter()
            .filter_map(|t| Some((t.name.0?, t.version.0)))
            .collect(),
        subject: meta.component.map(comp),
        metadata_properties: props(meta.properties),
        components,
        dependencies,
        vulnerabilities,
    };
    m::to_document_with(bom, spooled).map_err(|e| match e {
        m::ToDocError::Limit(e) => FinishError::Format(FormatError::new(e)),
        m::ToDocError::Sink(e) => FinishError::Sink(e),
    })
}

#[path = "cyclonedx_json_stream.rs"]
pub(super) mod stream;

#[cfg(test)]
#[path = "cyclonedx_json_tests.rs"]
mod tests;
