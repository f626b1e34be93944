//! Scan reports: every Trivy and Grype JSON fixture parses, SARIF is detected as an
//! unsupported format, and component / finding counts (after merging) equal counts
//! computed here from the raw JSON with `serde_json::Value` walking.
//!
//! Identity rules, written out independently of the parsers:
//! - component key: the purl without `?qualifiers`/`#subpath`, type lowercased
//!   (`common::purl_key`); without a purl `nopurl:<type>/<name>@<version>` where type is
//!   the Trivy Result `Type` / the Grype artifact `type`, lowercased. Trivy OS package
//!   versions are `epoch:version-release` (Trivy's own spelling of `InstalledVersion`).
//! - finding key: (vulnerability group, component key). Trivy has no aliases (its
//!   `VendorIDs` are advisories such as RHSA/DSA that cover many CVEs, so they never merge
//!   ids). Grype: a match's id and every `relatedVulnerabilities[].id` are one group, and
//!   groups that share an id are one group (union-find over the whole report).

use super::common;
use dossier::ingest::detect::{self, Detection, Format};
use dossier::ingest::{formats, merge};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::path::Path;

fn s(v: &Value, k: &str) -> Option<String> {
    v.get(k)
        .and_then(Value::as_str)
        .filter(|x| !x.trim().is_empty())
        .map(str::to_string)
}

fn nopurl(kind: &str, name: &str, version: &str) -> String {
    format!("nopurl:{}/{name}@{version}", kind.to_ascii_lowercase())
}

fn key(purl: Option<String>, kind: &str, name: &str, version: &str) -> String {
    purl.as_deref()
        .and_then(common::purl_key)
        .unwrap_or_else(|| nopurl(kind, name, version))
}

/// Trivy's `FormatVersion` for a Package row.
fn trivy_pkg_version(p: &Value) -> String {
    let Some(mut v) = s(p, "Version") else {
        return String::new();
    };
    if let Some(r) = s(p, "Release") {
        v = format!("{v}-{r}");
    }
    match p.get("Epoch").and_then(Value::as_i64) {
        Some(e) if e != 0 => format!("{e}:{v}"),
        _ => v,
    }
}

/// (component keys, finding keys) of a Trivy report, from the raw JSON.
fn trivy_expected(v: &Value) -> (BTreeSet<String>, BTreeSet<(String, String)>) {
    let results: Vec<Value> = match v {
        Value::Array(a) => a.clone(),
        _ => v
            .get("Results")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default(),
    };
    let mut comps = BTreeSet::new();
    let mut finds = BTreeSet::new();
    for r in &results {
        let rtype = s(r, "Type").unwrap_or_else(|| "unknown".into());
        for p in r
            .get("Packages")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(name) = s(p, "Name") else { continue };
            let purl = p
                .pointer("/Identifier/PURL")
                .and_then(Value::as_str)
                .map(str::to_string);
            comps.insert(key(purl, &rtype, &name, &trivy_pkg_version(p)));
        }
        let plain = r
            .get("Vulnerabilities")
            .and_then(Value::as_array)
            .into_iter()
            .flatten();
        let suppressed = r
            .get("ExperimentalModifiedFindings")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|m| {
                m.get("Type")
                    .and_then(Value::as_str)
                    .is_none_or(|t| t == "vulnerability")
            })
            .filter_map(|m| m.get("Finding"));
        for f in plain.chain(suppressed) {
            let Some(id) = s(f, "VulnerabilityID") else {
                continue;
            };
            let purl = f
                .pointer("/PkgIdentifier/PURL")
                .and_then(Value::as_str)
                .map(str::to_string);
            let name = s(f, "PkgName").unwrap_or_else(|| "unknown".into());
            let k = key(
                purl,
                &rtype,
                &name,
                &s(f, "InstalledVersion").unwrap_or_default(),
            );
            comps.insert(k.clone());
            finds.insert((id, k));
        }
    }
    (comps, finds)
}

/// Minimal union-find over vulnerability ids, written for this test.
#[derive(Default)]
struct Groups(HashMap<String, String>);

