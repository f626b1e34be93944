//! CycloneDX 1.5 / 1.6 VEX out: each image is a `container` component holding the affected
//! library components; each finding a `vulnerabilities[]` entry whose `analysis` carries the
//! disposition (same mapping as OpenVEX, through `openvex::status_of`, in CycloneDX words).

use super::model::{FindingItem, Package, SetExport};
use super::openvex::{product_id, status_of, VexStatus};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecVersion {
    V1_5,
    V1_6,
}

impl SpecVersion {
    fn as_str(self) -> &'static str {
        match self {
            Self::V1_5 => "1.5",
            Self::V1_6 => "1.6",
        }
    }
}

/// OpenVEX/CISA justification -> CycloneDX `analysis.justification` (formats.md 7.3).
pub fn cdx_justification(openvex: &str) -> Option<&'static str> {
    match openvex {
        "component_not_present" | "vulnerable_code_not_present" => Some("code_not_present"),
        "vulnerable_code_not_in_execute_path" => Some("code_not_reachable"),
        "vulnerable_code_cannot_be_controlled_by_adversary" => Some("requires_environment"),
        "inline_mitigations_already_exist" => Some("protected_by_mitigating_control"),
        _ => None,
    }
}

fn cdx_severity(s: &str) -> &'static str {
    match s {
        "CRITICAL" => "critical",
        "HIGH" => "high",
        "MEDIUM" => "medium",
        "LOW" => "low",
        "NEGLIGIBLE" => "info",
        _ => "unknown",
    }
}

