//! The streamed SBOM parse (CycloneDX JSON, SPDX JSON) must give what the whole-document
//! parse gives: the same document (findings included, in order), the same error text and
//! line for broken input, and a refusal (so the whole parse runs) for what it cannot follow.

use super::stream::{FindingSink, StreamError};
use super::{parse, parse_reader, streamable};
use crate::devgen::synthetic::{generate, SynthFormat, SynthOptions};
use crate::ingest::detect::Format;
use crate::model::{Document, FindingRecord};

#[derive(Default)]
struct Collect(Vec<FindingRecord>);

impl FindingSink for Collect {
    fn finding(&mut self, f: FindingRecord) -> Result<(), String> {
        self.0.push(f);
        Ok(())
    }
}

fn streamed(format: Format, bytes: &[u8]) -> Result<Document, StreamError> {
    let mut sink = Collect::default();
    let s = parse_reader(format, bytes, &mut sink)?;
    assert_eq!(s.late_scanner_version, None);
    let mut doc = s.doc;
    assert!(doc.findings.is_empty(), "findings must go to the sink");
    doc.findings = sink.0;
    Ok(doc)
}

fn both_ways(format: Format, bytes: &[u8]) -> Document {
    let whole = parse(format, bytes).unwrap();
    let s = streamed(format, bytes).unwrap();
    assert_eq!(s, whole);
    whole
}

const HEX: &str = "52c1fa53b306f09e32761cfbffae79ceedad6482dec55cdd472de220f41c145b";

/// Nested components, a file and the subject repeated as a component, odd scalar types,
/// metadata after the components, vulnerabilities (one VEX entry, one unknown ref).
fn cdx_doc() -> String {
    format!(
        r#"{{"bomFormat":"CycloneDX","specVersion":"1.6","serialNumber":"urn:uuid:1",
  "components":[
    {{"bom-ref":"a","type":"library","name":"a","version":"1","purl":"pkg:npm/a@1",
      "licenses":[{{"license":{{"id":"MIT"}}}},{{"expression":"Apache-2.0 OR MIT"}}],
      "hashes":[{{"alg":"SHA-256","content":"{HEX}"}}],
      "properties":[{{"name":"syft:location:0:path","value":"/app/a/package.json"}},
                    {{"name":"syft:cpe23","value":"cpe:2.3:a:a:a:1:*:*:*:*:*:*:*"}}],
      "components":[{{"bom-ref":"b","type":"library","name":"b","version":2,"purl":"pkg:npm/b@2"}}]}},
    {{"bom-ref":"f","type":"file","name":"/etc/passwd"}},
    {{"bom-ref":"pkg:oci/app@sha256%3A{HEX}","type":"container","name":"app","purl":"pkg:oci/app@sha256%3A{HEX}"}},
    {{"bom-ref":"x","type":"library","name":"x","version":"1","purl":"pkg:deb/debian/x@1?arch=amd64",
      "evidence":{{"occurrences":[{{"location":"/usr/lib/x"}}]}}}}
  ],
  "dependencies":[{{"ref":"pkg:oci/app@sha256%3A{HEX}","dependsOn":["a","x"]}},{{"ref":"a","dependsOn":["b",null]}},{{"ref":"b"}},{{"dependsOn":["a"]}}],
  "metadata":{{"timestamp":"2024-01-01T00:00:00Z",
    "tools":{{"components":[{{"type":"application","name":"trivy","version":"0.50.0"}}]}},
    "component":{{"bom-ref":"pkg:oci/app@sha256%3A{HEX}","type":"container","name":"reg/app:1.0",
      "purl":"pkg:oci/app@sha256%3A{HEX}","properties":[{{"name":"aquasecurity:trivy:RepoDigest","value":"reg/app@sha256:{HEX}"}}]}},
    "properties":[{{"name":"aquasecurity:trivy:SchemaVersion","value":"2"}}]}},
  "vulnerabilities":[
    {{"id":"CVE-2024-1","source":{{"name":"debian","url":"https://d/1"}},"references":[{{"id":"GHSA-aaaa"}}],
      "ratings":[{{"source":{{"name":"nvd"}},"score":9.8,"severity":"critical","method":"CVSSv31","vector":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}},
                 {{"source":{{"name":"FIRST"}},"score":0.03,"method":"other"}}],
      "description":"bad","recommendation":"Upgrade x to version 1.1","published":"2024-01-01",
      "affects":[{{"ref":"x"}},{{"ref":"a"}},{{"ref":"missing"}}]}},
    {{"id":"CVE-2024-2","analysis":{{"state":"not_affected"}},"affects":[{{"ref":"x"}}]}},
    {{"id":"GHSA-bbbb","affects":[{{"ref":"b"}}]}}
  ]}}"#
    )
}

