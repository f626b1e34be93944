//! The chunked walker (`slices`) under the streamed parse: any chunk size gives the whole
//! parse's document, and every broken input the whole parse's exact error (message, line,
//! column), found by cutting and corrupting small reports at every byte.

use super::*;
use crate::devgen::synthetic::{generate, SynthFormat, SynthOptions};

#[derive(Default)]
struct Collect(Vec<FindingRecord>);

impl FindingSink for Collect {
    fn finding(&mut self, f: FindingRecord) -> Result<(), String> {
        self.0.push(f);
        Ok(())
    }
}

/// The streamed parse with `chunk`-byte reads, folded back into one document.
fn chunked(
    format: Format,
    bytes: &[u8],
    chunk: usize,
    max: usize,
) -> Result<Document, StreamError> {
    chunked_from(format, bytes, chunk, max)
}

/// `chunked` over any reader.
fn chunked_from(
    format: Format,
    r: impl std::io::Read,
    chunk: usize,
    max: usize,
) -> Result<Document, StreamError> {
    let mut sink = Collect::default();
    let (s, _) = parse_chunked(format, r, &mut sink, chunk, max)?;
    let mut doc = s.doc;
    doc.findings = sink.0;
    for f in &mut doc.findings {
        if f.view.scanner_version.is_none() {
            f.view.scanner_version.clone_from(&s.late_scanner_version);
        }
    }
    Ok(doc)
}

fn whole(format: Format, bytes: &[u8]) -> Result<Document, FormatError> {
    super::super::parse(format, bytes)
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/scan")
            .join(name),
    )
    .unwrap()
}

/// Same answer both ways: equal documents, or the same error at the same place.
/// `false` when the stream declined (a key order it does not follow).
fn same(format: Format, bytes: &[u8], chunk: usize) -> bool {
    let w = whole(format, bytes);
    let s = chunked(format, bytes, chunk, MAX_VALUE);
    match (w, s) {
        (Ok(w), Ok(s)) => assert_eq!(s, w, "chunk {chunk}: {}", String::from_utf8_lossy(bytes)),
        (Err(w), Err(StreamError::Format(s))) => {
            assert_eq!(s, w, "chunk {chunk}: {}", String::from_utf8_lossy(bytes))
        }
        (_, Err(StreamError::Unstreamable(_))) => return false,
        (w, s) => panic!(
            "chunk {chunk}: whole {w:?} but streamed {s:?}: {}",
            String::from_utf8_lossy(bytes)
        ),
    }
    true
}

#[test]
fn any_chunk_size_gives_the_whole_document() {
    let dir = tempfile::tempdir().unwrap();
    let opts = SynthOptions {
        seed: 7,
        components: 30,
        findings: 120,
        formats: vec![SynthFormat::Trivy, SynthFormat::Grype],
    };
    let mut files: Vec<(Format, Vec<u8>)> = vec![
        (Format::TrivyJson, fixture("trivy.json")),
        (Format::GrypeJson, fixture("grype.json")),
    ];
    for (path, _) in generate(&opts, dir.path()).unwrap() {
        let bytes = std::fs::read(&path).unwrap();
        let f = if String::from_utf8_lossy(&bytes).contains("\"matches\"") {
            Format::GrypeJson
        } else {
            Format::TrivyJson
        };
        files.push((f, bytes));
    }
    for (format, bytes) in &files {
        for chunk in [1, 2, 3, 7, 64, 1000, 1 << 20] {
            assert!(same(*format, bytes, chunk));
        }
    }
}

/// A report whose strings hold every escape, and brackets, braces, quotes, commas and
/// colons that a careless scanner would take for structure.
const TRICKY: &str = r#"{"SchemaVersion":2,"ArtifactName":"a]}\"b","Results":[
 {"Target":"t\"]}{[","Type":"npm","Vulnerabilities":[
  {"VulnerabilityID":"CVE-1","PkgName":"p\\","InstalledVersion":"1",
   "Description":"x \"quoted\" [a] {b} \\ back\\\\slash \/ \u00e9\u20ac \ud83d\ude00 \b\f\n\r\t end",
   "Title":"]},{\"VulnerabilityID\":\"CVE-FAKE\"}","Extra":[[["}"]],{"a":"]"}]},
  {"VulnerabilityID":"CVE-2","PkgName":"q","InstalledVersion":"2","Title":"\\"}
 ]}]}"#;

#[test]
fn strings_with_escapes_brackets_and_quotes_stay_strings() {
    for chunk in 1..=40 {
        assert!(same(Format::TrivyJson, TRICKY.as_bytes(), chunk));
    }
    let d = chunked(Format::TrivyJson, TRICKY.as_bytes(), 5, MAX_VALUE).unwrap();
    let ids: Vec<&str> = d.findings.iter().map(|f| f.vuln_id.as_str()).collect();
    // Two elements in the text; the third id lives inside a title string.
    assert_eq!(ids, ["CVE-1", "CVE-2"]);
    assert_eq!(
        d.findings[0].view.description.as_deref(),
        Some("x \"quoted\" [a] {b} \\ back\\\\slash / é€ 😀 \u{8}\u{c}\n\r\t end")
    );
    assert_eq!(d.components[0].name, "p\\");
    assert_eq!(d.findings[1].view.title.as_deref(), Some("\\"));
}

