//! Trivy JSON reports (`trivy image -f json`): SchemaVersion 2 with or without
//! `Packages`, and the pre-0.20 bare array of Results. Typed wire structs read straight
//! from the byte slice (no whole-document `Value`), so a large report stays cheap.

use super::conv::{vendor_details, SeenComponents, SortedMap, Str};
use super::FormatError;
use crate::model::{
    find_sha256_digest, Component, ComponentKey, Cvss, CvssVersion, DocKind, Document,
    FindingRecord, ScanInfo, ScannerView, Severity, Subject,
};
use std::collections::HashMap;

#[path = "trivy_wire.rs"]
mod wire;
use wire::*;

pub fn parse(bytes: &[u8]) -> Result<Document, FormatError> {
    let first = bytes
        .iter()
        .copied()
        .find(|b| !(b.is_ascii_whitespace() || *b == 0xef || *b == 0xbb || *b == 0xbf));
    let report: Report = match first {
        Some(b'[') => {
            let results: Vec<TResult> =
                serde_json::from_slice(bytes).map_err(|e| FormatError::json(&e))?;
            Report {
                results: Some(results),
                ..Report::default()
            }
        }
        Some(b'{') => serde_json::from_slice(bytes).map_err(|e| FormatError::json(&e))?,
        _ => {
            return Err(FormatError::at(
                "a Trivy report is a JSON object or array",
                1,
                Some(1),
            ))
        }
    };
    Ok(convert(report))
}

/// Trivy's own `FormatVersion`: `epoch:version-release`, which is how `InstalledVersion`
/// spells OS package versions, so package and vulnerability rows key alike without purls.
fn package_version(p: &Package) -> Option<String> {
    let v = p.version.clone().filter(|v| !v.is_empty())?;
    let mut v = match p.release.as_deref().filter(|r| !r.is_empty()) {
        Some(r) => format!("{v}-{r}"),
        None => v,
    };
    if let Some(e) = p.epoch.filter(|e| *e != 0) {
        v = format!("{e}:{v}");
    }
    Some(v)
}

struct Builder {
    doc: Document,
    index: HashMap<ComponentKey, usize>,
    /// Components of earlier findings by their raw fields (see `add_vuln`).
    seen: SeenComponents,
}

impl Builder {
    fn new() -> Self {
        Self {
            doc: Document::new(DocKind::Scan),
            index: HashMap::new(),
            seen: SeenComponents::default(),
        }
    }

    fn component(&mut self, c: Component) -> usize {
        let key = c.key();
        if let Some(&i) = self.index.get(&key) {
            let e = &mut self.doc.components[i];
            for l in c.locations {
                if !e.locations.contains(&l) {
                    e.locations.push(l);
                }
            }
            for l in c.licenses {
                if !e.licenses.contains(&l) {
                    e.licenses.push(l);
                }
            }
            if e.purl.is_none() {
                e.purl = c.purl;
            }
            return i;
        }
        self.doc.components.push(c);
        let i = self.doc.components.len() - 1;
        self.index.insert(key, i);
        i
    }
}

fn kind_of(purl: Option<&str>, result_type: Option<&str>) -> String {
    purl.and_then(crate::model::purl_type)
        .or_else(|| result_type.map(str::to_ascii_lowercase))
        .unwrap_or_else(|| "unknown".into())
}

fn nonempty(s: Option<String>) -> Option<String> {
    s.filter(|x| !x.trim().is_empty())
}

/// `nonempty` for a borrowed wire string: owned only when kept.
fn text(s: Option<Str>) -> Option<String> {
    s.filter(|x| !x.trim().is_empty()).map(Str::into_owned)
}

/// `text` without taking ownership.
fn kept<'x>(s: &'x Option<Str>) -> Option<&'x str> {
    s.as_deref().filter(|x| !x.trim().is_empty())
}

fn convert(mut r: Report) -> Document {
    let results = r.results.take();
    let (mut b, version) = header(r);
    let (mut secrets, mut misconfigs) = (0usize, 0usize);
    for res in results.unwrap_or_default() {
        add_result(
            &mut b,
            res,
            version.as_deref(),
            &mut secrets,
            &mut misconfigs,
        );
    }
    if secrets + misconfigs > 0 {
        // Said, not dropped: dossier reads vulnerabilities; these stay in the stored file.
        b.doc.warnings.push(secrets_warning(secrets, misconfigs));
    }
    b.doc
}

