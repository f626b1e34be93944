//! Tests of the typed, streamed VEX writers (OpenVEX and CycloneDX): counts taken from the
//! model given to them, the key order and layout a sorted-key `serde_json::Value` tree gives
//! (the bytes the writers produced before they were typed), and the content-derived ids.

use super::model::*;
use super::testdata::{self, finding};
use super::{cyclonedx_vex, openvex};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;

/// The sample package plus a third set with repeated components, aliases (one equal to the
/// id, one repeated), a finding without a purl and a set without a digest.
fn package() -> Package {
    let mut pkg = testdata::package();
    let mut c = vec![
        finding("CVE-2023-1000", "HIGH", "BLOCK", "open"),
        finding("CVE-2023-1001", "LOW", "INFO", "false_positive"),
        finding("CVE-2023-1002", "UNKNOWN", "INFO", "open"),
        finding("CVE-2023-1003", "NEGLIGIBLE", "INFO", "waived"),
    ];
    c[0].aliases = vec![
        "GHSA-x".into(),
        "CVE-2023-1000".into(),
        "GHSA-x".into(),
        "DSA-1".into(),
    ];
    c[2].purl = None;
    c[2].component_key = "npm:left-pad@1.0.0".into();
    c[3].waiver = Some("W-missing".into());
    c[1].decided_at = Some("2026-11-20T10:00:00Z".into());
    pkg.sets.push(SetExport {
        id: 7,
        image: Some("local/tool:latest".into()),
        repository: None,
        digest: None,
        findings: c,
        waivers: None,
        ..pkg.sets[1].clone()
    });
    pkg
}

/// Re-serialising the parsed output (a `Value` tree: sorted keys) gives the same bytes.
fn assert_value_layout(bytes: &[u8]) -> Value {
    let doc: Value = serde_json::from_slice(bytes).unwrap();
    let mut again = serde_json::to_vec_pretty(&doc).unwrap();
    again.push(b'\n');
    assert_eq!(
        String::from_utf8_lossy(&again),
        String::from_utf8_lossy(bytes)
    );
    doc
}