fn spdx_doc() -> String {
    format!(
        r#"{{"spdxVersion":"SPDX-2.3","dataLicense":"CC0-1.0","SPDXID":"SPDXRef-DOCUMENT","name":"reg/app:1.0",
  "packages":[
    {{"SPDXID":"SPDXRef-DocumentRoot-Image-app","name":"reg/app","versionInfo":"1.0","primaryPackagePurpose":"CONTAINER",
      "checksums":[{{"algorithm":"SHA256","checksumValue":"{HEX}"}}],
      "externalRefs":[{{"referenceCategory":"PACKAGE-MANAGER","referenceType":"purl","referenceLocator":"pkg:oci/app@sha256%3A{HEX}?tag=1.0"}}]}},
    {{"SPDXID":"SPDXRef-Package-a","name":"a","versionInfo":"1","licenseConcluded":"NOASSERTION","licenseDeclared":"MIT",
      "sourceInfo":"acquired package info from DPKG DB: /var/lib/dpkg/status",
      "externalRefs":[{{"referenceCategory":"SECURITY","referenceType":"cpe23Type","referenceLocator":"cpe:2.3:a:a:a:1:*:*:*:*:*:*:*"}},
                      {{"referenceCategory":"PACKAGE-MANAGER","referenceType":"purl","referenceLocator":"pkg:deb/debian/a@1?arch=amd64"}}]}},
    {{"SPDXID":"SPDXRef-Package-b","name":"b","versionInfo":2,"primaryPackagePurpose":"OPERATING_SYSTEM","licenseConcluded":"NONE"}}
  ],
  "files":[{{"SPDXID":"SPDXRef-File-x","fileName":"/x","checksums":[]}}],
  "relationships":[
    {{"spdxElementId":"SPDXRef-DOCUMENT","relationshipType":"DESCRIBES","relatedSpdxElement":"SPDXRef-DocumentRoot-Image-app"}},
    {{"spdxElementId":"SPDXRef-DocumentRoot-Image-app","relationshipType":"CONTAINS","relatedSpdxElement":"SPDXRef-Package-b"}},
    {{"spdxElementId":"SPDXRef-Package-a","relationshipType":"dependency_of","relatedSpdxElement":"SPDXRef-Package-b"}},
    {{"spdxElementId":"SPDXRef-Package-a","relationshipType":"CONTAINS","relatedSpdxElement":"SPDXRef-File-x"}},
    {{"spdxElementId":"SPDXRef-Package-a","relatedSpdxElement":"SPDXRef-File-x"}}
  ],
  "documentDescribes":["SPDXRef-Package-a"]}}"#
    )
}

#[test]
fn only_the_json_sboms_and_the_scan_reports_stream() {
    assert!(streamable(Format::CycloneDxJson));
    assert!(streamable(Format::SpdxJson));
    assert!(streamable(Format::TrivyJson));
    assert!(!streamable(Format::CycloneDxXml));
    assert!(!streamable(Format::SpdxTagValue));
}

#[test]
fn cyclonedx_streams_to_the_same_document() {
    let d = both_ways(Format::CycloneDxJson, cdx_doc().as_bytes());
    // Counted in the text above: a, b, x (the file and the repeated subject are not
    // components); CVE-2024-1 on x and a, GHSA-bbbb on b; the VEX entry is no finding.
    let names: Vec<&str> = d.components.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["a", "b", "x"]);
    let ids: Vec<(&str, usize)> = d
        .findings
        .iter()
        .map(|f| (f.vuln_id.as_str(), f.component))
        .collect();
    assert_eq!(
        ids,
        [("CVE-2024-1", 2), ("CVE-2024-1", 0), ("GHSA-bbbb", 1)]
    );
    assert_eq!(d.image_digests, vec![format!("sha256:{HEX}")]);
    assert_eq!(d.warnings.len(), 1, "{:?}", d.warnings);
}

