//! A small, fixed evidence set written straight into a store, shared by the TUI tests.
//! It carries hostile strings (ANSI, OSC, bidi) so every screen proves it sanitises.

#![allow(dead_code)]

use dossier::model::{
    ComponentKey, Cvss, CvssVersion, Epss, Location, ScannerView, SetComponent, SetFinding,
    Severity,
};
use dossier::store::{FileRow, SetWrite, Store};
use std::collections::BTreeSet;
use std::path::Path;

pub const DIGEST_A: &str =
    "sha256:1111111111111111111111111111111111111111111111111111111111111111";
pub const DIGEST_B: &str =
    "sha256:2222222222222222222222222222222222222222222222222222222222222222";
pub const HOSTILE: &str = "evil\u{1b}]0;pwned\u{7} \u{1b}[31mred\u{1b}[0m \u{202e}txet";

fn comp(name: &str, ver: &str, direct: Option<bool>) -> SetComponent {
    let purl = format!("pkg:deb/debian/{name}@{ver}");
    SetComponent {
        key: ComponentKey(purl.clone()),
        purl: Some(purl),
        kind: "deb".into(),
        name: name.into(),
        version: Some(ver.into()),
        licenses: vec!["MIT".into()],
        locations: vec![Location {
            file: "trivy.json".into(),
            path: Some(format!("/var/lib/dpkg/status.d/{name}")),
        }],
        direct,
        in_sbom: true,
        in_scan: true,
        ..Default::default()
    }
}

fn view(scanner: &str, sev: Severity, fixed: &[&str], epss: Option<f64>) -> ScannerView {
    ScannerView {
        scanner: scanner.into(),
        scanner_version: Some("1.0".into()),
        severity: sev,
        cvss: vec![Cvss {
            source: "nvd".into(),
            version: CvssVersion::V3_1,
            vector: Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H".into()),
            base_score: Some(9.8),
        }],
        fixed_versions: fixed.iter().map(|s| s.to_string()).collect(),
        fix_state: if fixed.is_empty() {
            "not-fixed".into()
        } else {
            "fixed".into()
        },
        title: Some(format!("{scanner} title")),
        description: Some(format!("A flaw was found. {HOSTILE}")),
        epss: epss.map(|score| Epss {
            score,
            percentile: Some(0.9),
            date: Some("2026-11-01".into()),
        }),
        ..Default::default()
    }
}

fn finding(id: &str, comp: &str, views: Vec<ScannerView>) -> SetFinding {
    SetFinding {
        vuln_id: id.into(),
        aliases: vec![format!("GHSA-{}", id.len())],
        component_key: ComponentKey(comp.into()),
        views: views.into_iter().map(|v| (0usize, v)).collect(),
    }
}

/// Writes set A (7 findings over 3 components, two scanners) and returns its id.
pub fn write_set_a(st: &mut Store) -> i64 {
    let openssl = "pkg:deb/debian/openssl@3.0.11";
    let zlib = "pkg:deb/debian/zlib@1.2.13";
    let busybox = "pkg:deb/debian/busybox@1.35";
    let comps = vec![
        comp("openssl", "3.0.11", Some(true)),
        comp("zlib", "1.2.13", Some(false)),
        comp("busybox", "1.35", None),
    ];
    let deps: BTreeSet<(String, String)> = [("@subject", openssl), (openssl, zlib)]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    let findings = vec![
        finding(
            "CVE-2024-0001",
            openssl,
            vec![
                view("trivy", Severity::Critical, &["3.0.13"], Some(0.42)),
                view("grype", Severity::High, &["3.0.13"], None),
            ],
        ),
        finding(
            "CVE-2024-0002",
            openssl,
            vec![view("trivy", Severity::High, &[], None)],
        ),
        finding(
            "CVE-2024-0003",
            zlib,
            vec![view("grype", Severity::Medium, &["1.3"], Some(0.01))],
        ),
        finding(
            "CVE-2024-0004",
            zlib,
            vec![view("trivy", Severity::Low, &[], None)],
        ),
        finding(
            "CVE-2024-0005",
            busybox,
            vec![view("trivy", Severity::Unknown, &[], None)],
        ),
        finding(
            "CVE-2023-9999",
            busybox,
            vec![view("grype", Severity::Negligible, &[], None)],
        ),
        finding(
            "GHSA-xxxx-0007",
            busybox,
            vec![view("grype", Severity::Medium, &["1.36"], None)],
        ),
    ];
    let files = vec![
        file("scans/trivy.json", "aa", "trivy", "parsed", None),
        file("sbom/syft.cdx.json", "bb", "cyclonedx-json", "parsed", None),
        file(
            "notes/README.md",
            "cc",
            "",
            "unrecognised",
            Some(&format!("no known format {HOSTILE}")),
        ),
    ];
    write(
        st,
        DIGEST_A,
        "registry.example.mil/team/app:1.0",
        &files,
        &comps,
        &deps,
        &findings,
    )
}

/// Set B: a later version of the same repository with one finding fixed.
pub fn write_set_b(st: &mut Store) -> i64 {
    let openssl = "pkg:deb/debian/openssl@3.0.13";
    let comps = vec![comp("openssl", "3.0.13", Some(true))];
    let deps: BTreeSet<(String, String)> = [("@subject".to_string(), openssl.to_string())]
        .into_iter()
        .collect();
    let findings = vec![finding(
        "CVE-2024-0002",
        openssl,
        vec![view("trivy", Severity::High, &[], None)],
    )];
    let files = vec![file("scans/trivy.json", "dd", "trivy", "parsed", None)];
    write(
        st,
        DIGEST_B,
        "registry.example.mil/team/app:1.1",
        &files,
        &comps,
        &deps,
        &findings,
    )
}

fn file(path: &str, sha: &str, format: &str, status: &str, message: Option<&str>) -> FileRow {
    FileRow {
        path: path.into(),
        sha256: sha.repeat(32),
        size: 1234,
        bytes: None,
        format: (!format.is_empty()).then(|| format.to_string()),
        spec_version: None,
        status: status.into(),
        message: message.map(str::to_string),
        named_digests: vec![],
        doc_kind: None,
        scanner: (format == "trivy").then(|| "trivy".to_string()),
        scanner_version: None,
        db_built: (format == "trivy").then(|| "2026-11-01T00:00:00Z".to_string()),
        scanned_at: (format == "trivy").then(|| "2026-11-04T00:00:00Z".to_string()),
    }
}

fn write(
    st: &mut Store,
    digest: &str,
    image: &str,
    files: &[FileRow],
    comps: &[SetComponent],
    deps: &BTreeSet<(String, String)>,
    findings: &[SetFinding],
) -> i64 {
    let shas: Vec<String> = files.iter().map(|f| f.sha256.clone()).collect();
    let repo = image.rsplit_once(':').map(|(r, _)| r.to_string());
    let w = SetWrite {
        existing: None,
        package: Some("demo-system"),
        digest: Some(digest),
        image: Some(image),
        repository: repo.as_deref(),
        source: "fixture",
        image_user: None,
        new_files: files,
        file_shas: &shas,
        components: comps,
        dependencies: deps,
        findings,
    };
    let details = serde_json::json!({"source": "fixture", "digest": digest});
    st.write_import(&w, &|tx, _| {
        dossier::store::audit::append(tx, "test", "import", digest, &details).map(|_| ())
    })
    .unwrap()
    .set_id
}

pub fn store_with_sets(path: &Path, both: bool) -> Store {
    let mut st = Store::open(path).unwrap();
    write_set_a(&mut st);
    if both {
        write_set_b(&mut st);
    }
    st
}
