//! SPDX 2.2/2.3 JSON: lenient private wire types (every field optional, unknown fields and
//! values such as `OPERATING-SYSTEM` vs `OPERATING_SYSTEM` tolerated; files and snippets are
//! skipped unread) mapped onto `spdx_model::SpdxDoc`.

use super::cyclonedx_json::{List, L};
use super::spdx_model::{self as m, SpdxDoc};
use super::FormatError;
use crate::model::Document;
use serde::Deserialize;

#[derive(Deserialize, Default)]
#[serde(default)]
struct WDoc {
    #[serde(rename = "SPDXID")]
    id: L,
    name: L,
    #[serde(rename = "documentDescribes")]
    describes: List<L>,
    packages: List<WPackage>,
    relationships: List<WRelationship>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WPackage {
    #[serde(rename = "SPDXID")]
    id: L,
    name: L,
    #[serde(rename = "versionInfo")]
    version: L,
    #[serde(rename = "primaryPackagePurpose")]
    purpose: L,
    #[serde(rename = "licenseConcluded")]
    license_concluded: L,
    #[serde(rename = "licenseDeclared")]
    license_declared: L,
    #[serde(rename = "externalRefs")]
    external_refs: List<WExternalRef>,
    checksums: List<WChecksum>,
    #[serde(rename = "sourceInfo")]
    source_info: L,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WExternalRef {
    #[serde(rename = "referenceType")]
    ref_type: L,
    #[serde(rename = "referenceLocator")]
    locator: L,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WChecksum {
    algorithm: L,
    #[serde(rename = "checksumValue")]
    value: L,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WRelationship {
    #[serde(rename = "spdxElementId")]
    element: L,
    #[serde(rename = "relationshipType")]
    kind: L,
    #[serde(rename = "relatedSpdxElement")]
    related: L,
}

fn package(w: WPackage) -> m::Package {
    let mut p = m::Package {
        id: w.id.0,
        name: w.name.0,
        version: w.version.0,
        purpose: w.purpose.0.as_deref().map(m::normalise_purpose),
        license_concluded: w.license_concluded.0,
        license_declared: w.license_declared.0,
        source_info: w.source_info.0,
        ..m::Package::default()
    };
    for r in w.external_refs.0 {
        if let (Some(t), Some(l)) = (r.ref_type.0, r.locator.0) {
            p.add_external_ref(&t, &l);
        }
    }
    for c in w.checksums.0 {
        if let (Some(a), Some(v)) = (c.algorithm.0, c.value.0) {
            p.add_checksum(&a, &v);
        }
    }
    p
}

/// Only the relationship types `spdx_model::to_document` reads are kept (the others would be
/// held for nothing until the end of a streamed parse).
fn relationship(r: WRelationship) -> Option<(String, String, String)> {
    let kind = r.kind.0?.trim().to_ascii_uppercase();
    if !matches!(
        kind.as_str(),
        "DESCRIBES" | "DESCRIBED_BY" | "CONTAINS" | "DEPENDS_ON" | "DEPENDENCY_OF"
    ) {
        return None;
    }
    Some((r.element.0?, kind, r.related.0?))
}

pub fn parse(bytes: &[u8]) -> Result<Document, FormatError> {
    let w: WDoc = serde_json::from_slice(bytes).map_err(|e| FormatError::json(&e))?;
    let doc = SpdxDoc {
        id: w.id.0,
        name: w.name.0,
        describes: w.describes.0.into_iter().filter_map(|x| x.0).collect(),
        packages: w.packages.0.into_iter().map(package).collect(),
        relationships: w
            .relationships
            .0
            .into_iter()
            .filter_map(relationship)
            .collect(),
    };
    Ok(m::to_document(doc))
}

#[path = "spdx_json_stream.rs"]
pub(super) mod stream;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::merge::merge;
    use crate::model::DocKind;

    const HEX: &str = "52c1fa53b306f09e32761cfbffae79ceedad6482dec55cdd472de220f41c145b";

    /// Syft-style 2.3: no documentDescribes, a DESCRIBES relationship, root CONTAINS, and a
    /// DEPENDENCY_OF edge ("a DEPENDENCY_OF b" = b depends on a).
    fn syft_23() -> String {
        format!(
            r#"{{"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT","name":"reg/app:1.0",
  "packages":[
    {{"SPDXID":"SPDXRef-DocumentRoot-Image-app","name":"reg/app","versionInfo":"1.0","primaryPackagePurpose":"CONTAINER",
      "checksums":[{{"algorithm":"SHA256","checksumValue":"{HEX}"}}],
      "externalRefs":[{{"referenceCategory":"PACKAGE-MANAGER","referenceType":"purl","referenceLocator":"pkg:oci/app@sha256%3A{HEX}?tag=1.0"}}]}},
    {{"SPDXID":"SPDXRef-Package-a","name":"a","versionInfo":"1","licenseConcluded":"NOASSERTION","licenseDeclared":"MIT",
      "sourceInfo":"acquired package info from DPKG DB: /var/lib/dpkg/status",
      "externalRefs":[{{"referenceCategory":"SECURITY","referenceType":"cpe23Type","referenceLocator":"cpe:2.3:a:a:a:1:*:*:*:*:*:*:*"}},
                      {{"referenceCategory":"PACKAGE-MANAGER","referenceType":"purl","referenceLocator":"pkg:deb/debian/a@1?arch=amd64"}}]}},
    {{"SPDXID":"SPDXRef-Package-b","name":"b","versionInfo":"2","primaryPackagePurpose":"OPERATING-SYSTEM","licenseConcluded":"NONE"}}
  ],
  "files":[{{"SPDXID":"SPDXRef-File-x","fileName":"/x","checksums":[]}}],
  "relationships":[
    {{"spdxElementId":"SPDXRef-DOCUMENT","relationshipType":"DESCRIBES","relatedSpdxElement":"SPDXRef-DocumentRoot-Image-app"}},
    {{"spdxElementId":"SPDXRef-DocumentRoot-Image-app","relationshipType":"CONTAINS","relatedSpdxElement":"SPDXRef-Package-b"}},
    {{"spdxElementId":"SPDXRef-Package-a","relationshipType":"DEPENDENCY_OF","relatedSpdxElement":"SPDXRef-Package-b"}},
    {{"spdxElementId":"SPDXRef-Package-a","relationshipType":"CONTAINS","relatedSpdxElement":"SPDXRef-File-x"}}
  ]}}"#
        )
    }

    #[test]
    fn described_root_is_the_subject_and_dependency_of_is_reversed() {
        let d = parse(syft_23().as_bytes()).unwrap();
        assert_eq!(d.kind, DocKind::Sbom);
        let names: Vec<&str> = d.components.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        let s = d.subject.as_ref().unwrap();
        assert_eq!(s.refs, vec!["SPDXRef-DocumentRoot-Image-app".to_string()]);
        assert_eq!(s.reference.as_deref(), Some("reg/app:1.0"));
        assert_eq!(d.image_digests, vec![format!("sha256:{HEX}")]);
        let a = &d.components[0];
        assert_eq!(a.purl.as_deref(), Some("pkg:deb/debian/a@1?arch=amd64"));
        assert_eq!(a.kind, "deb");
        assert_eq!(a.licenses, vec!["MIT".to_string()]);
        assert_eq!(a.locations, vec!["/var/lib/dpkg/status".to_string()]);
        assert_eq!(a.cpes.len(), 1);
        let b = &d.components[1];
        assert_eq!(b.kind, "operating-system");
        assert!(b.licenses.is_empty());
        assert!(d
            .dependencies
            .contains(&("SPDXRef-Package-b".into(), "SPDXRef-Package-a".into())));
        // Merged: b is contained by the image (direct), a only through b (transitive).
        let m = merge(&[(0, "x", &d)]);
        let by: std::collections::HashMap<_, _> = m
            .components
            .iter()
            .map(|c| (c.name.as_str(), c.direct))
            .collect();
        assert_eq!(by["b"], Some(true));
        assert_eq!(by["a"], Some(false));
    }

    #[test]
    fn spdx_2_2_document_describes_and_underscore_purpose() {
        let doc = r#"{"spdxVersion":"SPDX-2.2","SPDXID":"SPDXRef-DOCUMENT","name":"dir",
  "documentDescribes":["SPDXRef-Package-root"],
  "packages":[{"SPDXID":"SPDXRef-Package-root","name":"root"},
    {"SPDXID":"SPDXRef-Package-os","name":"alpine","versionInfo":"3.16","primaryPackagePurpose":"OPERATING_SYSTEM",
     "externalRefs":[{"referenceCategory":"PACKAGE_MANAGER","referenceType":"purl","referenceLocator":"pkg:apk/alpine/musl@1.2"}]},
    {"SPDXID":"SPDXRef-Package-c","name":"c","versionInfo":"1"}],
  "relationships":[{"spdxElementId":"SPDXRef-Package-root","relationshipType":"DEPENDS_ON","relatedSpdxElement":"SPDXRef-Package-c"}]}"#;
        let d = parse(doc.as_bytes()).unwrap();
        assert_eq!(d.components.len(), 2);
        assert_eq!(
            d.components[0].purl.as_deref(),
            Some("pkg:apk/alpine/musl@1.2")
        );
        assert_eq!(d.components[1].kind, "package");
        assert_eq!(
            d.subject.as_ref().unwrap().refs,
            vec!["SPDXRef-Package-root".to_string()]
        );
        assert_eq!(
            d.dependencies,
            vec![("SPDXRef-Package-root".into(), "SPDXRef-Package-c".into())]
        );
        assert!(d.image_digests.is_empty());
    }

    #[test]
    fn malformed_json_reports_line_and_column() {
        let e =
            parse(b"{\"spdxVersion\":\"SPDX-2.3\",\n\"packages\":[{\"name\" \"x\"}]}").unwrap_err();
        assert_eq!(e.line, Some(2));
        assert!(e.column.is_some());
    }
}
