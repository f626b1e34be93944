//! Unit tests for the Grype parser over small reports written here, one per shape.

use super::*;

const OLD_07X: &str = r#"{
  "matches": [
    {"vulnerability": {"id": "CVE-2011-3389", "severity": "Medium",
       "links": ["https://security-tracker.debian.org/tracker/CVE-2011-3389"],
       "cvssV2": {"baseScore": 4.3, "vector": "AV:N/AC:M/Au:N/C:P/I:N/A:N"},
       "cvssV3": {"baseScore": 5.9, "vector": "CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N"},
       "fixedInVersion": "3.6.7-4+deb10u6"},
     "matchDetails": {"matcher": "dpkg-matcher", "searchKey": {"distro": {"type": "debian"}}},
     "artifact": {"name": "libgnutls30", "version": "3.6.7-4+deb10u5", "type": "deb",
       "locations": [{"path": "/var/lib/dpkg/status", "layerID": "sha256:b6"}],
       "licenses": ["LGPL-2.1"],
       "cpes": [{"Part": "a", "Vendor": "gnu", "Product": "gnutls", "Version": "3.6.7", "Update": ""}],
       "purl": "pkg:deb/debian/libgnutls30@3.6.7-4+deb10u5?arch=amd64"}}
  ],
  "source": {"type": "image", "target": {"userInput": "python:3.6",
    "manifestDigest": "sha256:56e428bb95594df86c86d62aa7b6ca5827ecf23a2a1e933288cba950d394fdbf",
    "tags": ["python:3.6"]}},
  "distro": {"name": "debian", "version": "10"},
  "descriptor": {"name": "grype", "version": "0.7.0"}
}"#;

#[test]
fn old_07x_shape() {
    let d = parse(OLD_07X.as_bytes()).unwrap();
    assert_eq!(d.kind, DocKind::Scan);
    assert_eq!(d.components.len(), 1);
    let c = &d.components[0];
    assert_eq!(c.key().0, "pkg:deb/debian/libgnutls30@3.6.7-4+deb10u5");
    assert_eq!(c.kind, "deb");
    assert_eq!(c.locations, vec!["/var/lib/dpkg/status"]);
    assert_eq!(c.cpes, vec!["cpe:2.3:a:gnu:gnutls:3.6.7:*:*:*:*:*:*:*"]);
    assert_eq!(d.findings.len(), 1);
    let v = &d.findings[0].view;
    assert_eq!(v.severity, Severity::Medium);
    assert_eq!(v.fixed_versions, vec!["3.6.7-4+deb10u6"]);
    assert_eq!(v.fix_state, "fixed");
    assert_eq!(
        v.urls,
        vec!["https://security-tracker.debian.org/tracker/CVE-2011-3389"]
    );
    assert_eq!(v.cvss.len(), 2);
    assert!(v
        .cvss
        .iter()
        .any(|x| x.version == CvssVersion::V2 && x.base_score == Some(4.3)));
    assert!(v
        .cvss
        .iter()
        .any(|x| x.version == CvssVersion::V3_0 && x.base_score == Some(5.9)));
    let md: Value = serde_json::from_str(v.match_details.as_deref().unwrap()).unwrap();
    assert_eq!(md["matcher"], "dpkg-matcher");
    assert_eq!(v.ignored_by, None);
    let s = d.scan.as_ref().unwrap();
    assert_eq!(s.scanner_version.as_deref(), Some("0.7.0"));
    assert_eq!(
        (s.db_built.as_deref(), s.scanned_at.as_deref()),
        (None, None)
    );
    assert_eq!(
        d.image_digests,
        vec!["sha256:56e428bb95594df86c86d62aa7b6ca5827ecf23a2a1e933288cba950d394fdbf"]
    );
    assert_eq!(
        d.subject.as_ref().unwrap().reference.as_deref(),
        Some("python:3.6")
    );
}

