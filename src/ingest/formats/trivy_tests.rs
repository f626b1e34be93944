//! Unit tests for the Trivy parser over small reports written here, one per shape.

use super::*;

const V2_WITH_PACKAGES: &str = r#"{
  "SchemaVersion": 2,
  "Trivy": {"Version": "0.69.1"},
  "CreatedAt": "2026-02-24T10:00:00.123456789Z",
  "ArtifactName": "reg.example/app:1.0",
  "ArtifactType": "container_image",
  "Metadata": {
    "RepoTags": ["reg.example/app:1.0"],
    "RepoDigests": ["reg.example/app@sha256:52c1fa53b306f09e32761cfbffae79ceedad6482dec55cdd472de220f41c145b"],
    "ImageConfig": {"architecture": "amd64", "config": {"User": "1001"}}
  },
  "Results": [
    {"Target": "x (debian 11)", "Class": "os-pkgs", "Type": "debian",
     "Packages": [
       {"Name": "busybox", "Identifier": {"PURL": "pkg:deb/debian/busybox@1:1.30.1-6?arch=amd64"}, "Version": "1.30.1", "Release": "6", "Epoch": 1},
       {"Name": "netbase", "Identifier": {"PURL": "pkg:deb/debian/netbase@6.3"}, "Version": "6.3", "Licenses": ["GPL-2.0"]}
     ],
     "Vulnerabilities": [
       {"VulnerabilityID": "CVE-2022-28391", "PkgName": "busybox",
        "PkgIdentifier": {"PURL": "pkg:deb/debian/busybox@1:1.30.1-6?arch=amd64"},
        "InstalledVersion": "1:1.30.1-6", "FixedVersion": "1.30.2, 1.31.0", "Status": "fixed",
        "SeveritySource": "nvd", "PrimaryURL": "https://avd.aquasec.com/nvd/cve-2022-28391",
        "DataSource": {"ID": "debian", "Name": "Debian Security Tracker"},
        "Title": "busybox: remote code execution", "Description": "desc",
        "Severity": "HIGH", "VendorSeverity": {"nvd": 3, "debian": 1},
        "CVSS": {"nvd": {"V2Vector": "AV:N/AC:M/Au:N/C:P/I:P/A:P", "V2Score": 6.8,
                         "V3Vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", "V3Score": 8.8},
                 "ghsa": {"V40Vector": "CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:L/VI:L/VA:N/SC:N/SI:N/SA:N", "V40Score": 6.3}},
        "References": ["https://example.org/a", "https://avd.aquasec.com/nvd/cve-2022-28391"],
        "PublishedDate": "2022-04-03T21:15:00Z"}
     ]},
    {"Target": "app/package-lock.json", "Class": "lang-pkgs", "Type": "npm",
     "Vulnerabilities": [
       {"VulnerabilityID": "GHSA-xxxx-yyyy-zzzz", "PkgName": "lodash", "PkgPath": "app/node_modules/lodash/package.json",
        "InstalledVersion": "4.17.0", "Status": "will_not_fix", "Severity": "CRITICAL"}
     ]}
  ]
}"#;

#[test]
fn schema2_with_packages_maps_every_field() {
    let d = parse(V2_WITH_PACKAGES.as_bytes()).unwrap();
    assert_eq!(d.kind, DocKind::Scan);
    // busybox (once: the package and the vulnerability share a purl key), netbase, lodash.
    assert_eq!(d.components.len(), 3);
    assert_eq!(
        d.image_digests,
        vec!["sha256:52c1fa53b306f09e32761cfbffae79ceedad6482dec55cdd472de220f41c145b"]
    );
    assert_eq!(d.image_user.as_deref(), Some("1001"));
    let s = d.scan.as_ref().unwrap();
    assert_eq!(s.scanner_version.as_deref(), Some("0.69.1"));
    assert_eq!(
        s.scanned_at.as_deref(),
        Some("2026-02-24T10:00:00.123456789Z")
    );
    assert_eq!(
        s.db_built, None,
        "standalone reports carry no DB date; never invent one"
    );
    assert!(d.warnings.iter().any(|w| w.contains("DB age unknown")));
    assert_eq!(
        d.subject.as_ref().unwrap().reference.as_deref(),
        Some("reg.example/app:1.0")
    );

    assert_eq!(d.findings.len(), 2);
    let f = &d.findings[0];
    assert_eq!(f.vuln_id, "CVE-2022-28391");
    assert_eq!(d.components[f.component].name, "busybox");
    assert_eq!(
        d.components[f.component].version.as_deref(),
        Some("1:1.30.1-6")
    );
    let v = &f.view;
    assert_eq!(v.severity, Severity::High);
    assert_eq!(v.severity_source.as_deref(), Some("nvd"));
    assert_eq!(v.fixed_versions, vec!["1.30.2", "1.31.0"]);
    assert_eq!(v.fix_state, "fixed");
    assert_eq!(v.status.as_deref(), Some("fixed"));
    assert_eq!(v.data_source.as_deref(), Some("debian"));
    assert_eq!(v.title.as_deref(), Some("busybox: remote code execution"));
    assert_eq!(v.published.as_deref(), Some("2022-04-03T21:15:00Z"));
    // PrimaryURL first, duplicates dropped.
    assert_eq!(
        v.urls,
        vec![
            "https://avd.aquasec.com/nvd/cve-2022-28391",
            "https://example.org/a"
        ]
    );
    assert_eq!(v.cvss.len(), 3);
    let v4 = v
        .cvss
        .iter()
        .find(|c| c.version == CvssVersion::V4)
        .unwrap();
    assert_eq!((v4.source.as_str(), v4.base_score), ("ghsa", Some(6.3)));
    let v3 = v
        .cvss
        .iter()
        .find(|c| c.version == CvssVersion::V3_1)
        .unwrap();
    assert_eq!((v3.source.as_str(), v3.base_score), ("nvd", Some(8.8)));
    let v2 = v
        .cvss
        .iter()
        .find(|c| c.version == CvssVersion::V2)
        .unwrap();
    assert_eq!(v2.vector.as_deref(), Some("AV:N/AC:M/Au:N/C:P/I:P/A:P"));
    let md: serde_json::Value = serde_json::from_str(v.match_details.as_deref().unwrap()).unwrap();
    assert_eq!(md["vendor_severity"]["debian"]["level"], 1);
    assert_eq!(md["vendor_severity"]["debian"]["severity"], "LOW");

    let g = &d.findings[1];
    let c = &d.components[g.component];
    assert_eq!(c.purl, None);
    assert_eq!(c.key().0, "nopurl:npm/lodash@4.17.0");
    assert_eq!(c.locations, vec!["app/node_modules/lodash/package.json"]);
    assert_eq!(g.view.fix_state, "wont-fix");
    assert!(g.view.fixed_versions.is_empty());
}