/// Everything but `Results`: the scan, subject and image digests, and the scanner version.
fn header(r: Report) -> (Builder, Option<String>) {
    let mut b = Builder::new();
    let version = r.trivy.as_ref().and_then(|t| nonempty(t.version.clone()));
    let db = r
        .trivy
        .as_ref()
        .and_then(|t| t.server.as_ref())
        .and_then(|s| s.vulnerability_db.as_ref());
    let db_built = db.and_then(|d| nonempty(d.updated_at.clone()));
    let db_version = db.and_then(|d| d.version.as_ref()).map(|v| match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    });
    if db_built.is_none() {
        b.doc.warnings.push(
            "the report does not record its vulnerability DB date (standalone Trivy): DB age unknown".into(),
        );
    }
    b.doc.scan = Some(ScanInfo {
        scanner: "trivy".into(),
        scanner_version: version.clone(),
        db_built,
        db_version,
        scanned_at: nonempty(r.created_at),
    });

    if let Some(m) = &r.metadata {
        for d in m.repo_digests.iter().flatten() {
            if let Some(dg) = find_sha256_digest(d) {
                if !b.doc.image_digests.contains(&dg) {
                    b.doc.image_digests.push(dg);
                }
            }
        }
        if let Some(cfg) = m.image_config.as_ref().and_then(|c| c.config.as_ref()) {
            b.doc.image_user.clone_from(&cfg.user);
        }
    }
    let artifact = nonempty(r.artifact_name);
    if b.doc.image_digests.is_empty() {
        // A digest-pinned reference (`repo@sha256:..`) names the image even without RepoDigests.
        let pinned = artifact
            .iter()
            .chain(r.metadata.as_ref().and_then(|m| m.reference.as_ref()));
        if let Some(dg) = pinned
            .filter(|a| a.contains("@sha256:"))
            .find_map(|a| find_sha256_digest(a))
        {
            b.doc.image_digests.push(dg);
        }
    }
    if artifact.is_some() || r.metadata.is_some() {
        let m = r.metadata.as_ref();
        let reference = m
            .and_then(|m| nonempty(m.reference.clone()))
            .or_else(|| m.and_then(|m| m.repo_tags.as_ref()?.first().cloned()))
            .or_else(|| m.and_then(|m| m.repo_digests.as_ref()?.first().cloned()));
        b.doc.subject = Some(Subject {
            name: artifact,
            version: None,
            reference,
            refs: Vec::new(),
        });
    }
    let _ = r.artifact_type;
    (b, version)
}

/// One result as the whole parse reads it: its packages, vulnerabilities, then its
/// suppressed findings.
fn add_result(
    b: &mut Builder,
    res: TResult,
    version: Option<&str>,
    secrets: &mut usize,
    misconfigs: &mut usize,
) {
    *secrets += res.secrets.as_ref().map_or(0, Vec::len);
    *misconfigs += res.misconfigurations.as_ref().map_or(0, Vec::len);
    let rtype = res.kind.as_deref();
    for p in res.packages.unwrap_or_default() {
        let Some(c) = package_component(&p, rtype) else {
            continue;
        };
        b.component(c);
    }
    for v in res.vulnerabilities.unwrap_or_default() {
        add_vuln(b, v, rtype, version, None);
    }
    for m in res.experimental_modified_findings.unwrap_or_default() {
        add_modified(b, m, rtype, version);
    }
    let _ = (res.target, res.class);
}

/// A finding shown by `--show-suppressed`, tagged with why it was suppressed.
fn add_modified(b: &mut Builder, m: ModifiedFinding, rtype: Option<&str>, version: Option<&str>) {
    if m.kind.as_deref().is_some_and(|k| k != "vulnerability") {
        return;
    }
    let Some(f) = m.finding else { return };
    let why = serde_json::json!({
        "status": m.status, "statement": m.statement, "source": m.source,
    })
    .to_string();
    add_vuln(b, f, rtype, version, Some(why));
}

fn secrets_warning(secrets: usize, misconfigs: usize) -> String {
    format!(
        "{secrets} secret and {misconfigs} misconfiguration finding(s) in the report are not imported as findings"
    )
}

fn fix_state(status: Option<&str>, has_fix: bool) -> String {
    match status {
        Some("fixed") => "fixed".into(),
        Some("affected" | "fix_deferred") => "not-fixed".into(),
        Some("will_not_fix" | "end_of_life") => "wont-fix".into(),
        Some(other) if !other.is_empty() => other.replace('_', "-"),
        _ if has_fix => "fixed".into(),
        _ => "unknown".into(),
    }
}

