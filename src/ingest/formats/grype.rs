//! Grype JSON reports (`grype -o json`), old (0.7x: `cvssV2`/`cvssV3`/`fixedInVersion`,
//! a single `matchDetails` object) and new (`cvss[]`, `fix`, EPSS, KEV, risk, the three
//! `descriptor.db` shapes). `ignoredMatches` are findings too, tagged with their rules.

use super::conv::{cpe_string, license_string, Node, SeenComponents, Str};
use super::FormatError;
use crate::model::{
    find_sha256_digest, Component, ComponentKey, Cvss, CvssVersion, DocKind, Document, Epss,
    FindingRecord, ScanInfo, ScannerView, Severity, Subject,
};
use base64::Engine;
use serde_json::Value;
use std::collections::HashMap;

#[path = "grype_wire.rs"]
mod wire;
use wire::*;

pub fn parse(bytes: &[u8]) -> Result<Document, FormatError> {
    let r: Report = serde_json::from_slice(bytes).map_err(|e| FormatError::json(&e))?;
    Ok(convert(r))
}

fn nonempty(s: Option<String>) -> Option<String> {
    s.filter(|x| !x.trim().is_empty())
}

/// `nonempty` for a borrowed wire string: owned only when kept.
fn text(s: Text) -> Option<String> {
    s.filter(|x| !x.trim().is_empty()).map(Str::into_owned)
}