const NEW: &str = r#"{
  "matches": [
    {"vulnerability": {"id": "GHSA-aaaa-bbbb-cccc", "dataSource": "https://github.com/advisories/GHSA-aaaa-bbbb-cccc",
       "namespace": "github:language:javascript", "severity": "High", "urls": ["https://u/1"],
       "cvss": [{"source": "ghsa", "type": "Secondary", "version": "3.1",
                 "vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", "metrics": {"baseScore": 7.5}}],
       "epss": [{"cve": "CVE-2024-0001", "epss": 0.0719, "percentile": 0.91, "date": "2025-06-18"}],
       "knownExploited": [{"cve": "CVE-2024-0001", "knownRansomwareCampaignUse": "Known"}],
       "fix": {"versions": ["1.2.4"], "state": "fixed"}, "risk": 12.5},
     "relatedVulnerabilities": [
       {"id": "CVE-2024-0001", "namespace": "nvd:cpe", "severity": "Critical", "description": "from nvd",
        "cvss": [{"source": "nvd@nist.gov", "type": "Primary", "version": "2.0",
                  "vector": "AV:N/AC:L/Au:N/C:P/I:P/A:P", "metrics": {"baseScore": 7.5, "exploitabilityScore": 10}}]}],
     "matchDetails": [{"type": "exact-direct-match", "matcher": "javascript-matcher"}],
     "artifact": {"id": "abc123", "name": "lodash", "version": "1.2.3", "type": "npm",
       "locations": [{"path": "/app/node_modules/lodash/package.json"}],
       "licenses": ["MIT"], "cpes": ["cpe:2.3:a:lodash:lodash:1.2.3:*:*:*:*:*:*:*"],
       "purl": "pkg:npm/lodash@1.2.3"}},
    {"vulnerability": {"id": "CVE-2022-28391", "severity": "Negligible", "fix": {"versions": [], "state": ""}},
     "relatedVulnerabilities": [],
     "matchDetails": [],
     "artifact": {"id": "b1", "name": "busybox", "version": "1.32.1", "type": "binary",
       "locations": [{"path": "/bin/["}], "cpes": [], "purl": ""}}
  ],
  "ignoredMatches": [
    {"vulnerability": {"id": "CVE-2023-9", "severity": null, "fix": {"versions": [], "state": "wont-fix"}},
     "relatedVulnerabilities": [], "matchDetails": [],
     "artifact": {"id": "b1", "name": "busybox", "version": "1.32.1", "type": "binary",
       "locations": [{"path": "/bin/busybox"}], "purl": ""},
     "appliedIgnoreRules": [{"vulnerability": "CVE-2023-9", "reason": "accepted", "fix-state": "wont-fix"}]}
  ],
  "source": {"type": "image", "target": {"userInput": "reg.example/app:1.0",
    "manifestDigest": "sha256:1111111111111111111111111111111111111111111111111111111111111111",
    "repoDigests": ["reg.example/app@sha256:2222222222222222222222222222222222222222222222222222222222222222"],
    "tags": ["reg.example/app:1.0"],
    "config": "eyJjb25maWciOnsiVXNlciI6IjEwMDEifX0="}},
  "descriptor": {"name": "grype", "version": "0.104.0", "timestamp": "2025-06-19T10:00:00Z",
    "db": {"status": {"schemaVersion": "v6.0.2", "built": "2025-06-18T04:00:00Z", "valid": true},
           "providers": {"nvd": {"captured": "2025-06-18T03:00:00Z"}}}}
}"#;

