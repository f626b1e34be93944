//! The streamed parse must give what the whole-document parse gives: the same document and
//! the same findings in the same order (the late scanner version applied), the same error
//! text and position for broken input, and a refusal (not a wrong answer) for key orders it
//! cannot follow.

use super::*;
use crate::devgen::synthetic::{generate, SynthFormat, SynthOptions};

#[derive(Default)]
struct Collect(Vec<FindingRecord>);

impl FindingSink for Collect {
    fn finding(&mut self, f: FindingRecord) -> Result<(), String> {
        self.0.push(f);
        Ok(())
    }
}

/// The streamed result folded back into one document, as the import's merge sees it.
fn streamed(format: Format, bytes: &[u8]) -> Result<Document, StreamError> {
    let mut sink = Collect::default();
    let s = parse_stream(format, bytes, &mut sink)?;
    let mut doc = s.doc;
    doc.findings = sink.0;
    for f in &mut doc.findings {
        if f.view.scanner_version.is_none() {
            f.view.scanner_version.clone_from(&s.late_scanner_version);
        }
    }
    Ok(doc)
}

fn both_ways(format: Format, bytes: &[u8]) -> Document {
    let whole = super::super::parse(format, bytes).unwrap();
    let s = streamed(format, bytes).unwrap();
    assert_eq!(s, whole);
    whole
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/scan")
            .join(name),
    )
    .unwrap()
}

#[test]
fn fixture_reports_stream_to_the_same_document() {
    // trivy.json holds three VulnerabilityIDs, grype.json three matches (counted in the files).
    let t = both_ways(Format::TrivyJson, &fixture("trivy.json"));
    assert_eq!(t.findings.len(), 3);
    let g = both_ways(Format::GrypeJson, &fixture("grype.json"));
    assert_eq!(g.findings.len(), 3);
    assert_eq!(g.findings[0].aliases, vec!["CVE-2021-23337".to_string()]);
}

#[test]
fn generated_reports_stream_to_the_same_document() {
    let dir = tempfile::tempdir().unwrap();
    let opts = SynthOptions {
        seed: 3,
        components: 60,
        findings: 400,
        formats: vec![SynthFormat::Trivy, SynthFormat::Grype],
    };
    for (path, _) in generate(&opts, dir.path()).unwrap() {
        let bytes = std::fs::read(&path).unwrap();
        let format = match crate::ingest::detect::detect(&bytes) {
            crate::ingest::detect::Detection::Supported { format, .. } => format,
            other => panic!("{other:?}"),
        };
        let d = both_ways(format, &bytes);
        assert!(d.findings.len() > 300, "{}", d.findings.len());
    }
}

#[test]
fn a_scanner_version_after_the_findings_reaches_every_view() {
    // Grype writes `descriptor` last: the stream learns the version after the matches.
    let g = br#"{"matches":[{"vulnerability":{"id":"CVE-1","severity":"High"},
        "artifact":{"name":"a","version":"1","type":"npm","purl":"pkg:npm/a@1"}}],
        "descriptor":{"name":"grype","version":"0.86.1"}}"#;
    let mut sink = Collect::default();
    let s = parse_stream(Format::GrypeJson, &g[..], &mut sink).unwrap();
    assert_eq!(s.late_scanner_version.as_deref(), Some("0.86.1"));
    assert_eq!(sink.0[0].view.scanner_version, None);
    let d = both_ways(Format::GrypeJson, g);
    assert_eq!(
        d.findings[0].view.scanner_version.as_deref(),
        Some("0.86.1")
    );
    // Trivy with the `Trivy` key last, likewise.
    let t = br#"{"SchemaVersion":2,"Results":[{"Target":"x","Type":"npm","Vulnerabilities":[
        {"VulnerabilityID":"CVE-2","PkgName":"a","InstalledVersion":"1","Severity":"LOW"}]}],
        "Trivy":{"Version":"0.58.1"}}"#;
    let d = both_ways(Format::TrivyJson, t);
    assert_eq!(
        d.findings[0].view.scanner_version.as_deref(),
        Some("0.58.1")
    );
    // Known before the findings: nothing is late.
    let t2 = br#"{"SchemaVersion":2,"Trivy":{"Version":"0.58.1"},"Results":[{"Type":"npm",
        "Vulnerabilities":[{"VulnerabilityID":"CVE-2","PkgName":"a","InstalledVersion":"1"}]}]}"#;
    let s = parse_stream(Format::TrivyJson, &t2[..], &mut Collect::default()).unwrap();
    assert_eq!(s.late_scanner_version, None);
}

