//! VEX in: OpenVEX (0.2.0 and the older string forms) and CycloneDX VEX (JSON and XML,
//! `vulnerabilities[].analysis`) read into one statement shape, and the matching of
//! statements to findings by vulnerability id or alias and by product purl or image digest.

use crate::model::{find_sha256_digest, normalize_purl};
use quick_xml::events::Event;
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VexStatement {
    /// Evidence file the statement came from.
    pub file: String,
    pub vulnerability: String,
    pub aliases: Vec<String>,
    /// Normalized purls the statement names (products and subcomponents).
    pub purls: Vec<String>,
    /// Image digests the statement names; with no purls it covers every component.
    pub digests: Vec<String>,
    /// OpenVEX vocabulary: not_affected, affected, fixed, under_investigation.
    pub status: String,
    pub justification: Option<String>,
    pub impact_statement: Option<String>,
    pub timestamp: Option<String>,
    /// CycloneDX `false_positive`: `not_affected` in OpenVEX words, kept apart so a
    /// reviewer's false_positive survives a CycloneDX round trip.
    pub false_positive: bool,
}

impl VexStatement {
    /// `not_affected` counts only with a justification (or, as CISA allows, an impact statement).
    pub fn justified_not_affected(&self) -> bool {
        self.status == "not_affected"
            && (self.justification.is_some() || self.impact_statement.is_some())
    }

    /// The disposition a statement records on its own: a justified `not_affected` (or a
    /// CycloneDX `false_positive`), and `fixed` as `patched`. `affected` and
    /// `under_investigation` decide nothing: a waiver stays the only way to accept a risk.
    pub fn disposition(&self) -> Option<&'static str> {
        match self.status.as_str() {
            "fixed" => Some("patched"),
            _ if self.justified_not_affected() && self.false_positive => Some("false_positive"),
            _ if self.justified_not_affected() => Some("not_affected"),
            _ => None,
        }
    }

    pub fn describe(&self) -> String {
        let why = match (&self.justification, &self.impact_statement) {
            (Some(j), _) => format!("justification {j}"),
            (None, Some(i)) => format!("impact statement \"{i}\""),
            (None, None) => "no justification".into(),
        };
        format!("{} ({why}) from {}", self.status, self.file)
    }
}

fn s(v: &Value) -> Option<String> {
    v.as_str()
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_string)
}

fn add_product(v: &Value, purls: &mut Vec<String>, digests: &mut Vec<String>) {
    let mut push = |id: &str| {
        if let Some(d) = id
            .contains("sha256:")
            .then(|| find_sha256_digest(id))
            .flatten()
        {
            if id.starts_with("pkg:oci/") || !id.starts_with("pkg:") {
                digests.push(d);
                return;
            }
        }
        if let Some(p) = normalize_purl(id) {
            purls.push(p);
        }
    };
    match v {
        Value::String(id) => push(id),
        Value::Object(o) => {
            if let Some(id) = o.get("@id").and_then(Value::as_str) {
                push(id);
            }
            if let Some(p) = o
                .get("identifiers")
                .and_then(|i| i.get("purl"))
                .and_then(Value::as_str)
            {
                push(p);
            }
            if let Some(h) = o
                .get("hashes")
                .and_then(|h| h.get("sha-256"))
                .and_then(Value::as_str)
            {
                push(&format!("sha256:{h}"));
            }
        }
        _ => {}
    }
}

