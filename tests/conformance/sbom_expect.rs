//! Independent expected counts for the SBOM conformance test: the raw JSON walked as
//! `serde_json::Value`, XML as a small quick-xml element tree built here, tag-value line by
//! line, with the identity rules stated in `sbom.rs`. Nothing here calls the parsers.

use crate::common::purl_key;
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};

#[derive(Default, Debug)]
pub struct Expected {
    pub components: BTreeSet<String>,
    pub findings: BTreeSet<(String, String)>,
}

fn triple_key(kind: &str, name: &str, version: &str) -> String {
    format!("T\u{0}{}\u{0}{name}\u{0}{version}", kind.to_lowercase())
}

fn key_of(purl: Option<&str>, kind: &str, name: &str, version: &str) -> String {
    match purl.and_then(purl_key) {
        Some(p) => format!("P\u{0}{p}"),
        None => triple_key(kind, name, version),
    }
}

/// Union-find over vulnerability ids, so aliases name one vulnerability.
#[derive(Default)]
struct Ids(HashMap<String, String>);

impl Ids {
    fn root(&mut self, x: &str) -> String {
        let mut cur = x.to_string();
        while let Some(p) = self.0.get(&cur) {
            if *p == cur {
                break;
            }
            cur = p.clone();
        }
        cur
    }
    fn join(&mut self, a: &str, b: &str) {
        self.0.entry(a.to_string()).or_insert_with(|| a.to_string());
        self.0.entry(b.to_string()).or_insert_with(|| b.to_string());
        let (ra, rb) = (self.root(a), self.root(b));
        if ra != rb {
            self.0.insert(ra, rb);
        }
    }
}

/// One CycloneDX vulnerability, however written: (id, alias ids, affected component keys).
type RawVuln = (String, Vec<String>, Vec<String>);

fn count_findings(vulns: Vec<RawVuln>) -> BTreeSet<(String, String)> {
    let mut ids = Ids::default();
    for (id, aliases, _) in &vulns {
        ids.join(id, id);
        for a in aliases {
            ids.join(id, a);
        }
    }
    let mut out = BTreeSet::new();
    for (id, _, comps) in &vulns {
        let root = ids.root(id);
        for c in comps {
            out.insert((root.clone(), c.clone()));
        }
    }
    out
}

// ---------- CycloneDX JSON ----------

fn s<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|x| !x.is_empty())
}

fn scalar(v: &Value, k: &str) -> String {
    match v.get(k) {
        Some(Value::String(x)) => x.trim().to_string(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

fn cdx_json_walk(
    list: &Value,
    subject: Option<&str>,
    refs: &mut HashMap<String, String>,
    e: &mut Expected,
) {
    for c in list.as_array().into_iter().flatten() {
        let purl = s(c, "purl");
        let is_subject = subject.is_some() && purl.and_then(purl_key).as_deref() == subject;
        let is_file = s(c, "type") == Some("file");
        if !is_subject && !is_file {
            let k = key_of(
                purl,
                s(c, "type").unwrap_or("library"),
                &scalar(c, "name"),
                &scalar(c, "version"),
            );
            if let Some(r) = s(c, "bom-ref") {
                refs.entry(r.to_string()).or_insert_with(|| k.clone());
            }
            e.components.insert(k);
        }
        cdx_json_walk(
            c.get("components").unwrap_or(&Value::Null),
            subject,
            refs,
            e,
        );
    }
}

pub fn cdx_json(v: &Value) -> Expected {
    let mut e = Expected::default();
    let subject = v
        .pointer("/metadata/component")
        .and_then(|c| s(c, "purl"))
        .and_then(purl_key);
    let mut refs = HashMap::new();
    let mut vulns = Vec::new();
    cdx_json_walk(
        v.get("components").unwrap_or(&Value::Null),
        subject.as_deref(),
        &mut refs,
        &mut e,
    );
    for x in v
        .get("vulnerabilities")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if x.get("analysis").is_some_and(|a| !a.is_null()) {
            continue;
        }
        let Some(id) = s(x, "id") else { continue };
        let aliases = x
            .get("references")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|r| s(r, "id"))
            .map(String::from)
            .collect();
        let comps = x
            .get("affects")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|a| s(a, "ref").and_then(|r| refs.get(r)).cloned())
            .collect();
        vulns.push((id.to_string(), aliases, comps));
    }
    e.findings = count_findings(vulns);
    e
}

