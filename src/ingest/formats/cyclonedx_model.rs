//! The version-independent CycloneDX view that both the JSON and the XML reader fill, and
//! its one conversion into `model::Document` (subject, components, dependency edges, image
//! digests, and findings from `vulnerabilities`).

use crate::ingest::components::ComponentSink;
use crate::model::{
    find_sha256_digest, normalize_purl, purl_type, Component, Cvss, CvssVersion, DocKind, Document,
    Epss, FindingRecord, ScanInfo, ScannerView, Severity, Subject,
};
use std::collections::{BTreeSet, HashMap, HashSet};

/// Deepest `components[].components[]` nesting accepted.
pub const MAX_COMPONENT_DEPTH: usize = 64;

#[derive(Debug, Default)]
pub struct Bom {
    pub timestamp: Option<String>,
    /// (name, version) of every tool in `metadata.tools`, in document order.
    pub tools: Vec<(String, Option<String>)>,
    pub subject: Option<Comp>,
    pub metadata_properties: Vec<(String, String)>,
    /// Top-level components, each with its nested ones.
    pub components: Vec<Comp>,
    pub dependencies: Vec<(String, Vec<String>)>,
    pub vulnerabilities: Vec<Vuln>,
}

#[derive(Debug, Default)]
pub struct Comp {
    pub bom_ref: Option<String>,
    pub kind: Option<String>,
    pub name: Option<String>,
    pub version: Option<String>,
    pub purl: Option<String>,
    pub cpe: Option<String>,
    pub licenses: Vec<String>,
    pub properties: Vec<(String, String)>,
    pub occurrences: Vec<String>,
    pub children: Vec<Comp>,
    /// Pre-1.4 vulnerability extension (grype 0.7x XML): vulnerabilities written inside the
    /// component they affect.
    pub ext_vulns: Vec<Vuln>,
}

#[derive(Debug, Default)]
pub struct Rating {
    pub source: Option<String>,
    pub score: Option<f64>,
    pub severity: Option<String>,
    pub method: Option<String>,
    pub vector: Option<String>,
}

#[derive(Debug, Default)]
pub struct Vuln {
    pub id: Option<String>,
    pub source_name: Option<String>,
    pub source_url: Option<String>,
    pub references: Vec<String>,
    pub ratings: Vec<Rating>,
    pub description: Option<String>,
    pub detail: Option<String>,
    pub recommendation: Option<String>,
    pub advisories: Vec<String>,
    pub published: Option<String>,
    /// VEX: an entry with `analysis` is a statement about the finding, not a finding.
    pub has_analysis: bool,
    pub affects: Vec<String>,
}

fn digest_of(s: &str) -> Option<String> {
    if s.contains("%3A") || s.contains("%3a") {
        find_sha256_digest(&s.replace("%3A", ":").replace("%3a", ":"))
    } else {
        find_sha256_digest(s)
    }
}

fn nonempty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn prop<'a>(props: &'a [(String, String)], name: &str) -> Option<&'a str> {
    props
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// `syft:location:N:path` (and the same shape from other tools, e.g. `sbomer:`) or Trivy's
/// `aquasecurity:trivy:FilePath`.
fn is_location_property(name: &str) -> bool {
    if name == "aquasecurity:trivy:FilePath" {
        return true;
    }
    // Most properties fail here, before the search from the end (callgrind: ~2,400
    // instructions per Syft component went to this function, on the parse thread).
    if !name.ends_with(":path") {
        return false;
    }
    let mut parts = name.rsplitn(3, ':');
    matches!(
        (parts.next(), parts.next(), parts.next()),
        (Some("path"), Some(n), Some(rest)) if n.chars().all(|c| c.is_ascii_digit()) && rest.ends_with(":location")
    )
}

/// The component properties `to_component` reads (CPEs and locations); the others can be
/// dropped as soon as a component is read.
pub fn is_component_property(name: &str) -> bool {
    name == "syft:cpe23" || is_location_property(name)
}