#[test]
fn legacy_bare_array_form() {
    let t = r#"[{"Target": "debian (debian 10.8)", "Type": "debian", "Vulnerabilities": [
        {"VulnerabilityID": "CVE-2011-3374", "PkgName": "apt", "InstalledVersion": "1.8.2.3", "Severity": "LOW"},
        {"VulnerabilityID": "CVE-2019-18276", "PkgName": "bash", "InstalledVersion": "5.0-4", "FixedVersion": "5.0-5", "Severity": "HIGH"}
    ]}]"#;
    let d = parse(t.as_bytes()).unwrap();
    assert_eq!(d.components.len(), 2);
    assert_eq!(d.findings.len(), 2);
    assert_eq!(d.components[0].key().0, "nopurl:debian/apt@1.8.2.3");
    // No Status in old reports: a FixedVersion means fixed, none means unknown.
    assert_eq!(d.findings[0].view.fix_state, "unknown");
    assert_eq!(d.findings[1].view.fix_state, "fixed");
    assert!(d.subject.is_none());
    assert!(d.image_digests.is_empty());
}

#[test]
fn the_three_no_findings_shapes() {
    for t in [
        r#"{"SchemaVersion": 2, "ArtifactName": "x", "Metadata": {"OS": {"Family": "none"}}}"#,
        r#"{"SchemaVersion": 2, "ArtifactName": "x", "Results": [{"Target": "x", "Class": "os-pkgs", "Type": "alpine"}]}"#,
        r#"{"SchemaVersion": 2, "ArtifactName": "x", "Results": [{"Target": "x", "Type": "alpine", "Vulnerabilities": null}]}"#,
    ] {
        let d = parse(t.as_bytes()).unwrap_or_else(|e| panic!("{t}: {e}"));
        assert!(d.findings.is_empty() && d.components.is_empty(), "{t}");
        assert_eq!(d.subject.as_ref().unwrap().name.as_deref(), Some("x"));
    }
}

#[test]
fn statuses_map_to_fix_states_and_vendor_int_backs_a_missing_severity() {
    let mk = |status: &str| {
        format!(
            r#"{{"SchemaVersion":2,"Results":[{{"Type":"debian","Vulnerabilities":[{{"VulnerabilityID":"CVE-1","PkgName":"a","InstalledVersion":"1","Status":"{status}","SeveritySource":"debian","VendorSeverity":{{"debian":4}}}}]}}]}}"#
        )
    };
    let expect = [
        ("fixed", "fixed"),
        ("affected", "not-fixed"),
        ("fix_deferred", "not-fixed"),
        ("will_not_fix", "wont-fix"),
        ("end_of_life", "wont-fix"),
        ("not_affected", "not-affected"),
        ("under_investigation", "under-investigation"),
        ("unknown", "unknown"),
    ];
    for (status, state) in expect {
        let d = parse(mk(status).as_bytes()).unwrap();
        let v = &d.findings[0].view;
        assert_eq!(v.fix_state, state, "{status}");
        assert_eq!(v.status.as_deref(), Some(status));
        assert_eq!(
            v.severity,
            Severity::Critical,
            "VendorSeverity 4 of the SeveritySource"
        );
    }
}

