//! The one-pass read of a large file must answer exactly what the careful path (`checked`:
//! hash, detect from every top-level key, then parse) answers: same digest and size, same
//! format and version, same document and findings, same error; and the hashing reader must
//! give the digest of the bytes it passed on.

use super::*;
use crate::devgen::synthetic::{generate, SynthFormat, SynthOptions};
use crate::model::FindingRecord;
use std::path::{Path, PathBuf};

#[derive(Default)]
struct Collect(Vec<FindingRecord>);

impl FindingSink for Collect {
    fn finding(&mut self, f: FindingRecord) -> Result<(), String> {
        self.0.push(f);
        Ok(())
    }
    fn discard(&mut self) {
        self.0.clear();
    }
}

fn large(path: &Path) -> LargeFile {
    LargeFile {
        path: path.display().to_string(),
        fs_path: path.to_path_buf(),
        size: std::fs::metadata(path).unwrap().len(),
        before: 0,
    }
}

/// Everything an outcome says, as text (`ParsedFile` has no `PartialEq`), plus the findings.
fn outcome(o: &LargeOutcome, sink: Collect) -> (String, Vec<FindingRecord>) {
    let text = match o {
        LargeOutcome::Whole(f) => format!(
            "whole {} {} {:?} {:?} {:?} {:?} {:?}",
            f.sha256, f.size, f.format, f.spec_version, f.status, f.message, f.doc
        ),
        LargeOutcome::Streamed {
            file: f,
            late_scanner_version,
        } => format!(
            "streamed {} {} {:?} {:?} {:?} {:?} {:?} {late_scanner_version:?}",
            f.sha256, f.size, f.format, f.spec_version, f.status, f.message, f.doc
        ),
    };
    (text, sink.0)
}

/// `parse_large` reading the file through a feed, as the import runs it: a thread reads
/// and hashes the file in 1 MiB pieces as the blob packer does (the store is a layer this
/// one does not see); its digest must be the one the outcome records.
fn with_feed(lf: &LargeFile, sink: &mut Collect) -> LargeOutcome {
    let (mut tap, feed) = crate::ingest::feed::channel();
    let path = lf.fs_path.clone();
    let reader = std::thread::spawn(move || {
        let mut f = std::fs::File::open(path).unwrap();
        let (mut h, mut n, mut buf) = (Sha256::new(), 0u64, vec![0u8; 1 << 20]);
        loop {
            let k = f.read(&mut buf).unwrap();
            if k == 0 {
                break;
            }
            h.update(&buf[..k]);
            tap.piece(&buf[..k]);
            n += k as u64;
        }
        let sha = hex::encode(h.finalize());
        tap.end(sha.clone(), n);
        (sha, n)
    });
    let o = parse_large(lf, Some(feed), sink).unwrap();
    let (sha, n) = reader.join().unwrap();
    if let LargeOutcome::Streamed { file, .. } = &o {
        assert_eq!((&file.sha256, file.size), (&sha, n));
    }
    o
}

/// Every way over one file (from the file, from the packer's feed, the careful path);
/// returns whether the one-pass read was the one that answered.
fn same_as_checked(path: &Path) -> bool {
    let lf = large(path);
    let mut a = Collect::default();
    let one = parse_large(&lf, None, &mut a).unwrap();
    let mut f = Collect::default();
    let fed = with_feed(&lf, &mut f);
    let mut b = Collect::default();
    let careful = checked(&lf, &mut b).unwrap();
    let took_one_pass = one_pass(&lf, None, &mut Collect::default())
        .unwrap()
        .is_some();
    let careful = outcome(&careful, b);
    assert_eq!(outcome(&one, a), careful, "{}", path.display());
    assert_eq!(outcome(&fed, f), careful, "fed: {}", path.display());
    took_one_pass
}

fn fixtures(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            fixtures(&p, out);
        } else {
            out.push(p);
        }
    }
}

