//! OpenVEX 0.2.0 out, from the reviewer's dispositions. `not_affected` only with a justification
//! (or an impact statement), never for a waiver: a waiver is `affected` with a `will not fix`
//! action and its expiry; `patched` is `fixed`; undecided findings are `under_investigation`.

use super::model::{FindingItem, Package, SetExport};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

pub const CONTEXT: &str = "https://openvex.dev/ns/v0.2.0";

/// OpenVEX / CISA justification words.
pub const JUSTIFICATIONS: [&str; 5] = [
    "component_not_present",
    "vulnerable_code_not_present",
    "vulnerable_code_not_in_execute_path",
    "vulnerable_code_cannot_be_controlled_by_adversary",
    "inline_mitigations_already_exist",
];

/// `pkg:oci/<name>@sha256%3A<hex>?repository_url=<repository>`: the image as a product.
pub fn image_purl(set: &SetExport) -> Option<String> {
    let digest = set.digest.as_deref()?;
    let repo = set.repository.clone().or_else(|| {
        set.image
            .as_deref()
            .map(|i| i.split('@').next().unwrap_or(i).to_string())
    });
    let name = repo
        .as_deref()
        .and_then(|r| r.rsplit('/').next())
        .map(|n| n.split(':').next().unwrap_or(n).to_ascii_lowercase())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "image".into());
    let mut p = format!("pkg:oci/{}@{}", pct(&name), digest.replacen(':', "%3A", 1));
    if let Some(r) = repo.filter(|r| r.contains('/')) {
        p.push_str(&format!("?repository_url={}", pct(&r.to_ascii_lowercase())));
    }
    Some(p)
}

/// Percent-encodes what a purl segment or qualifier value may not hold raw; `/` and `:`
/// stay, as purl tooling writes repository URLs.
fn pct(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' | b':' => {
                o.push(b as char)
            }
            _ => o.push_str(&format!("%{b:02X}")),
        }
    }
    o
}

/// The product of a set: its image purl, else its reference, else `set-<id>`.
pub fn product_id(set: &SetExport) -> String {
    image_purl(set)
        .or_else(|| set.image.clone())
        .unwrap_or_else(|| format!("set-{}", set.id))
}

/// What one finding becomes in VEX terms; shared with the CycloneDX writer.
#[derive(Debug, Clone, PartialEq)]
pub enum VexStatus {
    NotAffected {
        justification: Option<String>,
        impact: Option<String>,
    },
    /// Waived: exploitable, will not fix until the waiver expires.
    Waived {
        waiver: Option<String>,
        expires: Option<String>,
        text: Option<String>,
    },
    Fixed,
    UnderInvestigation {
        note: Option<String>,
    },
}

/// Maps a disposition. `not_affected` without any justification or note cannot be asserted
/// and stays `under_investigation`, saying why.
pub fn status_of(set: &SetExport, f: &FindingItem) -> VexStatus {
    let just = f.justification.clone().filter(|j| !j.trim().is_empty());
    let note = f.note.clone().filter(|n| !n.trim().is_empty());
    match f.disposition.as_str() {
        "not_affected" | "false_positive" => {
            let j = just
                .as_deref()
                .filter(|j| JUSTIFICATIONS.contains(j))
                .map(str::to_string);
            let impact = match (&j, &just, &note) {
                (Some(_), _, _) => None,
                (None, Some(free), Some(n)) => Some(format!("{free}: {n}")),
                (None, Some(free), None) => Some(free.clone()),
                (None, None, n) => n.clone(),
            };
            // A false positive is CISA's component_not_present (formats.md 7.3): the
            // reviewer's state is the justification, so it is asserted even without a note.
            let j = j.or_else(|| {
                (f.disposition == "false_positive").then(|| "component_not_present".to_string())
            });
            if j.is_none() && impact.is_none() {
                return VexStatus::UnderInvestigation {
                    note: Some(format!(
                        "{} recorded without a justification",
                        f.disposition
                    )),
                };
            }
            VexStatus::NotAffected {
                justification: j,
                impact,
            }
        }
        "waived" => {
            let w = set
                .waivers
                .as_ref()
                .and_then(|ws| ws.iter().find(|w| Some(&w.id) == f.waiver.as_ref()));
            VexStatus::Waived {
                waiver: f.waiver.clone(),
                expires: w.map(|w| w.expires.clone()),
                text: w.map(|w| w.justification_text.clone()).or(note),
            }
        }
        "patched" => VexStatus::Fixed,
        _ => VexStatus::UnderInvestigation { note },
    }
}