#[test]
fn new_shape_with_epss_kev_aliases_and_ignored_matches() {
    let d = parse(NEW.as_bytes()).unwrap();
    // lodash and busybox (the ignored match is on the same busybox key).
    assert_eq!(d.components.len(), 2);
    let bb = d.components.iter().find(|c| c.name == "busybox").unwrap();
    assert_eq!(bb.key().0, "nopurl:binary/busybox@1.32.1");
    assert_eq!(bb.locations, vec!["/bin/[", "/bin/busybox"]);
    assert_eq!(d.findings.len(), 3);

    let f = &d.findings[0];
    assert_eq!(f.vuln_id, "GHSA-aaaa-bbbb-cccc");
    assert_eq!(f.aliases, vec!["CVE-2024-0001"]);
    let v = &f.view;
    assert_eq!(
        v.severity,
        Severity::High,
        "the match's own severity, not the related one"
    );
    assert_eq!(
        v.epss,
        Some(Epss {
            score: 0.0719,
            percentile: Some(0.91),
            date: Some("2025-06-18".into())
        })
    );
    assert_eq!(v.kev, Some(true));
    assert_eq!(v.fixed_versions, vec!["1.2.4"]);
    assert_eq!(v.fix_state, "fixed");
    assert_eq!(v.namespace.as_deref(), Some("github:language:javascript"));
    assert_eq!(v.description.as_deref(), Some("from nvd"));
    // Own GHSA score plus the related NVD v2 view.
    assert_eq!(v.cvss.len(), 2);
    assert!(v
        .cvss
        .iter()
        .any(|c| c.source == "nvd@nist.gov" && c.version == CvssVersion::V2));
    assert_eq!(
        d.components[f.component].local_ref.as_deref(),
        Some("abc123")
    );

    let n = &d.findings[1].view;
    assert_eq!(n.severity, Severity::Negligible);
    assert_eq!(
        n.fix_state, "unknown",
        "an empty fix.state with no versions is unknown"
    );
    assert_eq!(n.kev, None);
    assert_eq!(n.epss, None);

    let ig = &d.findings[2];
    assert_eq!(ig.view.severity, Severity::Unknown, "null severity");
    assert_eq!(ig.view.fix_state, "wont-fix");
    let rules: Value = serde_json::from_str(ig.view.ignored_by.as_deref().unwrap()).unwrap();
    assert_eq!(rules[0]["reason"], "accepted");

    let s = d.scan.as_ref().unwrap();
    assert_eq!(s.db_built.as_deref(), Some("2025-06-18T04:00:00Z"));
    assert_eq!(s.db_version.as_deref(), Some("v6.0.2"));
    assert_eq!(s.scanned_at.as_deref(), Some("2025-06-19T10:00:00Z"));
    // Registry digest first, the (possibly platform) manifest digest after it.
    assert_eq!(
        d.image_digests,
        vec![
            "sha256:2222222222222222222222222222222222222222222222222222222222222222",
            "sha256:1111111111111111111111111111111111111111111111111111111111111111"
        ]
    );
    assert_eq!(d.image_user.as_deref(), Some("1001"));
}

#[test]
fn the_three_descriptor_db_shapes() {
    let v5 = serde_json::json!({"built": "2024-02-22T01:23:26Z", "schemaVersion": 5, "location": "/tmp", "error": null});
    let v6 = serde_json::json!({"schemaVersion": "v6.0.1", "built": "2025-01-01T00:00:00Z", "path": "/x", "error": ""});
    let v90 = serde_json::json!({"status": {"schemaVersion": "v6.0.2", "built": "2025-06-18T04:00:00Z", "valid": true}, "providers": {}});
    assert_eq!(
        db_info(Some(&v5)),
        (Some("2024-02-22T01:23:26Z".into()), Some("5".into()))
    );
    assert_eq!(
        db_info(Some(&v6)),
        (Some("2025-01-01T00:00:00Z".into()), Some("v6.0.1".into()))
    );
    assert_eq!(
        db_info(Some(&v90)),
        (Some("2025-06-18T04:00:00Z".into()), Some("v6.0.2".into()))
    );
    assert_eq!(db_info(None), (None, None));
}

#[test]
fn empty_and_directory_sources() {
    let d = parse(br#"{"matches":[],"source":{"type":"directory","target":"/src"},"descriptor":{"name":"grype","version":"0.1"}}"#).unwrap();
    assert!(d.findings.is_empty() && d.components.is_empty() && d.image_digests.is_empty());
    assert_eq!(d.subject.unwrap().name.as_deref(), Some("/src"));
    let d = parse(br#"{"matches":null,"source":null,"descriptor":{}}"#).unwrap();
    assert!(d.findings.is_empty());
}

#[test]
fn malformed_json_names_line_and_column() {
    let e = parse(b"{\"matches\": [\n {\"vulnerability\": }\n]}").unwrap_err();
    assert_eq!((e.line, e.column), (Some(2), Some(20)));
}