fn cvss_list(map: Option<SortedMap<Str, CvssEntry>>) -> Vec<Cvss> {
    let mut out = Vec::new();
    for (source, e) in map.unwrap_or_default().0 {
        let source = source.into_owned();
        if e.v2_vector.is_some() || e.v2_score.is_some() {
            out.push(Cvss {
                source: source.clone(),
                version: CvssVersion::V2,
                vector: e.v2_vector.map(Str::into_owned),
                base_score: e.v2_score,
            });
        }
        if e.v3_vector.is_some() || e.v3_score.is_some() {
            let version = e
                .v3_vector
                .as_deref()
                .and_then(CvssVersion::from_vector)
                .filter(|v| matches!(v, CvssVersion::V3_0 | CvssVersion::V3_1))
                .unwrap_or(CvssVersion::V3_1);
            out.push(Cvss {
                source: source.clone(),
                version,
                vector: e.v3_vector.map(Str::into_owned),
                base_score: e.v3_score,
            });
        }
        if e.v40_vector.is_some() || e.v40_score.is_some() {
            out.push(Cvss {
                source,
                version: CvssVersion::V4,
                vector: e.v40_vector.map(Str::into_owned),
                base_score: e.v40_score,
            });
        }
    }
    out
}

fn add_vuln(
    b: &mut Builder,
    v: Vuln,
    rtype: Option<&str>,
    version: Option<&str>,
    ignored_by: Option<String>,
) {
    let Some(id) = text(v.vulnerability_id) else {
        b.doc
            .warnings
            .push("a vulnerability without VulnerabilityID was skipped".into());
        return;
    };
    let purl = v.pkg_identifier.as_ref().and_then(|i| kept(&i.purl));
    let (name, installed, path) = (
        kept(&v.pkg_name),
        kept(&v.installed_version),
        kept(&v.pkg_path),
    );
    // The component is built from these five fields alone: met before, it changes nothing.
    b.seen.start();
    for p in [rtype, purl, name, installed, path] {
        b.seen.part(p);
    }
    let ci = match b.seen.get() {
        Some(i) => i,
        None => {
            let comp = Component {
                kind: kind_of(purl, rtype),
                purl: purl.map(str::to_string),
                name: name.unwrap_or("unknown").to_string(),
                version: installed.map(str::to_string),
                locations: path.map(str::to_string).into_iter().collect(),
                ..Component::default()
            };
            let i = b.component(comp);
            b.seen.remember(i);
            i
        }
    };

    let fixed_versions: Vec<String> = v
        .fixed_version
        .as_deref()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let vendor = v.vendor_severity.unwrap_or_default();
    let mut severity = v
        .severity
        .as_deref()
        .map(Severity::parse)
        .unwrap_or_default();
    if severity == Severity::Unknown {
        // The string is missing in some old reports; the vendor integer of the named source
        // is the same judgement in another spelling.
        if let Some(n) = v
            .severity_source
            .as_deref()
            .and_then(|s| vendor.get::<str>(s))
        {
            severity = Severity::from_trivy_int(*n);
        }
    }
    let mut urls: Vec<String> = Vec::new();
    for u in v
        .primary_url
        .into_iter()
        .chain(v.references.unwrap_or_default())
    {
        if !u.is_empty() && !urls.iter().any(|x| *x == *u) {
            urls.push(u.into_owned());
        }
    }
    let vendor_ids = v.vendor_ids.unwrap_or_default();
    let details = (!vendor.0.is_empty() || !vendor_ids.is_empty())
        .then(|| vendor_details(&vendor.0, &vendor_ids));
    let status = text(v.status);
    let view = ScannerView {
        scanner: "trivy".into(),
        scanner_version: version.map(str::to_string),
        severity,
        severity_source: text(v.severity_source),
        cvss: cvss_list(v.cvss),
        fix_state: fix_state(status.as_deref(), !fixed_versions.is_empty()),
        fixed_versions,
        data_source: v.data_source.and_then(|d| text(d.id).or(text(d.name))),
        namespace: rtype.map(str::to_string),
        title: text(v.title),
        description: text(v.description),
        urls,
        epss: None,
        kev: None,
        match_details: details,
        ignored_by,
        status,
        published: text(v.published_date),
    };
    b.doc.findings.push(FindingRecord {
        vuln_id: id,
        aliases: Vec::new(),
        component: ci,
        view,
    });
}

#[path = "trivy_stream.rs"]
pub(super) mod stream;

/// A Trivy package as a component; a package without a name is not one.
fn package_component(p: &Package, rtype: Option<&str>) -> Option<Component> {
    let purl = p.identifier.as_ref().and_then(|i| nonempty(i.purl.clone()));
    let name = nonempty(p.name.clone())?;
    Some(Component {
        kind: kind_of(purl.as_deref(), rtype),
        purl,
        name,
        version: package_version(p),
        licenses: p.licenses.clone().unwrap_or_default(),
        locations: nonempty(p.file_path.clone()).into_iter().collect(),
        ..Component::default()
    })
}

#[cfg(test)]
#[path = "trivy_tests.rs"]
mod tests;