fn owned_nonempty(s: Option<String>) -> Option<String> {
    let s = s?;
    let t = s.trim();
    if t.is_empty() {
        None
    } else if t.len() == s.len() {
        Some(s)
    } else {
        Some(t.to_string())
    }
}

fn push_unique(v: &mut Vec<String>, s: String) {
    if !s.is_empty() && !v.contains(&s) {
        v.push(s);
    }
}

/// Moves the strings out of `c`: the wire values are not needed after this.
fn to_component(c: Comp) -> Component {
    let purl = owned_nonempty(c.purl);
    let kind = purl
        .as_deref()
        .and_then(purl_type)
        .or_else(|| nonempty(&c.kind).map(str::to_ascii_lowercase))
        .unwrap_or_else(|| "library".to_string());
    let mut cpes: Vec<String> = owned_nonempty(c.cpe).into_iter().collect();
    let mut locations: Vec<String> = Vec::new();
    for (n, v) in c.properties {
        if n == "syft:cpe23" {
            push_unique(&mut cpes, v);
        } else if is_location_property(&n) {
            push_unique(&mut locations, v);
        }
    }
    for l in c.occurrences {
        push_unique(&mut locations, l);
    }
    let mut licenses: Vec<String> = Vec::new();
    for l in c.licenses {
        if let Some(l) = owned_nonempty(Some(l)) {
            push_unique(&mut licenses, l);
        }
    }
    Component {
        purl,
        kind,
        name: c.name.unwrap_or_default(),
        version: owned_nonempty(c.version),
        licenses,
        cpes,
        locations,
        local_ref: owned_nonempty(c.bom_ref),
    }
}

/// The scanner a document names: a known scanner among the tools first, else the first tool.
fn scanner_of(tools: &[(String, Option<String>)]) -> (String, Option<String>) {
    let known = ["trivy", "grype", "snyk", "osv-scanner", "dependency-track"];
    let lower: Vec<(String, Option<String>)> = tools
        .iter()
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.clone()))
        .filter(|(n, _)| !n.is_empty())
        .collect();
    lower
        .iter()
        .find(|(n, _)| known.iter().any(|k| n.contains(k)))
        .or_else(|| lower.first())
        .map(|(n, v)| {
            let n = known
                .iter()
                .find(|k| n.contains(*k))
                .map_or(n.as_str(), |k| k);
            (n.to_string(), v.clone())
        })
        .unwrap_or_else(|| ("cyclonedx".to_string(), None))
}

fn cvss_of(r: &Rating) -> Option<Cvss> {
    let method = r
        .method
        .as_deref()
        .unwrap_or("")
        .trim()
        .to_ascii_uppercase();
    let by_method = match method.as_str() {
        "CVSSV2" => CvssVersion::V2,
        "CVSSV3" => CvssVersion::V3_0,
        "CVSSV31" => CvssVersion::V3_1,
        "CVSSV4" => CvssVersion::V4,
        _ => return None,
    };
    let vector = nonempty(&r.vector).map(str::to_string);
    let version = vector
        .as_deref()
        .and_then(CvssVersion::from_vector)
        .unwrap_or(by_method);
    Some(Cvss {
        source: nonempty(&r.source)
            .map(str::to_ascii_lowercase)
            .unwrap_or_default(),
        version,
        vector,
        base_score: r.score,
    })
}