#[test]
fn the_hashing_reader_gives_the_digest_of_the_bytes_it_passed_on() {
    let bytes: Vec<u8> = (0..3_000_001u32).map(|i| (i % 253) as u8).collect();
    let mut h = Sha256::new();
    let mut n = 0u64;
    let mut out = Vec::new();
    // Small reads through a BufReader, as the parser does them.
    let mut r = BufReader::with_capacity(
        4096,
        Hashing {
            inner: &bytes[..],
            h: &mut h,
            n: &mut n,
        },
    );
    let mut piece = [0u8; 777];
    loop {
        let k = r.read(&mut piece).unwrap();
        if k == 0 {
            break;
        }
        out.extend_from_slice(&piece[..k]);
    }
    drop(r);
    assert_eq!(out, bytes);
    assert_eq!(n, bytes.len() as u64);
    assert_eq!(hex::encode(h.finalize()), sha256_hex(&bytes));
}

#[test]
fn every_fixture_gets_the_answer_of_the_careful_path() {
    let mut files = Vec::new();
    fixtures(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures"),
        &mut files,
    );
    assert!(files.len() > 20, "{}", files.len());
    let mut one_pass_taken = 0;
    for f in &files {
        one_pass_taken += usize::from(same_as_checked(f));
    }
    // The Trivy and Grype reports among them (scan/, judge/, review/ ...) take one pass.
    assert!(one_pass_taken >= 3, "{one_pass_taken}");
}

#[test]
fn generated_reports_take_one_pass_with_the_careful_answer() {
    let dir = tempfile::tempdir().unwrap();
    let opts = SynthOptions {
        seed: 5,
        components: 40,
        findings: 300,
        formats: vec![SynthFormat::Trivy, SynthFormat::Grype],
    };
    for (path, _) in generate(&opts, dir.path()).unwrap() {
        assert!(same_as_checked(&path), "{}", path.display());
    }
}

fn scan_fixture(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/scan")
            .join(name),
    )
    .unwrap()
}

/// `doc` (a JSON object) with `first` put before its first key and `last` after its last.
fn with_keys(doc: &str, first: &str, last: &str) -> String {
    let open = doc.find('{').unwrap();
    let close = doc.rfind('}').unwrap();
    format!(
        "{}{first}{}{last}{}",
        &doc[..=open],
        &doc[open + 1..close],
        &doc[close..]
    )
}