/// OpenVEX, both the 0.2.0 object forms and the pre-0.2.0 string forms.
pub fn parse_openvex(file: &str, bytes: &[u8]) -> Result<Vec<VexStatement>, String> {
    let doc: Value = serde_json::from_slice(bytes).map_err(|e| format!("{file}: {e}"))?;
    let doc_ts = doc.get("timestamp").and_then(s);
    let mut out = Vec::new();
    for st in doc
        .get("statements")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let (vulnerability, aliases) = match st.get("vulnerability") {
            Some(Value::String(v)) => (v.trim().to_string(), Vec::new()),
            Some(Value::Object(o)) => {
                let name = o
                    .get("name")
                    .and_then(s)
                    .or_else(|| o.get("@id").and_then(s))
                    .unwrap_or_default();
                let aliases = o
                    .get("aliases")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(s).collect())
                    .unwrap_or_default();
                (name, aliases)
            }
            _ => continue,
        };
        let mut purls = Vec::new();
        let mut digests = Vec::new();
        let mut sub_purls = Vec::new();
        for p in st
            .get("products")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            add_product(p, &mut purls, &mut digests);
            for sc in p
                .get("subcomponents")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                add_product(sc, &mut sub_purls, &mut digests);
            }
        }
        for sc in st
            .get("subcomponents")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            add_product(sc, &mut sub_purls, &mut digests);
        }
        // Subcomponents narrow an image product to the named packages.
        purls.extend(sub_purls);
        out.push(VexStatement {
            file: file.to_string(),
            vulnerability,
            aliases,
            purls,
            digests,
            status: st.get("status").and_then(s).unwrap_or_default(),
            justification: st.get("justification").and_then(s),
            impact_statement: st.get("impact_statement").and_then(s),
            timestamp: st.get("timestamp").and_then(s).or_else(|| doc_ts.clone()),
            false_positive: false,
        });
    }
    Ok(out)
}

fn cdx_status(state: &str) -> String {
    match state {
        "not_affected" | "false_positive" => "not_affected",
        "resolved" | "resolved_with_pedigree" => "fixed",
        "exploitable" => "affected",
        "in_triage" => "under_investigation",
        other => other,
    }
    .to_string()
}

/// The property the CycloneDX writer adds with the exact OpenVEX justification, because
/// CycloneDX's vocabulary folds two CISA words into `code_not_present`.
pub const CDX_OPENVEX_JUSTIFICATION: &str = "dossier:openvex:justification";

/// CycloneDX `analysis.justification` -> the CISA / OpenVEX word (formats.md 7.3's suggested
/// mapping); an unknown word is kept as it is.
pub fn openvex_justification(cdx: &str) -> String {
    match cdx {
        "code_not_present" => "vulnerable_code_not_present",
        "code_not_reachable" => "vulnerable_code_not_in_execute_path",
        j if j.starts_with("requires_") => "vulnerable_code_cannot_be_controlled_by_adversary",
        j if j.starts_with("protected_") => "inline_mitigations_already_exist",
        other => other,
    }
    .to_string()
}

struct CdxVuln {
    id: String,
    aliases: Vec<String>,
    state: Option<String>,
    justification: Option<String>,
    detail: Option<String>,
    refs: Vec<String>,
    updated: Option<String>,
    /// The writer's exact OpenVEX justification, when the document carries one.
    exact_justification: Option<String>,
}

fn resolve_cdx(
    file: &str,
    vulns: Vec<CdxVuln>,
    refs: &HashMap<String, Option<String>>,
    subject_refs: &[String],
    subject_digest: Option<String>,
) -> Vec<VexStatement> {
    vulns
        .into_iter()
        .filter_map(|v| {
            let state = v.state?;
            let mut purls = Vec::new();
            let mut digests = Vec::new();
            for r in &v.refs {
                let local = r.rsplit_once('#').map_or(r.as_str(), |(_, f)| f);
                if subject_refs.iter().any(|s| s == local) {
                    digests.extend(subject_digest.clone());
                    if subject_digest.is_none() {
                        digests.push("*".into());
                    }
                    continue;
                }
                let purl = refs
                    .get(local)
                    .cloned()
                    .flatten()
                    .or_else(|| Some(local.to_string()));
                add_product(
                    &Value::String(purl.unwrap_or_default()),
                    &mut purls,
                    &mut digests,
                );
            }
            let status = cdx_status(&state);
            let justification = v
                .exact_justification
                .or_else(|| v.justification.as_deref().map(openvex_justification))
                .or_else(|| (state == "false_positive").then(|| "false_positive".into()));
            Some(VexStatement {
                file: file.to_string(),
                vulnerability: v.id,
                aliases: v.aliases,
                purls,
                digests,
                status,
                justification,
                impact_statement: v.detail,
                timestamp: v.updated,
                false_positive: state == "false_positive",
            })
        })
        .collect()
}

