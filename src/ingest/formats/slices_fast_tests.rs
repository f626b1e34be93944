//! The one-pass element walk (`Json::elements` + `one`) against the general walk (`span`
//! then `parse`) and the whole-document parse, record by record, on our fixtures and on
//! hostile elements: escapes (in keys too), unusual key order, duplicate keys, unknown
//! fields, nulls, huge numbers, odd whitespace and separators.

use super::super::super::stream::{parse_chunked, FindingSink, StreamError};
use super::super::super::FormatError;
use super::super::MAX_VALUE;
use super::fast_taken;
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

/// A reader that hands over one byte per call, so the buffer never holds more than the
/// walk asked for and no element is ever whole in it when the walk reaches it.
struct OneByte<'a>(&'a [u8]);

impl std::io::Read for OneByte<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match (self.0.split_first(), buf.first_mut()) {
            (Some((b, rest)), Some(out)) => {
                *out = *b;
                self.0 = rest;
                Ok(1)
            }
            _ => Ok(0),
        }
    }
}

/// The streamed parse (1 MiB reads, or one byte per read), and how many elements the
/// fast walk took.
fn streamed(
    format: Format,
    bytes: &[u8],
    bytewise: bool,
) -> (Result<Document, StreamError>, usize) {
    let before = fast_taken();
    let mut sink = Collect::default();
    let r = if bytewise {
        parse_chunked(format, OneByte(bytes), &mut sink, 1, MAX_VALUE)
    } else {
        parse_chunked(format, bytes, &mut sink, 1 << 20, MAX_VALUE)
    };
    let r = r.map(|(s, _)| {
        let mut doc = s.doc;
        doc.findings = sink.0;
        for f in &mut doc.findings {
            if f.view.scanner_version.is_none() {
                f.view.scanner_version.clone_from(&s.late_scanner_version);
            }
        }
        doc
    });
    (r, fast_taken() - before)
}

fn whole(format: Format, bytes: &[u8]) -> Result<Document, FormatError> {
    super::super::super::parse(format, bytes)
}

/// Whole parse, fast walk (one large read) and general walk (one byte per read) agree: the same records in the same order, or the
/// same error at the same place. Returns the fast walk's element count.
fn agree(format: Format, bytes: &[u8]) -> usize {
    let w = whole(format, bytes);
    let (fast, taken) = streamed(format, bytes, false);
    let (slow, slow_taken) = streamed(format, bytes, true);
    assert_eq!(
        slow_taken, 0,
        "one byte per read never holds a whole element"
    );
    let text = String::from_utf8_lossy(bytes);
    for (name, s) in [("fast", fast), ("general", slow)] {
        match (&w, s) {
            (Ok(w), Ok(s)) => {
                assert_eq!(s.findings.len(), w.findings.len(), "{name}: {text}");
                for (a, b) in s.findings.iter().zip(&w.findings) {
                    assert_eq!(a, b, "{name}: {text}");
                }
                assert_eq!(&s, w, "{name}: {text}");
            }
            (Err(w), Err(StreamError::Format(s))) => assert_eq!(&s, w, "{name}: {text}"),
            (w, s) => panic!("{name}: whole {w:?} but streamed {s:?}: {text}"),
        }
    }
    taken
}

fn trivy(elements: &[&str]) -> String {
    format!(
        r#"{{"Trivy":{{"Version":"0.58.1"}},"Results":[{{"Target":"t","Type":"debian","Vulnerabilities":[{}]}}]}}"#,
        elements.join(",\n  ")
    )
}

fn grype(elements: &[&str]) -> String {
    format!(
        r#"{{"matches":[{}],"descriptor":{{"name":"grype","version":"0.80.0"}}}}"#,
        elements.join(" ,\t")
    )
}

const T_PLAIN: &str = r#"{"VulnerabilityID":"CVE-1","PkgName":"a","PkgIdentifier":{"PURL":"pkg:deb/debian/a@1?arch=amd64"},"InstalledVersion":"1","FixedVersion":"2, 3","Status":"fixed","Severity":"HIGH","VendorSeverity":{"nvd":3,"debian":1},"VendorIDs":["DSA-1"],"CVSS":{"nvd":{"V3Vector":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H","V3Score":9.8}},"References":["https://x/1","https://x/1","https://x/2"]}"#;

