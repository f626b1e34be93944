//! A minimal element tree for CycloneDX XML, read with quick-xml's event reader under a
//! nesting limit. Entities: only the five predefined ones and character references are
//! resolved; a DOCTYPE declaring entities is rejected, any other entity is an error.

use super::FormatError;
use quick_xml::events::{BytesStart, Event};
use quick_xml::XmlVersion;
use std::borrow::Cow;

/// Deepest element nesting accepted.
pub const MAX_XML_DEPTH: usize = 128;

#[derive(Debug, Default)]
pub struct Node {
    /// Local name (namespace prefix dropped); CycloneDX's own names are not allocated.
    pub name: Cow<'static, str>,
    pub attrs: Vec<(String, String)>,
    pub text: String,
    pub children: Vec<Node>,
}

impl Node {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    pub fn children<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// Trimmed text of the named child, when present and non-empty.
    pub fn text_of(&self, name: &str) -> Option<String> {
        self.child(name)
            .map(|c| c.text.trim().to_string())
            .filter(|t| !t.is_empty())
    }
}

/// Element names that occur once per component or vulnerability, so sharing them matters.
const KNOWN: &[&str] = &[
    "bom",
    "metadata",
    "timestamp",
    "tools",
    "tool",
    "vendor",
    "name",
    "version",
    "components",
    "component",
    "services",
    "service",
    "group",
    "publisher",
    "author",
    "supplier",
    "description",
    "purl",
    "cpe",
    "licenses",
    "license",
    "id",
    "expression",
    "url",
    "properties",
    "property",
    "hashes",
    "hash",
    "externalReferences",
    "reference",
    "references",
    "evidence",
    "occurrences",
    "occurrence",
    "location",
    "dependencies",
    "dependency",
    "vulnerabilities",
    "vulnerability",
    "source",
    "ratings",
    "rating",
    "score",
    "base",
    "impact",
    "exploitability",
    "severity",
    "method",
    "vector",
    "cwes",
    "cwe",
    "detail",
    "recommendation",
    "advisories",
    "advisory",
    "created",
    "published",
    "updated",
    "analysis",
    "affects",
    "target",
    "ref",
    "versions",
    "scope",
    "copyright",
    "swid",
    "text",
    "state",
    "justification",
    "response",
];

fn element_name(local: &str) -> Cow<'static, str> {
    match KNOWN.iter().find(|k| **k == local) {
        Some(k) => Cow::Borrowed(k),
        None => Cow::Owned(local.to_string()),
    }
}

fn open(e: &BytesStart<'_>, bytes: &[u8], pos: u64) -> Result<Node, FormatError> {
    let name = element_name(e.local_name().into_inner());
    let mut attrs = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(|err| {
            FormatError::at_offset(format!("bad attribute in <{name}>: {err}"), bytes, pos)
        })?;
        let key = a.key.local_name().into_inner().to_string();
        let value = a.normalized_value(XmlVersion::Implicit1_0).map_err(|err| {
            FormatError::at_offset(format!("attribute {key} of <{name}>: {err}"), bytes, pos)
        })?;
        attrs.push((key, value.into_owned()));
    }
    Ok(Node {
        name,
        attrs,
        text: String::new(),
        children: Vec::new(),
    })
}