fn str_at(v: &Value, path: &str) -> Option<String> {
    match v.pointer(path)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `descriptor.db` in its three shapes (formats.md section 5): schema v5 (`built`,
/// integer `schemaVersion`), early v6 (string `schemaVersion`), and `status{...}` (>= 0.90).
fn db_info(db: Option<&Value>) -> (Option<String>, Option<String>) {
    let Some(db) = db else { return (None, None) };
    let built = str_at(db, "/built").or_else(|| str_at(db, "/status/built"));
    let version = str_at(db, "/schemaVersion").or_else(|| str_at(db, "/status/schemaVersion"));
    (built, version)
}

fn convert(r: Report) -> Document {
    let mut doc = Document::new(DocKind::Scan);
    let d = r.descriptor.unwrap_or_default();
    let (db_built, db_version) = db_info(d.db.as_ref());
    if db_built.is_none() {
        doc.warnings.push(
            "the report does not record when its vulnerability DB was built: DB age unknown".into(),
        );
    }
    let version = nonempty(d.version);
    doc.scan = Some(ScanInfo {
        scanner: "grype".into(),
        scanner_version: version.clone(),
        db_built,
        db_version,
        scanned_at: nonempty(d.timestamp),
    });
    if let Some(src) = r.source {
        read_source(&mut doc, src);
    }
    let mut index = Index::default();
    for m in r.matches.unwrap_or_default() {
        add_match(&mut doc, &mut index, m, version.as_deref(), false);
    }
    for m in r.ignored_matches.unwrap_or_default() {
        add_match(&mut doc, &mut index, m, version.as_deref(), true);
    }
    doc
}

fn read_source(doc: &mut Document, src: Source) {
    let is_image = src.kind.as_deref() == Some("image");
    let Some(t) = src.target else { return };
    if let Value::String(s) = &t {
        doc.subject = Some(Subject {
            name: Some(s.clone()),
            ..Subject::default()
        });
        return;
    }
    let user_input = str_at(&t, "/userInput");
    if is_image {
        // repoDigests are the registry's digests; manifestDigest may be a platform manifest
        // or a synthesized one (formats.md gotcha 1), so it comes last.
        let mut digests: Vec<String> = t
            .get("repoDigests")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter_map(find_sha256_digest)
            .collect();
        if let Some(m) = str_at(&t, "/manifestDigest")
            .as_deref()
            .and_then(find_sha256_digest)
        {
            digests.push(m);
        }
        for dg in digests {
            if !doc.image_digests.contains(&dg) {
                doc.image_digests.push(dg);
            }
        }
        if let Some(cfg) = str_at(&t, "/config") {
            if let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(cfg.trim()) {
                if let Ok(c) = serde_json::from_slice::<Value>(&raw) {
                    if let Some(u) = c.pointer("/config/User").and_then(Value::as_str) {
                        doc.image_user = Some(u.to_string());
                    }
                }
            }
        }
        let tag = t
            .get("tags")
            .and_then(Value::as_array)
            .and_then(|a| a.first())
            .and_then(Value::as_str);
        doc.subject = Some(Subject {
            name: user_input.clone(),
            version: None,
            reference: tag.map(str::to_string).or(user_input),
            refs: Vec::new(),
        });
    } else {
        doc.subject = Some(Subject {
            name: user_input.or_else(|| str_at(&t, "/path")),
            ..Subject::default()
        });
    }
}

fn component_of(a: Artifact) -> Component {
    let purl = text(a.purl);
    let kind = purl
        .as_deref()
        .and_then(crate::model::purl_type)
        .or_else(|| text(a.kind).map(|k| k.to_ascii_lowercase()))
        .unwrap_or_else(|| "unknown".into());
    let mut locations: Vec<String> = Vec::new();
    for l in a.locations.unwrap_or_default() {
        if let Some(p) = text(l.path) {
            if !locations.contains(&p) {
                locations.push(p);
            }
        }
    }
    Component {
        purl,
        kind,
        name: text(a.name).unwrap_or_else(|| "unknown".into()),
        version: text(a.version),
        licenses: a
            .licenses
            .unwrap_or_default()
            .iter()
            .filter_map(license_string)
            .collect(),
        cpes: a
            .cpes
            .unwrap_or_default()
            .iter()
            .filter_map(cpe_string)
            .collect(),
        locations,
        local_ref: text(a.id),
    }
}

fn cvss_version(s: Option<&str>, vector: Option<&str>) -> Option<CvssVersion> {
    match s.map(str::trim) {
        Some("2" | "2.0") => Some(CvssVersion::V2),
        Some("3" | "3.0") => Some(CvssVersion::V3_0),
        Some("3.1") => Some(CvssVersion::V3_1),
        Some("4" | "4.0") => Some(CvssVersion::V4),
        _ => vector.and_then(CvssVersion::from_vector),
    }
}

fn push_cvss(out: &mut Vec<Cvss>, v: &mut Vuln) {
    for c in v.cvss.take().unwrap_or_default() {
        let Some(version) = cvss_version(c.version.as_deref(), c.vector.as_deref()) else {
            continue;
        };
        let e = Cvss {
            source: c.source.map(Str::into_owned).unwrap_or_default(),
            version,
            vector: text(c.vector),
            base_score: c.metrics.and_then(|m| m.base_score),
        };
        if !out.contains(&e) {
            out.push(e);
        }
    }
    for (old, default) in [
        (v.cvss_v2.take(), CvssVersion::V2),
        (v.cvss_v3.take(), CvssVersion::V3_1),
    ] {
        let Some(o) = old else { continue };
        let version = o
            .vector
            .as_deref()
            .and_then(CvssVersion::from_vector)
            .unwrap_or(default);
        let e = Cvss {
            source: String::new(),
            version,
            vector: text(o.vector),
            base_score: o.base_score,
        };
        if !out.contains(&e) {
            out.push(e);
        }
    }
}

fn fix_state(state: Option<&str>, has_versions: bool) -> String {
    match state.map(str::trim) {
        Some(s) if !s.is_empty() => s.to_string(),
        // `fix.state` can be "" (formats.md section 5); 0.7x had no state at all.
        _ if has_versions => "fixed".into(),
        _ => "unknown".into(),
    }
}

/// A document's components by key, and by the raw artifact fields that made them.
#[derive(Default)]
struct Index {
    by_key: HashMap<ComponentKey, usize>,
    seen: SeenComponents,
}

/// The component an artifact already became, when every field `component_of` reads but
/// the licenses and the id (kept only by a new component) was met before: merging it again
/// would change nothing. Starts `seen`'s key either way.
fn seen_artifact(seen: &mut SeenComponents, a: &Artifact) -> Option<usize> {
    seen.start();
    for p in [&a.purl, &a.kind, &a.name, &a.version] {
        seen.part(p.as_deref());
    }
    let paths = a.locations.as_deref().unwrap_or_default();
    seen.count(paths.len());
    for l in paths {
        seen.part(l.path.as_deref());
    }
    let cpes = a.cpes.as_deref().unwrap_or_default();
    seen.count(cpes.len());
    for c in cpes {
        match c {
            Node::Str(c) => seen.part(Some(c)),
            // Structured 0.7x CPEs are rare: not worth spelling.
            _ => seen.unusable(),
        }
    }
    seen.get()
}

fn add_match(
    doc: &mut Document,
    index: &mut Index,
    m: Match,
    version: Option<&str>,
    ignored: bool,
) {
    let (Some(mut v), Some(a)) = (m.vulnerability, m.artifact) else {
        doc.warnings
            .push("a match without vulnerability or artifact was skipped".into());
        return;
    };
    let Some(id) = text(v.id.take()) else {
        doc.warnings
            .push("a match whose vulnerability has no id was skipped".into());
        return;
    };
    let ci = match seen_artifact(&mut index.seen, &a) {
        Some(i) => i,
        None => {
            let i = merge_component(doc, &mut index.by_key, component_of(a));
            index.seen.remember(i);
            i
        }
    };
    finish_match(
        doc,
        m.related,
        m.match_details,
        m.applied_ignore_rules,
        v,
        id,
        ci,
        version,
        ignored,
    );
}

/// Adds `comp` to the document or merges it into the component with its key.
fn merge_component(
    doc: &mut Document,
    index: &mut HashMap<ComponentKey, usize>,
    comp: Component,
) -> usize {
    let key = comp.key();
    match index.get(&key) {
        Some(&i) => {
            let e = &mut doc.components[i];
            for l in comp.locations {
                if !e.locations.contains(&l) {
                    e.locations.push(l);
                }
            }
            for c in comp.cpes {
                if !e.cpes.contains(&c) {
                    e.cpes.push(c);
                }
            }
            i
        }
        None => {
            doc.components.push(comp);
            index.insert(key, doc.components.len() - 1);
            doc.components.len() - 1
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn finish_match(
    doc: &mut Document,
    related: Option<Vec<Vuln>>,
    match_details: Option<Node>,
    applied_ignore_rules: Option<Value>,
    mut v: Vuln,
    id: String,
    ci: usize,
    version: Option<&str>,
    ignored: bool,
) {
    let mut related = related.unwrap_or_default();
    let mut aliases: Vec<String> = Vec::new();
    for r in &related {
        if let Some(rid) = r.id.as_deref().filter(|x| !x.is_empty() && *x != id) {
            if !aliases.iter().any(|a| a == rid) {
                aliases.push(rid.to_string());
            }
        }
    }
    let mut cvss = Vec::new();
    push_cvss(&mut cvss, &mut v);
    // The related record is usually NVD's view of the same CVE: keep its scores too.
    for r in &mut related {
        push_cvss(&mut cvss, r);
    }
    let names: Vec<&str> = std::iter::once(id.as_str())
        .chain(aliases.iter().map(String::as_str))
        .collect();
    let epss = v
        .epss
        .take()
        .unwrap_or_default()
        .into_iter()
        .filter(|e| e.cve.as_deref().is_none_or(|c| names.contains(&c)))
        .filter_map(|e| {
            Some(Epss {
                score: e.epss?,
                percentile: e.percentile,
                date: text(e.date),
            })
        })
        .max_by(|a, b| a.score.total_cmp(&b.score));
    let kev = v.known_exploited.take().and_then(|k| {
        k.iter()
            .any(|e| e.cve.as_deref().is_none_or(|c| names.contains(&c)))
            .then_some(true)
    });
    let mut fixed_versions: Vec<String> = Vec::new();
    let fix = v.fix.take();
    let state = fix
        .as_ref()
        .and_then(|f| f.state.as_deref().map(str::to_string));
    for x in fix
        .and_then(|f| f.versions)
        .unwrap_or_default()
        .into_iter()
        .chain(v.fixed_in_version.take())
    {
        let x = x.trim().to_string();
        if !x.is_empty() && !fixed_versions.contains(&x) {
            fixed_versions.push(x);
        }
    }
    let mut urls: Vec<String> = Vec::new();
    for u in v
        .urls
        .take()
        .unwrap_or_default()
        .into_iter()
        .chain(v.links.take().unwrap_or_default())
    {
        if !u.is_empty() && !urls.iter().any(|x| *x == *u) {
            urls.push(u.into_owned());
        }
    }
    let description = text(v.description.take())
        .or_else(|| related.iter_mut().find_map(|r| text(r.description.take())));
    let view = ScannerView {
        scanner: "grype".into(),
        scanner_version: version.map(str::to_string),
        severity: v
            .severity
            .as_deref()
            .map(Severity::parse)
            .unwrap_or_default(),
        severity_source: text(v.namespace.clone()),
        cvss,
        fix_state: fix_state(state.as_deref(), !fixed_versions.is_empty()),
        fixed_versions,
        data_source: text(v.data_source.take()),
        namespace: text(v.namespace.take()),
        title: None,
        description,
        urls,
        epss,
        kev,
        match_details: match_details.filter(|x| !x.is_null()).map(|x| x.to_json()),
        ignored_by: ignored.then(|| {
            applied_ignore_rules
                .unwrap_or(Value::Array(Vec::new()))
                .to_string()
        }),
        status: None,
        published: None,
    };
    doc.findings.push(FindingRecord {
        vuln_id: id,
        aliases,
        component: ci,
        view,
    });
}

#[path = "grype_stream.rs"]
pub(super) mod stream;

#[cfg(test)]
#[path = "grype_tests.rs"]
mod tests;