#[test]
fn suppressed_findings_are_kept_with_the_reason() {
    let t = r#"{"SchemaVersion":2,"Results":[{"Type":"npm","ExperimentalModifiedFindings":[
        {"Type":"vulnerability","Status":"not_affected","Statement":"not reachable","Source":"openvex.json",
         "Finding":{"VulnerabilityID":"CVE-2024-1","PkgName":"a","InstalledVersion":"1","Severity":"LOW"}}]}]}"#;
    let d = parse(t.as_bytes()).unwrap();
    assert_eq!(d.findings.len(), 1);
    let why: serde_json::Value =
        serde_json::from_str(d.findings[0].view.ignored_by.as_deref().unwrap()).unwrap();
    assert_eq!(why["status"], "not_affected");
    assert_eq!(why["source"], "openvex.json");
}

#[test]
fn duplicate_package_rows_are_one_component_with_both_locations() {
    let t = r#"{"SchemaVersion":2,"Results":[{"Type":"jar","Packages":[
        {"Name":"g:a","Identifier":{"PURL":"pkg:maven/g/a@1"},"Version":"1","FilePath":"x.jar"},
        {"Name":"g:a","Identifier":{"PURL":"pkg:maven/g/a@1"},"Version":"1","FilePath":"y.jar"}]}]}"#;
    let d = parse(t.as_bytes()).unwrap();
    assert_eq!(d.components.len(), 1);
    assert_eq!(d.components[0].locations, vec!["x.jar", "y.jar"]);
    assert_eq!(d.components[0].kind, "maven");
}

#[test]
fn malformed_json_names_line_and_column() {
    let t = "{\n  \"SchemaVersion\": 2,\n  \"Results\": [ {\"Target\": \"x\" ,, } ]\n}";
    let e = parse(t.as_bytes()).unwrap_err();
    assert_eq!(e.line, Some(3));
    assert_eq!(e.column, Some(32), "the second comma");
    assert!(e.to_string().starts_with("line 3, column 32: "), "{e}");
    let e = parse(b"\"just a string\"").unwrap_err();
    assert_eq!(e.line, Some(1));
}

#[test]
fn a_digest_pinned_artifact_name_names_the_image_without_repo_digests() {
    let t = r#"{"SchemaVersion":2,"ArtifactName":"reg/app@sha256:52C1FA53B306F09E32761CFBFFAE79CEEDAD6482DEC55CDD472DE220F41C145B"}"#;
    let d = parse(t.as_bytes()).unwrap();
    assert_eq!(
        d.image_digests,
        vec!["sha256:52c1fa53b306f09e32761cfbffae79ceedad6482dec55cdd472de220f41c145b"]
    );
    let tag_only = parse(br#"{"SchemaVersion":2,"ArtifactName":"reg/app:1.0"}"#).unwrap();
    assert!(tag_only.image_digests.is_empty());
}

#[test]
fn secrets_and_misconfigurations_are_reported_not_silently_dropped() {
    let t = r#"{"SchemaVersion":2,"Results":[
        {"Target":"/app/.env","Class":"secret","Secrets":[{"RuleID":"aws-access-key-id"},{"RuleID":"github-pat"}]},
        {"Target":"Dockerfile","Class":"config","Misconfigurations":[{"ID":"DS002"}]}]}"#;
    let d = parse(t.as_bytes()).unwrap();
    assert!(d.findings.is_empty());
    assert!(
        d.warnings
            .iter()
            .any(|w| w.starts_with("2 secret and 1 misconfiguration finding(s)")),
        "{:?}",
        d.warnings
    );
}

/// The hand-written `match_details` of a Trivy finding is the text the `json!` tree gave.
#[test]
fn vendor_details_are_written_as_serde_json_writes_them() {
    let reference = |vendor: &[(Str, i64)], ids: &[Str]| {
        let sev: std::collections::BTreeMap<&str, serde_json::Value> = vendor
            .iter()
            .map(|(k, n)| {
                (
                    &**k,
                    serde_json::json!({"level": n, "severity": Severity::from_trivy_int(*n).as_str()}),
                )
            })
            .collect();
        let ids: Vec<&str> = ids.iter().map(|s| &**s).collect();
        serde_json::json!({"vendor_severity": sev, "vendor_ids": ids}).to_string()
    };
    let c = |s: &'static str| Str(std::borrow::Cow::Borrowed(s));
    type Case = (Vec<(Str<'static>, i64)>, Vec<Str<'static>>);
    let cases: Vec<Case> = vec![
        (vec![], vec![]),
        (vec![(c("nvd"), 3), (c("redhat"), 2)], vec![]),
        (vec![], vec![c("DSA-1"), c("quote \" back \\ nl \n")]),
        (
            vec![
                (c(""), 0),
                (c("\u{1}ctl"), -1),
                (c("ghsa"), 5),
                (c("max"), i64::MAX),
                (c("min"), i64::MIN),
                (c("ünï"), 4),
            ],
            vec![c("\u{202e}x"), c("")],
        ),
    ];
    for (vendor, ids) in cases {
        assert_eq!(vendor_details(&vendor, &ids), reference(&vendor, &ids));
    }
}