#[test]
fn spdx_streams_to_the_same_document() {
    let d = both_ways(Format::SpdxJson, spdx_doc().as_bytes());
    let names: Vec<&str> = d.components.iter().map(|c| c.name.as_str()).collect();
    // documentDescribes (after the packages here) makes `a` a described root too.
    assert_eq!(names, ["b"]);
    assert_eq!(d.subject.as_ref().unwrap().refs.len(), 2);
    assert!(d
        .dependencies
        .contains(&("SPDXRef-Package-b".into(), "SPDXRef-Package-a".into())));
}

#[test]
fn lenient_lists_and_empty_documents_stream_alike() {
    for (format, doc) in [
        (
            Format::CycloneDxJson,
            r#"{"bomFormat":"CycloneDX","specVersion":"1.5"}"#,
        ),
        (
            Format::CycloneDxJson,
            r#"{"bomFormat":"CycloneDX","components":null,"dependencies":{"a":1},"vulnerabilities":"x","metadata":null}"#,
        ),
        (
            Format::CycloneDxJson,
            r#"{"bomFormat":"CycloneDX","components":[],"dependencies":7,"vulnerabilities":true,"metadata":{"tools":[{"name":"syft"}]}}"#,
        ),
        (
            Format::SpdxJson,
            r#"{"spdxVersion":"SPDX-2.2","SPDXID":null,"name":5,"packages":"none","relationships":null,"documentDescribes":{}}"#,
        ),
        (Format::SpdxJson, r#"{"spdxVersion":"SPDX-2.3"}"#),
    ] {
        both_ways(format, doc.as_bytes());
    }
}

#[test]
fn generated_sboms_stream_to_the_same_document() {
    let dir = tempfile::tempdir().unwrap();
    let opts = SynthOptions {
        seed: 7,
        components: 300,
        findings: 0,
        formats: vec![SynthFormat::CycloneDx, SynthFormat::Spdx],
    };
    for (path, _) in generate(&opts, dir.path()).unwrap() {
        let bytes = std::fs::read(&path).unwrap();
        let format = match crate::ingest::detect::detect(&bytes) {
            crate::ingest::detect::Detection::Supported { format, .. } => format,
            other => panic!("{other:?}"),
        };
        // Counted from the raw JSON: top-level `components` / `packages` entries.
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let listed = v
            .get("components")
            .or_else(|| v.get("packages"))
            .and_then(|x| x.as_array())
            .map_or(0, Vec::len);
        assert!(listed >= 300, "{listed}");
        let d = both_ways(format, &bytes);
        assert!(!d.components.is_empty() && d.components.len() <= listed);
        assert!(!d.dependencies.is_empty());
    }
}

#[test]
fn a_document_written_as_an_array_is_left_to_the_whole_parse() {
    for format in [Format::CycloneDxJson, Format::SpdxJson] {
        assert!(matches!(
            parse_reader(format, &b"[{}, [], [], []]"[..], &mut Collect::default()),
            Err(StreamError::Unstreamable(_))
        ));
    }
}

#[test]
fn an_spdx_document_with_cyclonedx_keys_is_left_to_the_whole_parse() {
    // The file's head said SPDX; the whole file's detection would see `bomFormat` too.
    let d =
        br#"{"spdxVersion":"SPDX-2.3","packages":[],"bomFormat":"CycloneDX","specVersion":"1.6"}"#;
    assert!(matches!(
        parse_reader(Format::SpdxJson, &d[..], &mut Collect::default()),
        Err(StreamError::Unstreamable(_))
    ));
}

#[test]
fn broken_sboms_fail_with_the_whole_parse_message_and_position() {
    let cdx = cdx_doc();
    let spdx = spdx_doc();
    let cut = |s: &str, at: &str| s[..s.find(at).unwrap() + 40].to_string();
    let cases: Vec<(Format, String)> = vec![
        // Truncated inside the component list and inside the relationships.
        (Format::CycloneDxJson, cut(&cdx, "\"bom-ref\":\"x\"")),
        (Format::SpdxJson, cut(&spdx, "\"relationships\"")),
        // A component that is not an object, in the middle of the list.
        (
            Format::CycloneDxJson,
            r#"{"bomFormat":"CycloneDX","components":[{"name":"a"},
            42,
            {"name":"b"}]}"#
                .into(),
        ),
        (
            Format::SpdxJson,
            r#"{"spdxVersion":"SPDX-2.3","packages":[{"name":"a"}],"packages":[]}"#.into(),
        ),
        (
            Format::CycloneDxJson,
            r#"{"bomFormat":"CycloneDX","metadata":{},"metadata":{}}"#.into(),
        ),
        (
            Format::SpdxJson,
            "{\"spdxVersion\":\"SPDX-2.3\",\n\"packages\":[{\"name\" \"x\"}]}".into(),
        ),
        (
            Format::CycloneDxJson,
            r#"{"bomFormat":"CycloneDX","components":[]} trailing"#.into(),
        ),
    ];
    for (format, text) in cases {
        let whole = parse(format, text.as_bytes()).unwrap_err();
        let err = match parse_reader(format, text.as_bytes(), &mut Collect::default()) {
            Err(StreamError::Format(e)) => e,
            other => panic!("{text}: {other:?}"),
        };
        // serde_json's reader may count the column one byte further on (it has consumed
        // the byte it peeked); message and line are the same.
        assert_eq!((&err.message, err.line), (&whole.message, whole.line));
        let (c, w) = (err.column.unwrap(), whole.column.unwrap());
        assert!(c.abs_diff(w) <= 1, "{err} vs {whole}");
    }
}