/// Trivy elements the whole parse accepts or refuses in ways a hand scanner could miss.
const T_HOSTILE: &[&str] = &[
    // Escapes in keys and values, a key spelled with an escape.
    r#"{"Vulnerability\u0049D":"CVE-\u0032","PkgName":"a\"b\\c","InstalledVersion":"\t1\n","Title":"\ud83d\ude00 ]},{"}"#,
    // Unusual key order, nulls everywhere, unknown fields of every shape.
    r#"{"Severity":null,"Zzz":{"a":[1,2,{"b":null}]},"PkgName":null,"VulnerabilityID":"CVE-3","Unknown":[[[]]],"CVSS":null,"VendorSeverity":null,"References":null}"#,
    // A duplicate unknown field is accepted; duplicate map keys: the last wins.
    r#"{"VulnerabilityID":"CVE-4","X":1,"X":2,"VendorSeverity":{"nvd":1,"nvd":4,"a":2},"CVSS":{"b":{"V2Score":1},"a":{"V40Score":2.5},"b":{"V3Score":3}}}"#,
    // Huge and odd numbers where any number is read (unknown fields) and where f64s are.
    r#"{"VulnerabilityID":"CVE-5","Big":123456789012345678901234567890,"Neg":-0.0e-0,"CVSS":{"n":{"V3Score":1e308,"V2Score":-0}}}"#,
    // Whitespace of every kind inside.
    "{ \"VulnerabilityID\" :\r\n\t\"CVE-6\" , \"PkgName\" : \"w\" }",
    // An empty id is skipped with a warning; a blank name becomes `unknown`.
    r#"{"VulnerabilityID":"  ","PkgName":"a"}"#,
    r#"{"VulnerabilityID":"CVE-7","PkgName":" ","Severity":"weird","SeveritySource":"nvd","VendorSeverity":{"nvd":4}}"#,
    // The same component spelled through an escape, and again plainly (the cache).
    r#"{"VulnerabilityID":"CVE-8","PkgName":"\u0061","PkgIdentifier":{"PURL":"pkg:deb/debian/a@1?arch=amd64"},"InstalledVersion":"1"}"#,
];

/// Trivy elements the whole parse refuses: the stream refuses them at the same place.
const T_BROKEN: &[&str] = &[
    r#"{"VulnerabilityID":"CVE-9","VulnerabilityID":"CVE-10"}"#,
    r#"{"VulnerabilityID":"CVE-11","VendorSeverity":{"nvd":99999999999999999999}}"#,
    r#"{"VulnerabilityID":"CVE-12","VendorSeverity":{"nvd":2.0}}"#,
    r#"{"VulnerabilityID":"CVE-13","CVSS":{"n":{"V3Score":1e400}}}"#,
    r#"{"VulnerabilityID":"CVE-14","PkgName":5}"#,
    r#"{"VulnerabilityID":"CVE-15",}"#,
    r#"{"VulnerabilityID":"CVE-16" "PkgName":"a"}"#,
    r#"{"VulnerabilityID":"CVE-17","Title":"bad \x escape"}"#,
    "{\"VulnerabilityID\":\"CVE-18\",\"Title\":\"raw \u{1} char\"}",
    "{\"VulnerabilityID\":\"CVE-19\",\"Title\":\"lone \\ud800 surrogate\"}",
    r#"{"VulnerabilityID":"CVE-20","Extra":tru}"#,
    r#"{"VulnerabilityID":"CVE-21"}}"#,
    r#"["VulnerabilityID"]"#,
    r#""CVE-22""#,
];

#[test]
fn trivy_fast_walk_gives_the_general_walks_records() {
    for e in T_HOSTILE {
        // Alone, between plain elements, and repeated (so the component cache is hit).
        for els in [vec![*e], vec![T_PLAIN, e, T_PLAIN], vec![e, e, T_PLAIN, e]] {
            let taken = agree(Format::TrivyJson, trivy(&els).as_bytes());
            assert_eq!(taken, els.len(), "every well-formed element is taken: {e}");
        }
    }
    for e in T_BROKEN {
        for els in [vec![*e], vec![T_PLAIN, e, T_PLAIN]] {
            agree(Format::TrivyJson, trivy(&els).as_bytes());
        }
    }
    // Separators the walk leaves to `next_element`: a trailing comma, a missing one.
    for t in [
        trivy(&[T_PLAIN, ""]),
        trivy(&[T_PLAIN, T_PLAIN]).replace(",\n  ", " "),
        trivy(&[T_PLAIN, T_PLAIN]).replace(",\n  ", ",,"),
        trivy(&[T_PLAIN, "null", T_PLAIN]),
        trivy(&[T_PLAIN, "{}"]),
    ] {
        agree(Format::TrivyJson, t.as_bytes());
    }
}