/// Files whose first bytes point one way and whose later keys point another, broken files,
/// and files whose first 64 KiB name nothing: the one-pass read must either give the careful
/// answer or step aside.
#[test]
fn hostile_reports_get_the_answer_of_the_careful_path() {
    let dir = tempfile::tempdir().unwrap();
    let trivy = scan_fixture("trivy.json");
    let grype = scan_fixture("grype.json");
    let pad = format!(r#""pad":"{}","#, "x".repeat(70_000));
    let late_pad = format!(r#","pad":"{}""#, "x".repeat(70_000));
    let cases: Vec<(&str, String, bool)> = vec![
        // (name, content, expected to take one pass)
        ("trivy", trivy.clone(), true),
        ("grype", grype.clone(), true),
        // A CycloneDX claim after the Trivy keys: the registry's first rule wins. The claim
        // is in the first 64 KiB, so the one pass reads it as the SBOM it says it is.
        (
            "trivy-then-cyclonedx",
            with_keys(
                &trivy,
                "",
                r#","bomFormat":"CycloneDX","specVersion":"1.5""#,
            ),
            true,
        ),
        // The version named twice: the last one counts, and 3 is not supported.
        (
            "trivy-version-twice",
            with_keys(&trivy, "", r#","SchemaVersion":3"#),
            false,
        ),
        // The same claims beyond the first 64 KiB: the guess is confirmed or refused only
        // from the keys the parser collected on its way.
        (
            "trivy-then-late-cyclonedx",
            with_keys(
                &trivy,
                "",
                &format!(r#"{late_pad},"bomFormat":"CycloneDX","specVersion":"1.5""#),
            ),
            false,
        ),
        (
            "trivy-late-version-twice",
            with_keys(&trivy, "", &format!(r#"{late_pad},"SchemaVersion":3"#)),
            false,
        ),
        (
            "grype-then-late-spdx",
            with_keys(
                &grype,
                "",
                &format!(r#"{late_pad},"spdxVersion":"SPDX-2.3""#),
            ),
            false,
        ),
        (
            "grype-then-late-sarif",
            with_keys(
                &grype,
                "",
                &format!(r#"{late_pad},"runs":[],"version":"2.1.0""#),
            ),
            true,
        ),
        (
            "trivy-late-extra-keys",
            with_keys(&trivy, "", &format!(r#"{late_pad},"z":{{"a":[1]}}"#)),
            true,
        ),
        // An SPDX claim after Grype's keys (in the first 64 KiB: one pass, as SPDX).
        (
            "grype-then-spdx",
            with_keys(&grype, "", r#","spdxVersion":"SPDX-2.3""#),
            true,
        ),
        // Unknown keys of every shape before and after: still the same answer, one pass.
        (
            "trivy-extra-keys",
            with_keys(
                &trivy,
                r#""a":[["x"],{"b":null}],"n":1.5e3,"#,
                r#","z":[true,"y"]"#,
            ),
            true,
        ),
        (
            "grype-extra-keys",
            with_keys(&grype, r#""a":{"b":[1,2]},"#, r#","z":null"#),
            true,
        ),
        // Escaped key names decode to the real ones.
        (
            "trivy-escaped-keys",
            r#"{"Sch\u0065maVersion":2,"Artifact\u004eame":"a","Results":[]}"#.to_string(),
            true,
        ),
        // Grype's matches, and nothing else that names Grype.
        ("matches-alone", r#"{"matches":[]}"#.to_string(), false),
        // The first 64 KiB hold one unfinished key: nothing to guess from.
        ("padded-trivy", with_keys(&trivy, &pad, ""), false),
        ("padded-grype", with_keys(&grype, &pad, ""), false),
        // Broken: the careful path names the position.
        (
            "truncated-trivy",
            trivy[..trivy.len() / 2].to_string(),
            false,
        ),
        (
            "truncated-grype",
            grype[..grype.len() / 2].to_string(),
            false,
        ),
        ("trailing-garbage", format!("{trivy} }}"), false),
        (
            "duplicate-results",
            with_keys(&trivy, "", r#","Results":[]"#),
            false,
        ),
        (
            "duplicate-matches",
            with_keys(&grype, r#""matches":[],"#, ""),
            false,
        ),
        ("trailing-nul-bytes", format!("{grype}\0\0"), false),
        (
            "not-json",
            "SchemaVersion: 2\nResults: []\n".to_string(),
            false,
        ),
        ("empty", String::new(), false),
        ("top-array", format!("[{trivy}]"), false),
    ];
    for (name, content, fast) in cases {
        let p = dir.path().join(format!("{name}.json"));
        std::fs::write(&p, content).unwrap();
        assert_eq!(same_as_checked(&p), fast, "{name}");
    }
}

#[test]
fn a_wrong_guess_leaves_no_findings_in_the_sink() {
    // Trivy keys first, a CycloneDX claim beyond the first 64 KiB: the stream sends the
    // findings, then the confirmation fails and the careful path parses the file whole.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("r.json");
    std::fs::write(
        &p,
        with_keys(
            &scan_fixture("trivy.json"),
            "",
            &format!(
                r#","pad":"{}","bomFormat":"CycloneDX","specVersion":"1.5""#,
                "x".repeat(70_000)
            ),
        ),
    )
    .unwrap();
    let mut sink = Collect::default();
    let o = parse_large(&large(&p), None, &mut sink).unwrap();
    assert!(sink.0.is_empty());
    // The careful path detects CycloneDX; CycloneDX JSON streams too (branch `sbom`), so
    // either outcome is right as long as it names the confirmed format.
    let format = match o {
        LargeOutcome::Whole(f) => f.format,
        LargeOutcome::Streamed { file, .. } => file.format,
    };
    assert_eq!(format, Some(detect::Format::CycloneDxJson));
}

#[test]
fn files_of_several_pieces_get_the_same_answer_through_the_feed() {
    // Over 1 MiB each, so the packer hands the parse several pieces and every read that
    // crosses a piece's end comes back short, as it does in a real import.
    let dir = tempfile::tempdir().unwrap();
    let opts = SynthOptions {
        seed: 9,
        components: 2500,
        findings: 2500,
        formats: SynthFormat::ALL.to_vec(),
    };
    for (path, size) in generate(&opts, dir.path()).unwrap() {
        assert!(size > 1 << 20, "{}: {size} bytes", path.display());
        assert!(same_as_checked(&path), "{}", path.display());
    }
}