impl Groups {
    fn root(&mut self, x: &str) -> String {
        let mut cur = x.to_string();
        while let Some(p) = self.0.get(&cur).cloned() {
            if p == cur {
                break;
            }
            cur = p;
        }
        self.0.entry(x.to_string()).or_insert_with(|| x.to_string());
        cur
    }
    fn join(&mut self, a: &str, b: &str) {
        let (ra, rb) = (self.root(a), self.root(b));
        if ra != rb {
            self.0.insert(ra, rb);
        }
    }
}

fn grype_expected(v: &Value) -> (BTreeSet<String>, BTreeSet<(String, String)>) {
    let all: Vec<&Value> = ["matches", "ignoredMatches"]
        .iter()
        .flat_map(|k| v.get(*k).and_then(Value::as_array).into_iter().flatten())
        .collect();
    let mut g = Groups::default();
    for m in &all {
        let Some(id) = m.pointer("/vulnerability/id").and_then(Value::as_str) else {
            continue;
        };
        g.root(id);
        for r in m
            .get("relatedVulnerabilities")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(rid) = r
                .get("id")
                .and_then(Value::as_str)
                .filter(|x| !x.is_empty())
            {
                g.join(id, rid);
            }
        }
    }
    let mut comps = BTreeSet::new();
    let mut finds = BTreeSet::new();
    for m in &all {
        let a = &m["artifact"];
        let name = s(a, "name").unwrap_or_else(|| "unknown".into());
        let kind = s(a, "type").unwrap_or_else(|| "unknown".into());
        let k = key(
            s(a, "purl"),
            &kind,
            &name,
            &s(a, "version").unwrap_or_default(),
        );
        comps.insert(k.clone());
        if let Some(id) = m.pointer("/vulnerability/id").and_then(Value::as_str) {
            finds.insert((g.root(id), k));
        }
    }
    (comps, finds)
}

fn is_sarif(v: &Value) -> bool {
    v.get("runs").is_some()
        && v.get("$schema")
            .and_then(Value::as_str)
            .is_some_and(|x| x.contains("sarif"))
}

fn check(path: &Path, expected_format: Format) -> (usize, usize) {
    let bytes = std::fs::read(path).unwrap();
    let raw: Value = serde_json::from_slice(&bytes).unwrap();
    match detect::detect(&bytes) {
        Detection::Supported { format, .. } => {
            assert_eq!(format, expected_format, "{}", path.display())
        }
        d => panic!("{}: {d:?}", path.display()),
    }
    let doc = formats::parse(expected_format, &bytes)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let (comps, finds) = match expected_format {
        Format::TrivyJson => trivy_expected(&raw),
        _ => grype_expected(&raw),
    };
    let merged = merge::merge(&[(0, "f", &doc)]);
    let got_comps: BTreeSet<String> = merged.components.iter().map(|c| c.key.0.clone()).collect();
    assert_eq!(got_comps, comps, "{}: component keys", path.display());
    assert_eq!(
        merged.findings.len(),
        finds.len(),
        "{}: findings",
        path.display()
    );
    // Every expected (vulnerability, component) pair is present under its group's name.
    let got_pairs: BTreeSet<(BTreeSet<String>, String)> = merged
        .findings
        .iter()
        .map(|f| {
            let mut ids: BTreeSet<String> = f.aliases.iter().cloned().collect();
            ids.insert(f.vuln_id.clone());
            (ids, f.component_key.0.clone())
        })
        .collect();
    for (id, k) in &finds {
        assert!(
            got_pairs
                .iter()
                .any(|(ids, gk)| gk == k && ids.contains(id)),
            "{}: no finding {id} on {k}",
            path.display()
        );
    }
    assert_eq!(doc.kind, dossier::model::DocKind::Scan);
    (comps.len(), finds.len())
}