/// Reads the whole document; returns the root element.
pub fn read(bytes: &[u8]) -> Result<Node, FormatError> {
    let mut r = quick_xml::Reader::from_reader(bytes);
    r.config_mut().check_end_names = true;
    let mut stack: Vec<Node> = Vec::new();
    let mut root: Option<Node> = None;
    loop {
        let before = r.buffer_position();
        let ev = r.read_event().map_err(|e| {
            FormatError::at_offset(format!("malformed XML: {e}"), bytes, r.error_position())
        })?;
        match ev {
            Event::Start(e) => {
                if stack.len() >= MAX_XML_DEPTH {
                    return Err(FormatError::at_offset(
                        format!("XML nested deeper than {MAX_XML_DEPTH} elements"),
                        bytes,
                        before,
                    ));
                }
                if root.is_some() {
                    return Err(FormatError::at_offset(
                        "content after the root element",
                        bytes,
                        before,
                    ));
                }
                stack.push(open(&e, bytes, before)?);
            }
            Event::Empty(e) => {
                let n = open(&e, bytes, before)?;
                match stack.last_mut() {
                    Some(p) => p.children.push(n),
                    None if root.is_none() => root = Some(n),
                    None => {
                        return Err(FormatError::at_offset(
                            "content after the root element",
                            bytes,
                            before,
                        ))
                    }
                }
            }
            Event::End(_) => {
                let Some(n) = stack.pop() else {
                    return Err(FormatError::at_offset(
                        "unexpected closing tag",
                        bytes,
                        before,
                    ));
                };
                match stack.last_mut() {
                    Some(p) => p.children.push(n),
                    None => root = Some(n),
                }
            }
            Event::Text(t) => {
                if let Some(n) = stack.last_mut() {
                    // Indentation between child elements is not text; leading blanks are
                    // trimmed by every reader anyway.
                    let c = t.xml10_content();
                    if !(n.text.is_empty() && c.trim().is_empty()) {
                        n.text.push_str(&c);
                    }
                }
            }
            Event::CData(t) => {
                if let Some(n) = stack.last_mut() {
                    n.text.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(g) => {
                let resolved: String = match g.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    Ok(None) => {
                        let name = g.xml10_content();
                        match quick_xml::escape::resolve_predefined_entity(&name) {
                            Some(s) => s.to_string(),
                            None => {
                                return Err(FormatError::at_offset(
                                    format!(
                                    "undefined entity &{name}; (custom entities are not expanded)"
                                ),
                                    bytes,
                                    before,
                                ))
                            }
                        }
                    }
                    Err(e) => {
                        return Err(FormatError::at_offset(
                            format!("bad character reference: {e}"),
                            bytes,
                            before,
                        ))
                    }
                };
                if let Some(n) = stack.last_mut() {
                    n.text.push_str(&resolved);
                }
            }
            Event::DocType(d) => {
                // Entity declarations are how billion-laughs and external fetches start;
                // CycloneDX never needs them.
                if d.xml10_content().contains("<!ENTITY") {
                    return Err(FormatError::at_offset(
                        "DOCTYPE with ENTITY declarations is not accepted in evidence files",
                        bytes,
                        before,
                    ));
                }
            }
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
        }
    }
    if !stack.is_empty() {
        return Err(FormatError::at_offset(
            "unexpected end of file inside an element",
            bytes,
            bytes.len() as u64,
        ));
    }
    root.ok_or_else(|| FormatError::new("no root element"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn predefined_and_character_references_resolve() {
        let n = read(b"<a x=\"1 &amp; 2\"><b>&lt;x&gt; &#65;&#x42;</b></a>").unwrap();
        assert_eq!(n.attr("x"), Some("1 & 2"));
        assert_eq!(n.text_of("b").as_deref(), Some("<x> AB"));
    }

    #[test]
    fn entity_declarations_and_unknown_entities_are_errors_not_expansions() {
        let lol = b"<?xml version=\"1.0\"?>\n<!DOCTYPE bom [<!ENTITY a \"aaaa\"><!ENTITY b \"&a;&a;\">]>\n<bom>&b;</bom>";
        let e = read(lol).unwrap_err();
        assert!(e.message.contains("ENTITY"), "{e}");
        assert_eq!(e.line, Some(2));
        let e = read(b"<bom>\n  <x>&ext;</x></bom>").unwrap_err();
        assert!(e.message.contains("&ext;"), "{e}");
        assert_eq!(e.line, Some(2));
    }

    #[test]
    fn depth_is_limited() {
        let mut s = String::new();
        for _ in 0..200 {
            s.push_str("<a>");
        }
        for _ in 0..200 {
            s.push_str("</a>");
        }
        let e = read(s.as_bytes()).unwrap_err();
        assert!(e.message.contains("nested deeper"), "{e}");
    }

    #[test]
    fn mismatched_tags_report_line_and_column() {
        let e = read(b"<bom>\n<components>\n</bom>").unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
        assert!(e.column.is_some());
        assert!(read(b"<bom><a>").is_err());
    }
}
