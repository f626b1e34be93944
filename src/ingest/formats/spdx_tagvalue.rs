//! SPDX 2.2/2.3 tag-value: a line reader (`Tag: value`, `<text>...</text>` values over
//! several lines, a new package at each `PackageName`, files and snippets ending the current
//! package, `Relationship:` lines anywhere) filling `spdx_model::SpdxDoc` in place, so the
//! last package keeps its `ExternalRef`s and `PrimaryPackagePurpose` is kept.

use super::spdx_model::{self as m, SpdxDoc};
use super::FormatError;
use crate::model::Document;

/// Which element the lines being read describe.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Current {
    Document,
    Package(usize),
    /// A file, snippet or extracted licence: nothing of it is kept.
    Other,
}

/// The value of a tag, reading on when it opens a `<text>` block.
fn value<'a>(
    first: &'a str,
    lines: &mut impl Iterator<Item = (usize, &'a str)>,
    line_no: usize,
) -> Result<String, FormatError> {
    let v = first.trim();
    let Some(rest) = v.strip_prefix("<text>") else {
        return Ok(v.to_string());
    };
    if let Some(end) = rest.find("</text>") {
        return Ok(rest[..end].to_string());
    }
    let mut text = rest.to_string();
    for (_, l) in lines.by_ref() {
        text.push('\n');
        if let Some(end) = l.find("</text>") {
            text.push_str(&l[..end]);
            return Ok(text);
        }
        text.push_str(l);
    }
    Err(FormatError::at(
        "<text> block is never closed by </text>",
        line_no as u64,
        None,
    ))
}