fn run(dir: &str, format: Format, want_at_least: usize) {
    let mut parsed = 0;
    for p in common::fixtures(dir) {
        let bytes = std::fs::read(&p).unwrap();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        let Ok(raw) = serde_json::from_slice::<Value>(&bytes) else {
            continue;
        };
        if is_sarif(&raw) {
            match detect::detect(&bytes) {
                Detection::UnsupportedVersion {
                    format: Format::Sarif,
                    reason,
                    ..
                } => {
                    assert!(reason.contains("SARIF"), "{name}: {reason}")
                }
                d => panic!("{name}: SARIF must be detected as unsupported, got {d:?}"),
            }
            continue;
        }
        if raw.get("bomFormat").is_some() {
            continue; // CycloneDX output of the scanners: covered by the SBOM conformance.
        }
        let (c, f) = check(&p, format);
        eprintln!("{name}: {c} components, {f} findings");
        parsed += 1;
    }
    assert!(parsed >= want_at_least, "{dir}: only {parsed} reports");
}

#[test]
#[ignore = "needs ../shared/fixtures"]
fn every_trivy_json_fixture_matches_independent_counts() {
    run("trivy", Format::TrivyJson, 9);
}

#[test]
#[ignore = "needs ../shared/fixtures"]
fn every_grype_json_fixture_matches_independent_counts() {
    run("grype", Format::GrypeJson, 7);
}

#[test]
#[ignore = "needs ../shared/fixtures"]
fn trivy_fixture_fields_match_their_provenance_notes() {
    // Facts stated in fixtures/PROVENANCE.md, checked against the parsed model.
    let dir = common::shared().join("fixtures/trivy");
    let all = std::fs::read(dir.join("trivy-dd_all_statuses.json")).unwrap();
    let d = formats::parse(Format::TrivyJson, &all).unwrap();
    let statuses: BTreeSet<String> = d
        .findings
        .iter()
        .filter_map(|f| f.view.status.clone())
        .collect();
    let want: BTreeSet<String> = [
        "unknown",
        "not_affected",
        "affected",
        "fixed",
        "under_investigation",
        "will_not_fix",
        "fix_deferred",
        "end_of_life",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(statuses, want);
    let v4 = std::fs::read(dir.join("trivy-dd_cvssv4_severity_source.json")).unwrap();
    let d = formats::parse(Format::TrivyJson, &v4).unwrap();
    assert_eq!(
        d.scan.as_ref().unwrap().scanner_version.as_deref(),
        Some("0.69.1")
    );
    assert!(d.findings.iter().any(|f| f
        .view
        .cvss
        .iter()
        .any(|c| c.version == dossier::model::CvssVersion::V4)));
    let ubi = std::fs::read(dir.join("trivy-golden_ubi-7.json")).unwrap();
    let d = formats::parse(Format::TrivyJson, &ubi).unwrap();
    assert_eq!(d.findings.len(), 1);
    assert_eq!(d.findings[0].view.fix_state, "wont-fix");
}

#[test]
#[ignore = "needs ../shared/fixtures"]
fn grype_fixture_fields_match_their_provenance_notes() {
    let dir = common::shared().join("fixtures/grype");
    let epss = std::fs::read(dir.join("grype-dd_v0.94.0_busybox_epss.json")).unwrap();
    let raw: Value = serde_json::from_slice(&epss).unwrap();
    let d = formats::parse(Format::GrypeJson, &epss).unwrap();
    let with_epss = raw["matches"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m.pointer("/vulnerability/epss/0").is_some())
        .count();
    assert_eq!(
        d.findings.iter().filter(|f| f.view.epss.is_some()).count(),
        with_epss
    );
    let built = raw
        .pointer("/descriptor/db/status/built")
        .and_then(Value::as_str);
    assert_eq!(d.scan.as_ref().unwrap().db_built.as_deref(), built);
    let golden = std::fs::read(dir.join("grype-golden_TestJsonImgsPresenter.json")).unwrap();
    let d = formats::parse(Format::GrypeJson, &golden).unwrap();
    assert!(
        d.findings.iter().any(|f| f.view.kev == Some(true)),
        "knownExploited must set kev"
    );
    let ubi = std::fs::read(dir.join("grype-dd_v0.96.0_ubi8_issue_9618.json")).unwrap();
    let d = formats::parse(Format::GrypeJson, &ubi).unwrap();
    assert_eq!(
        d.scan.as_ref().unwrap().db_built.as_deref(),
        Some("2024-02-22T01:23:26Z")
    );
    assert_eq!(d.scan.as_ref().unwrap().db_version.as_deref(), Some("5"));
}