/// `depth` arrays around `inner`.
fn nest(depth: usize, inner: &str) -> String {
    format!("{}{inner}{}", "[".repeat(depth), "]".repeat(depth))
}

#[test]
fn nesting_is_limited_where_the_whole_parse_limits_it() {
    // matchDetails is a `Value` (depth-checked) three containers down: the top object, the
    // matches array, the match. serde_json refuses the 128th container, so 124 arrays
    // pass and 125 do not.
    for (k, ok) in [(124, true), (125, false), (400, false)] {
        let g = format!(
            r#"{{"matches":[{{"vulnerability":{{"id":"CVE-1"}},"artifact":{{"name":"a"}},
            "matchDetails":{}}}]}}"#,
            nest(k, "1")
        );
        assert_eq!(whole(Format::GrypeJson, g.as_bytes()).is_ok(), ok, "{k}");
        for chunk in [1, 9, 1 << 20] {
            assert!(same(Format::GrypeJson, g.as_bytes(), chunk));
        }
        if !ok {
            let e = match chunked(Format::GrypeJson, g.as_bytes(), 9, MAX_VALUE) {
                Err(StreamError::Format(e)) => e,
                other => panic!("{other:?}"),
            };
            assert_eq!(e.message, "recursion limit exceeded");
            // The 128th container: the 125th array, at line 2.
            let col = g.lines().nth(1).unwrap().find('[').unwrap() as u64 + 125;
            assert_eq!((e.line, e.column), (Some(2), Some(col)));
        }
    }
    // An unknown field is skipped without a depth check by the whole parse: accepted
    // at any depth both ways.
    let t = format!(
        r#"{{"Results":[{{"Type":"npm","Vulnerabilities":[{{"VulnerabilityID":"CVE-1","X":{}}}]}}]}}"#,
        nest(500, "0")
    );
    assert!(whole(Format::TrivyJson, t.as_bytes()).is_ok());
    assert!(same(Format::TrivyJson, t.as_bytes(), 13));
}

/// A value nested past serde's limit under a field the parse skips, cut short by the end of
/// the file (what the fuzzer's repeated splices made): the depth check parses it inside
/// `wrap`'s brackets, and the `]` appended after the value are not the file; the error is the
/// whole parse's, at the file's end. Every cut of the last 40 bytes, and every chunk size.
#[test]
fn a_deep_value_cut_short_fails_where_the_whole_parse_does() {
    let deep = format!(
        "{{\"SchemaVersion\": 2,\n \"Trivy\": {}\"Version\": \"0.69.0\",\n  \"Updated\": [1, {{\"a\": \"b\"}}]",
        "{\"Ve\": ".repeat(180)
    );
    let bytes = deep.as_bytes();
    for cut in bytes.len() - 40..=bytes.len() {
        let b = &bytes[..cut];
        assert!(whole(Format::TrivyJson, b).is_err());
        for chunk in [7, 1 << 20] {
            assert!(same(Format::TrivyJson, b, chunk), "cut {cut}");
        }
    }
}

/// `trivy::parse` decides on the first byte that is neither whitespace nor a BOM byte: a
/// stray BOM byte before something that is not a report is "not a report", before an object
/// serde's own error at the BOM (inputs the fuzzer found answered differently).
#[test]
fn bom_bytes_before_the_first_byte_get_the_whole_parses_answer() {
    let report = r#"{"SchemaVersion":2,"Results":[]}"#;
    let inputs: Vec<Vec<u8>> = vec![
        b"\xbbE\x02!\x8e".to_vec(),
        b"\xef".to_vec(),
        b"\xefgnore:\n  - vuln".to_vec(),
        b"\xef\xbb\xbf  \n".to_vec(),
        [&b"\xef\xbb\xbf"[..], report.as_bytes()].concat(),
        [&b"\xbf \n"[..], report.as_bytes()].concat(),
        [&b"\xef\xbb\xbf["[..], b"]"].concat(),
    ];
    for b in &inputs {
        assert!(whole(Format::TrivyJson, b).is_err(), "{b:?}");
        for chunk in [1, 1 << 20] {
            assert!(same(Format::TrivyJson, b, chunk), "{b:?}");
        }
    }
}

#[test]
fn every_cut_of_a_report_fails_as_the_whole_parse_fails() {
    for (format, name) in [
        (Format::TrivyJson, "trivy.json"),
        (Format::GrypeJson, "grype.json"),
    ] {
        let bytes = fixture(name);
        for cut in 0..bytes.len() {
            assert!(same(format, &bytes[..cut], 4));
        }
    }
    for cut in 0..TRICKY.len() {
        assert!(same(Format::TrivyJson, &TRICKY.as_bytes()[..cut], 3));
    }
}