const G_PLAIN: &str = r#"{"vulnerability":{"id":"CVE-1","namespace":"nvd:cpe","severity":"High","urls":["u"],"cvss":[{"source":"nvd","version":"3.1","vector":"CVSS:3.1/AV:N","metrics":{"baseScore":7.5}}],"fix":{"versions":["2"],"state":"fixed"},"epss":[{"cve":"CVE-1","epss":0.5,"percentile":0.9,"date":"2026-01-01"}]},"relatedVulnerabilities":[{"id":"GHSA-1","description":"d"}],"matchDetails":[{"type":"exact-direct-match","found":{"b":1,"a":[true,null,1.5e3]}}],"artifact":{"id":"x","name":"a","version":"1","type":"deb","locations":[{"path":"/p"}],"licenses":["MIT",{"value":"GPL"}],"cpes":["cpe:2.3:a:a:a:1:*:*:*:*:*:*:*"],"purl":"pkg:deb/debian/a@1"}}"#;

const G_HOSTILE: &[&str] = &[
    r#"{"artifact":{"name":"a","version":"1","type":"deb","locations":[{"path":"/p"},{"path":"/q"}],"cpes":["cpe:2.3:a:a:a:1:*:*:*:*:*:*:*"],"purl":"pkg:deb/debian/a@1"},"vulnerability":{"id":"CVE-2"}}"#,
    r#"{"vulnerability":{"id":"CVE-3","severity":null,"urls":null},"artifact":{"name":"\u0061","version":"1","type":"deb","purl":"pkg:deb/debian/a@1","cpes":[{"Part":"a","Vendor":"v"}],"licenses":null},"matchDetails":null}"#,
    r#"{"vulnerability":{"id":"CVE-4"},"artifact":{"name":"b"},"matchDetails":{"z":1,"a":{"y":[1,2],"b":"s\"q"},"z":2},"unknown":{"deep":[[[[1]]]]},"unknown":3}"#,
    r#"{"vulnerability":{"id":"CVE-5","cvss":[{"version":"9","metrics":{"baseScore":1e308}}]},"artifact":{"name":"c","locations":[{"path":" "},{"path":"/r"},{"path":"/r"}]},"matchDetails":123456789012345678901234567890}"#,
    r#"{"vulnerability":{"id":""},"artifact":{"name":"d"}}"#,
    r#"{"vulnerability":null,"artifact":{"name":"e"}}"#,
];

const G_BROKEN: &[&str] = &[
    r#"{"vulnerability":{"id":"CVE-6"},"vulnerability":{"id":"CVE-7"},"artifact":{"name":"a"}}"#,
    r#"{"vulnerability":{"id":"CVE-8"},"artifact":{"name":"a"},"matchDetails":[1e400]}"#,
    r#"{"vulnerability":{"id":"CVE-9","cvss":[{"metrics":{"baseScore":"7"}}]},"artifact":{"name":"a"}}"#,
    r#"{"vulnerability":{"id":"CVE-10"},"artifact":{"name":"a","cpes":[1e999]}}"#,
    r#"{"vulnerability":{"id":"CVE-11"},"artifact":{"name":["a"]}}"#,
];

#[test]
fn grype_fast_walk_gives_the_general_walks_records() {
    for e in G_HOSTILE {
        for els in [vec![*e], vec![G_PLAIN, e, G_PLAIN], vec![e, e, G_PLAIN, e]] {
            let taken = agree(Format::GrypeJson, grype(&els).as_bytes());
            assert_eq!(taken, els.len(), "every well-formed element is taken: {e}");
        }
    }
    for e in G_BROKEN {
        for els in [vec![*e], vec![G_PLAIN, e, G_PLAIN]] {
            agree(Format::GrypeJson, grype(&els).as_bytes());
        }
    }
    // ignoredMatches go through the same walk.
    let g = format!(
        r#"{{"matches":[{G_PLAIN}],"ignoredMatches":[{}],"descriptor":{{"version":"1"}}}}"#,
        G_HOSTILE[0]
    );
    assert_eq!(agree(Format::GrypeJson, g.as_bytes()), 2);
}

