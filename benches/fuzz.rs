//! A stable-toolchain fuzzer (cargo-fuzz needs nightly and is not installed here): a
//! seeded mutation loop over a seed corpus, one target per parser, each run for a time
//! budget. A panic, or one input taking over 2 s, is a crash: the input is saved under
//! `target/fuzz-crashes/` and the run exits 1.
//!
//!   cargo bench --bench fuzz -- [SECONDS_PER_TARGET] [TARGET_SUBSTRING]
//!
//! Seeds: the repository's own `tests/fixtures/**`, `sample-evidence/**` and a small
//! synthetic set from `dossier::devgen::synthetic` (never ../shared).

use dossier::ingest::detect::{Format, REGISTRY};
use dossier::ingest::discover::DiscoveredFile;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

type Target = (String, Box<dyn Fn(&[u8])>);

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

const TOKENS: &[&[u8]] = &[
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"",
    b",",
    b":",
    b"null",
    b"-1",
    b"1e999",
    b"18446744073709551616",
    b"\\u0000",
    b"\\ud800",
    b"<",
    b">",
    b"</",
    b"<!DOCTYPE a [<!ENTITY x \"y\">]>",
    b"&x;",
    b"&amp;",
    b"<![CDATA[",
    b"\x1b]52;c;",
    b"\xc3\x28",
    b"\xff",
    b"\x00",
    b"sha256:",
    b"pkg:",
    b"-----BEGIN CERTIFICATE-----\n",
    b"\x30\x82\xff\xff",
    b"\x30\x80",
    b"\x02\x00",
    b"\n",
    b"=",
    b"SPDXID: ",
    b"../",
    b"ustar\x0000",
];

fn mutate(rng: &mut Rng, seeds: &[Vec<u8>], input: &[u8]) -> Vec<u8> {
    let mut v = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        let len = v.len();
        match rng.below(8) {
            0 if len > 0 => {
                let i = rng.below(len);
                v[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                v[i] = rng.next() as u8;
            }
            2 => {
                let t = TOKENS[rng.below(TOKENS.len())];
                let i = rng.below(len + 1);
                v.splice(i..i, t.iter().copied());
            }
            3 if len > 0 => {
                let a = rng.below(len);
                let b = (a + 1 + rng.below(64)).min(len);
                v.drain(a..b);
            }
            4 if len > 0 => {
                v.truncate(rng.below(len));
            }
            5 if len > 1 => {
                // Repeat a region: builds deep nesting and long runs.
                let a = rng.below(len);
                let b = (a + 1 + rng.below(16)).min(len);
                let chunk: Vec<u8> = v[a..b].to_vec();
                let times = 1 + rng.below(200);
                for _ in 0..times {
                    v.splice(a..a, chunk.iter().copied());
                }
            }
            6 if !seeds.is_empty() => {
                // Splice a piece of another seed.
                let o = &seeds[rng.below(seeds.len())];
                if !o.is_empty() {
                    let a = rng.below(o.len());
                    let b = (a + 1 + rng.below(256)).min(o.len());
                    let i = rng.below(len + 1);
                    v.splice(i..i, o[a..b].iter().copied());
                }
            }
            _ => {
                let i = rng.below(len + 1);
                v.insert(i, rng.next() as u8);
            }
        }
    }
    v.truncate(4 << 20);
    v
}

fn files_under(dir: &Path, into: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
    {
        let p = e.path();
        if p.is_dir() {
            files_under(&p, into);
        } else if p.metadata().is_ok_and(|m| m.len() <= 2 << 20) {
            into.push(p);
        }
    }
}

fn corpus(tmp: &Path) -> Vec<Vec<u8>> {
    use dossier::devgen::synthetic::{generate, SynthFormat, SynthOptions};
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths = Vec::new();
    files_under(&root.join("tests/fixtures"), &mut paths);
    files_under(&root.join("sample-evidence"), &mut paths);
    let opts = SynthOptions {
        seed: 1,
        components: 8,
        findings: 12,
        formats: SynthFormat::ALL.to_vec(),
    };
    if let Ok(w) = generate(&opts, &tmp.join("synth")) {
        paths.extend(w.into_iter().map(|(p, _)| p));
    }
    paths.sort();
    let mut seeds: Vec<Vec<u8>> = paths.iter().filter_map(|p| std::fs::read(p).ok()).collect();
    // Formats with no seed in the repository get a minimal hand-written one.
    for s in [
        &b"SPDXVersion: SPDX-2.3\nDataLicense: CC0-1.0\nSPDXID: SPDXRef-DOCUMENT\nDocumentName: x\nPackageName: a\nSPDXID: SPDXRef-a\nPackageVersion: 1\n"[..],
        b"<?xml version=\"1.0\"?><bom xmlns=\"http://cyclonedx.org/schema/bom/1.5\" version=\"1\"><components><component type=\"library\"><name>a</name><version>1</version><purl>pkg:npm/a@1</purl></component></components></bom>",
        b"CVE-2024-0001\n# comment\nCVE-2024-0002 exp:2025-01-01\n",
        b"ignore:\n  - vulnerability: CVE-2024-0001\n    package:\n      name: a\n",
        b"cve,epss,percentile\nCVE-2024-0001,0.1,0.5\n",
        b"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n",
        b"{\"imageLayoutVersion\":\"1.0.0\"}",
    ] {
        seeds.push(s.to_vec());
    }
    seeds
}