fn statement(pkg: &Package, set: &SetExport, f: &FindingItem) -> Value {
    let mut vuln = Map::new();
    vuln.insert("name".into(), f.vuln_id.clone().into());
    let mut aliases: Vec<&String> = f.aliases.iter().filter(|a| **a != f.vuln_id).collect();
    aliases.sort();
    aliases.dedup();
    if !aliases.is_empty() {
        vuln.insert("aliases".into(), json!(aliases));
    }
    let mut product = Map::new();
    let pid = product_id(set);
    product.insert("@id".into(), pid.clone().into());
    if pid.starts_with("pkg:") {
        product.insert("identifiers".into(), json!({"purl": pid}));
    }
    if let Some(d) = set
        .digest
        .as_deref()
        .and_then(|d| d.strip_prefix("sha256:"))
    {
        product.insert("hashes".into(), json!({"sha-256": d}));
    }
    let comp = f.purl.clone().unwrap_or_else(|| f.component_key.clone());
    let mut sub = Map::new();
    sub.insert("@id".into(), comp.clone().into());
    if comp.starts_with("pkg:") {
        sub.insert("identifiers".into(), json!({"purl": comp}));
    }
    product.insert("subcomponents".into(), json!([sub]));

    let mut st = Map::new();
    st.insert("vulnerability".into(), Value::Object(vuln));
    st.insert(
        "timestamp".into(),
        f.decided_at
            .clone()
            .unwrap_or_else(|| pkg.generated_at.clone())
            .into(),
    );
    st.insert("products".into(), json!([product]));
    match status_of(set, f) {
        VexStatus::NotAffected {
            justification,
            impact,
        } => {
            st.insert("status".into(), "not_affected".into());
            // The schema allows exactly one of the two; a note goes to status_notes.
            if let Some(j) = justification {
                st.insert("justification".into(), j.into());
                if let Some(n) = f.note.clone().filter(|n| !n.trim().is_empty()) {
                    st.insert("status_notes".into(), n.into());
                }
            } else if let Some(i) = impact {
                st.insert("impact_statement".into(), i.into());
            }
        }
        VexStatus::Waived {
            waiver,
            expires,
            text,
        } => {
            st.insert("status".into(), "affected".into());
            let id = waiver.unwrap_or_else(|| "(unnamed waiver)".into());
            let until = expires
                .clone()
                .unwrap_or_else(|| "an unrecorded date".into());
            st.insert(
                "action_statement".into(),
                format!(
                    "Risk accepted under waiver {id}: will not fix; the waiver expires {until}."
                )
                .into(),
            );
            let mut notes = format!("waiver={id}; expires={}", expires.unwrap_or_default());
            if let Some(t) = text {
                notes.push_str(&format!("; {t}"));
            }
            st.insert("status_notes".into(), notes.into());
        }
        VexStatus::Fixed => {
            st.insert("status".into(), "fixed".into());
        }
        VexStatus::UnderInvestigation { note } => {
            st.insert("status".into(), "under_investigation".into());
            if let Some(n) = note {
                st.insert("status_notes".into(), n.into());
            }
        }
    }
    Value::Object(st)
}

