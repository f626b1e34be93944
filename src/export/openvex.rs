//! OpenVEX 0.2.0 out, from the reviewer's dispositions. `not_affected` only with a justification
//! (or an impact statement), never for a waiver: a waiver is `affected` with a `will not fix`
//! action and its expiry; `patched` is `fixed`; undecided findings are `under_investigation`.

use super::model::{FindingItem, Package, SetExport};
use serde::Serialize;
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

/// `{"purl": ...}`: an identifier map with the one key we write.
#[derive(Serialize)]
struct Identifiers<'a> {
    purl: &'a str,
}

#[derive(Serialize)]
struct Hashes<'a> {
    #[serde(rename = "sha-256")]
    sha256: &'a str,
}

// Field order in every struct below is the byte order of the JSON keys: the writer used to
// build `serde_json::Value` maps (sorted keys), and the output must stay byte-identical.
#[derive(Serialize)]
struct Subcomponent<'a> {
    #[serde(rename = "@id")]
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    identifiers: Option<Identifiers<'a>>,
}

#[derive(Serialize)]
struct Product<'a> {
    #[serde(rename = "@id")]
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    hashes: Option<Hashes<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    identifiers: Option<Identifiers<'a>>,
    subcomponents: [Subcomponent<'a>; 1],
}

#[derive(Serialize)]
struct Vulnerability<'a> {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    aliases: Vec<&'a str>,
    name: &'a str,
}

#[derive(Serialize)]
struct Statement<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    action_statement: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    impact_statement: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    justification: Option<String>,
    products: [Product<'a>; 1],
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    status_notes: Option<String>,
    timestamp: &'a str,
    vulnerability: Vulnerability<'a>,
}

#[derive(Serialize)]
struct Document<'a> {
    #[serde(rename = "@context")]
    context: &'static str,
    #[serde(rename = "@id")]
    id: String,
    author: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<&'a str>,
    statements: &'a [Statement<'a>],
    timestamp: &'a str,
    tooling: String,
    version: u32,
}

/// What a set contributes to each of its statements' product, computed once per set.
struct SetProduct<'a> {
    id: String,
    sha256: Option<&'a str>,
}

impl<'a> SetProduct<'a> {
    fn of(set: &'a SetExport) -> Self {
        SetProduct {
            id: product_id(set),
            sha256: set
                .digest
                .as_deref()
                .and_then(|d| d.strip_prefix("sha256:")),
        }
    }
}

/// The finding's aliases other than its own id, sorted and without repeats.
pub(crate) fn other_aliases(f: &FindingItem) -> Vec<&str> {
    let mut aliases: Vec<&str> = f
        .aliases
        .iter()
        .map(String::as_str)
        .filter(|a| *a != f.vuln_id)
        .collect();
    aliases.sort_unstable();
    aliases.dedup();
    aliases
}

fn purl_of(id: &str) -> Option<Identifiers<'_>> {
    id.starts_with("pkg:").then_some(Identifiers { purl: id })
}

fn statement<'a>(
    pkg: &'a Package,
    set: &'a SetExport,
    product: &'a SetProduct<'a>,
    f: &'a FindingItem,
) -> Statement<'a> {
    let comp = f.purl.as_deref().unwrap_or(&f.component_key);
    let mut st = Statement {
        action_statement: None,
        impact_statement: None,
        justification: None,
        products: [Product {
            id: &product.id,
            hashes: product.sha256.map(|h| Hashes { sha256: h }),
            identifiers: purl_of(&product.id),
            subcomponents: [Subcomponent {
                id: comp,
                identifiers: purl_of(comp),
            }],
        }],
        status: "",
        status_notes: None,
        timestamp: f.decided_at.as_deref().unwrap_or(&pkg.generated_at),
        vulnerability: Vulnerability {
            aliases: other_aliases(f),
            name: &f.vuln_id,
        },
    };
    match status_of(set, f) {
        VexStatus::NotAffected {
            justification,
            impact,
        } => {
            st.status = "not_affected";
            // The schema allows exactly one of the two; a note goes to status_notes.
            if let Some(j) = justification {
                st.justification = Some(j);
                st.status_notes = f.note.clone().filter(|n| !n.trim().is_empty());
            } else if let Some(i) = impact {
                st.impact_statement = Some(i);
            }
        }
        VexStatus::Waived {
            waiver,
            expires,
            text,
        } => {
            st.status = "affected";
            let id = waiver.unwrap_or_else(|| "(unnamed waiver)".into());
            let until = expires.as_deref().unwrap_or("an unrecorded date");
            st.action_statement = Some(format!(
                "Risk accepted under waiver {id}: will not fix; the waiver expires {until}."
            ));
            let mut notes = format!("waiver={id}; expires={}", expires.unwrap_or_default());
            if let Some(t) = text {
                notes.push_str("; ");
                notes.push_str(&t);
            }
            st.status_notes = Some(notes);
        }
        VexStatus::Fixed => st.status = "fixed",
        VexStatus::UnderInvestigation { note } => {
            st.status = "under_investigation";
            st.status_notes = note;
        }
    }
    st
}

/// Feeds everything written to it into a SHA-256.
pub(crate) struct HashWriter(pub(crate) Sha256);

impl std::io::Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// SHA-256 of `v` serialised as compact JSON, without holding the serialisation.
pub(crate) fn compact_sha256<T: Serialize + ?Sized>(v: &T) -> Result<Vec<u8>, serde_json::Error> {
    let mut w = std::io::BufWriter::with_capacity(1 << 16, HashWriter(Sha256::new()));
    serde_json::to_writer(&mut w, v)?;
    let h = w
        .into_inner()
        .map_err(|e| serde_json::Error::io(e.into_error()))?;
    Ok(h.0.finalize().to_vec())
}

/// Writes the OpenVEX document for every finding of every set, in the package's order, as
/// pretty JSON with a trailing newline. `out` should be buffered.
pub fn write(pkg: &Package, out: &mut dyn std::io::Write) -> Result<(), serde_json::Error> {
    let products: Vec<SetProduct> = pkg.sets.iter().map(SetProduct::of).collect();
    let statements: Vec<Statement> = pkg
        .sets
        .iter()
        .zip(&products)
        .flat_map(|(s, p)| s.findings.iter().map(move |f| statement(pkg, s, p, f)))
        .collect();
    // A content-derived @id: the same package always names its VEX the same way.
    let digest = hex::encode(compact_sha256(&statements)?);
    let doc = Document {
        context: CONTEXT,
        id: format!("urn:dossier:openvex:{digest}"),
        author: match &pkg.reviewer.role {
            Some(r) => format!("{} ({r})", pkg.reviewer.name),
            None => pkg.reviewer.name.clone(),
        },
        role: pkg.reviewer.role.as_deref(),
        statements: &statements,
        timestamp: &pkg.generated_at,
        tooling: format!("{} {}", pkg.generator.name, pkg.generator.version),
        version: 1,
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    out.write_all(b"\n").map_err(serde_json::Error::io)
}

/// `write` into memory.
pub fn render(pkg: &Package) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = Vec::new();
    write(pkg, &mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::testdata;
    use serde_json::Value;

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