/// Trivy writes `Upgrade <pkg> to version <v1>, <v2>`; other tools write free text.
fn fixed_versions(recommendation: Option<&str>) -> Vec<String> {
    let Some(r) = recommendation else {
        return Vec::new();
    };
    let Some(i) = r.find(" to version ") else {
        return Vec::new();
    };
    r[i + " to version ".len()..]
        .split(',')
        .map(|s| s.trim().trim_end_matches('.').to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

fn view_of(v: &Vuln, scanner: &(String, Option<String>)) -> ScannerView {
    let mut view = ScannerView {
        scanner: scanner.0.clone(),
        scanner_version: scanner.1.clone(),
        ..ScannerView::default()
    };
    for r in &v.ratings {
        let method = r.method.as_deref().unwrap_or("").to_ascii_lowercase();
        let source = r.source.as_deref().unwrap_or("");
        if method == "other" && source.eq_ignore_ascii_case("first") {
            if let Some(score) = r.score {
                view.epss = Some(Epss {
                    score,
                    percentile: None,
                    date: None,
                });
            }
            continue;
        }
        if method == "other" && source.to_ascii_lowercase().contains("kev") {
            view.kev = Some(true);
            continue;
        }
        if let Some(s) = r.severity.as_deref() {
            let sev = Severity::parse(s);
            if sev > view.severity || view.severity_source.is_none() && sev == view.severity {
                view.severity = sev;
                view.severity_source = r.source.clone().filter(|s| !s.is_empty());
            }
        }
        view.cvss.extend(cvss_of(r));
    }
    view.fixed_versions = fixed_versions(v.recommendation.as_deref());
    view.fix_state = if view.fixed_versions.is_empty() {
        "unknown"
    } else {
        "fixed"
    }
    .to_string();
    view.data_source = nonempty(&v.source_name).map(str::to_string);
    view.description = nonempty(&v.description)
        .or(nonempty(&v.detail))
        .map(str::to_string);
    for u in v.source_url.iter().chain(v.advisories.iter()) {
        if !u.is_empty() && !view.urls.contains(u) {
            view.urls.push(u.clone());
        }
    }
    view.published = nonempty(&v.published).map(str::to_string);
    view
}

fn flatten(
    comps: Vec<Comp>,
    depth: usize,
    subject_key: Option<&str>,
    out: &mut Vec<Comp>,
    subject_refs: &mut Vec<String>,
    subject_digests: &mut Vec<String>,
) -> Result<(), String> {
    if depth > MAX_COMPONENT_DEPTH {
        return Err(format!(
            "components nested deeper than {MAX_COMPONENT_DEPTH} levels"
        ));
    }
    for mut c in comps {
        let children = std::mem::take(&mut c.children);
        let is_subject = subject_key.is_some()
            && nonempty(&c.purl).and_then(normalize_purl).as_deref() == subject_key;
        if is_subject {
            // Some tools repeat the image as a top-level component; it is still the subject.
            subject_refs.extend(nonempty(&c.bom_ref).map(str::to_string));
            subject_digests.extend(nonempty(&c.purl).and_then(digest_of));
            subject_digests.extend(nonempty(&c.version).and_then(digest_of));
        } else if !c
            .kind
            .as_deref()
            .is_some_and(|k| k.eq_ignore_ascii_case("file"))
        {
            out.push(c);
        }
        flatten(
            children,
            depth + 1,
            subject_key,
            out,
            subject_refs,
            subject_digests,
        )?;
    }
    Ok(())
}

fn subject_of(s: &Comp, meta_props: &[(String, String)]) -> Subject {
    let props = |n: &str| prop(&s.properties, n).or_else(|| prop(meta_props, n));
    let name = nonempty(&s.name).map(str::to_string);
    let version = nonempty(&s.version).map(str::to_string);
    let is_container = s
        .kind
        .as_deref()
        .is_some_and(|k| k.eq_ignore_ascii_case("container"));
    let reference = props("aquasecurity:trivy:Reference")
        .or_else(|| props("aquasecurity:trivy:RepoTag"))
        .map(str::to_string)
        .or_else(|| {
            let n = name.as_deref().filter(|_| is_container)?;
            let last = n.rsplit('/').next().unwrap_or(n);
            Some(match version.as_deref() {
                Some(v) if v.starts_with("sha256:") && !n.contains('@') => format!("{n}@{v}"),
                Some(v) if !last.contains(':') && !n.contains('@') => format!("{n}:{v}"),
                _ => n.to_string(),
            })
        });
    Subject {
        name,
        version,
        reference,
        refs: nonempty(&s.bom_ref)
            .map(str::to_string)
            .into_iter()
            .collect(),
    }
}

/// The components of a streamed document, sent to a sink one `components[]` element at a
/// time (flattened and converted as `to_document` does) instead of kept in the `Bom`.
pub struct SpooledBom<'s> {
    pub sink: &'s mut dyn ComponentSink,
    /// The subject's normalised purl (`metadata.component`, read before the components).
    pub subject_key: Option<String>,
    had_components: bool,
    subject_refs: Vec<String>,
    digests: Vec<String>,
    /// The first limit the components broke (reported once the whole file is read, as the
    /// whole-file parse reports it).
    pub limit: Option<String>,
}

impl<'s> SpooledBom<'s> {
    pub fn new(sink: &'s mut dyn ComponentSink, subject_key: Option<String>) -> Self {
        Self {
            sink,
            subject_key,
            had_components: false,
            subject_refs: Vec::new(),
            digests: Vec::new(),
            limit: None,
        }
    }

    /// One element of `components[]`, with its nested components. `Err` only from the sink.
    pub fn component(&mut self, c: Comp) -> Result<(), String> {
        self.had_components = true;
        if self.limit.is_some() {
            return Ok(());
        }
        let mut flat = Vec::new();
        if let Err(e) = flatten(
            vec![c],
            1,
            self.subject_key.as_deref(),
            &mut flat,
            &mut self.subject_refs,
            &mut self.digests,
        ) {
            self.limit = Some(e);
            return Ok(());
        }
        for c in flat {
            self.sink.component(&to_component(c), None)?;
        }
        Ok(())
    }
}

/// Converts the parsed BOM. Errors only on limits; oddities become `warnings`.
pub fn to_document(bom: Bom) -> Result<Document, String> {
    to_document_with(bom, None).map_err(|e| match e {
        ToDocError::Limit(e) | ToDocError::Sink(e) => e,
    })
}

pub enum ToDocError {
    /// A limit of the document (nesting depth).
    Limit(String),
    /// The component sink failed (spool I/O).
    Sink(String),
}

/// `to_document` for a BOM whose components went to `spooled` (and whose dependency edges
/// went to its sink): the document comes back without them, and `affects` refs are
/// resolved against the sink.
pub fn to_document_with(
    bom: Bom,
    mut spooled: Option<&mut SpooledBom>,
) -> Result<Document, ToDocError> {
    if let Some(e) = spooled.as_mut().and_then(|s| s.limit.take()) {
        return Err(ToDocError::Limit(e));
    }
    let mut doc = Document::new(DocKind::Sbom);
    let mut digests: Vec<String> = Vec::new();
    let mut subject = bom
        .subject
        .as_ref()
        .map(|s| subject_of(s, &bom.metadata_properties));
    if let Some(s) = &bom.subject {
        digests.extend(nonempty(&s.version).and_then(digest_of));
        digests.extend(nonempty(&s.purl).and_then(digest_of));
    }
    for (n, v) in bom
        .subject
        .iter()
        .flat_map(|s| s.properties.iter())
        .chain(bom.metadata_properties.iter())
    {
        if n == "aquasecurity:trivy:RepoDigest" {
            digests.extend(digest_of(v));
        }
    }
    let subject_key = bom
        .subject
        .as_ref()
        .and_then(|s| nonempty(&s.purl))
        .and_then(normalize_purl);
    let had_components =
        !bom.components.is_empty() || spooled.as_ref().is_some_and(|s| s.had_components);
    let mut flat: Vec<Comp> = Vec::new();
    let mut extra_refs = Vec::new();
    if let Some(s) = spooled.as_mut() {
        extra_refs.append(&mut s.subject_refs);
        digests.append(&mut s.digests);
    }
    flatten(
        bom.components,
        1,
        subject_key.as_deref(),
        &mut flat,
        &mut extra_refs,
        &mut digests,
    )
    .map_err(ToDocError::Limit)?;
    if !extra_refs.is_empty() {
        let s = subject.get_or_insert_with(Subject::default);
        for r in extra_refs {
            if !s.refs.contains(&r) {
                s.refs.push(r);
            }
        }
    }

    let mut ext: Vec<(Vuln, usize)> = Vec::new();
    for (i, mut c) in flat.into_iter().enumerate() {
        ext.extend(std::mem::take(&mut c.ext_vulns).into_iter().map(|v| (v, i)));
        doc.components.push(to_component(c));
    }
    let mut by_ref: HashMap<String, usize> = HashMap::new();
    for (i, c) in doc.components.iter().enumerate() {
        if let Some(r) = c.local_ref.as_deref() {
            by_ref.entry(r.to_string()).or_insert(i);
        }
    }
    if let Some(s) = spooled.as_mut() {
        // Only the refs the vulnerabilities name are looked up, not every component's.
        let wanted: HashSet<String> = bom
            .vulnerabilities
            .iter()
            .flat_map(|v| v.affects.iter().cloned())
            .collect();
        if !wanted.is_empty() {
            for f in s.sink.find(&wanted).map_err(ToDocError::Sink)? {
                if let Some(r) = f.component.local_ref {
                    by_ref.entry(r).or_insert(f.index);
                }
            }
        }
    }
    for (from, tos) in bom.dependencies {
        for to in tos {
            if !from.is_empty() && !to.is_empty() {
                doc.dependencies.push((from.clone(), to));
            }
        }
    }

    let scanner = scanner_of(&bom.tools);
    let mut seen: BTreeSet<(String, usize)> = BTreeSet::new();
    let mut vex_entries = 0usize;
    let ext = ext.iter().map(|(v, i)| (v, Some(*i)));
    for (v, owner) in bom.vulnerabilities.iter().map(|v| (v, None)).chain(ext) {
        if v.has_analysis {
            vex_entries += 1;
            continue;
        }
        let Some(id) = nonempty(&v.id) else {
            doc.warnings
                .push("a vulnerability without an id was skipped".into());
            continue;
        };
        let mut targets: Vec<usize> = owner.into_iter().collect();
        for r in &v.affects {
            match by_ref.get(r.as_str()) {
                Some(i) => targets.push(*i),
                None => doc.warnings.push(format!(
                    "vulnerability {} affects '{}', which is not a component of this document: skipped",
                    crate::sanitize::line(id, 120),
                    crate::sanitize::line(r, 200)
                )),
            }
        }
        let mut aliases: Vec<String> = Vec::new();
        for a in &v.references {
            let a = a.trim();
            if !a.is_empty() && a != id && !aliases.iter().any(|x| x == a) {
                aliases.push(a.to_string());
            }
        }
        let view = view_of(v, &scanner);
        for t in targets {
            if seen.insert((id.to_string(), t)) {
                doc.findings.push(FindingRecord {
                    vuln_id: id.to_string(),
                    aliases: aliases.clone(),
                    component: t,
                    view: view.clone(),
                });
            }
        }
    }
    if vex_entries > 0 && doc.findings.is_empty() && !had_components {
        // A VEX-only document: its statements are read by the judge, not imported as findings.
        doc.kind = DocKind::Other;
    }
    if !doc.findings.is_empty() {
        doc.kind = DocKind::SbomWithScan;
        doc.scan = Some(ScanInfo {
            scanner: scanner.0,
            scanner_version: scanner.1,
            scanned_at: bom.timestamp,
            ..ScanInfo::default()
        });
    }
    digests.sort();
    digests.dedup();
    doc.image_digests = digests;
    doc.subject = subject;
    Ok(doc)
}

#[cfg(test)]
#[path = "cyclonedx_model_tests.rs"]
mod tests;
