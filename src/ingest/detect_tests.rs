use super::*;

fn fmt_of(b: &str) -> Option<Format> {
    match detect(b.as_bytes()) {
        Detection::Supported { format, .. } => Some(format),
        _ => None,
    }
}

#[test]
fn sniffs_by_content() {
    assert_eq!(
        fmt_of(r#"{"bomFormat":"CycloneDX","specVersion":"1.6","components":[]}"#),
        Some(Format::CycloneDxJson)
    );
    assert_eq!(
        fmt_of(r#"{"spdxVersion":"SPDX-2.3","packages":[]}"#),
        Some(Format::SpdxJson)
    );
    assert_eq!(
        fmt_of(r#"{"SchemaVersion":2,"ArtifactName":"x","Results":[]}"#),
        Some(Format::TrivyJson)
    );
    assert_eq!(
        fmt_of(r#"[{"Target":"x","Vulnerabilities":null}]"#),
        Some(Format::TrivyJson)
    );
    assert_eq!(
        fmt_of(r#"{"matches":[],"source":{},"descriptor":{}}"#),
        Some(Format::GrypeJson)
    );
    assert_eq!(
        fmt_of("SPDXVersion: SPDX-2.2\nDataLicense: CC0-1.0\n"),
        Some(Format::SpdxTagValue)
    );
    assert_eq!(
        fmt_of(r#"<?xml version="1.0"?><bom xmlns="http://cyclonedx.org/schema/bom/1.4"></bom>"#),
        Some(Format::CycloneDxXml)
    );
    assert_eq!(
        fmt_of("sha256:52c1fa53b306f09e32761cfbffae79ceedad6482dec55cdd472de220f41c145b\n"),
        Some(Format::ImageDigest)
    );
}

#[test]
fn a_head_cut_inside_the_big_array_still_gives_a_guess() {
    let grype = br#"{"matches":[{"vulnerability":{"id":"CVE-1"#;
    assert_eq!(guess_streamable(grype), Some(Format::GrypeJson));
    let trivy = br#"{"SchemaVersion":2,"ArtifactName":"a","Results":[{"Target":"t"#;
    assert_eq!(guess_streamable(trivy), Some(Format::TrivyJson));
    // Not a guess of a streamable format: a CycloneDX head, an array, text.
    assert_eq!(
        guess_streamable(br#"{"bomFormat":"CycloneDX","specVersion":"1.5","components":[{"#),
        None
    );
    assert_eq!(
        guess_streamable(br#"[{"Target":"t","Vulnerabilities":[{"#),
        None
    );
    assert_eq!(guess_streamable(b"SchemaVersion: 2\n"), None);
}

#[test]
fn known_format_with_unsupported_version() {
    assert!(matches!(
        detect(br#"{"bomFormat":"CycloneDX","specVersion":"1.1"}"#),
        Detection::UnsupportedVersion {
            format: Format::CycloneDxJson,
            ..
        }
    ));
    assert!(matches!(
        detect(br#"{"spdxVersion":"SPDX-2.1"}"#),
        Detection::UnsupportedVersion {
            format: Format::SpdxJson,
            ..
        }
    ));
}

#[test]
fn unrecognised_says_why_and_truncated_json_still_sniffs() {
    match detect(br#"{"hello":1}"#) {
        Detection::Unrecognised { reason } => assert!(reason.contains("hello"), "{reason}"),
        d => panic!("{d:?}"),
    }
    // A syntax error after the deciding keys still detects; the parser reports the error.
    assert_eq!(
        fmt_of(r#"{"SchemaVersion":2,"ArtifactName":"x","Results":[{"#),
        Some(Format::TrivyJson)
    );
}