#[test]
fn nesting_limits_apply_to_the_stream_too() {
    for depth in [70, 200] {
        let mut s = String::new();
        for _ in 0..depth {
            s.push_str(r#"{"type":"library","name":"x","components":["#);
        }
        for _ in 0..depth {
            s.push_str("]}");
        }
        let doc = format!(r#"{{"bomFormat":"CycloneDX","specVersion":"1.4","components":[{s}]}}"#);
        let whole = parse(Format::CycloneDxJson, doc.as_bytes()).unwrap_err();
        let err = match parse_reader(
            Format::CycloneDxJson,
            doc.as_bytes(),
            &mut Collect::default(),
        ) {
            Err(StreamError::Format(e)) => e,
            other => panic!("{other:?}"),
        };
        assert_eq!(err.message, whole.message);
        assert!(
            err.message.contains("recursion limit") || err.message.contains("nested deeper"),
            "{err}"
        );
    }
}

#[test]
fn a_failing_sink_stops_the_parse_with_its_own_message() {
    struct Full;
    impl FindingSink for Full {
        fn finding(&mut self, _: FindingRecord) -> Result<(), String> {
            Err("disk full".into())
        }
    }
    match parse_reader(Format::CycloneDxJson, cdx_doc().as_bytes(), &mut Full) {
        Err(StreamError::Sink(m)) => assert_eq!(m, "disk full"),
        other => panic!("{other:?}"),
    }
}

/// The stream read `chunk` bytes at a time (elements and strings cut across reads).
fn chunked(format: Format, bytes: &[u8], chunk: usize) -> Result<Document, StreamError> {
    let mut sink = Collect::default();
    let s = match format {
        Format::CycloneDxJson => {
            super::cyclonedx_json::stream::parse_chunked(bytes, &mut sink, chunk, 1 << 20)
        }
        _ => super::spdx_json::stream::parse_chunked(bytes, &mut sink, chunk, 1 << 20),
    }?;
    let mut doc = s.doc;
    doc.findings = sink.0;
    Ok(doc)
}

/// Escapes (in keys, values and refs), keys in an unusual order, nulls and odd types.
fn hostile_cdx() -> String {
    r#"{"components":[{"bom-ref":"a\"1","type":"library","name":"a\u0000b\\c","version":null,
      "purl":"pkg:npm/a%22@1","licenses":[{"license":{"name":"Custom \u00e9"}},{},{"expression":null}],
      "properties":[{"value":"/x","name":"syft:location:0:path"},{"name":null},{"name":"syft:cpe23","value":7}]},
     {"name":"\ud83d\ude00","type":null,"bom-ref":"b","components":null},
     {"bom-ref":"c","name":"c","version":1.5e3,"purl":"pkg:pypi/c@1500","unknown":{"deep":[[[]]]}}],
  "dependencies":[{"dependsOn":["b","c"],"ref":"a\"1"},{"ref":"b","dependsOn":null},{}],
  "bomFormat":"CycloneDX","metadata":{"component":{"name":"img","type":"container","bom-ref":"root"}},
  "vulnerabilities":[{"id":"CVE-1","affects":[{"ref":"a\"1"},{"ref":"nope"}],"ratings":[{"severity":"high","method":"CVSSv31","score":"7.5"}]}]}"#
        .into()
}

