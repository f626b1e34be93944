//! CycloneDX XML 1.2-1.7 (namespace `http://cyclonedx.org/schema/bom/1.x`): the element tree
//! from `cyclonedx_xmltree` mapped onto `cyclonedx_model::Bom`, including the pre-1.4
//! vulnerability extension (`<v:vulnerabilities>` inside a component, grype 0.7x).

use super::cyclonedx_model::{self as m, Bom};
use super::cyclonedx_xmltree::{self as tree, Node};
use super::FormatError;
use crate::model::Document;

fn properties(n: &Node) -> Vec<(String, String)> {
    n.child("properties")
        .into_iter()
        .flat_map(|p| p.children("property"))
        .filter_map(|p| Some((p.attr("name")?.to_string(), p.text.trim().to_string())))
        .collect()
}

fn component(n: &Node) -> m::Comp {
    let mut licenses = Vec::new();
    if let Some(ls) = n.child("licenses") {
        for l in &ls.children {
            match l.name.as_ref() {
                "license" => licenses.extend(l.text_of("id").or_else(|| l.text_of("name"))),
                "expression" => {
                    licenses.extend(Some(l.text.trim().to_string()).filter(|t| !t.is_empty()))
                }
                _ => {}
            }
        }
    }
    let occurrences = n
        .child("evidence")
        .and_then(|e| e.child("occurrences"))
        .into_iter()
        .flat_map(|o| o.children("occurrence"))
        .filter_map(|o| o.text_of("location"))
        .collect();
    m::Comp {
        bom_ref: n.attr("bom-ref").map(str::to_string),
        kind: n.attr("type").map(str::to_string),
        name: n.text_of("name"),
        version: n.text_of("version"),
        purl: n.text_of("purl"),
        cpe: n.text_of("cpe"),
        licenses,
        properties: properties(n),
        occurrences,
        children: n
            .child("components")
            .into_iter()
            .flat_map(|c| c.children("component"))
            .map(component)
            .collect(),
        ext_vulns: n
            .child("vulnerabilities")
            .into_iter()
            .flat_map(|v| v.children("vulnerability"))
            .map(vulnerability)
            .collect(),
    }
}

fn rating(r: &Node) -> m::Rating {
    // 1.4+: `<score>9.8</score>`; the 1.0 extension: `<score><base>9.8</base>...</score>`.
    let score = r.child("score").and_then(|s| {
        s.text_of("base")
            .or_else(|| Some(s.text.trim().to_string()))
    });
    m::Rating {
        source: r.child("source").and_then(|s| {
            s.text_of("name")
                .or_else(|| s.attr("name").map(str::to_string))
        }),
        score: score
            .and_then(|s| s.parse::<f64>().ok())
            .filter(|s| s.is_finite()),
        severity: r.text_of("severity"),
        method: r.text_of("method"),
        vector: r.text_of("vector"),
    }
}

fn vulnerability(v: &Node) -> m::Vuln {
    let source = v.child("source");
    m::Vuln {
        id: v.text_of("id"),
        source_name: source.and_then(|s| {
            s.text_of("name")
                .or_else(|| s.attr("name").map(str::to_string))
        }),
        source_url: source.and_then(|s| s.text_of("url")),
        references: v
            .child("references")
            .into_iter()
            .flat_map(|r| r.children("reference"))
            .filter_map(|r| r.text_of("id"))
            .collect(),
        ratings: v
            .child("ratings")
            .into_iter()
            .flat_map(|r| r.children("rating"))
            .map(rating)
            .collect(),
        description: v.text_of("description"),
        detail: v.text_of("detail"),
        recommendation: v.text_of("recommendation"),
        advisories: v
            .child("advisories")
            .into_iter()
            .flat_map(|a| a.children("advisory"))
            .filter_map(|a| {
                a.text_of("url")
                    .or_else(|| Some(a.text.trim().to_string()).filter(|t| !t.is_empty()))
            })
            .collect(),
        published: v.text_of("published"),
        has_analysis: v.child("analysis").is_some(),
        affects: v
            .child("affects")
            .into_iter()
            .flat_map(|a| a.children("target"))
            .filter_map(|t| t.text_of("ref"))
            .collect(),
    }
}

