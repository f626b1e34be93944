//! Streamed Trivy and Grype parsing (issue 8) against the real reports in the shared
//! fixtures: each is parsed whole and as a stream (chunked reads, each element parsed from
//! its slice); the two documents must be equal, and the number of findings must equal the
//! count taken here from the raw JSON. Then every cut of a real report must fail both ways
//! with the same message at the same line and column.

use crate::common::{fixtures, shared};
use dossier::ingest::detect::{detect, Detection, Format};
use dossier::ingest::formats::parse;
use dossier::ingest::formats::stream::{parse_stream, FindingSink, StreamError};
use dossier::model::{Document, FindingRecord};
use serde_json::Value;
use std::path::PathBuf;

#[derive(Default)]
struct Collect(Vec<FindingRecord>);

impl FindingSink for Collect {
    fn finding(&mut self, f: FindingRecord) -> Result<(), String> {
        self.0.push(f);
        Ok(())
    }
}

fn scans() -> Vec<(PathBuf, Format)> {
    let dirs = ["trivy", "grype", "real-evidence/vuln"];
    dirs.iter()
        .filter(|d| shared().join("fixtures").join(d).is_dir())
        .flat_map(|d| fixtures(d))
        .filter_map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            match detect(&bytes) {
                Detection::Supported {
                    format: f @ (Format::TrivyJson | Format::GrypeJson),
                    ..
                } => Some((p, f)),
                _ => None,
            }
        })
        .collect()
}

fn streamed(format: Format, bytes: &[u8]) -> Result<Document, StreamError> {
    let mut sink = Collect::default();
    let s = parse_stream(format, bytes, &mut sink)?;
    let mut doc = s.doc;
    assert!(doc.findings.is_empty(), "findings go to the sink");
    doc.findings = sink.0;
    for f in &mut doc.findings {
        if f.view.scanner_version.is_none() {
            f.view.scanner_version.clone_from(&s.late_scanner_version);
        }
    }
    Ok(doc)
}

fn nonempty_str(v: &Value) -> bool {
    v.as_str().is_some_and(|s| !s.trim().is_empty())
}

/// Findings in the raw JSON: Trivy vulnerabilities (and suppressed ones of type
/// vulnerability) with an id; Grype matches and ignored matches with an artifact and an id.
fn raw_count(format: Format, v: &Value) -> usize {
    let arr = |x: Option<&Value>| x.and_then(Value::as_array).cloned().unwrap_or_default();
    match format {
        Format::TrivyJson => {
            let results = if v.is_array() {
                arr(Some(v))
            } else {
                arr(v.get("Results"))
            };
            results
                .iter()
                .map(|r| {
                    let vulns = arr(r.get("Vulnerabilities"))
                        .iter()
                        .filter(|x| x.get("VulnerabilityID").is_some_and(nonempty_str))
                        .count();
                    let modified = arr(r.get("ExperimentalModifiedFindings"))
                        .iter()
                        .filter(|m| {
                            m.get("Type")
                                .and_then(Value::as_str)
                                .is_none_or(|t| t == "vulnerability")
                        })
                        .filter(|m| {
                            m.pointer("/Finding/VulnerabilityID")
                                .is_some_and(nonempty_str)
                        })
                        .count();
                    vulns + modified
                })
                .sum()
        }
        _ => ["matches", "ignoredMatches"]
            .iter()
            .flat_map(|k| arr(v.get(*k)))
            .filter(|m| {
                m.get("artifact").is_some_and(|a| !a.is_null())
                    && m.pointer("/vulnerability/id").is_some_and(nonempty_str)
            })
            .count(),
    }
}

#[test]
#[ignore = "needs ../shared/fixtures"]
fn every_trivy_and_grype_fixture_streams_to_the_whole_document() {
    let files = scans();
    // Listed in the fixture directories: 11 Trivy JSON reports in trivy/ (the others are
    // SARIF and CycloneDX), 7 Grype JSON reports in grype/.
    assert!(files.len() >= 15, "{files:#?}");
    let mut total = 0;
    for (path, format) in &files {
        let name = path.display().to_string();
        let bytes = std::fs::read(path).unwrap();
        let whole = parse(*format, &bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        let doc = streamed(*format, &bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(doc, whole, "{name}: streamed != whole");
        let raw: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(doc.findings.len(), raw_count(*format, &raw), "{name}");
        total += doc.findings.len();
    }
    assert!(total > 1000, "{total}");
}

#[test]
#[ignore = "needs ../shared/fixtures"]
fn every_cut_of_a_real_report_fails_as_the_whole_parse_fails() {
    // The smallest Trivy and Grype reports with findings, cut every 7 bytes.
    let mut files = scans();
    files.retain(|(p, _)| std::fs::metadata(p).unwrap().len() < 60_000);
    assert!(files.len() >= 4, "{files:#?}");
    for (path, format) in &files {
        let bytes = std::fs::read(path).unwrap();
        for cut in (0..bytes.len()).step_by(7) {
            let w = parse(*format, &bytes[..cut]).map_err(|e| e.to_string());
            match (w, streamed(*format, &bytes[..cut])) {
                (Err(w), Err(StreamError::Format(s))) => {
                    assert_eq!(s.to_string(), w, "{} cut at {cut}", path.display())
                }
                (Ok(_), Ok(_)) => {}
                (_, Err(StreamError::Unstreamable(_))) => {}
                (w, s) => panic!("{} cut at {cut}: {w:?} vs {s:?}", path.display()),
            }
        }
    }
}
