//! Unit tests for the CycloneDX JSON reader, over small documents written for them.

use super::parse;
use crate::model::{CvssVersion, DocKind, Severity};

const HEX: &str = "52c1fa53b306f09e32761cfbffae79ceedad6482dec55cdd472de220f41c145b";

fn nested_doc() -> String {
    format!(
        r#"{{
  "bomFormat": "CycloneDX", "specVersion": "1.4",
  "metadata": {{
    "timestamp": "2024-01-01T00:00:00Z",
    "tools": [{{"vendor": "anchore", "name": "syft", "version": "0.73.0"}}],
    "component": {{"bom-ref": "img", "type": "container", "name": "reg/app", "version": "sha256:{HEX}"}}
  }},
  "components": [
    {{"bom-ref": "a", "type": "library", "name": "a", "version": "1", "purl": "pkg:npm/a@1",
      "licenses": [{{"license": {{"id": "MIT"}}}}, {{"expression": "Apache-2.0 OR MIT"}}],
      "cpe": "cpe:2.3:a:a:a:1:*:*:*:*:*:*:*",
      "properties": [{{"name": "syft:location:0:path", "value": "/app/node_modules/a/package.json"}},
                     {{"name": "syft:location:0:layerID", "value": "sha256:{HEX}"}}],
      "components": [
        {{"bom-ref": "b", "type": "library", "name": "b", "version": "2", "purl": "pkg:npm/b@2",
          "components": [{{"bom-ref": "c", "type": "library", "name": "c", "version": "3"}}]}}
      ]}},
    {{"bom-ref": "f", "type": "file", "name": "/etc/passwd"}},
    {{"bom-ref": "os", "type": "operating-system", "name": "debian", "version": 11}}
  ],
  "dependencies": [{{"ref": "img", "dependsOn": ["a"]}}, {{"ref": "a", "dependsOn": ["b", "c"]}}, {{"ref": "c"}}]
}}"#
    )
}

#[test]
fn nested_components_count_files_and_subject_do_not() {
    let d = parse(nested_doc().as_bytes()).unwrap();
    assert_eq!(d.kind, DocKind::Sbom);
    let names: Vec<&str> = d.components.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["a", "b", "c", "debian"]);
    let s = d.subject.as_ref().unwrap();
    assert_eq!(s.refs, vec!["img".to_string()]);
    assert_eq!(s.name.as_deref(), Some("reg/app"));
    assert_eq!(
        s.reference.as_deref(),
        Some(format!("reg/app@sha256:{HEX}").as_str())
    );
    assert_eq!(d.image_digests, vec![format!("sha256:{HEX}")]);
    let a = &d.components[0];
    assert_eq!(a.kind, "npm");
    assert_eq!(
        a.licenses,
        vec!["MIT".to_string(), "Apache-2.0 OR MIT".to_string()]
    );
    assert_eq!(
        a.locations,
        vec!["/app/node_modules/a/package.json".to_string()]
    );
    assert_eq!(a.cpes.len(), 1);
    assert_eq!(d.components[2].kind, "library");
    // A number where a string belongs is read as text, not rejected.
    assert_eq!(d.components[3].version.as_deref(), Some("11"));
    assert_eq!(
        d.dependencies,
        vec![
            ("img".into(), "a".into()),
            ("a".into(), "b".into()),
            ("a".into(), "c".into())
        ]
    );
}

#[test]
fn nesting_beyond_the_limit_is_a_clear_error() {
    let mut s = String::new();
    for _ in 0..70 {
        s.push_str(r#"{"type":"library","name":"x","components":["#);
    }
    for _ in 0..70 {
        s.push_str("]}");
    }
    let doc = format!(r#"{{"bomFormat":"CycloneDX","specVersion":"1.4","components":[{s}]}}"#);
    let e = parse(doc.as_bytes()).unwrap_err();
    // serde_json's own recursion limit (128) or ours (64 components) — both are clean errors.
    assert!(
        e.message.contains("recursion limit") || e.message.contains("nested deeper"),
        "{e}"
    );
}

fn vuln_doc(tools: &str) -> String {
    format!(
        r#"{{"bomFormat":"CycloneDX","specVersion":"1.6",
  "metadata":{{"tools":{tools},"component":{{"bom-ref":"pkg:oci/app@sha256%3A{HEX}","type":"container","name":"reg/app:1.0",
    "purl":"pkg:oci/app@sha256%3A{HEX}","properties":[{{"name":"aquasecurity:trivy:RepoDigest","value":"reg/app@sha256:{HEX}"}}]}}}},
  "components":[{{"bom-ref":"x","type":"library","name":"x","version":"1","purl":"pkg:deb/debian/x@1?arch=amd64"}}],
  "vulnerabilities":[
    {{"id":"CVE-2024-1","source":{{"name":"debian"}},"references":[{{"id":"GHSA-aaaa"}},{{"id":"CVE-2024-1"}}],
      "ratings":[{{"source":{{"name":"nvd"}},"score":9.8,"severity":"critical","method":"CVSSv31","vector":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}},
                 {{"source":{{"name":"redhat"}},"score":"5.5","severity":"medium","method":"CVSSv3","vector":"CVSS:3.0/AV:L/AC:L/PR:L/UI:N/S:U/C:N/I:N/A:H"}},
                 {{"source":{{"name":"FIRST"}},"score":0.03,"method":"other"}}],
      "description":"bad","recommendation":"Upgrade x to version 1.1","published":"2024-01-01",
      "affects":[{{"ref":"x"}},{{"ref":"missing"}}]}},
    {{"id":"CVE-2024-2","analysis":{{"state":"not_affected"}},"affects":[{{"ref":"x"}}]}}
  ]}}"#
    )
}

