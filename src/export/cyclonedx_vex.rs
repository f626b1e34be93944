//! CycloneDX 1.5 / 1.6 VEX out: each image is a `container` component holding the affected
//! library components; each finding a `vulnerabilities[]` entry whose `analysis` carries the
//! disposition (same mapping as OpenVEX, through `openvex::status_of`, in CycloneDX words).

use super::model::{FindingItem, Package, SetExport};
use super::openvex::{compact_sha256, other_aliases, product_id, status_of, VexStatus};
use serde::Serialize;
#[cfg(test)]
use sha2::{Digest, Sha256};
use std::borrow::Cow;
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
#[cfg(test)]
fn serial(seed: &[u8]) -> String {
    serial_from_digest(&Sha256::digest(seed))
}

/// `serial` from the seed's SHA-256 (the seed is hashed as it is serialised, never held).
fn serial_from_digest(h: &[u8]) -> String {
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

// Field order in every struct below is the byte order of the JSON keys: the writer used to
// build `serde_json::Value` maps (sorted keys), and the output must stay byte-identical.
#[derive(Serialize)]
struct Hash<'a> {
    alg: &'static str,
    content: &'a str,
}

#[derive(Serialize)]
struct Library<'a> {
    #[serde(rename = "bom-ref")]
    bom_ref: String,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    purl: Option<&'a str>,
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<&'a str>,
}

#[derive(Serialize)]
struct ImageComponent<'a> {
    #[serde(rename = "bom-ref")]
    bom_ref: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    components: Vec<Library<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hashes: Option<[Hash<'a>; 1]>,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    purl: Option<String>,
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<&'a str>,
}

#[derive(Serialize)]
struct Property<'a> {
    name: &'static str,
    value: Cow<'a, str>,
}

#[derive(Serialize)]
struct Rating {
    method: &'static str,
    severity: &'static str,
}

#[derive(Serialize)]
struct Affects {
    #[serde(rename = "ref")]
    reference: String,
}

#[derive(Serialize, Default)]
struct Analysis {
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    justification: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    response: Option<[&'static str; 1]>,
    state: &'static str,
}

#[derive(Serialize)]
struct Vulnerability<'a> {
    affects: [Affects; 1],
    analysis: Analysis,
    id: &'a str,
    properties: Vec<Property<'a>>,
    ratings: [Rating; 1],
}

#[derive(Serialize)]
struct Tool<'a> {
    name: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    version: &'a str,
}

#[derive(Serialize)]
struct Tools<'a> {
    components: [Tool<'a>; 1],
}

#[derive(Serialize)]
struct MetaComponent<'a> {
    #[serde(rename = "bom-ref")]
    bom_ref: String,
    name: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Serialize)]
struct Metadata<'a> {
    component: MetaComponent<'a>,
    timestamp: &'a str,
    tools: Tools<'a>,
}

#[derive(Serialize)]
struct Bom<'a> {
    #[serde(rename = "bomFormat")]
    bom_format: &'static str,
    components: Vec<ImageComponent<'a>>,
    metadata: Metadata<'a>,
    #[serde(rename = "serialNumber")]
    serial_number: String,
    #[serde(rename = "specVersion")]
    spec_version: &'static str,
    version: u32,
    vulnerabilities: &'a [Vulnerability<'a>],
}

fn image_component(set: &SetExport) -> ImageComponent<'_> {
    let pid = product_id(set);
    // Libraries once each, keyed by their bom-ref, in a stable order.
    let mut libs: BTreeMap<String, Library> = BTreeMap::new();
    for f in &set.findings {
        let r = component_ref(set, f);
        if !libs.contains_key(&r) {
            libs.insert(
                r.clone(),
                Library {
                    bom_ref: r,
                    name: &f.name,
                    purl: f.purl.as_deref(),
                    kind: "library",
                    version: f.version.as_deref(),
                },
            );
        }
    }
    ImageComponent {
        components: libs.into_values().collect(),
        hashes: set
            .digest
            .as_deref()
            .and_then(|d| d.strip_prefix("sha256:"))
            .map(|h| {
                [Hash {
                    alg: "SHA-256",
                    content: h,
                }]
            }),
        name: set
            .repository
            .clone()
            .or_else(|| set.image.clone())
            .unwrap_or_else(|| format!("set-{}", set.id)),
        purl: pid.starts_with("pkg:").then(|| pid.clone()),
        bom_ref: pid,
        kind: "container",
        version: set.digest.as_deref(),
    }
}