/// CycloneDX JSON: only vulnerabilities carrying an `analysis` are statements.
pub fn parse_cyclonedx_json(file: &str, bytes: &[u8]) -> Result<Vec<VexStatement>, String> {
    let doc: Value = serde_json::from_slice(bytes).map_err(|e| format!("{file}: {e}"))?;
    let mut refs: HashMap<String, Option<String>> = HashMap::new();
    fn walk(c: &Value, refs: &mut HashMap<String, Option<String>>) {
        for comp in c.as_array().into_iter().flatten() {
            if let Some(r) = comp.get("bom-ref").and_then(s) {
                refs.insert(r, comp.get("purl").and_then(s));
            }
            walk(comp.get("components").unwrap_or(&Value::Null), refs);
        }
    }
    walk(doc.get("components").unwrap_or(&Value::Null), &mut refs);
    let subject = doc.get("metadata").and_then(|m| m.get("component"));
    let subject_refs: Vec<String> = subject
        .and_then(|c| c.get("bom-ref"))
        .and_then(s)
        .into_iter()
        .collect();
    let subject_digest = subject
        .and_then(|c| {
            c.get("purl")
                .and_then(s)
                .or_else(|| c.get("version").and_then(s))
        })
        .and_then(|p| find_sha256_digest(&p));
    let vulns = doc
        .get("vulnerabilities")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|v| {
            let a = v.get("analysis");
            CdxVuln {
                id: v.get("id").and_then(s).unwrap_or_default(),
                aliases: v
                    .get("references")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|r| r.get("id").and_then(s))
                    .collect(),
                state: a.and_then(|a| a.get("state")).and_then(s),
                justification: a.and_then(|a| a.get("justification")).and_then(s),
                detail: a.and_then(|a| a.get("detail")).and_then(s),
                refs: v
                    .get("affects")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|x| x.get("ref").and_then(s))
                    .collect(),
                updated: a
                    .and_then(|a| a.get("lastUpdated"))
                    .and_then(s)
                    .or_else(|| v.get("updated").and_then(s)),
                exact_justification: v
                    .get("properties")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .find(|p| {
                        p.get("name").and_then(Value::as_str) == Some(CDX_OPENVEX_JUSTIFICATION)
                    })
                    .and_then(|p| p.get("value"))
                    .and_then(s)
                    .filter(|j| crate::model::waiver::VexJustification::parse(j).is_some()),
            }
        })
        .collect();
    Ok(resolve_cdx(
        file,
        vulns,
        &refs,
        &subject_refs,
        subject_digest,
    ))
}

