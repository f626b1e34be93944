//! The SPDX 2.2/2.3 view that both the JSON and the tag-value reader fill, and its one
//! conversion into `model::Document`: described elements are the subject, files are never
//! components, relationships become dependency edges.

use crate::ingest::components::{ComponentSink, RootView};
use crate::model::{find_sha256_digest, purl_type, Component, DocKind, Document, Subject};
use std::collections::HashSet;

#[derive(Debug, Default)]
pub struct SpdxDoc {
    pub id: Option<String>,
    pub name: Option<String>,
    /// `documentDescribes` (JSON) — relationship forms are read from `relationships`.
    pub describes: Vec<String>,
    pub packages: Vec<Package>,
    /// (element, relationship type, related element), as written.
    pub relationships: Vec<(String, String, String)>,
}

#[derive(Debug, Default, Clone)]
pub struct Package {
    pub id: Option<String>,
    pub name: Option<String>,
    pub version: Option<String>,
    /// Normalised to the SPDX 2.3 spelling (`OPERATING-SYSTEM`), whatever the file wrote.
    pub purpose: Option<String>,
    pub license_concluded: Option<String>,
    pub license_declared: Option<String>,
    pub purls: Vec<String>,
    pub cpes: Vec<String>,
    pub sha256: Vec<String>,
    pub source_info: Option<String>,
}

impl Package {
    /// One `externalRefs` entry (JSON) or `ExternalRef:` line (tag-value).
    pub fn add_external_ref(&mut self, ref_type: &str, locator: &str) {
        let locator = locator.trim();
        if locator.is_empty() {
            return;
        }
        match ref_type.trim() {
            "purl" => self.purls.push(locator.to_string()),
            "cpe22Type" | "cpe23Type" if !self.cpes.iter().any(|c| c == locator) => {
                self.cpes.push(locator.to_string());
            }
            _ => {}
        }
    }

    pub fn add_checksum(&mut self, algorithm: &str, value: &str) {
        if algorithm.trim().eq_ignore_ascii_case("SHA256") {
            self.sha256.push(value.trim().to_ascii_lowercase());
        }
    }
}

pub fn normalise_purpose(p: &str) -> String {
    p.trim().replace('_', "-").to_ascii_uppercase()
}

fn meaningful(s: &Option<String>) -> Option<&str> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty() && *s != "NOASSERTION" && *s != "NONE")
}

fn digest_of(s: &str) -> Option<String> {
    find_sha256_digest(&s.replace("%3A", ":").replace("%3a", ":"))
}

/// Syft writes `acquired package info from <cataloger>: /path, /other`.
fn locations(source_info: Option<&str>) -> Vec<String> {
    let Some(s) = source_info else {
        return Vec::new();
    };
    let Some((_, paths)) = s.rsplit_once(": ") else {
        return Vec::new();
    };
    paths
        .split(", ")
        .map(str::trim)
        .filter(|p| p.starts_with('/'))
        .map(str::to_string)
        .collect()
}

/// The kind of a package without a purl: its purpose in lower case, else `package`.
pub fn kind_without_purl(purpose: Option<&str>) -> String {
    purpose
        .map(|p| normalise_purpose(p).to_ascii_lowercase())
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "package".into())
}

/// Keeps `s` (trimmed) unless it is empty, NOASSERTION or NONE; moves rather than copies.
fn meaningful_owned(s: Option<String>) -> Option<String> {
    let t = meaningful(&s)?.len();
    let s = s?;
    Some(if t == s.len() {
        s
    } else {
        s.trim().to_string()
    })
}

/// Moves the strings out of `p`: the wire values are not needed after this.
fn to_component(p: Package) -> Component {
    let purl = p.purls.into_iter().next();
    let kind = purl
        .as_deref()
        .and_then(purl_type)
        .unwrap_or_else(|| kind_without_purl(p.purpose.as_deref()));
    let mut licenses: Vec<String> = Vec::new();
    for l in [p.license_concluded, p.license_declared] {
        if let Some(l) = meaningful_owned(l) {
            if !licenses.contains(&l) {
                licenses.push(l);
            }
        }
    }
    Component {
        purl,
        kind,
        name: p.name.unwrap_or_default(),
        version: meaningful_owned(p.version),
        licenses,
        cpes: p.cpes,
        locations: locations(p.source_info.as_deref()),
        local_ref: p.id,
    }
}

/// The image reference a described container package spells: `name:tag` or `name@digest`.
fn reference_of(p: &Package) -> Option<String> {
    let is_image = p.purpose.as_deref() == Some("CONTAINER")
        || p.purls
            .iter()
            .any(|u| purl_type(u).as_deref() == Some("oci"));
    let name = p.name.as_deref().filter(|_| is_image)?.trim();
    let last = name.rsplit('/').next().unwrap_or(name);
    Some(match meaningful(&p.version) {
        Some(v) if v.starts_with("sha256:") && !name.contains('@') => format!("{name}@{v}"),
        Some(v) if !last.contains(':') && !name.contains('@') => format!("{name}:{v}"),
        _ => name.to_string(),
    })
}

/// What package `p` gives the subject if it is a described root.
pub fn root_view(p: &Package) -> RootView {
    let mut digests = Vec::new();
    digests.extend(meaningful(&p.version).and_then(digest_of));
    digests.extend(
        p.purls
            .iter()
            .filter(|u| purl_type(u).as_deref() == Some("oci"))
            .filter_map(|u| digest_of(u)),
    );
    if p.purpose.as_deref() == Some("CONTAINER") {
        digests.extend(
            p.sha256
                .iter()
                .filter_map(|h| find_sha256_digest(&format!("sha256:{h}"))),
        );
    }
    RootView {
        name: p.name.clone(),
        version: meaningful(&p.version).map(str::to_string),
        digests,
        reference: reference_of(p),
    }
}