fn owned(name: &'static str, value: String) -> Property<'static> {
    Property {
        name,
        value: Cow::Owned(value),
    }
}

fn vulnerability<'a>(set: &'a SetExport, f: &'a FindingItem) -> Vulnerability<'a> {
    let mut analysis = Analysis::default();
    let mut props = vec![Property {
        name: "dossier:gate",
        value: Cow::Borrowed(&f.gate),
    }];
    match status_of(set, f) {
        VexStatus::NotAffected {
            justification,
            impact,
        } => {
            if f.disposition == "false_positive" {
                analysis.state = "false_positive";
            } else {
                analysis.state = "not_affected";
                analysis.justification = justification.as_deref().and_then(cdx_justification);
            }
            // CycloneDX folds two CISA words into one; the exact word travels as a property
            // so a round trip through dossier restores it.
            if let Some(j) = &justification {
                props.push(owned(
                    crate::analysis::vex::CDX_OPENVEX_JUSTIFICATION,
                    j.clone(),
                ));
            }
            analysis.detail = impact.or_else(|| f.note.clone()).or(justification);
        }
        VexStatus::Waived {
            waiver,
            expires,
            text,
        } => {
            analysis.state = "exploitable";
            analysis.response = Some(["will_not_fix"]);
            let id = waiver.as_deref().unwrap_or("(unnamed waiver)");
            let mut d = format!("Risk accepted under waiver {id}");
            if let Some(e) = &expires {
                d.push_str(", expires ");
                d.push_str(e);
            }
            if let Some(t) = text {
                d.push_str(": ");
                d.push_str(&t);
            }
            analysis.detail = Some(d);
            if let Some(w) = waiver {
                props.push(owned("dossier:waiver:id", w));
            }
            if let Some(e) = expires {
                props.push(owned("dossier:waiver:expires", e));
            }
        }
        VexStatus::Fixed => {
            analysis.state = "resolved";
            analysis.response = Some(["update"]);
        }
        VexStatus::UnderInvestigation { note } => {
            analysis.state = "in_triage";
            analysis.detail = note;
        }
    }
    for a in other_aliases(f) {
        props.push(Property {
            name: "dossier:alias",
            value: Cow::Borrowed(a),
        });
    }
    Vulnerability {
        affects: [Affects {
            reference: component_ref(set, f),
        }],
        analysis,
        id: &f.vuln_id,
        properties: props,
        ratings: [Rating {
            method: "other",
            severity: cdx_severity(&f.severity),
        }],
    }
}

/// Writes the CycloneDX VEX document as pretty JSON with a trailing newline. `out` should be
/// buffered.
pub fn write(
    pkg: &Package,
    version: SpecVersion,
    out: &mut dyn std::io::Write,
) -> Result<(), serde_json::Error> {
    let vulns: Vec<Vulnerability> = pkg
        .all_findings()
        .map(|(s, f)| vulnerability(s, f))
        .collect();
    let seed = compact_sha256(&(&pkg.name, &pkg.generated_at, &vulns))?;
    let bom = Bom {
        bom_format: "CycloneDX",
        components: pkg.sets.iter().map(image_component).collect(),
        metadata: Metadata {
            component: MetaComponent {
                bom_ref: format!("package:{}", pkg.name),
                name: &pkg.name,
                kind: "application",
            },
            timestamp: &pkg.generated_at,
            tools: Tools {
                components: [Tool {
                    name: &pkg.generator.name,
                    kind: "application",
                    version: &pkg.generator.version,
                }],
            },
        },
        serial_number: serial_from_digest(&seed),
        spec_version: version.as_str(),
        version: 1,
        vulnerabilities: &vulns,
    };
    serde_json::to_writer_pretty(&mut *out, &bom)?;
    out.write_all(b"\n").map_err(serde_json::Error::io)
}

/// `write` into memory.
pub fn render(pkg: &Package, version: SpecVersion) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = Vec::new();
    write(pkg, version, &mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::testdata;
    use serde_json::{json, Value};

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