#[test]
fn the_fast_walk_takes_nearly_every_element_of_our_fixtures() {
    let dir = tempfile::tempdir().unwrap();
    let opts = crate::devgen::synthetic::SynthOptions {
        seed: 3,
        components: 40,
        findings: 300,
        formats: vec![
            crate::devgen::synthetic::SynthFormat::Trivy,
            crate::devgen::synthetic::SynthFormat::Grype,
        ],
    };
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/scan");
    let mut files = vec![
        (
            Format::TrivyJson,
            std::fs::read(root.join("trivy.json")).unwrap(),
        ),
        (
            Format::GrypeJson,
            std::fs::read(root.join("grype.json")).unwrap(),
        ),
    ];
    for (path, _) in crate::devgen::synthetic::generate(&opts, dir.path()).unwrap() {
        let bytes = std::fs::read(&path).unwrap();
        let f = if String::from_utf8_lossy(&bytes).contains("\"matches\"") {
            Format::GrypeJson
        } else {
            Format::TrivyJson
        };
        files.push((f, bytes));
    }
    for (format, bytes) in &files {
        let taken = agree(*format, bytes);
        let n = whole(*format, bytes).unwrap().findings.len();
        assert!(
            taken > 0 && taken * 10 >= n * 9,
            "{format:?}: {taken} of {n}"
        );
    }
}

/// Elements nested near serde's limit go to the general walk, which counts the depth from
/// the top of the document.
#[test]
fn deep_elements_are_left_to_the_general_walk() {
    let deep = |k: usize| {
        format!(
            r#"{{"vulnerability":{{"id":"CVE-1"}},"artifact":{{"name":"a"}},"matchDetails":{}{}}}"#,
            "[".repeat(k),
            "]".repeat(k)
        )
    };
    for k in [120, 124, 125, 126, 300] {
        let d = deep(k);
        let g = grype(&[G_PLAIN, &d, G_PLAIN]);
        let taken = agree(Format::GrypeJson, g.as_bytes());
        // Its brackets (3 objects, k arrays) sit two containers down: from 123 arrays on
        // the general walk takes it (and from 125 on refuses it, as the whole parse does,
        // so the element after it is never reached).
        let expected = match k {
            ..=122 => 3,
            123..=124 => 2,
            _ => 1,
        };
        assert_eq!(taken, expected, "{k}");
    }
}

/// The fast walk checks UTF-8 in 256 KiB windows. When a window ended exactly after an
/// element's `}`, it went on in the next window as if that began with an element, found
/// the `,` there, and the general walk then refused the `,` ("expected value"): a valid
/// report failed to import, depending only on where the reads had cut it. The elements here
/// are sized so the first window ends after the fourth: (4 + 1) x (52,428 + 1) = 256 KiB + 1;
/// the first element is then shortened a byte at a time, so the window's end also falls on
/// every byte around the separator, with and without whitespace there.
#[test]
fn a_window_that_ends_at_any_byte_around_a_separator_goes_on_as_the_general_walk() {
    const WINDOW: usize = 256 << 10;
    const ELEMENT: usize = 52_428;
    assert_eq!(5 * (ELEMENT + 1), WINDOW + 1);
    let element = |i: usize, len: usize| {
        let head = format!(
            r#"{{"VulnerabilityID":"CVE-2020-{i:04}","PkgName":"p","InstalledVersion":"1","Description":""#
        );
        let pad = len - head.len() - 2;
        let e = format!("{head}{}\"}}", "d".repeat(pad));
        assert_eq!(e.len(), len);
        e
    };
    for sep in [",", " ,", ", ", "\n ,\n "] {
        for shorter in 0..6 {
            let elements: Vec<String> = (0..10)
                .map(|i| element(i, if i == 0 { ELEMENT - shorter } else { ELEMENT }))
                .collect();
            let refs: Vec<&str> = elements.iter().map(String::as_str).collect();
            let report = trivy(&refs).replace(",\n  ", sep);
            let at = format!("separator {sep:?}, first element {shorter} bytes shorter");
            let (fast, taken) = streamed(Format::TrivyJson, report.as_bytes(), false);
            let fast = fast.unwrap_or_else(|e| panic!("{at}: a valid report refused: {e}"));
            assert_eq!(
                fast,
                whole(Format::TrivyJson, report.as_bytes()).unwrap(),
                "{at}"
            );
            assert_eq!(fast.findings.len(), 10, "{at}");
            assert!(taken >= 4, "{at}: the fast walk took {taken} elements");
        }
    }
}