/// The described elements, in order, without repeats: `documentDescribes` then the
/// DESCRIBES / DESCRIBED_BY relationships of the document itself.
fn described_of<'a>(
    id: Option<&str>,
    describes: &[String],
    rels: impl Iterator<Item = &'a (String, String, String)>,
) -> Vec<String> {
    let doc_id = id.unwrap_or("SPDXRef-DOCUMENT");
    let mut described: Vec<String> = describes.to_vec();
    for (a, rel, b) in rels {
        if a == doc_id && rel == "DESCRIBES" {
            described.push(b.clone());
        } else if b == doc_id && rel == "DESCRIBED_BY" {
            described.push(a.clone());
        }
    }
    let mut seen = HashSet::new();
    described.retain(|x| seen.insert(x.clone()));
    described
}

/// Subject and image digests from the described roots (in package order).
fn subject_of(doc: &mut Document, roots: &[RootView], name: Option<String>, refs: Vec<String>) {
    let mut digests: Vec<String> = roots.iter().flat_map(|r| r.digests.clone()).collect();
    digests.sort();
    digests.dedup();
    doc.image_digests = digests;
    let first = roots.first();
    doc.subject = Some(Subject {
        name: first.and_then(|p| p.name.clone()).or(name),
        version: first.and_then(|p| p.version.clone()),
        reference: roots.iter().find_map(|p| p.reference.clone()),
        refs,
    });
}

/// An SPDX document read as a stream: packages and edges went to `sink` as they were read
/// (`spool_package`, `spool_relationship`); only what names the subject stays here.
#[derive(Debug, Default)]
pub struct SpooledSpdx {
    pub id: Option<String>,
    pub name: Option<String>,
    pub describes: Vec<String>,
    /// DESCRIBES / DESCRIBED_BY relationships (few), kept to find the described roots.
    pub describing: Vec<(String, String, String)>,
}

/// Sends one package to the sink as the component it becomes, with its root view.
pub fn spool_package(p: Package, sink: &mut dyn ComponentSink) -> Result<(), String> {
    let root = root_view(&p);
    sink.component(&to_component(p), Some(&root))
}

/// Sends one relationship's edge to the sink (as `to_document` turns it into one) and keeps
/// the ones that may name the subject.
pub fn spool_relationship(
    d: &mut SpooledSpdx,
    r: (String, String, String),
    sink: &mut dyn ComponentSink,
) -> Result<(), String> {
    let (a, rel, b) = &r;
    match rel.as_str() {
        "DESCRIBES" | "CONTAINS" | "DEPENDS_ON" => sink.edge(a, b)?,
        "DEPENDENCY_OF" => sink.edge(b, a)?,
        _ => {}
    }
    if matches!(rel.as_str(), "DESCRIBES" | "DESCRIBED_BY") {
        d.describing.push(r);
    }
    Ok(())
}

/// The document of a spooled SPDX file: the roots are read back from the sink, and the
/// sink is told they are the subject, not components.
pub fn to_document_spooled(
    d: SpooledSpdx,
    sink: &mut dyn ComponentSink,
) -> Result<Document, String> {
    let mut doc = Document::new(DocKind::Sbom);
    let described = described_of(d.id.as_deref(), &d.describes, d.describing.iter());
    let set: HashSet<String> = described.iter().cloned().collect();
    let roots: Vec<RootView> = if set.is_empty() {
        Vec::new()
    } else {
        sink.find(&set)?
            .into_iter()
            .filter_map(|f| f.root)
            .collect()
    };
    sink.exclude(&described)?;
    subject_of(&mut doc, &roots, d.name, described);
    Ok(doc)
}

pub fn to_document(d: SpdxDoc) -> Document {
    let mut doc = Document::new(DocKind::Sbom);
    let described = described_of(d.id.as_deref(), &d.describes, d.relationships.iter());
    let described_set: HashSet<String> = described.iter().cloned().collect();

    let roots: Vec<RootView> = d
        .packages
        .iter()
        .filter(|p| p.id.as_deref().is_some_and(|i| described_set.contains(i)))
        .map(root_view)
        .collect();
    subject_of(&mut doc, &roots, d.name, described);

    for p in d.packages {
        if p.id.as_deref().is_some_and(|i| described_set.contains(i)) {
            continue;
        }
        doc.components.push(to_component(p));
    }
    for (a, rel, b) in d.relationships {
        match rel.as_str() {
            "DESCRIBES" | "CONTAINS" | "DEPENDS_ON" => doc.dependencies.push((a, b)),
            "DEPENDENCY_OF" => doc.dependencies.push((b, a)),
            _ => {}
        }
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_info_paths_are_locations() {
        assert_eq!(
            locations(Some("acquired package info from DPKG DB: /var/lib/dpkg/status, /usr/share/doc/x/copyright")),
            vec!["/var/lib/dpkg/status".to_string(), "/usr/share/doc/x/copyright".to_string()]
        );
        assert!(locations(Some("built from source")).is_empty());
    }

    #[test]
    fn purposes_normalise_to_the_2_3_spelling() {
        assert_eq!(normalise_purpose("OPERATING_SYSTEM"), "OPERATING-SYSTEM");
        assert_eq!(
            kind_without_purl(Some("OPERATING_SYSTEM")),
            "operating-system"
        );
        assert_eq!(kind_without_purl(None), "package");
    }
}