#[test]
fn every_corrupted_byte_fails_or_parses_as_the_whole_parse_does() {
    let mut streamed = 0;
    for (format, bytes) in [
        (Format::TrivyJson, fixture("trivy.json")),
        (Format::GrypeJson, fixture("grype.json")),
        (Format::TrivyJson, TRICKY.as_bytes().to_vec()),
    ] {
        for i in 0..bytes.len() {
            for junk in [
                b'x', b'}', b']', b'"', b',', b':', b'[', b'{', b'1', b'\\', b' ', b'\n', 0,
            ] {
                if bytes[i] == junk {
                    continue;
                }
                let mut b = bytes.clone();
                b[i] = junk;
                streamed += usize::from(same(format, &b, 16));
            }
        }
    }
    // Nearly all of them are answered by the stream itself.
    assert!(streamed > 40_000, "{streamed}");
}

#[test]
fn trailing_garbage_and_errors_on_later_lines_are_placed_in_the_file() {
    let t = "{\"Results\":[{\"Type\":\"npm\",\"Vulnerabilities\":[\n{\"VulnerabilityID\":\"CVE-1\"},\n  {\"VulnerabilityID\":7}]}]}\n x";
    let e = match chunked(Format::TrivyJson, t.as_bytes(), 8, MAX_VALUE) {
        Err(StreamError::Format(e)) => e,
        other => panic!("{other:?}"),
    };
    // Line 3 is `  {"VulnerabilityID":7}]}]}`: serde stops after the `7`, the 22nd byte.
    assert_eq!(e.message, "invalid type: integer `7`, expected a string");
    assert_eq!((e.line, e.column), (Some(3), Some(22)));
    let t2 = "{\"matches\":[]}\n\n   }";
    let e = match chunked(Format::GrypeJson, t2.as_bytes(), 3, MAX_VALUE) {
        Err(StreamError::Format(e)) => e,
        other => panic!("{other:?}"),
    };
    assert_eq!(e.message, "trailing characters");
    assert_eq!((e.line, e.column), (Some(3), Some(4)));
    assert!(same(Format::GrypeJson, t2.as_bytes(), 3));
}

#[test]
fn an_element_larger_than_the_limit_is_refused_at_its_start() {
    let g = br#"{"matches":[
  {"vulnerability":{"id":"CVE-1"},"artifact":{"name":"a"}},
  {"vulnerability":{"id":"CVE-2","description":"a long one .............................................."},"artifact":{"name":"b"}}]}"#;
    // 64 bytes hold the first element, not the second.
    let e = match chunked(Format::GrypeJson, g, 16, 64) {
        Err(StreamError::Format(e)) => e,
        other => panic!("{other:?}"),
    };
    assert!(e.message.contains("more than"), "{e}");
    assert_eq!((e.line, e.column), (Some(3), Some(3)));
    // With room for it, the same answer as the whole parse.
    let d = chunked(Format::GrypeJson, g, 16, 4096).unwrap();
    assert_eq!(d, whole(Format::GrypeJson, g).unwrap());
    assert_eq!(d.findings.len(), 2);
}

/// Gives at most `cap` bytes per read, as a pipe, a decompressor or another thread's
/// pieces do; a file in the page cache fills whatever it is asked for.
struct Short<'a> {
    b: &'a [u8],
    cap: usize,
}

impl std::io::Read for Short<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.cap).min(self.b.len());
        buf[..n].copy_from_slice(&self.b[..n]);
        self.b = &self.b[n..];
        Ok(n)
    }
}

#[test]
fn short_reads_give_the_whole_document() {
    let dir = tempfile::tempdir().unwrap();
    let opts = SynthOptions {
        seed: 11,
        components: 200,
        findings: 3000,
        formats: vec![SynthFormat::Trivy, SynthFormat::Grype],
    };
    for (path, _) in generate(&opts, dir.path()).unwrap() {
        let bytes = std::fs::read(&path).unwrap();
        let format = if String::from_utf8_lossy(&bytes).contains("\"matches\"") {
            Format::GrypeJson
        } else {
            Format::TrivyJson
        };
        let w = whole(format, &bytes).unwrap();
        for (chunk, cap) in [
            (1 << 20, 1 << 16),
            (1 << 20, 100_003),
            (4096, 1000),
            (1 << 16, 7),
        ] {
            let doc = chunked_from(format, Short { b: &bytes, cap }, chunk, MAX_VALUE)
                .unwrap_or_else(|e| panic!("{format} chunk {chunk} cap {cap}: {e}"));
            assert_eq!(doc, w, "{format} chunk {chunk} cap {cap}");
        }
    }
}