/// Reads of irregular sizes (1 byte to 64 KiB, from the input's own bytes), as a pipe, a
/// decompressor or the blob packer's pieces give them; a file fills every request.
struct Short<'a> {
    b: &'a [u8],
    rng: Rng,
}

impl std::io::Read for Short<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let most = if self.rng.next() % 4 == 0 {
            64 << 10
        } else {
            64
        };
        let cap = 1 + self.rng.below(most);
        let n = buf.len().min(cap).min(self.b.len());
        buf[..n].copy_from_slice(&self.b[..n]);
        self.b = &self.b[n..];
        Ok(n)
    }
}

#[derive(Default)]
struct Collect(Vec<dossier::model::FindingRecord>);

impl dossier::ingest::formats::stream::FindingSink for Collect {
    fn finding(&mut self, f: dossier::model::FindingRecord) -> Result<(), String> {
        self.0.push(f);
        Ok(())
    }
}

/// The streamed parse (short reads) against the whole-document parse: the same document,
/// or the same error at the same place, or a refusal to stream; anything else is a crash.
fn stream_agrees(f: Format, b: &[u8]) {
    use dossier::ingest::formats::{parse, parse_reader, stream::StreamError};
    let seed = b.iter().fold(0x9E37_79B9_7F4A_7C15u64, |h, x| {
        (h ^ u64::from(*x)).wrapping_mul(0x100_0000_01B3)
    });
    let mut sink = Collect::default();
    let r = Short {
        b,
        rng: Rng(seed | 1),
    };
    let streamed = parse_reader(f, r, &mut sink);
    match (parse(f, b), streamed) {
        (Ok(w), Ok(s)) => {
            let mut doc = s.doc;
            doc.findings = sink.0;
            for x in &mut doc.findings {
                if x.view.scanner_version.is_none() {
                    x.view.scanner_version.clone_from(&s.late_scanner_version);
                }
            }
            assert!(
                doc == w,
                "{f:?}: the streamed document differs from the whole parse"
            );
        }
        (Err(w), Err(StreamError::Format(s))) => assert!(w == s, "{w} | {s}"),
        (_, Err(StreamError::Unstreamable(_))) => {}
        (w, s) => panic!("{f:?}: whole parse {:?}, streamed {:?}", w.err(), s.err()),
    }
}