#[test]
fn openvex_has_one_statement_per_model_finding_in_package_order() {
    let pkg = package();
    let expected: Vec<&str> = pkg
        .sets
        .iter()
        .flat_map(|s| s.findings.iter().map(|f| f.vuln_id.as_str()))
        .collect();
    // 5 + 1 + 4 findings in the three sets built above.
    assert_eq!(expected.len(), 10);
    let bytes = openvex::render(&pkg).unwrap();
    let doc = assert_value_layout(&bytes);
    let st = doc["statements"].as_array().unwrap();
    let got: Vec<&str> = st
        .iter()
        .map(|s| s["vulnerability"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(got, expected);

    // The @id is the sha256 of the statements as compact JSON.
    let digest = hex::encode(Sha256::digest(
        serde_json::to_vec(&doc["statements"]).unwrap(),
    ));
    assert_eq!(doc["@id"], format!("urn:dossier:openvex:{digest}"));
    assert_eq!(doc["author"], "R. Reviewer (ISSO)");
    assert_eq!(doc["role"], "ISSO");
    assert_eq!(doc["version"], 1);

    let aliased = &st[6];
    assert_eq!(aliased["vulnerability"]["name"], "CVE-2023-1000");
    assert_eq!(
        aliased["vulnerability"]["aliases"],
        serde_json::json!(["DSA-1", "GHSA-x"])
    );
    // No digest: the product is the image reference, without purl identifiers or hashes.
    let prod = &aliased["products"][0];
    assert_eq!(prod["@id"], "local/tool:latest");
    assert!(prod.get("identifiers").is_none() && prod.get("hashes").is_none());
    assert_eq!(st[7]["status"], "not_affected");
    assert_eq!(st[7]["justification"], "component_not_present");
    assert_eq!(st[7]["timestamp"], "2026-11-20T10:00:00Z");
    let no_purl = &st[8]["products"][0]["subcomponents"][0];
    assert_eq!(no_purl["@id"], "npm:left-pad@1.0.0");
    assert!(no_purl.get("identifiers").is_none());
    assert_eq!(st[9]["status"], "affected");
    assert!(st[9]["status_notes"]
        .as_str()
        .unwrap()
        .starts_with("waiver=W-missing; expires="));
    // Statements without aliases carry no empty list.
    assert!(st[0]["vulnerability"].get("aliases").is_none());
}

#[test]
fn openvex_streamed_equals_in_memory_and_is_deterministic() {
    let pkg = package();
    let mut streamed = std::io::BufWriter::new(Vec::new());
    openvex::write(&pkg, &mut streamed).unwrap();
    let streamed = streamed.into_inner().unwrap();
    assert_eq!(streamed, openvex::render(&pkg).unwrap());
    assert!(streamed.ends_with(b"}\n"));
}

#[test]
fn cyclonedx_has_one_vulnerability_per_finding_and_each_library_once() {
    let pkg = package();
    let findings: usize = pkg.sets.iter().map(|s| s.findings.len()).sum();
    // Distinct (set, purl or key) pairs, counted from the model.
    let libs: BTreeSet<(i64, String)> = pkg
        .sets
        .iter()
        .flat_map(|s| {
            s.findings
                .iter()
                .map(|f| (s.id, f.purl.clone().unwrap_or(f.component_key.clone())))
        })
        .collect();
    let bytes = cyclonedx_vex::render(&pkg, cyclonedx_vex::SpecVersion::V1_5).unwrap();
    let doc = assert_value_layout(&bytes);
    assert_eq!(doc["specVersion"], "1.5");
    let vulns = doc["vulnerabilities"].as_array().unwrap();
    assert_eq!(vulns.len(), findings);
    let comps = doc["components"].as_array().unwrap();
    assert_eq!(comps.len(), pkg.sets.len());
    let nested: usize = comps
        .iter()
        .map(|c| c["components"].as_array().map_or(0, Vec::len))
        .sum();
    assert_eq!(nested, libs.len());

    // The serial is derived from (name, time, vulnerabilities) as compact JSON.
    let seed =
        serde_json::to_vec(&(&pkg.name, &pkg.generated_at, &doc["vulnerabilities"])).unwrap();
    let h = hex::encode(&Sha256::digest(seed)[..16]);
    let serial = doc["serialNumber"].as_str().unwrap();
    assert_eq!(&serial[9..17], &h[..8]);
    assert_eq!(&serial[9 + 24..], &h[20..]);

    let no_digest = &comps[2];
    assert_eq!(no_digest["name"], "local/tool:latest");
    assert!(no_digest.get("version").is_none() && no_digest.get("hashes").is_none());
    let fp = &vulns[7];
    assert_eq!(fp["analysis"]["state"], "false_positive");
    assert!(fp["analysis"].get("justification").is_none());
    assert_eq!(fp["ratings"][0]["severity"], "low");
    let aliases: Vec<&str> = vulns[6]["properties"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["name"] == "dossier:alias")
        .map(|p| p["value"].as_str().unwrap())
        .collect();
    assert_eq!(aliases, ["DSA-1", "GHSA-x"]);
    assert_eq!(vulns[8]["affects"][0]["ref"], "set-7:npm:left-pad@1.0.0");
    assert_eq!(vulns[8]["ratings"][0]["severity"], "unknown");
}

#[test]
fn an_empty_package_still_writes_both_documents() {
    let mut pkg = package();
    pkg.sets.clear();
    let ovx = assert_value_layout(&openvex::render(&pkg).unwrap());
    assert_eq!(ovx["statements"], serde_json::json!([]));
    let cdx = assert_value_layout(
        &cyclonedx_vex::render(&pkg, cyclonedx_vex::SpecVersion::V1_6).unwrap(),
    );
    assert_eq!(cdx["vulnerabilities"], serde_json::json!([]));
    assert_eq!(cdx["components"], serde_json::json!([]));
}
