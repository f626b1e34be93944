//! SBOM parsers against every CycloneDX and SPDX file in the shared fixtures: each file is
//! parsed, and the merged component and finding counts equal counts computed here from the
//! raw JSON / XML / tag-value text, independently of the parsers under test.
//!
//! Rules (issue 2, point 6), as applied here:
//! - component key: purl without qualifiers/subpath, type lowercased (`common::purl_key`);
//!   without a (valid) purl, the triple (type, name, version). The type is CycloneDX `type`
//!   (`library` when absent) or, for SPDX, `primaryPackagePurpose` lowercased with `_` as `-`
//!   (`package` when absent). An SPDX version of NOASSERTION/NONE counts as no version.
//! - not components: CycloneDX `metadata.component` and any component with the same purl key
//!   (tools repeat the image as a top-level component); CycloneDX `type: file` (their nested
//!   components still count); SPDX files; SPDX elements the document DESCRIBES.
//! - findings (CycloneDX): one per distinct (vulnerability, affected component key) over
//!   entries without `analysis` (VEX statements are not findings). A vulnerability id and its
//!   `references[].id` are one vulnerability (aliases merge, transitively), so two entries
//!   that alias each other on one component are one finding. An `affects` ref that names no
//!   component (the subject, a BOM-Link) is not a finding.

#[path = "sbom_expect.rs"]
pub(crate) mod expect;

use crate::common::{fixtures, shared};
use dossier::ingest::detect::{detect, Detection, Format};
use dossier::ingest::discover::DiscoveredFile;
use dossier::ingest::merge::merge;
use dossier::ingest::{parse_file, FileStatus};
use expect::{cdx_json, cdx_xml, spdx_json, spdx_tv};
use std::path::PathBuf;

// ---------- the test ----------

/// The formats this suite covers (selected by content detection, never by file name).
macro_rules! sbom_formats {
    () => {
        Format::CycloneDxJson | Format::CycloneDxXml | Format::SpdxJson | Format::SpdxTagValue
    };
}

fn sbom_files() -> Vec<(PathBuf, Format)> {
    let mut out = Vec::new();
    let dirs = ["cyclonedx", "spdx", "trivy", "grype", "real-evidence/sbom"];
    for p in dirs.iter().flat_map(|d| fixtures(d)) {
        let bytes = std::fs::read(&p).unwrap();
        match detect(&bytes) {
            Detection::Supported {
                format: f @ (sbom_formats!()),
                ..
            } => out.push((p, f)),
            Detection::UnsupportedVersion {
                format: sbom_formats!(),
                reason,
                ..
            } => {
                panic!(
                    "{}: an SBOM fixture of an unsupported version: {reason}",
                    p.display()
                );
            }
            _ => {}
        }
    }
    out
}

#[test]
#[ignore = "needs ../shared/fixtures"]
fn every_sbom_fixture_parses_with_independent_counts() {
    let _ = shared();
    let files = sbom_files();
    // 10 cyclonedx + 10 spdx + 2 trivy CycloneDX + 2 grype CycloneDX + 7 real-evidence SBOMs
    // (syft.syft.json is Syft's native format, detected as such, not an SBOM parsed here).
    assert_eq!(files.len(), 31, "{files:#?}");
    let mut report = Vec::new();
    for (path, format) in &files {
        let bytes = std::fs::read(path).unwrap();
        let expected = match format {
            Format::CycloneDxJson => cdx_json(&serde_json::from_slice(&bytes).unwrap()),
            Format::CycloneDxXml => cdx_xml(&bytes),
            Format::SpdxJson => spdx_json(&serde_json::from_slice(&bytes).unwrap()),
            Format::SpdxTagValue => spdx_tv(std::str::from_utf8(&bytes).unwrap()),
            _ => unreachable!(),
        };
        let name = path.display().to_string();
        let pf = parse_file(DiscoveredFile {
            path: name.clone(),
            bytes,
            sha256: String::new(),
        });
        assert_eq!(pf.status, FileStatus::Parsed, "{name}: {:?}", pf.message);
        let doc = pf.doc.as_ref().unwrap();
        let m = merge(&[(0, name.as_str(), doc)]);
        assert_eq!(
            m.components.len(),
            expected.components.len(),
            "{name}: component count"
        );
        assert_eq!(
            m.findings.len(),
            expected.findings.len(),
            "{name}: finding count"
        );
        report.push(format!(
            "{name}: {} components, {} findings",
            m.components.len(),
            m.findings.len()
        ));
    }
    eprintln!("{}", report.join("\n"));
}

#[test]
#[ignore = "needs ../shared/fixtures"]
fn the_real_evidence_sboms_name_the_image_digest() {
    let digest = "sha256:52c1fa53b306f09e32761cfbffae79ceedad6482dec55cdd472de220f41c145b";
    let dir = shared().join("fixtures/real-evidence/sbom");
    // syft.cdx.json names the image by tag only (formats.md 6.2: no digest at all) and
    // cdxgen's subject is `pkg:container/...@1.0`; the others carry the digest.
    for f in [
        "syft.spdx.json",
        "syft.spdx",
        "trivy.cdx.json",
        "trivy.spdx.json",
    ] {
        let bytes = std::fs::read(dir.join(f)).unwrap();
        let pf = parse_file(DiscoveredFile {
            path: f.into(),
            bytes,
            sha256: String::new(),
        });
        let doc = pf.doc.unwrap_or_else(|| panic!("{f}: {:?}", pf.message));
        assert!(
            doc.image_digests.iter().any(|d| d == digest),
            "{f}: {:?}",
            doc.image_digests
        );
    }
}

#[test]
#[ignore = "needs ../shared/fixtures"]
fn trivy_and_grype_cyclonedx_vulnerabilities_are_findings_of_their_scanner() {
    let cases = [
        (
            "trivy/trivy-golden_fluentd-multiple-lockfiles-short.cdx.json",
            "trivy",
        ),
        (
            "grype/grype-golden_TestCycloneDxPresenterImage.json",
            "grype",
        ),
        ("grype/grype-dd_v0.7.0_defectdojo-1.14.1.cdx.xml", "grype"),
    ];
    for (f, scanner) in cases {
        let bytes = std::fs::read(shared().join("fixtures").join(f)).unwrap();
        let pf = parse_file(DiscoveredFile {
            path: f.into(),
            bytes,
            sha256: String::new(),
        });
        let doc = pf.doc.unwrap_or_else(|| panic!("{f}: {:?}", pf.message));
        assert!(!doc.findings.is_empty(), "{f}");
        assert!(
            doc.findings.iter().all(|x| x.view.scanner == scanner),
            "{f}"
        );
    }
}