fn targets(tmp: PathBuf) -> Vec<Target> {
    let mut t: Vec<Target> = Vec::new();
    for f in [
        Format::TrivyJson,
        Format::GrypeJson,
        Format::CycloneDxJson,
        Format::SpdxJson,
    ] {
        t.push((
            format!("stream = whole, short reads/{}", f.name()),
            Box::new(move |b: &[u8]| stream_agrees(f, b)),
        ));
    }
    // One target per registry format: the parser itself, reached without detection so
    // mutations that break the sniff still exercise it.
    let mut seen = std::collections::BTreeSet::new();
    for e in REGISTRY {
        let f: Format = e.format;
        if seen.insert(f) && f != Format::PrivateKey {
            t.push((
                format!("parse/{}", f.name()),
                Box::new(move |b: &[u8]| {
                    let _ = dossier::ingest::formats::parse(f, b);
                }),
            ));
        }
    }
    t.push((
        "ingest/parse_file".into(),
        Box::new(|b: &[u8]| {
            let pf = dossier::ingest::parse_file(DiscoveredFile {
                path: "fuzz".into(),
                bytes: b.to_vec(),
                sha256: String::new(),
            });
            // parse_file turns parser panics into a status: surface them as crashes here.
            if pf
                .message
                .as_deref()
                .is_some_and(|m| m.contains("internal error"))
            {
                panic!("parse_file caught a parser panic: {:?}", pf.message);
            }
        }),
    ));
    let p = tmp.join("discover-input");
    t.push((
        "ingest/discover (tar, tar.gz, files)".into(),
        Box::new(move |b: &[u8]| {
            if std::fs::write(&p, b).is_ok() {
                let l = dossier::ingest::limits::Limits {
                    max_archive_bytes: 64 << 20,
                    ..Default::default()
                };
                let _ = dossier::ingest::discover::discover(&p, &l);
            }
        }),
    ));
    t.push((
        "waiver/parse_stream".into(),
        Box::new(|b: &[u8]| {
            let _ = dossier::model::waiver::parse_stream("fuzz", &String::from_utf8_lossy(b));
        }),
    ));
    t.push((
        "policy/parse".into(),
        Box::new(|b: &[u8]| {
            let _ = dossier::analysis::policy::Policy::parse(b, "fuzz");
        }),
    ));
    t.push((
        "ignorefiles (trivyignore, yaml, grype, harbor)".into(),
        Box::new(|b: &[u8]| {
            use dossier::analysis::ignorefiles as i;
            let _ = i::parse_trivyignore("f", b);
            let _ = i::parse_trivyignore_yaml("f", b);
            let _ = i::parse_grype_config("f", b);
            let _ = i::parse_harbor("f", b);
        }),
    ));
    t.push((
        "vex (openvex, cdx json, cdx xml)".into(),
        Box::new(|b: &[u8]| {
            use dossier::analysis::vex as v;
            let _ = v::parse_openvex("f", b);
            let _ = v::parse_cyclonedx_json("f", b);
            let _ = v::parse_cyclonedx_xml("f", b);
        }),
    ));
    t.push((
        "crypto/der + cert + pubkey".into(),
        Box::new(|b: &[u8]| {
            use dossier::crypto::{cert::Certificate, der, PublicKey};
            let _ = der::read(b);
            let _ = Certificate::from_der(b);
            let _ = PublicKey::from_spki_der(b);
            let s = String::from_utf8_lossy(b);
            let _ = Certificate::from_pem_chain(&s);
            let _ = PublicKey::from_pem(&s);
        }),
    ));
    t.push((
        "crypto/privkey + rekor checkpoint".into(),
        Box::new(|b: &[u8]| {
            let s = String::from_utf8_lossy(b);
            let _ = dossier::crypto::privkey::pem_decode("f", &s);
            let _ = dossier::crypto::rekor::verify_checkpoint(&s, &[]);
        }),
    ));
    t
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let secs: f64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(5.0);
    let only = args.get(1).cloned();
    let tmp = tempfile::tempdir().expect("tempdir");
    let seeds = corpus(tmp.path());
    let crash_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/fuzz-crashes");
    std::panic::set_hook(Box::new(|_| {}));
    println!("# fuzz: {} seeds, {secs} s per target", seeds.len());
    println!("| target | execs | execs/s | slowest ms | crashes |");
    println!("|---|---|---|---|---|");
    let mut total_crashes = 0;
    for (name, f) in targets(tmp.path().to_path_buf()) {
        if only.as_deref().is_some_and(|o| !name.contains(o)) {
            continue;
        }
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ name.len() as u64);
        let (mut execs, mut crashes, mut slowest) = (0u64, 0u32, Duration::ZERO);
        let t0 = Instant::now();
        // Each seed once unmutated, then mutations of random seeds.
        while t0.elapsed().as_secs_f64() < secs {
            let input = if (execs as usize) < seeds.len() {
                seeds[execs as usize].clone()
            } else {
                let s = &seeds[rng.below(seeds.len())];
                mutate(&mut rng, &seeds, s)
            };
            let t = Instant::now();
            let r = catch_unwind(AssertUnwindSafe(|| f(&input)));
            let took = t.elapsed();
            slowest = slowest.max(took);
            execs += 1;
            if r.is_err() || took > Duration::from_secs(2) {
                crashes += 1;
                let _ = std::fs::create_dir_all(&crash_dir);
                let file = crash_dir.join(format!(
                    "{}-{execs}",
                    name.replace(['/', ' ', '(', ')', ','], "_")
                ));
                let _ = std::fs::write(&file, &input);
                eprintln!(
                    "CRASH {name}: {} ({} ms) -> {}",
                    if r.is_err() { "panic" } else { "slow" },
                    took.as_millis(),
                    file.display()
                );
            }
        }
        let el = t0.elapsed().as_secs_f64();
        println!(
            "| {name} | {execs} | {:.0} | {:.1} | {crashes} |",
            execs as f64 / el,
            slowest.as_secs_f64() * 1000.0
        );
        total_crashes += crashes;
    }
    if total_crashes > 0 {
        std::process::exit(1);
    }
}