// ---------- CycloneDX XML (a small element tree built here with quick-xml events) ----------

#[derive(Default, Debug)]
struct El {
    name: String,
    attrs: Vec<(String, String)>,
    text: String,
    kids: Vec<El>,
}

impl El {
    fn kid(&self, n: &str) -> Option<&El> {
        self.kids.iter().find(|k| k.name == n)
    }
    fn all<'a>(&'a self, n: &'a str) -> impl Iterator<Item = &'a El> {
        self.kids.iter().filter(move |k| k.name == n)
    }
    fn t(&self, n: &str) -> String {
        self.kid(n)
            .map(|k| k.text.trim().to_string())
            .unwrap_or_default()
    }
    fn a(&self, n: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.as_str())
    }
}

fn xml_tree(bytes: &[u8]) -> El {
    use quick_xml::events::Event;
    let mut r = quick_xml::Reader::from_reader(bytes);
    let mut stack = vec![El::default()];
    let open = |e: &quick_xml::events::BytesStart| El {
        name: e.local_name().into_inner().to_string(),
        attrs: e
            .attributes()
            .map(|a| {
                let a = a.unwrap();
                (
                    a.key.local_name().into_inner().to_string(),
                    a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .unwrap()
                        .into_owned(),
                )
            })
            .collect(),
        ..El::default()
    };
    loop {
        match r.read_event().unwrap() {
            Event::Start(e) => stack.push(open(&e)),
            Event::Empty(e) => {
                let el = open(&e);
                stack.last_mut().unwrap().kids.push(el);
            }
            Event::End(_) => {
                let el = stack.pop().unwrap();
                stack.last_mut().unwrap().kids.push(el);
            }
            Event::Text(t) => stack.last_mut().unwrap().text.push_str(&t.xml10_content()),
            Event::CData(t) => stack.last_mut().unwrap().text.push_str(&t.xml10_content()),
            Event::GeneralRef(g) => {
                let name = g.xml10_content().to_string();
                let c = match name.as_str() {
                    "amp" => "&".to_string(),
                    "lt" => "<".to_string(),
                    "gt" => ">".to_string(),
                    "quot" => "\"".to_string(),
                    "apos" => "'".to_string(),
                    _ => g.resolve_char_ref().unwrap().unwrap().to_string(),
                };
                stack.last_mut().unwrap().text.push_str(&c);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    stack.pop().unwrap().kids.into_iter().next().unwrap()
}

fn cdx_xml_vuln(v: &El, own: Option<&String>, refs: &HashMap<String, String>) -> Option<RawVuln> {
    if v.kid("analysis").is_some() || v.t("id").is_empty() {
        return None;
    }
    let aliases = v
        .kid("references")
        .into_iter()
        .flat_map(|r| r.all("reference"))
        .map(|r| r.t("id"))
        .collect();
    let mut comps: Vec<String> = own.into_iter().cloned().collect();
    for t in v.kid("affects").into_iter().flat_map(|a| a.all("target")) {
        comps.extend(refs.get(&t.t("ref")).cloned());
    }
    Some((v.t("id"), aliases, comps))
}

fn cdx_xml_walk(
    list: Option<&El>,
    subject: Option<&str>,
    refs: &mut HashMap<String, String>,
    e: &mut Expected,
    vulns: &mut Vec<RawVuln>,
) {
    for c in list.into_iter().flat_map(|l| l.all("component")) {
        let purl = Some(c.t("purl")).filter(|p| !p.is_empty());
        let is_subject =
            subject.is_some() && purl.as_deref().and_then(purl_key).as_deref() == subject;
        let is_file = c.a("type") == Some("file");
        if !is_subject && !is_file {
            let k = key_of(
                purl.as_deref(),
                c.a("type").unwrap_or("library"),
                &c.t("name"),
                &c.t("version"),
            );
            if let Some(r) = c.a("bom-ref") {
                refs.entry(r.to_string()).or_insert_with(|| k.clone());
            }
            // The pre-1.4 extension writes vulnerabilities inside the component they affect.
            for v in c
                .kid("vulnerabilities")
                .into_iter()
                .flat_map(|v| v.all("vulnerability"))
            {
                vulns.extend(cdx_xml_vuln(v, Some(&k), refs));
            }
            e.components.insert(k);
        }
        cdx_xml_walk(c.kid("components"), subject, refs, e, vulns);
    }
}

pub fn cdx_xml(bytes: &[u8]) -> Expected {
    let root = xml_tree(bytes);
    let mut e = Expected::default();
    let subject = root
        .kid("metadata")
        .and_then(|m| m.kid("component"))
        .map(|c| c.t("purl"))
        .and_then(|p| purl_key(&p));
    let mut refs = HashMap::new();
    let mut vulns = Vec::new();
    cdx_xml_walk(
        root.kid("components"),
        subject.as_deref(),
        &mut refs,
        &mut e,
        &mut vulns,
    );
    for v in root
        .kid("vulnerabilities")
        .into_iter()
        .flat_map(|v| v.all("vulnerability"))
    {
        vulns.extend(cdx_xml_vuln(v, None, &refs));
    }
    e.findings = count_findings(vulns);
    e
}

// ---------- SPDX ----------

fn spdx_kind(purpose: &str) -> String {
    let p = purpose.trim().replace('_', "-").to_lowercase();
    if p.is_empty() {
        "package".into()
    } else {
        p
    }
}

fn spdx_version(v: &str) -> &str {
    match v.trim() {
        "NOASSERTION" | "NONE" => "",
        x => x,
    }
}

pub fn spdx_json(v: &Value) -> Expected {
    let doc_id = s(v, "SPDXID").unwrap_or("SPDXRef-DOCUMENT");
    let mut described: BTreeSet<&str> = v
        .get("documentDescribes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    for r in v
        .get("relationships")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let (a, t, b) = (
            s(r, "spdxElementId"),
            s(r, "relationshipType"),
            s(r, "relatedSpdxElement"),
        );
        if a == Some(doc_id) && t == Some("DESCRIBES") {
            described.extend(b);
        }
        if b == Some(doc_id) && t == Some("DESCRIBED_BY") {
            described.extend(a);
        }
    }
    let mut e = Expected::default();
    for p in v
        .get("packages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if s(p, "SPDXID").is_some_and(|id| described.contains(id)) {
            continue;
        }
        let purl = p
            .get("externalRefs")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|r| s(r, "referenceType") == Some("purl"))
            .and_then(|r| s(r, "referenceLocator"));
        e.components.insert(key_of(
            purl,
            &spdx_kind(s(p, "primaryPackagePurpose").unwrap_or("")),
            &scalar(p, "name"),
            spdx_version(&scalar(p, "versionInfo")),
        ));
    }
    e
}

pub fn spdx_tv(text: &str) -> Expected {
    #[derive(Default)]
    struct P {
        id: String,
        name: String,
        version: String,
        purpose: String,
        purl: Option<String>,
    }
    let mut pkgs: Vec<P> = Vec::new();
    let mut in_pkg = false;
    let mut in_text = false;
    let mut described = BTreeSet::new();
    for line in text.lines() {
        if in_text {
            in_text = !line.contains("</text>");
            continue;
        }
        let Some((tag, val)) = line.split_once(':') else {
            continue;
        };
        let val = val.trim();
        if val.starts_with("<text>") && !val.contains("</text>") {
            in_text = true;
        }
        match tag.trim() {
            "PackageName" => {
                pkgs.push(P {
                    name: val.to_string(),
                    ..P::default()
                });
                in_pkg = true;
            }
            "FileName" | "SnippetSPDXID" | "LicenseID" => in_pkg = false,
            "Relationship" => {
                let w: Vec<&str> = val.split_whitespace().collect();
                if w.len() >= 3 && w[0] == "SPDXRef-DOCUMENT" && w[1] == "DESCRIBES" {
                    described.insert(w[2].to_string());
                }
            }
            t if in_pkg => {
                let p = pkgs.last_mut().unwrap();
                match t {
                    "SPDXID" => p.id = val.to_string(),
                    "PackageVersion" => p.version = val.to_string(),
                    "PrimaryPackagePurpose" => p.purpose = val.to_string(),
                    "ExternalRef" => {
                        let w: Vec<&str> = val.split_whitespace().collect();
                        if w.len() >= 3 && w[1] == "purl" && p.purl.is_none() {
                            p.purl = Some(w[2].to_string());
                        }
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
    let mut e = Expected::default();
    for p in pkgs.iter().filter(|p| !described.contains(&p.id)) {
        e.components.insert(key_of(
            p.purl.as_deref(),
            &spdx_kind(&p.purpose),
            &p.name,
            spdx_version(&p.version),
        ));
    }
    e
}
