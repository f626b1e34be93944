//! Synthetic evidence at any size for benchmarks and robustness tests: Syft-shaped
//! CycloneDX and SPDX SBOMs and Trivy and Grype reports over the same packages, deterministic
//! by seed and streamed element by element (memory stays flat whatever the size).

use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// Which files to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SynthFormat {
    Trivy,
    Grype,
    CycloneDx,
    Spdx,
}

impl SynthFormat {
    pub const ALL: [SynthFormat; 4] = [Self::Trivy, Self::Grype, Self::CycloneDx, Self::Spdx];

    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "trivy" => Some(Self::Trivy),
            "grype" => Some(Self::Grype),
            "cdx" | "cyclonedx" => Some(Self::CycloneDx),
            "spdx" => Some(Self::Spdx),
            _ => None,
        }
    }

    pub fn file_name(self) -> &'static str {
        match self {
            Self::Trivy => "trivy.json",
            Self::Grype => "grype.json",
            Self::CycloneDx => "sbom.cdx.json",
            Self::Spdx => "sbom.spdx.json",
        }
    }
}

#[derive(Debug, Clone)]
pub struct SynthOptions {
    pub seed: u64,
    pub components: usize,
    /// Distinct (vulnerability, package) pairs; Trivy and Grype each report about 90% of
    /// them, so the two scanners overlap without being identical.
    pub findings: usize,
    pub formats: Vec<SynthFormat>,
}

/// splitmix64: tiny, fast, and stable across platforms (no dependency on `rand`'s versions).
#[derive(Clone)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }
    fn hex(&mut self, n: usize) -> String {
        let mut s = String::with_capacity(n + 16);
        while s.len() < n {
            s.push_str(&format!("{:016x}", self.next()));
        }
        s.truncate(n);
        s
    }
    fn version(&mut self) -> String {
        format!("{}.{}.{}", self.below(13), self.below(31), self.below(41))
    }
}

const WORDS: &[&str] = &[
    "core", "util", "common", "data", "net", "http", "json", "xml", "yaml", "crypto", "ssl", "tls",
    "auth", "log", "config", "parser", "codec", "stream", "buffer", "cache", "pool", "client",
    "server", "proto", "grpc", "rpc", "io", "fs", "path", "time", "date", "text", "regex", "uuid",
    "hash", "zip", "gzip", "tar", "compress", "image", "font", "render", "ui", "web", "socket",
    "dns", "url", "mime", "mail", "sql", "db", "orm", "kafka", "redis", "queue", "event", "async",
    "task", "thread", "sync", "atomic", "math", "rand", "bits", "bytes", "string", "fmt",
];

const DESC: &[&str] = &[
    "a",
    "flaw",
    "was",
    "found",
    "in",
    "the",
    "handling",
    "of",
    "crafted",
    "input",
    "which",
    "allows",
    "remote",
    "attacker",
    "to",
    "cause",
    "denial",
    "service",
    "via",
    "memory",
    "corruption",
    "heap",
    "buffer",
    "overflow",
    "use",
    "after",
    "free",
    "out",
    "bounds",
    "read",
    "integer",
    "parser",
    "when",
    "processing",
    "specially",
    "certificates",
    "requests",
    "headers",
    "archives",
    "may",
    "lead",
    "arbitrary",
    "code",
    "execution",
    "information",
    "disclosure",
    "privilege",
    "escalation",
    "improper",
    "validation",
    "length",
    "fields",
];

const LICENSES: &[&str] = &[
    "MIT",
    "Apache-2.0",
    "BSD-3-Clause",
    "GPL-2.0-only",
    "LGPL-2.1-or-later",
    "ISC",
    "MPL-2.0",
    "Zlib",
];
const OPENSSLISH: &[&str] = &[
    "openssl",
    "libssl3",
    "openssl-libs",
    "pyopenssl",
    "openssl-sys",
];
const CWES: &[u32] = &[20, 79, 119, 125, 190, 287, 400, 416, 476, 787];

/// (syft type, purl type, trivy target, trivy class, trivy type, grype language)
const ECOS: &[(&str, &str, &str, &str, &str, &str)] = &[
    (
        "deb",
        "deb",
        "registry.example.mil/synthetic/app:1.0 (debian 12.8)",
        "os-pkgs",
        "debian",
        "",
    ),
    ("java-archive", "maven", "Java", "lang-pkgs", "jar", "java"),
    (
        "npm",
        "npm",
        "Node.js",
        "lang-pkgs",
        "node-pkg",
        "javascript",
    ),
    (
        "python",
        "pypi",
        "Python",
        "lang-pkgs",
        "python-pkg",
        "python",
    ),
    (
        "go-module",
        "golang",
        "usr/local/bin/app",
        "lang-pkgs",
        "gobinary",
        "go",
    ),
];