fn hostile_spdx() -> String {
    r#"{"packages":[{"SPDXID":"SPDXRef-r","name":"img","primaryPackagePurpose":"CONTAINER","versionInfo":"1"},
     {"name":"q\"uote","SPDXID":"SPDXRef-\u0041","licenseDeclared":null,"externalRefs":[{"referenceLocator":"pkg:deb/x@1","referenceType":"purl"},{}],"checksums":null},
     {"name":"nameless-id"}],
  "spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT","documentDescribes":["SPDXRef-r",null,3],
  "relationships":[{"relatedSpdxElement":"SPDXRef-A","relationshipType":"contains","spdxElementId":"SPDXRef-r"},
    {"spdxElementId":"SPDXRef-A","relationshipType":"OTHER","relatedSpdxElement":"SPDXRef-r"}],"files":[{"x":[1,2,{"y":null}]}]}"#
        .into()
}

#[test]
fn every_chunk_size_gives_the_whole_parse_document() {
    let cases = [
        (Format::CycloneDxJson, cdx_doc()),
        (Format::SpdxJson, spdx_doc()),
        (Format::CycloneDxJson, hostile_cdx()),
        (Format::SpdxJson, hostile_spdx()),
    ];
    for (format, text) in cases {
        let whole = parse(format, text.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        for chunk in [1, 2, 7, 64, 1 << 16] {
            assert_eq!(
                chunked(format, text.as_bytes(), chunk).unwrap(),
                whole,
                "{chunk}"
            );
        }
    }
    // What the hostile documents hold, worked out from their text.
    let d = parse(Format::CycloneDxJson, hostile_cdx().as_bytes()).unwrap();
    let names: Vec<&str> = d.components.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["a\u{0}b\\c", "\u{1F600}", "c"]);
    assert_eq!(d.components[0].local_ref.as_deref(), Some("a\"1"));
    assert_eq!(d.components[0].licenses, ["Custom é"]);
    assert_eq!(d.components[0].cpes, ["7"]);
    assert_eq!(d.components[2].version.as_deref(), Some("1500"));
    assert_eq!(d.findings.len(), 1);
    assert_eq!(
        d.dependencies,
        [
            ("a\"1".to_string(), "b".to_string()),
            ("a\"1".into(), "c".into())
        ]
    );
    let s = parse(Format::SpdxJson, hostile_spdx().as_bytes()).unwrap();
    let names: Vec<&str> = s.components.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["q\"uote", "nameless-id"]);
    assert_eq!(s.components[0].local_ref.as_deref(), Some("SPDXRef-A"));
    // A number in `documentDescribes` reads as text, as every lenient scalar does.
    assert_eq!(s.subject.unwrap().refs, ["SPDXRef-r", "3"]);
}

#[test]
fn broken_sboms_fail_at_the_same_position_for_every_chunk_size() {
    let cases: Vec<(Format, String)> = vec![
        (
            Format::CycloneDxJson,
            hostile_cdx().replace("\"c\",\"name\"", "\"c\" \"name\""),
        ),
        (
            Format::CycloneDxJson,
            hostile_cdx().replace("\"name\":\"c\"", "\"name\":\"c\",\"name\":\"d\""),
        ),
        (Format::CycloneDxJson, hostile_cdx()[..300].to_string()),
        (
            Format::CycloneDxJson,
            hostile_cdx().replace("1.5e3", "1.5e"),
        ),
        (
            Format::SpdxJson,
            hostile_spdx().replace("\"versionInfo\":\"1\"", "\"versionInfo\":tru"),
        ),
        (
            Format::SpdxJson,
            hostile_spdx().replace("\"files\":", "\"SPDXID\":1,\"files\":"),
        ),
        (Format::SpdxJson, format!("{}\n,", hostile_spdx())),
    ];
    for (format, text) in cases {
        let whole = parse(format, text.as_bytes()).unwrap_err();
        for chunk in [1, 5, 1 << 16] {
            let err = match chunked(format, text.as_bytes(), chunk) {
                Err(StreamError::Format(e)) => e,
                other => panic!("{text}: {other:?}"),
            };
            assert_eq!(
                (&err.message, err.line, err.column),
                (&whole.message, whole.line, whole.column),
                "{text}"
            );
        }
    }
}