/// The OpenVEX document for every finding of every set, in the package's order.
pub fn render(pkg: &Package) -> Result<Vec<u8>, serde_json::Error> {
    let statements: Vec<Value> = pkg
        .all_findings()
        .map(|(s, f)| statement(pkg, s, f))
        .collect();
    // A content-derived @id: the same package always names its VEX the same way.
    let digest = hex::encode(Sha256::digest(serde_json::to_vec(&statements)?));
    let mut doc = Map::new();
    doc.insert("@context".into(), CONTEXT.into());
    doc.insert("@id".into(), format!("urn:dossier:openvex:{digest}").into());
    let author = match &pkg.reviewer.role {
        Some(r) => format!("{} ({r})", pkg.reviewer.name),
        None => pkg.reviewer.name.clone(),
    };
    doc.insert("author".into(), author.into());
    if let Some(r) = &pkg.reviewer.role {
        doc.insert("role".into(), r.clone().into());
    }
    doc.insert("timestamp".into(), pkg.generated_at.clone().into());
    doc.insert("version".into(), 1.into());
    doc.insert(
        "tooling".into(),
        format!("{} {}", pkg.generator.name, pkg.generator.version).into(),
    );
    doc.insert("statements".into(), Value::Array(statements));
    let mut out = serde_json::to_vec_pretty(&Value::Object(doc))?;
    out.push(b'\n');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::testdata;

    fn by_vuln<'a>(doc: &'a Value, id: &str) -> &'a Value {
        doc["statements"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["vulnerability"]["name"] == id)
            .unwrap()
    }

    #[test]
    fn dispositions_map_to_the_spec_vocabulary() {
        let pkg = testdata::package();
        let doc: Value = serde_json::from_slice(&render(&pkg).unwrap()).unwrap();
        assert_eq!(doc["@context"], CONTEXT);
        // One statement per finding: 5 in set 1, 1 in set 2.
        assert_eq!(doc["statements"].as_array().unwrap().len(), 6);

        let waived = by_vuln(&doc, "CVE-2024-0002");
        assert_eq!(waived["status"], "affected");
        assert!(waived["action_statement"]
            .as_str()
            .unwrap()
            .contains("W-2026-0042"));
        assert!(waived["status_notes"]
            .as_str()
            .unwrap()
            .contains("expires=2027-02-01"));
        assert!(waived.get("justification").is_none());

        let na = by_vuln(&doc, "CVE-2024-0003");
        assert_eq!(na["status"], "not_affected");
        assert_eq!(na["justification"], "vulnerable_code_not_in_execute_path");
        assert!(
            na.get("impact_statement").is_none(),
            "schema: justification XOR impact_statement"
        );

        assert_eq!(by_vuln(&doc, "CVE-2024-0005")["status"], "fixed");
        assert_eq!(
            by_vuln(&doc, "CVE-2024-0001")["status"],
            "under_investigation"
        );

        let prod = &waived["products"][0];
        assert_eq!(
            prod["@id"],
            "pkg:oci/app@sha256%3A1111111111111111111111111111111111111111111111111111111111111111?repository_url=registry.example.mil/team/app"
        );
        assert_eq!(
            prod["subcomponents"][0]["identifiers"]["purl"],
            "pkg:deb/debian/openssl@3.0.11?arch=amd64"
        );
    }

    #[test]
    fn not_affected_without_any_reason_is_not_asserted() {
        let mut pkg = testdata::package();
        let f = &mut pkg.sets[0]
            .findings
            .iter_mut()
            .find(|f| f.vuln_id == "CVE-2024-0003")
            .unwrap();
        f.justification = None;
        f.note = None;
        let doc: Value = serde_json::from_slice(&render(&pkg).unwrap()).unwrap();
        let st = by_vuln(&doc, "CVE-2024-0003");
        assert_eq!(st["status"], "under_investigation");
    }

    #[test]
    fn free_text_justification_becomes_an_impact_statement() {
        let mut pkg = testdata::package();
        let f = pkg.sets[0]
            .findings
            .iter_mut()
            .find(|f| f.vuln_id == "CVE-2024-0003")
            .unwrap();
        f.justification = Some("runs offline".into());
        f.note = None;
        let doc: Value = serde_json::from_slice(&render(&pkg).unwrap()).unwrap();
        let st = by_vuln(&doc, "CVE-2024-0003");
        assert_eq!(st["impact_statement"], "runs offline");
        assert!(st.get("justification").is_none());
    }

    #[test]
    fn a_false_positive_is_component_not_present_even_without_a_note() {
        let mut pkg = testdata::package();
        let f = pkg.sets[0]
            .findings
            .iter_mut()
            .find(|f| f.vuln_id == "CVE-2024-0003")
            .unwrap();
        f.disposition = "false_positive".into();
        f.justification = None;
        f.note = None;
        let doc: Value = serde_json::from_slice(&render(&pkg).unwrap()).unwrap();
        let st = by_vuln(&doc, "CVE-2024-0003");
        assert_eq!(st["status"], "not_affected");
        assert_eq!(st["justification"], "component_not_present");
    }
}