fn tools(meta: &Node) -> Vec<(String, Option<String>)> {
    let Some(t) = meta.child("tools") else {
        return Vec::new();
    };
    let legacy = t.children("tool");
    let modern = ["components", "services"]
        .into_iter()
        .filter_map(|k| t.child(k))
        .flat_map(|c| c.children.iter());
    legacy
        .chain(modern)
        .filter_map(|x| Some((x.text_of("name")?, x.text_of("version"))))
        .collect()
}

pub fn parse(bytes: &[u8]) -> Result<Document, FormatError> {
    let root = tree::read(bytes)?;
    if root.name != "bom" {
        return Err(FormatError::new(format!(
            "root element is <{}>, not <bom>",
            root.name
        )));
    }
    if let Some(ns) = root.attr("xmlns") {
        if !ns.contains("cyclonedx.org/schema/bom") {
            return Err(FormatError::new(format!(
                "root <bom> is in namespace '{ns}', not CycloneDX's (http://cyclonedx.org/schema/bom/1.x)"
            )));
        }
    }
    let meta = root.child("metadata");
    let bom = Bom {
        timestamp: meta.and_then(|m| m.text_of("timestamp")),
        tools: meta.map(tools).unwrap_or_default(),
        subject: meta.and_then(|m| m.child("component")).map(component),
        metadata_properties: meta.map(properties).unwrap_or_default(),
        components: root
            .child("components")
            .into_iter()
            .flat_map(|c| c.children("component"))
            .map(component)
            .collect(),
        dependencies: root
            .child("dependencies")
            .into_iter()
            .flat_map(|d| d.children("dependency"))
            .filter_map(|d| {
                let from = d.attr("ref")?.to_string();
                Some((
                    from,
                    d.children("dependency")
                        .filter_map(|x| x.attr("ref").map(str::to_string))
                        .collect(),
                ))
            })
            .collect(),
        vulnerabilities: root
            .child("vulnerabilities")
            .into_iter()
            .flat_map(|v| v.children("vulnerability"))
            .map(vulnerability)
            .collect(),
    };
    m::to_document(bom).map_err(FormatError::new)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DocKind, Severity};

    const HEX: &str = "84ac18036f93e18c3d8165e4fd9d9885924bb71beeab042dd50443d4f88fcdda";

    #[test]
    fn components_nested_file_subject_and_tools_forms() {
        for tools in [
            "<tool><vendor>anchore</vendor><name>syft</name><version>0.73.0</version></tool>",
            "<components><component type=\"application\"><name>syft</name><version>1.0</version></component></components>",
        ] {
            let doc = format!(
                r#"<?xml version="1.0" encoding="UTF-8"?>
<bom xmlns="http://cyclonedx.org/schema/bom/1.5" version="1">
  <metadata><tools>{tools}</tools>
    <component bom-ref="img" type="container"><name>postgres:11</name><version>sha256:{HEX}</version></component>
  </metadata>
  <components>
    <component bom-ref="pkg:deb/debian/adduser@3.115?arch=all&amp;distro=debian-9" type="library">
      <name>adduser</name><version>3.115</version>
      <licenses><license><id>GPL-2.0-only</id></license><expression>MIT OR X11</expression></licenses>
      <cpe>cpe:2.3:a:adduser:adduser:3.115:*:*:*:*:*:*:*</cpe>
      <purl>pkg:deb/debian/adduser@3.115?arch=all&amp;distro=debian-9</purl>
      <properties><property name="syft:location:0:path">/var/lib/dpkg/status</property></properties>
      <components><component type="library"><name>inner</name><version>1</version></component></components>
    </component>
    <component type="file"><name>/etc/x</name></component>
  </components>
  <dependencies><dependency ref="img"><dependency ref="pkg:deb/debian/adduser@3.115?arch=all&amp;distro=debian-9"/></dependency></dependencies>
</bom>"#
            );
            let d = parse(doc.as_bytes()).unwrap();
            assert_eq!(d.kind, DocKind::Sbom);
            let names: Vec<&str> = d.components.iter().map(|c| c.name.as_str()).collect();
            assert_eq!(names, ["adduser", "inner"]);
            let a = &d.components[0];
            assert_eq!(a.purl.as_deref(), Some("pkg:deb/debian/adduser@3.115?arch=all&distro=debian-9"));
            assert_eq!(a.kind, "deb");
            assert_eq!(a.licenses, vec!["GPL-2.0-only".to_string(), "MIT OR X11".to_string()]);
            assert_eq!(a.locations, vec!["/var/lib/dpkg/status".to_string()]);
            assert_eq!(d.image_digests, vec![format!("sha256:{HEX}")]);
            assert_eq!(d.subject.as_ref().unwrap().refs, vec!["img".to_string()]);
            assert_eq!(d.dependencies.len(), 1);
            assert_eq!(d.dependencies[0].0, "img");
        }
    }

    #[test]
    fn vulnerabilities_1_4_and_the_1_0_extension() {
        let doc = r#"<bom xmlns="http://cyclonedx.org/schema/bom/1.4">
  <metadata><tools><tool><name>grype</name><version>0.60</version></tool></tools></metadata>
  <components>
    <component type="library" bom-ref="x"><name>x</name><version>1</version><purl>pkg:pypi/x@1</purl></component>
    <component type="library"><name>Django</name><version>2.2.18</version>
      <v:vulnerabilities xmlns:v="http://cyclonedx.org/schema/ext/vulnerability/1.0">
        <v:vulnerability ref="urn:uuid:1"><v:id>GHSA-xgxc-v2qg-chmh</v:id>
          <v:ratings><v:rating><v:score><v:base>0</v:base></v:score><v:severity>Low</v:severity></v:rating></v:ratings>
          <v:advisories><v:advisory>https://github.com/advisories/GHSA-xgxc-v2qg-chmh</v:advisory></v:advisories>
        </v:vulnerability>
      </v:vulnerabilities>
    </component>
  </components>
  <vulnerabilities>
    <vulnerability><id>CVE-2024-9</id>
      <references><reference><id>GHSA-zzzz</id></reference></references>
      <ratings><rating><source><name>nvd</name></source><score>7.5</score><severity>high</severity><method>CVSSv31</method>
        <vector>CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N</vector></rating></ratings>
      <affects><target><ref>x</ref></target></affects>
    </vulnerability>
    <vulnerability><id>CVE-2024-8</id><analysis><state>not_affected</state></analysis>
      <affects><target><ref>x</ref></target></affects></vulnerability>
  </vulnerabilities>
</bom>"#;
        let d = parse(doc.as_bytes()).unwrap();
        assert_eq!(d.kind, DocKind::SbomWithScan);
        assert_eq!(d.findings.len(), 2);
        let f = &d.findings[0];
        assert_eq!((f.vuln_id.as_str(), f.component), ("CVE-2024-9", 0));
        assert_eq!(f.aliases, vec!["GHSA-zzzz".to_string()]);
        assert_eq!(f.view.scanner, "grype");
        assert_eq!(f.view.severity, Severity::High);
        assert_eq!(f.view.cvss[0].base_score, Some(7.5));
        let g = &d.findings[1];
        assert_eq!(
            (g.vuln_id.as_str(), g.component),
            ("GHSA-xgxc-v2qg-chmh", 1)
        );
        assert_eq!(g.view.severity, Severity::Low);
        assert_eq!(
            g.view.urls,
            vec!["https://github.com/advisories/GHSA-xgxc-v2qg-chmh".to_string()]
        );
    }

    #[test]
    fn malformed_xml_has_a_position() {
        let e = parse(b"<bom xmlns=\"http://cyclonedx.org/schema/bom/1.4\">\n<components>\n<component></components></bom>")
            .unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
        let e = parse(b"<bom><components><component type=\"library\"><name>&nope;</name></component></components></bom>")
            .unwrap_err();
        assert!(e.message.contains("&nope;"), "{e}");
    }
}