/// CycloneDX XML, read with quick-xml (no DTD, no entity expansion).
pub fn parse_cyclonedx_xml(file: &str, bytes: &[u8]) -> Result<Vec<VexStatement>, String> {
    let mut r = quick_xml::Reader::from_reader(bytes);
    r.config_mut().trim_text(true);
    let mut path: Vec<String> = Vec::new();
    let mut refs: HashMap<String, Option<String>> = HashMap::new();
    let mut comp_stack: Vec<Option<String>> = Vec::new();
    let mut subject_refs = Vec::new();
    let mut subject_digest = None;
    let mut vulns: Vec<CdxVuln> = Vec::new();
    let mut buf = Vec::new();
    loop {
        let ev = r
            .read_event_into(&mut buf)
            .map_err(|e| format!("{file}: byte {}: {e}", r.buffer_position()))?;
        match ev {
            Event::Start(e) => {
                let name = e.local_name().as_ref().to_string();
                let bom_ref = e
                    .attributes()
                    .flatten()
                    .find(|a| a.key.local_name().as_ref() == "bom-ref")
                    .map(|a| a.value.to_string());
                if name == "component" {
                    let in_meta = path.last().is_some_and(|p| p == "metadata");
                    if in_meta {
                        subject_refs.extend(bom_ref.clone());
                    }
                    comp_stack.push(bom_ref.clone());
                    if let Some(b) = bom_ref {
                        refs.entry(b).or_insert(None);
                    }
                }
                if name == "vulnerability" {
                    vulns.push(CdxVuln {
                        id: String::new(),
                        aliases: vec![],
                        state: None,
                        justification: None,
                        detail: None,
                        refs: vec![],
                        updated: None,
                        exact_justification: None,
                    });
                }
                path.push(name);
            }
            Event::End(_) => {
                let closed = path.pop();
                if closed.as_deref() == Some("component") {
                    comp_stack.pop();
                }
            }
            Event::Text(t) => {
                let text = t.as_ref().trim().to_string();
                let leaf = path.last().map(String::as_str).unwrap_or("");
                let parent = path
                    .len()
                    .checked_sub(2)
                    .and_then(|i| path.get(i))
                    .map(String::as_str)
                    .unwrap_or("");
                let in_vuln = path.iter().any(|p| p == "vulnerability");
                if in_vuln {
                    if let Some(v) = vulns.last_mut() {
                        match (parent, leaf) {
                            ("vulnerability", "id") => v.id = text,
                            ("reference", "id") => v.aliases.push(text),
                            ("analysis", "state") => v.state = Some(text),
                            ("analysis", "justification") => v.justification = Some(text),
                            ("analysis", "detail") => v.detail = Some(text),
                            ("analysis", "lastUpdated") => v.updated = Some(text),
                            ("target", "ref") => v.refs.push(text),
                            _ => {}
                        }
                    }
                } else if leaf == "purl" && parent == "component" {
                    if let Some(Some(b)) = comp_stack.last() {
                        refs.insert(b.clone(), Some(text.clone()));
                    }
                    if path.iter().any(|p| p == "metadata") {
                        subject_digest = subject_digest.or_else(|| find_sha256_digest(&text));
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    Ok(resolve_cdx(
        file,
        vulns,
        &refs,
        &subject_refs,
        subject_digest,
    ))
}

/// Does a statement cover this finding of the set with this image digest?
pub fn matches(
    st: &VexStatement,
    vuln_id: &str,
    aliases: &[String],
    purl_key: Option<&str>,
    set_digest: Option<&str>,
) -> bool {
    let id_hit = |x: &str| {
        x.eq_ignore_ascii_case(vuln_id) || aliases.iter().any(|a| a.eq_ignore_ascii_case(x))
    };
    if !(id_hit(&st.vulnerability) || st.aliases.iter().any(|a| id_hit(a))) {
        return false;
    }
    let image_hit = st
        .digests
        .iter()
        .any(|d| d == "*" || Some(d.as_str()) == set_digest);
    if !st.purls.is_empty() {
        // Purls name the packages; an image product (if any) must also be this image.
        let purl_hit = purl_key.is_some_and(|k| st.purls.iter().any(|p| p == k));
        return purl_hit && (st.digests.is_empty() || image_hit);
    }
    image_hit
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";

    #[test]
    fn openvex_both_forms() {
        let new = format!(
            r#"{{"@context":"https://openvex.dev/ns/v0.2.0","timestamp":"2025-01-01T00:00:00Z","statements":[
            {{"vulnerability":{{"name":"CVE-1","aliases":["GHSA-x"]}},"products":[{{"@id":"pkg:oci/app@{D}","subcomponents":[{{"@id":"pkg:npm/a@1.0?x=1"}}]}}],
              "status":"not_affected","justification":"vulnerable_code_not_present"}}]}}"#
        );
        let st = parse_openvex("v.json", new.as_bytes()).unwrap();
        assert_eq!(st[0].purls, vec!["pkg:npm/a@1.0"]);
        assert_eq!(st[0].digests, vec![D]);
        assert!(st[0].justified_not_affected());
        assert!(matches(
            &st[0],
            "GHSA-x",
            &[],
            Some("pkg:npm/a@1.0"),
            Some(D)
        ));
        assert!(!matches(
            &st[0],
            "CVE-1",
            &[],
            Some("pkg:npm/b@1.0"),
            Some(D)
        ));
        let old = r#"{"@context":"https://openvex.dev/ns","statements":[{"vulnerability":"CVE-2","products":["pkg:npm/b@2"],"status":"not_affected"}]}"#;
        let st = parse_openvex("o.json", old.as_bytes()).unwrap();
        assert!(!st[0].justified_not_affected());
        assert!(matches(&st[0], "CVE-2", &[], Some("pkg:npm/b@2"), None));
    }

    #[test]
    fn cyclonedx_json_and_xml_agree() {
        let j = r#"{"bomFormat":"CycloneDX","specVersion":"1.5","components":[{"bom-ref":"c1","purl":"pkg:deb/debian/z@1"}],
          "vulnerabilities":[{"id":"CVE-3","analysis":{"state":"not_affected","justification":"code_not_reachable"},"affects":[{"ref":"urn:cdx:abc/1#c1"}]},
                             {"id":"CVE-4","affects":[{"ref":"c1"}]}]}"#;
        let a = parse_cyclonedx_json("a.json", j.as_bytes()).unwrap();
        assert_eq!(a.len(), 1);
        let x = r#"<?xml version="1.0"?><bom xmlns="http://cyclonedx.org/schema/bom/1.5"><components><component type="library" bom-ref="c1"><name>z</name><purl>pkg:deb/debian/z@1</purl></component></components>
          <vulnerabilities><vulnerability><id>CVE-3</id><analysis><state>not_affected</state><justification>code_not_reachable</justification></analysis><affects><target><ref>c1</ref></target></affects></vulnerability></vulnerabilities></bom>"#;
        let b = parse_cyclonedx_xml("a.xml", x.as_bytes()).unwrap();
        assert_eq!(b.len(), 1);
        assert_eq!(
            (a[0].purls.clone(), a[0].status.clone()),
            (b[0].purls.clone(), b[0].status.clone())
        );
        assert!(matches(
            &b[0],
            "CVE-3",
            &[],
            Some("pkg:deb/debian/z@1"),
            None
        ));
    }

    #[test]
    fn statements_decide_only_what_they_can() {
        let j = r#"{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"bom-ref":"c1","purl":"pkg:npm/a@1"}],
          "vulnerabilities":[
            {"id":"CVE-1","analysis":{"state":"resolved"},"affects":[{"ref":"c1"}]},
            {"id":"CVE-2","analysis":{"state":"false_positive"},"affects":[{"ref":"c1"}]},
            {"id":"CVE-3","analysis":{"state":"not_affected","justification":"code_not_present"},"affects":[{"ref":"c1"}],
             "properties":[{"name":"dossier:openvex:justification","value":"component_not_present"}]},
            {"id":"CVE-4","analysis":{"state":"not_affected","justification":"protected_at_runtime"},"affects":[{"ref":"c1"}]},
            {"id":"CVE-5","analysis":{"state":"exploitable","response":["will_not_fix"]},"affects":[{"ref":"c1"}]},
            {"id":"CVE-6","analysis":{"state":"in_triage"},"affects":[{"ref":"c1"}]}]}"#;
        let st = parse_cyclonedx_json("v.json", j.as_bytes()).unwrap();
        let got: Vec<(&str, Option<&str>, Option<&str>)> = st
            .iter()
            .map(|s| {
                (
                    s.vulnerability.as_str(),
                    s.disposition(),
                    s.justification.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("CVE-1", Some("patched"), None),
                ("CVE-2", Some("false_positive"), Some("false_positive")),
                // The exact OpenVEX word from the property beats the folded CycloneDX word.
                ("CVE-3", Some("not_affected"), Some("component_not_present")),
                // formats.md 7.3: protected_* -> inline_mitigations_already_exist.
                (
                    "CVE-4",
                    Some("not_affected"),
                    Some("inline_mitigations_already_exist")
                ),
                ("CVE-5", None, None),
                ("CVE-6", None, None),
            ]
        );
        let ov = r#"{"@context":"https://openvex.dev/ns/v0.2.0","statements":[
            {"vulnerability":{"name":"CVE-7"},"products":[{"@id":"pkg:npm/a@1"}],"status":"fixed"},
            {"vulnerability":{"name":"CVE-8"},"products":[{"@id":"pkg:npm/a@1"}],"status":"affected","action_statement":"x"}]}"#;
        let st = parse_openvex("o.json", ov.as_bytes()).unwrap();
        assert_eq!(st[0].disposition(), Some("patched"));
        assert_eq!(st[1].disposition(), None);
    }
}