#[test]
fn vulnerabilities_become_findings_with_the_named_scanner() {
    for tools in [
        r#"[{"vendor":"aquasecurity","name":"trivy","version":"0.50.0"}]"#,
        r#"{"components":[{"type":"application","group":"aquasecurity","name":"trivy","version":"0.50.0"}]}"#,
    ] {
        let d = parse(vuln_doc(tools).as_bytes()).unwrap();
        assert_eq!(d.kind, DocKind::SbomWithScan, "{tools}");
        // The `analysis` (VEX) entry is not a finding; the unknown ref is a warning.
        assert_eq!(d.findings.len(), 1);
        assert_eq!(d.warnings.len(), 1, "{:?}", d.warnings);
        assert!(d.warnings[0].contains("missing"));
        let f = &d.findings[0];
        assert_eq!(f.vuln_id, "CVE-2024-1");
        assert_eq!(f.aliases, vec!["GHSA-aaaa".to_string()]);
        assert_eq!(f.component, 0);
        assert_eq!(f.view.scanner, "trivy");
        assert_eq!(f.view.scanner_version.as_deref(), Some("0.50.0"));
        assert_eq!(f.view.severity, Severity::Critical);
        assert_eq!(f.view.severity_source.as_deref(), Some("nvd"));
        assert_eq!(f.view.cvss.len(), 2);
        assert_eq!(f.view.cvss[0].version, CvssVersion::V3_1);
        assert_eq!(f.view.cvss[1].version, CvssVersion::V3_0);
        assert_eq!(f.view.cvss[1].base_score, Some(5.5));
        assert_eq!(f.view.fixed_versions, vec!["1.1".to_string()]);
        assert_eq!(f.view.fix_state, "fixed");
        assert_eq!(f.view.epss.as_ref().map(|e| e.score), Some(0.03));
        assert_eq!(d.image_digests, vec![format!("sha256:{HEX}")]);
        assert_eq!(d.scan.as_ref().map(|s| s.scanner.as_str()), Some("trivy"));
        assert_eq!(
            d.subject.as_ref().unwrap().reference.as_deref(),
            Some("reg/app:1.0")
        );
    }
}

#[test]
fn without_tools_the_scanner_is_cyclonedx() {
    let doc = vuln_doc("null");
    let d = parse(doc.as_bytes()).unwrap();
    assert_eq!(d.findings[0].view.scanner, "cyclonedx");
}

#[test]
fn vex_only_document_yields_no_findings() {
    let doc = r#"{"bomFormat":"CycloneDX","specVersion":"1.5",
      "vulnerabilities":[{"id":"CVE-1","analysis":{"state":"not_affected"},"affects":[{"ref":"urn:cdx:x/1#y"}]}]}"#;
    let d = parse(doc.as_bytes()).unwrap();
    assert!(d.findings.is_empty());
    assert!(d.warnings.is_empty());
    assert_eq!(d.kind, DocKind::Other);
}

#[test]
fn repeated_image_component_is_the_subject() {
    let doc = format!(
        r#"{{"bomFormat":"CycloneDX","specVersion":"1.4",
      "metadata":{{"component":{{"type":"container","name":"m","purl":"pkg:oci/m@sha256%3A{HEX}?arch=amd64"}}}},
      "components":[{{"type":"container","bom-ref":"root","name":"m","purl":"pkg:oci/m@sha256%3A{HEX}?tag=1",
        "components":[{{"type":"library","bom-ref":"l","name":"l","version":"1","purl":"pkg:rpm/redhat/l@1"}}]}}],
      "dependencies":[{{"ref":"root","dependsOn":["l"]}}]}}"#
    );
    let d = parse(doc.as_bytes()).unwrap();
    assert_eq!(d.components.len(), 1);
    assert_eq!(d.components[0].name, "l");
    assert_eq!(d.subject.as_ref().unwrap().refs, vec!["root".to_string()]);
    assert_eq!(d.image_digests, vec![format!("sha256:{HEX}")]);
}

#[test]
fn malformed_json_reports_line_and_column() {
    let e = parse(b"{\"bomFormat\":\"CycloneDX\",\n\"components\": [ {\"name\": } ]}").unwrap_err();
    assert_eq!(e.line, Some(2));
    assert!(e.column.is_some());
}