/// A version-5 style UUID URN derived from content, so the same package gets the same serial.
fn serial(seed: &[u8]) -> String {
    let h = Sha256::digest(seed);
    let mut b = [0u8; 16];
    b.copy_from_slice(&h[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let x = hex::encode(b);
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &x[..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..]
    )
}

fn component_ref(set: &SetExport, f: &FindingItem) -> String {
    format!(
        "set-{}:{}",
        set.id,
        f.purl.as_deref().unwrap_or(&f.component_key)
    )
}

fn image_component(set: &SetExport) -> Value {
    let pid = product_id(set);
    let name = set
        .repository
        .clone()
        .or_else(|| set.image.clone())
        .unwrap_or_else(|| format!("set-{}", set.id));
    let mut c = Map::new();
    c.insert("type".into(), "container".into());
    c.insert("bom-ref".into(), pid.clone().into());
    c.insert("name".into(), name.into());
    if let Some(d) = &set.digest {
        c.insert("version".into(), d.clone().into());
    }
    if pid.starts_with("pkg:") {
        c.insert("purl".into(), pid.into());
    }
    if let Some(h) = set
        .digest
        .as_deref()
        .and_then(|d| d.strip_prefix("sha256:"))
    {
        c.insert("hashes".into(), json!([{"alg": "SHA-256", "content": h}]));
    }
    // Libraries once each, keyed by their bom-ref, in a stable order.
    let mut libs: BTreeMap<String, Value> = BTreeMap::new();
    for f in &set.findings {
        libs.entry(component_ref(set, f)).or_insert_with(|| {
            let mut l = Map::new();
            l.insert("type".into(), "library".into());
            l.insert("bom-ref".into(), component_ref(set, f).into());
            l.insert("name".into(), f.name.clone().into());
            if let Some(v) = &f.version {
                l.insert("version".into(), v.clone().into());
            }
            if let Some(p) = &f.purl {
                l.insert("purl".into(), p.clone().into());
            }
            Value::Object(l)
        });
    }
    if !libs.is_empty() {
        c.insert(
            "components".into(),
            Value::Array(libs.into_values().collect()),
        );
    }
    Value::Object(c)
}

fn vulnerability(set: &SetExport, f: &FindingItem) -> Value {
    let mut analysis = Map::new();
    let mut props = vec![json!({"name": "dossier:gate", "value": f.gate})];
    match status_of(set, f) {
        VexStatus::NotAffected {
            justification,
            impact,
        } => {
            if f.disposition == "false_positive" {
                analysis.insert("state".into(), "false_positive".into());
            } else {
                analysis.insert("state".into(), "not_affected".into());
                if let Some(j) = justification.as_deref().and_then(cdx_justification) {
                    analysis.insert("justification".into(), j.into());
                }
            }
            // CycloneDX folds two CISA words into one; the exact word travels as a property
            // so a round trip through dossier restores it.
            if let Some(j) = &justification {
                props.push(
                    json!({"name": crate::analysis::vex::CDX_OPENVEX_JUSTIFICATION, "value": j}),
                );
            }
            let detail = impact.or_else(|| f.note.clone()).or(justification);
            if let Some(d) = detail {
                analysis.insert("detail".into(), d.into());
            }
        }
        VexStatus::Waived {
            waiver,
            expires,
            text,
        } => {
            analysis.insert("state".into(), "exploitable".into());
            analysis.insert("response".into(), json!(["will_not_fix"]));
            let id = waiver.clone().unwrap_or_else(|| "(unnamed waiver)".into());
            let mut d = format!("Risk accepted under waiver {id}");
            if let Some(e) = &expires {
                d.push_str(&format!(", expires {e}"));
            }
            if let Some(t) = text {
                d.push_str(&format!(": {t}"));
            }
            analysis.insert("detail".into(), d.into());
            if let Some(w) = waiver {
                props.push(json!({"name": "dossier:waiver:id", "value": w}));
            }
            if let Some(e) = expires {
                props.push(json!({"name": "dossier:waiver:expires", "value": e}));
            }
        }
        VexStatus::Fixed => {
            analysis.insert("state".into(), "resolved".into());
            analysis.insert("response".into(), json!(["update"]));
        }
        VexStatus::UnderInvestigation { note } => {
            analysis.insert("state".into(), "in_triage".into());
            if let Some(n) = note {
                analysis.insert("detail".into(), n.into());
            }
        }
    }
    let mut v = Map::new();
    v.insert("id".into(), f.vuln_id.clone().into());
    v.insert(
        "ratings".into(),
        json!([{"severity": cdx_severity(&f.severity), "method": "other"}]),
    );
    v.insert("analysis".into(), Value::Object(analysis));
    v.insert("affects".into(), json!([{"ref": component_ref(set, f)}]));
    let mut aliases: Vec<&String> = f.aliases.iter().filter(|a| **a != f.vuln_id).collect();
    aliases.sort();
    aliases.dedup();
    for a in aliases {
        props.push(json!({"name": "dossier:alias", "value": a}));
    }
    v.insert("properties".into(), Value::Array(props));
    Value::Object(v)
}

pub fn render(pkg: &Package, version: SpecVersion) -> Result<Vec<u8>, serde_json::Error> {
    let components: Vec<Value> = pkg.sets.iter().map(image_component).collect();
    let vulns: Vec<Value> = pkg
        .all_findings()
        .map(|(s, f)| vulnerability(s, f))
        .collect();
    let seed = serde_json::to_vec(&(&pkg.name, &pkg.generated_at, &vulns))?;
    let doc = json!({
        "bomFormat": "CycloneDX",
        "specVersion": version.as_str(),
        "serialNumber": serial(&seed),
        "version": 1,
        "metadata": {
            "timestamp": pkg.generated_at,
            "tools": {"components": [{"type": "application", "name": pkg.generator.name, "version": pkg.generator.version}]},
            "component": {"type": "application", "bom-ref": format!("package:{}", pkg.name), "name": pkg.name},
        },
        "components": components,
        "vulnerabilities": vulns,
    });
    let mut out = serde_json::to_vec_pretty(&doc)?;
    out.push(b'\n');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::testdata;

    fn vuln<'a>(doc: &'a Value, id: &str) -> &'a Value {
        doc["vulnerabilities"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["id"] == id)
            .unwrap()
    }

    #[test]
    fn analysis_states_follow_the_dispositions() {
        let doc: Value =
            serde_json::from_slice(&render(&testdata::package(), SpecVersion::V1_6).unwrap())
                .unwrap();
        assert_eq!(doc["specVersion"], "1.6");
        assert_eq!(doc["vulnerabilities"].as_array().unwrap().len(), 6);
        let w = vuln(&doc, "CVE-2024-0002");
        assert_eq!(w["analysis"]["state"], "exploitable");
        assert_eq!(w["analysis"]["response"], json!(["will_not_fix"]));
        let props = w["properties"].as_array().unwrap();
        assert!(props.contains(&json!({"name": "dossier:waiver:expires", "value": "2027-02-01"})));
        let na = vuln(&doc, "CVE-2024-0003");
        assert_eq!(na["analysis"]["state"], "not_affected");
        assert_eq!(na["analysis"]["justification"], "code_not_reachable");
        assert_eq!(vuln(&doc, "CVE-2024-0005")["analysis"]["state"], "resolved");
        assert_eq!(
            vuln(&doc, "CVE-2024-0001")["analysis"]["state"],
            "in_triage"
        );
        // Every affects ref resolves to a nested component's bom-ref.
        let refs: Vec<&str> = doc["components"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|c| c["components"].as_array().into_iter().flatten())
            .map(|c| c["bom-ref"].as_str().unwrap())
            .collect();
        for v in doc["vulnerabilities"].as_array().unwrap() {
            assert!(refs.contains(&v["affects"][0]["ref"].as_str().unwrap()));
        }
    }

    #[test]
    fn serial_is_a_stable_rfc4122_urn() {
        let s = serial(b"x");
        assert_eq!(s, serial(b"x"));
        assert_eq!(s.len(), "urn:uuid:".len() + 36);
        assert_eq!(&s[9 + 14..9 + 15], "5");
        assert!(matches!(&s[9 + 19..9 + 20], "8" | "9" | "a" | "b"));
    }
}