#[test]
fn packages_modified_findings_and_the_legacy_array_follow_the_whole_parse() {
    // Packages before Type (buffered), modified findings before vulnerabilities (kept for
    // the end of the result, where the whole parse handles them), secrets counted.
    let t = br#"{"SchemaVersion":2,"ArtifactName":"img","Results":[{"Target":"t",
        "Packages":[{"Name":"a","Version":"1","Licenses":["MIT"],"FilePath":"/a"}],
        "Type":"npm",
        "ExperimentalModifiedFindings":[{"Type":"vulnerability","Status":"not_affected",
            "Statement":"vex","Source":"v.json","Finding":{"VulnerabilityID":"CVE-9","PkgName":"a","InstalledVersion":"1"}}],
        "Vulnerabilities":[{"VulnerabilityID":"CVE-1","PkgName":"a","InstalledVersion":"1","FixedVersion":"2"},
                           {"PkgName":"nameless"}],
        "Secrets":[{},{}]}]}"#;
    let d = both_ways(Format::TrivyJson, t);
    let ids: Vec<&str> = d.findings.iter().map(|f| f.vuln_id.as_str()).collect();
    assert_eq!(ids, ["CVE-1", "CVE-9"]);
    assert_eq!(d.components[0].licenses, vec!["MIT".to_string()]);
    assert_eq!(d.warnings.len(), 3, "{:?}", d.warnings);
    let legacy = br#"[{"Target":"t","Type":"npm","Vulnerabilities":[
        {"VulnerabilityID":"CVE-1","PkgName":"a","InstalledVersion":"1"}]}]"#;
    assert_eq!(both_ways(Format::TrivyJson, legacy).findings.len(), 1);
}

#[test]
fn key_orders_the_stream_cannot_follow_are_refused_not_misread() {
    let t = br#"{"SchemaVersion":2,"Results":[{"Vulnerabilities":[
        {"VulnerabilityID":"CVE-1","PkgName":"a","InstalledVersion":"1"}],"Type":"npm"}]}"#;
    assert!(matches!(
        parse_stream(Format::TrivyJson, &t[..], &mut Collect::default()),
        Err(StreamError::Unstreamable(_))
    ));
    let g = br#"{"ignoredMatches":[{"vulnerability":{"id":"CVE-1"},"artifact":{"name":"a"}}],
        "matches":[{"vulnerability":{"id":"CVE-2"},"artifact":{"name":"b"}}]}"#;
    assert!(matches!(
        parse_stream(Format::GrypeJson, &g[..], &mut Collect::default()),
        Err(StreamError::Unstreamable(_))
    ));
}

#[test]
fn broken_reports_fail_with_the_whole_parse_message_and_position() {
    let good = fixture("trivy.json");
    let vul = good
        .windows(17)
        .position(|w| w == b"\"Vulnerabilities\"")
        .unwrap();
    let cases: Vec<(Format, Vec<u8>)> = vec![
        // Truncated in the middle of the findings array.
        (Format::TrivyJson, good[..vul + 200].to_vec()),
        // A wrong type in the middle of the array.
        (
            Format::TrivyJson,
            br#"{"SchemaVersion":2,"Results":[{"Type":"npm","Vulnerabilities":[
            {"VulnerabilityID":"CVE-1","PkgName":"a"},
            42,
            {"VulnerabilityID":"CVE-2","PkgName":"b"}]}]}"#
                .to_vec(),
        ),
        (
            Format::TrivyJson,
            br#"{"SchemaVersion":2,"Results":[],"Results":[]}"#.to_vec(),
        ),
        (
            Format::GrypeJson,
            br#"{"matches":[{"vulnerability":{"id":"CVE-1"},"artifact":{"name":"a"}},
            {"vulnerability":{"id":7}}]}"#
                .to_vec(),
        ),
        (Format::GrypeJson, br#"{"matches":[]} trailing"#.to_vec()),
    ];
    for (format, bytes) in cases {
        let whole = super::super::parse(format, &bytes).unwrap_err();
        let err = match parse_stream(format, &bytes[..], &mut Collect::default()) {
            Err(StreamError::Format(e)) => e,
            other => panic!("{other:?}"),
        };
        // Each element is parsed from its slice and placed in the file: the same message,
        // line and column as the whole parse.
        assert_eq!(err, whole);
    }
}

#[test]
fn a_failing_sink_stops_the_parse_with_its_own_message() {
    struct Full;
    impl FindingSink for Full {
        fn finding(&mut self, _: FindingRecord) -> Result<(), String> {
            Err("disk full".into())
        }
    }
    match parse_stream(Format::GrypeJson, &fixture("grype.json")[..], &mut Full) {
        Err(StreamError::Sink(m)) => assert_eq!(m, "disk full"),
        other => panic!("{other:?}"),
    }
}
