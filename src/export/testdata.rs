//! A small hand-written package for the writers' unit tests: two sets, one finding of each
//! gate class and disposition, a waiver, a non-Latin component name and a hostile string.

use super::model::*;

pub(crate) const DIGEST_A: &str =
    "sha256:1111111111111111111111111111111111111111111111111111111111111111";
pub(crate) const DIGEST_B: &str =
    "sha256:2222222222222222222222222222222222222222222222222222222222222222";

pub(crate) fn finding(id: &str, sev: &str, gate: &str, disposition: &str) -> FindingItem {
    FindingItem {
        vuln_id: id.into(),
        aliases: vec![],
        component_key: "pkg:deb/debian/openssl@3.0.11".into(),
        purl: Some("pkg:deb/debian/openssl@3.0.11?arch=amd64".into()),
        name: "openssl".into(),
        version: Some("3.0.11".into()),
        severity: sev.into(),
        direct: Some(true),
        fixed_versions: vec![],
        fix_state: "not-fixed".into(),
        cvss_v3_score: Some(7.5),
        epss: None,
        kev: None,
        scanners: vec!["trivy".into()],
        title: None,
        gate: gate.into(),
        gate_reason: Some(format!("{sev} finding")),
        disposition: disposition.into(),
        justification: None,
        note: None,
        decided_by: None,
        decided_at: None,
        waiver: None,
    }
}

fn verdict(s: &str) -> Verdict {
    Verdict {
        status: s.into(),
        policy_sha256: Some("ab".repeat(32)),
        as_of: Some("2026-11-27".into()),
        reasons: vec![format!("verdict {s}")],
    }
}

pub(crate) fn package() -> Package {
    let mut a = vec![
        finding("CVE-2024-0001", "CRITICAL", "BLOCK", "open"),
        finding("CVE-2024-0002", "HIGH", "WARN", "waived"),
        finding("CVE-2024-0003", "MEDIUM", "WARN", "not_affected"),
        finding("CVE-2024-0004", "LOW", "INFO", "open"),
        finding("CVE-2024-0005", "HIGH", "BLOCK", "patched"),
    ];
    a[1].waiver = Some("W-2026-0042".into());
    a[1].justification = Some("no_patch_available".into());
    a[2].justification = Some("vulnerable_code_not_in_execute_path".into());
    a[2].note = Some("TLS is terminated by the sidecar".into());
    a[3].name = "библиотека-ü".into();
    a[3].purl = Some("pkg:npm/%D0%B1%D0%B8%D0%B1@1.0.0".into());
    a[3].component_key = "pkg:npm/%D0%B1%D0%B8%D0%B1@1.0.0".into();
    a[4].fixed_versions = vec!["3.0.12".into()];
    sort_findings(&mut a);
    let counts_a = count(&a);
    let b = vec![finding("GHSA-aaaa-bbbb-cccc", "MEDIUM", "WARN", "open")];
    let counts_b = count(&b);
    Package {
        schema_version: SCHEMA_VERSION.into(),
        name: "sample-system".into(),
        generated_at: "2026-11-27T00:00:00Z".into(),
        generator: Generator {
            name: "dossier".into(),
            version: "0.1.0".into(),
        },
        classification: "UNCLASSIFIED//FOR TEST".into(),
        reviewer: Reviewer {
            name: "R. Reviewer".into(),
            role: Some("ISSO".into()),
            key_fingerprint: None,
        },
        verdict: verdict("FAIL"),
        audit_head: "cd".repeat(32),
        sets: vec![
            SetExport {
                id: 1,
                image: Some(format!("registry.example.mil/team/app@{DIGEST_A}")),
                repository: Some("registry.example.mil/team/app".into()),
                digest: Some(DIGEST_A.into()),
                verdict: verdict("FAIL"),
                evidence: vec![EvidenceItem {
                    path: "app/trivy.json".into(),
                    format: Some("trivy-json".into()),
                    spec_version: Some("2".into()),
                    status: "parsed".into(),
                    message: None,
                    sha256: "ef".repeat(32),
                    size: 1234,
                    stored: true,
                }],
                verification: None,
                checks: Some(vec![CheckItem {
                    code: "scanner-db-age".into(),
                    status: "pass".into(),
                    reason: "DB 1 day old at scan time\u{1b}[31m".into(),
                }]),
                scanners: vec![ScannerInfo {
                    scanner: "trivy".into(),
                    version: Some("0.58.0".into()),
                    db_built: Some("2026-11-25T00:00:00Z".into()),
                    scanned_at: Some("2026-11-26T00:00:00Z".into()),
                    db_age_days: Some(1),
                    file: "app/trivy.json".into(),
                }],
                counts: counts_a,
                findings: a,
                waivers: Some(vec![WaiverItem {
                    id: "W-2026-0042".into(),
                    vulnerability: "CVE-2024-0002".into(),
                    scope_image: Some(format!("registry.example.mil/team/app@{DIGEST_A}")),
                    scope_repository: None,
                    scope_purl: Some("pkg:deb/debian/openssl@3.0.11".into()),
                    justification_type: "no_patch_available".into(),
                    justification_text: "Vendor has no fix; TLS terminates at the mesh sidecar."
                        .into(),
                    requested_by: Some("J. Doe".into()),
                    approver: Some("R. Roe (ISSM)".into()),
                    approved_at: Some("2026-11-01T14:00:00Z".into()),
                    expires: "2027-02-01".into(),
                    signature: "verified".into(),
                    state: Some("active".into()),
                }]),
                stig: None,
            },
            SetExport {
                id: 2,
                image: Some("registry.example.mil/team/db:1.2".into()),
                repository: Some("registry.example.mil/team/db".into()),
                digest: Some(DIGEST_B.into()),
                verdict: verdict("CONDITIONAL"),
                evidence: vec![],
                verification: None,
                checks: None,
                scanners: vec![],
                counts: counts_b,
                findings: b,
                waivers: Some(vec![]),
                stig: None,
            },
        ],
    }
}