struct Pkg {
    eco: usize,
    name: String,
    version: String,
    purl: String,
    /// Syft's bom-ref / SPDXID suffix.
    id: String,
    layer: usize,
    license: &'static str,
}

struct Ctx {
    seed: u64,
    pkgs: Vec<Pkg>,
    layers: Vec<String>,
    digest: String,
    findings: usize,
}

const IMAGE: &str = "registry.example.mil/synthetic/app";

fn js(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

fn packages(rng: &mut Rng, n: usize) -> Vec<Pkg> {
    (0..n)
        .map(|i| {
            let r = rng.below(100);
            let eco = match r {
                0..=24 => 0,
                25..=54 => 1,
                55..=79 => 2,
                80..=91 => 3,
                _ => 4,
            };
            let mut name = if rng.below(100) == 0 {
                (*rng.pick(OPENSSLISH)).to_string()
            } else {
                let k = 1 + rng.below(3) as usize;
                (0..k)
                    .map(|_| *rng.pick(WORDS))
                    .collect::<Vec<_>>()
                    .join("-")
            };
            // Unique names keep component keys distinct at any size, as in a real image.
            name.push_str(&format!("-{i}"));
            let mut version = rng.version();
            let purl = match ECOS[eco].1 {
                "deb" => {
                    version = format!("{version}-{}+deb12u{}", 1 + rng.below(9), 1 + rng.below(9));
                    format!(
                        "pkg:deb/debian/{name}@{}?arch=amd64&distro=debian-12",
                        version.replace('+', "%2B")
                    )
                }
                "maven" => format!(
                    "pkg:maven/org.{}.{}/{name}@{version}",
                    rng.pick(WORDS),
                    rng.pick(WORDS)
                ),
                "golang" => format!(
                    "pkg:golang/github.com/{}/{name}@v{version}",
                    rng.pick(WORDS)
                ),
                t => format!("pkg:{t}/{name}@{version}"),
            };
            Pkg {
                eco,
                name,
                version,
                purl,
                id: rng.hex(16),
                layer: rng.below(12) as usize,
                license: rng.pick::<&str>(LICENSES),
            }
        })
        .collect()
}

/// One base finding, a pure function of (seed, index) so each writer can stream them in
/// its own order without keeping them.
struct Finding {
    pkg: usize,
    cve: String,
    ghsa: Option<String>,
    sev: usize,
    score: f64,
    fixed: Option<String>,
    in_trivy: bool,
    in_grype: bool,
    rng: Rng,
}

const SEVS: [&str; 5] = ["UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL"];

impl Ctx {
    fn finding(&self, i: usize) -> Finding {
        let mut rng = Rng::new(
            self.seed.wrapping_mul(0x100_0000_01B3)
                ^ (i as u64).wrapping_mul(0xD6E8_FEB8_6659_FD93),
        );
        let pkg = rng.below(self.pkgs.len().max(1) as u64) as usize;
        // Index-derived CVE numbers keep (vuln, package) pairs unique.
        let cve = format!("CVE-{}-{}", 2014 + (i % 13), 10000 + i / 13);
        let ghsa = (rng.below(5) == 0)
            .then(|| format!("GHSA-{}-{}-{}", rng.hex(4), rng.hex(4), rng.hex(4)));
        let r = rng.below(100);
        let sev = match r {
            0..=4 => 4,
            5..=24 => 3,
            25..=69 => 2,
            70..=94 => 1,
            _ => 0,
        };
        let base = [0.0, 0.1, 4.0, 7.0, 9.0][sev];
        let span = [0.0, 3.8, 2.9, 1.9, 1.0][sev];
        let score = ((base + span * (rng.below(1000) as f64 / 1000.0)) * 10.0).round() / 10.0;
        let fixed = (rng.below(10) < 6).then(|| rng.version());
        let which = rng.below(10);
        Finding {
            pkg,
            cve,
            ghsa,
            sev,
            score,
            fixed,
            in_trivy: which != 0,
            in_grype: which != 1,
            rng,
        }
    }
}

fn description(rng: &mut Rng) -> String {
    let mut s = String::with_capacity(320);
    while s.len() < 300 {
        if !s.is_empty() {
            s.push(' ');
        }
        s.push_str(rng.pick::<&str>(DESC));
    }
    let mut c = s.chars();
    match c.next() {
        Some(f) => format!("{}{}.", f.to_ascii_uppercase(), c.as_str()),
        None => s,
    }
}

fn cpe(p: &Pkg) -> String {
    let v = p.version.replace(':', "\\:").replace('+', "\\+");
    format!(
        "cpe:2.3:a:{}:{}:{}:*:*:*:*:*:*:*",
        p.name.replace('-', "_"),
        p.name,
        v
    )
}

/// Writes the requested files into `out`; returns each path and its size.
pub fn generate(opts: &SynthOptions, out: &Path) -> io::Result<Vec<(PathBuf, u64)>> {
    std::fs::create_dir_all(out)?;
    let mut rng = Rng::new(opts.seed);
    let layers = (0..12).map(|_| format!("sha256:{}", rng.hex(64))).collect();
    let pkgs = packages(&mut rng, opts.components.max(1));
    let digest = format!(
        "sha256:{}",
        hex::encode(Sha256::digest(
            format!("synthetic-{}", opts.seed).as_bytes()
        ))
    );
    let ctx = Ctx {
        seed: opts.seed,
        pkgs,
        layers,
        digest,
        findings: opts.findings,
    };
    let mut written = Vec::new();
    for f in &opts.formats {
        let path = out.join(f.file_name());
        let mut w = BufWriter::with_capacity(1 << 20, File::create(&path)?);
        match f {
            SynthFormat::Trivy => write_trivy(&ctx, &mut w)?,
            SynthFormat::Grype => write_grype(&ctx, &mut w)?,
            SynthFormat::CycloneDx => write_cdx(&ctx, &mut rng.clone(), &mut w)?,
            SynthFormat::Spdx => write_spdx(&ctx, &mut rng.clone(), &mut w)?,
        }
        w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        let size = std::fs::metadata(&path)?.len();
        written.push((path, size));
    }
    Ok(written)
}

/// Picks a size: the number of findings that makes a Trivy file of about `bytes` bytes
/// (about 1.94 KB per reported finding, 90% of the pairs, with this generator's fields).
pub fn findings_for_trivy_bytes(bytes: u64) -> usize {
    (bytes / 1750).max(1) as usize
}

#[path = "synthetic_writers.rs"]
mod writers;
use writers::{write_cdx, write_grype, write_spdx, write_trivy};

#[cfg(test)]
mod tests {
    use super::*;

    fn gen(seed: u64) -> (tempfile::TempDir, Vec<(PathBuf, u64)>) {
        let d = tempfile::tempdir().unwrap();
        let opts = SynthOptions {
            seed,
            components: 200,
            findings: 1000,
            formats: SynthFormat::ALL.to_vec(),
        };
        let w = generate(&opts, d.path()).unwrap();
        (d, w)
    }

    #[test]
    fn deterministic_by_seed() {
        let (_a, wa) = gen(7);
        let (_b, wb) = gen(7);
        let (_c, wc) = gen(8);
        for i in 0..4 {
            assert_eq!(
                std::fs::read(&wa[i].0).unwrap(),
                std::fs::read(&wb[i].0).unwrap()
            );
            assert_ne!(
                std::fs::read(&wa[i].0).unwrap(),
                std::fs::read(&wc[i].0).unwrap()
            );
        }
    }

    #[test]
    fn files_are_valid_json_with_expected_counts_and_overlap() {
        let (_d, w) = gen(42);
        let load = |i: usize| -> serde_json::Value {
            serde_json::from_slice(&std::fs::read(&w[i].0).unwrap()).unwrap()
        };
        let trivy = load(0);
        let grype = load(1);
        let cdx = load(2);
        let spdx = load(3);
        let tv: Vec<&serde_json::Value> = trivy["Results"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|r| r["Vulnerabilities"].as_array().unwrap())
            .collect();
        let gm = grype["matches"].as_array().unwrap();
        // Each scanner drops its own ~10% of the 1000 pairs: both well short of 1000, both
        // well over 800, and not equal sets.
        assert!(tv.len() > 800 && tv.len() < 1000, "trivy {}", tv.len());
        assert!(gm.len() > 800 && gm.len() < 1000, "grype {}", gm.len());
        let descr = tv[0]["Description"].as_str().unwrap();
        assert!(descr.len() >= 300 && descr.len() < 340);
        assert_eq!(cdx["components"].as_array().unwrap().len(), 200);
        // SPDX: 200 packages plus the image root.
        assert_eq!(spdx["packages"].as_array().unwrap().len(), 201);
        assert_eq!(
            cdx["metadata"]["component"]["version"],
            spdx["packages"][0]["versionInfo"]
        );
    }

    #[test]
    fn parsers_accept_every_generated_file() {
        use crate::ingest::detect::{detect, Detection, Format};
        let (_d, w) = gen(3);
        let expect = [
            Format::TrivyJson,
            Format::GrypeJson,
            Format::CycloneDxJson,
            Format::SpdxJson,
        ];
        for (i, (path, _)) in w.iter().enumerate() {
            let bytes = std::fs::read(path).unwrap();
            match detect(&bytes) {
                Detection::Supported { format, .. } => {
                    assert_eq!(format, expect[i], "{}", path.display())
                }
                other => panic!("{}: {other:?}", path.display()),
            }
            let doc = crate::ingest::formats::parse(expect[i], &bytes).unwrap();
            let digest = format!("sha256:{}", hex::encode(Sha256::digest(b"synthetic-3")));
            assert!(
                doc.image_digests.contains(&digest),
                "{}: {:?}",
                path.display(),
                doc.image_digests
            );
        }
    }
}