pub fn parse(bytes: &[u8]) -> Result<Document, FormatError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let off = e.valid_up_to() as u64;
        FormatError::at_offset("SPDX tag-value is not valid UTF-8", bytes, off)
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut doc = SpdxDoc::default();
    let mut cur = Current::Document;
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_end_matches('\r')));
    while let Some((no, line)) = lines.next() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let Some((tag, rest)) = line.split_once(':') else {
            return Err(FormatError::at(
                format!(
                    "expected `Tag: value`, found '{}'",
                    crate::sanitize::line(t, 60)
                ),
                no as u64,
                Some(1),
            ));
        };
        let tag = tag.trim();
        let v = value(rest, &mut lines, no)?;
        match (tag, cur) {
            ("PackageName", _) => {
                doc.packages.push(m::Package {
                    name: Some(v),
                    ..m::Package::default()
                });
                cur = Current::Package(doc.packages.len() - 1);
            }
            ("FileName" | "SnippetSPDXID" | "LicenseID", _) => cur = Current::Other,
            ("Relationship", _) => {
                let mut parts = v.split_whitespace();
                if let (Some(a), Some(r), Some(b)) = (parts.next(), parts.next(), parts.next()) {
                    doc.relationships
                        .push((a.to_string(), r.to_ascii_uppercase(), b.to_string()));
                }
            }
            ("SPDXID", Current::Document) => {
                doc.id.get_or_insert(v);
            }
            ("DocumentName", _) => doc.name = Some(v),
            (_, Current::Package(i)) => {
                let p = &mut doc.packages[i];
                match tag {
                    "SPDXID" => p.id = Some(v),
                    "PackageVersion" => p.version = Some(v),
                    "PrimaryPackagePurpose" => p.purpose = Some(m::normalise_purpose(&v)),
                    "PackageLicenseConcluded" => p.license_concluded = Some(v),
                    "PackageLicenseDeclared" => p.license_declared = Some(v),
                    "PackageSourceInfo" => p.source_info = Some(v),
                    "PackageChecksum" => {
                        if let Some((alg, hex)) = v.split_once(':') {
                            p.add_checksum(alg, hex);
                        }
                    }
                    "ExternalRef" => {
                        let mut parts = v.split_whitespace();
                        if let (Some(_category), Some(ty), Some(loc)) =
                            (parts.next(), parts.next(), parts.next())
                        {
                            p.add_external_ref(ty, loc);
                        }
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
    Ok(m::to_document(doc))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "SPDXVersion: SPDX-2.3
DataLicense: CC0-1.0
SPDXID: SPDXRef-DOCUMENT
DocumentName: reg/app
DocumentComment: <text>first line
second: line with a colon
</text>

##### Package: reg/app

PackageName: reg/app
SPDXID: SPDXRef-DocumentRoot-Image-app
PackageVersion: sha256:52c1fa53b306f09e32761cfbffae79ceedad6482dec55cdd472de220f41c145b
PrimaryPackagePurpose: CONTAINER

##### Package: a

PackageName: a
SPDXID: SPDXRef-Package-a
PackageVersion: 1
PrimaryPackagePurpose: LIBRARY
PackageLicenseDeclared: MIT
PackageCopyrightText: <text>Copyright
  PackageName: not-a-package
</text>
ExternalRef: PACKAGE-MANAGER purl pkg:npm/a@1

FileName: /a/index.js
SPDXID: SPDXRef-File-a
LicenseConcluded: NOASSERTION

PackageName: b
SPDXID: SPDXRef-Package-b
PackageVersion: 2
PrimaryPackagePurpose: OPERATING_SYSTEM
ExternalRef: SECURITY cpe23Type cpe:2.3:a:b:b:2:*:*:*:*:*:*:*
ExternalRef: PACKAGE-MANAGER purl pkg:deb/debian/b@2?arch=amd64

##### Relationships

Relationship: SPDXRef-DOCUMENT DESCRIBES SPDXRef-DocumentRoot-Image-app
Relationship: SPDXRef-Package-a DEPENDENCY_OF SPDXRef-Package-b
Relationship: SPDXRef-DocumentRoot-Image-app CONTAINS SPDXRef-Package-b
";

    #[test]
    fn packages_text_blocks_files_and_the_last_packages_refs() {
        let d = parse(DOC.as_bytes()).unwrap();
        let names: Vec<&str> = d.components.iter().map(|c| c.name.as_str()).collect();
        // The PackageName inside <text> is text, the file is not a package, the root is the subject.
        assert_eq!(names, ["a", "b"]);
        assert_eq!(d.components[0].purl.as_deref(), Some("pkg:npm/a@1"));
        assert_eq!(
            d.components[0].local_ref.as_deref(),
            Some("SPDXRef-Package-a")
        );
        // The last package before the relationships keeps its ExternalRefs (spdx-rs loses them).
        assert_eq!(
            d.components[1].purl.as_deref(),
            Some("pkg:deb/debian/b@2?arch=amd64")
        );
        assert_eq!(d.components[1].cpes.len(), 1);
        let s = d.subject.as_ref().unwrap();
        assert_eq!(s.refs, vec!["SPDXRef-DocumentRoot-Image-app".to_string()]);
        assert_eq!(
            d.image_digests,
            vec![
                "sha256:52c1fa53b306f09e32761cfbffae79ceedad6482dec55cdd472de220f41c145b"
                    .to_string()
            ]
        );
        assert!(d
            .dependencies
            .contains(&("SPDXRef-Package-b".into(), "SPDXRef-Package-a".into())));
    }

    #[test]
    fn purpose_is_kept_for_packages_without_purl() {
        let doc = "SPDXVersion: SPDX-2.2\nSPDXID: SPDXRef-DOCUMENT\nPackageName: k\nSPDXID: SPDXRef-k\nPackageVersion: 1\nPrimaryPackagePurpose: OPERATING_SYSTEM\n";
        let d = parse(doc.as_bytes()).unwrap();
        assert_eq!(d.components.len(), 1);
        assert_eq!(d.components[0].kind, "operating-system");
        assert!(d.subject.as_ref().unwrap().refs.is_empty());
    }

    #[test]
    fn malformed_lines_and_open_text_blocks_name_the_line() {
        let e =
            parse(b"SPDXVersion: SPDX-2.3\nPackageName: x\nthis line has no tag\n").unwrap_err();
        assert_eq!((e.line, e.column), (Some(3), Some(1)));
        let e = parse(b"SPDXVersion: SPDX-2.3\n\nPackageComment: <text>never closed\nmore\n")
            .unwrap_err();
        assert_eq!(e.line, Some(3));
        assert!(e.message.contains("</text>"));
    }
}
