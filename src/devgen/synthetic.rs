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

fn write_trivy(ctx: &Ctx, w: &mut impl Write) -> io::Result<()> {
    writeln!(
        w,
        "{{\n  \"SchemaVersion\": 2,\n  \"Trivy\": {{\"Version\": \"0.58.1\"}},"
    )?;
    writeln!(w, "  \"CreatedAt\": \"2026-11-27T00:00:00.000000000Z\",\n  \"ArtifactName\": \"{IMAGE}:1.0\",\n  \"ArtifactType\": \"container_image\",")?;
    write!(w, "  \"Metadata\": {{\"OS\": {{\"Family\": \"debian\", \"Name\": \"12.8\"}}, \"ImageID\": \"{}\", \"DiffIDs\": [", ctx.layers[0])?;
    for (i, l) in ctx.layers.iter().enumerate() {
        write!(w, "{}\"{l}\"", if i > 0 { ", " } else { "" })?;
    }
    writeln!(
        w,
        "], \"RepoTags\": [\"{IMAGE}:1.0\"], \"RepoDigests\": [\"{IMAGE}@{}\"]}},",
        ctx.digest
    )?;
    writeln!(w, "  \"Results\": [")?;
    for (e, eco) in ECOS.iter().enumerate() {
        write!(w, "    {{\n      \"Target\": {},\n      \"Class\": \"{}\",\n      \"Type\": \"{}\",\n      \"Vulnerabilities\": [", js(eco.2), eco.3, eco.4)?;
        let mut first = true;
        for i in 0..ctx.findings {
            let mut f = ctx.finding(i);
            let p = &ctx.pkgs[f.pkg];
            if p.eco != e || !f.in_trivy {
                continue;
            }
            w.write_all(if first { b"\n" } else { b",\n" })?;
            first = false;
            trivy_vuln(ctx, &mut f, w)?;
        }
        write!(
            w,
            "\n      ]\n    }}{}\n",
            if e + 1 < ECOS.len() { "," } else { "" }
        )?;
    }
    writeln!(w, "  ]\n}}")
}

fn trivy_vuln(ctx: &Ctx, f: &mut Finding, w: &mut impl Write) -> io::Result<()> {
    let p = &ctx.pkgs[f.pkg];
    let rng = &mut f.rng;
    let id = f
        .ghsa
        .as_deref()
        .filter(|_| ECOS[p.eco].1 != "deb")
        .unwrap_or(&f.cve);
    let sev = SEVS[f.sev];
    let status = if f.fixed.is_some() {
        "fixed"
    } else {
        *rng.pick(&["affected", "will_not_fix", "fix_deferred"])
    };
    write!(w, "        {{\n          \"VulnerabilityID\": \"{id}\",\n          \"PkgID\": {},\n          \"PkgName\": {},\n", js(&format!("{}@{}", p.name, p.version)), js(&p.name))?;
    write!(w, "          \"PkgIdentifier\": {{\"PURL\": {}, \"UID\": \"{}\"}},\n          \"InstalledVersion\": {},\n", js(&p.purl), rng.hex(16), js(&p.version))?;
    if let Some(fx) = &f.fixed {
        writeln!(w, "          \"FixedVersion\": \"{fx}\",")?;
    }
    write!(w, "          \"Status\": \"{status}\",\n          \"Layer\": {{\"Digest\": \"sha256:{}\", \"DiffID\": \"{}\"}},\n", rng.hex(64), ctx.layers[p.layer])?;
    write!(w, "          \"SeveritySource\": \"{}\",\n          \"PrimaryURL\": \"https://avd.aquasec.com/nvd/{}\",\n", rng.pick(&["nvd", "debian", "ghsa", "redhat"]), id.to_ascii_lowercase())?;
    writeln!(w, "          \"DataSource\": {{\"ID\": \"ghsa\", \"Name\": \"GitHub Security Advisory\", \"URL\": \"https://github.com/advisories\"}},")?;
    let title: Vec<&str> = (0..6).map(|_| *rng.pick(DESC)).collect();
    write!(
        w,
        "          \"Title\": {},\n          \"Description\": {},\n",
        js(&format!("{}: {}", p.name, title.join(" "))),
        js(&description(rng))
    )?;
    write!(
        w,
        "          \"Severity\": \"{sev}\",\n          \"CweIDs\": [\"CWE-{}\"],\n",
        rng.pick(CWES)
    )?;
    writeln!(
        w,
        "          \"VendorSeverity\": {{\"nvd\": {}, \"ghsa\": {}, \"redhat\": {}}},",
        f.sev,
        f.sev.saturating_sub(rng.below(2) as usize),
        f.sev
    )?;
    write!(w, "          \"CVSS\": {{\"nvd\": {{\"V2Vector\": \"AV:N/AC:L/Au:N/C:P/I:P/A:P\", \"V3Vector\": \"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\", \"V2Score\": {:.1}, \"V3Score\": {:.1}}}, ", (f.score + 0.3).min(10.0), f.score)?;
    writeln!(w, "\"redhat\": {{\"V3Vector\": \"CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N\", \"V3Score\": {:.1}}}}},", (f.score - 0.5).max(0.0))?;
    write!(w, "          \"References\": [")?;
    for k in 0..(3 + rng.below(5)) {
        write!(
            w,
            "{}\"https://{}/{}/{}\"",
            if k > 0 { ", " } else { "" },
            rng.pick(&[
                "github.com",
                "nvd.nist.gov",
                "security-tracker.debian.org",
                "access.redhat.com"
            ]),
            rng.pick(WORDS),
            rng.hex(12)
        )?;
    }
    let year = &f.cve[4..8];
    write!(w, "],\n          \"PublishedDate\": \"{year}-0{}-1{}T12:15:00Z\",\n          \"LastModifiedDate\": \"2026-0{}-2{}T08:00:00Z\"\n        }}", 1 + rng.below(9), rng.below(10), 1 + rng.below(9), rng.below(9))
}

fn write_grype(ctx: &Ctx, w: &mut impl Write) -> io::Result<()> {
    w.write_all(b"{\"matches\":[")?;
    let mut first = true;
    for i in 0..ctx.findings {
        let mut f = ctx.finding(i);
        if !f.in_grype {
            continue;
        }
        if !first {
            w.write_all(b",")?;
        }
        first = false;
        grype_match(ctx, &mut f, w)?;
    }
    write!(w, "],\"source\":{{\"type\":\"image\",\"target\":{{\"userInput\":\"{IMAGE}:1.0\",\"imageID\":\"{}\",\"manifestDigest\":\"{}\",\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"tags\":[\"{IMAGE}:1.0\"],\"repoDigests\":[\"{IMAGE}@{}\"],\"layers\":[", ctx.layers[0], ctx.digest, ctx.digest)?;
    for (i, l) in ctx.layers.iter().enumerate() {
        write!(w, "{}{{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"{l}\",\"size\":{}}}", if i > 0 { "," } else { "" }, 1_000_000 + i * 4096)?;
    }
    w.write_all(b"]}},\"distro\":{\"name\":\"debian\",\"version\":\"12\",\"idLike\":[]},")?;
    w.write_all(b"\"descriptor\":{\"name\":\"grype\",\"version\":\"0.86.1\",\"timestamp\":\"2026-11-27T00:00:00Z\",\"db\":{\"status\":{\"schemaVersion\":\"v6.0.2\",\"from\":\"https://grype.anchore.io/databases/v6/vulnerability-db_v6.0.2_2026-11-26T01:30:00Z.tar.zst\",\"built\":\"2026-11-26T01:30:00Z\",\"path\":\"/root/.cache/grype/db/6/vulnerability.db\",\"valid\":true}}}}\n")
}

fn grype_match(ctx: &Ctx, f: &mut Finding, w: &mut impl Write) -> io::Result<()> {
    let p = &ctx.pkgs[f.pkg];
    let eco = ECOS[p.eco];
    let rng = &mut f.rng;
    let (id, ns, source) = match (&f.ghsa, eco.1) {
        (Some(g), t) if t != "deb" => (
            g.as_str(),
            format!("github:language:{}", eco.5),
            "https://github.com/advisories",
        ),
        (_, "deb") => (
            f.cve.as_str(),
            "debian:distro:debian:12".to_string(),
            "https://security-tracker.debian.org/tracker",
        ),
        _ => (
            f.cve.as_str(),
            "nvd:cpe".to_string(),
            "https://nvd.nist.gov/vuln/detail",
        ),
    };
    let sev = match f.sev {
        0 => "Unknown",
        1 => "Low",
        2 => "Medium",
        3 => "High",
        _ => "Critical",
    };
    write!(w, "{{\"vulnerability\":{{\"id\":\"{id}\",\"dataSource\":\"{source}/{id}\",\"namespace\":\"{ns}\",\"severity\":\"{sev}\",\"urls\":[\"{source}/{id}\"],\"description\":{},", js(&description(rng)))?;
    write!(w, "\"cvss\":[{{\"source\":\"nvd@nist.gov\",\"type\":\"Primary\",\"version\":\"3.1\",\"vector\":\"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\",\"metrics\":{{\"baseScore\":{:.1},\"exploitabilityScore\":3.9,\"impactScore\":5.9}},\"vendorMetadata\":{{}}}}],", f.score)?;
    match &f.fixed {
        Some(fx) => write!(
            w,
            "\"fix\":{{\"versions\":[\"{fx}\"],\"state\":\"fixed\"}},"
        )?,
        None => write!(w, "\"fix\":{{\"versions\":[],\"state\":\"not-fixed\"}},")?,
    }
    write!(w, "\"advisories\":[],\"epss\":[{{\"cve\":\"{}\",\"epss\":0.{:05},\"percentile\":0.{:05},\"date\":\"2026-11-26\"}}]}},", f.cve, rng.below(100_000), rng.below(100_000))?;
    w.write_all(b"\"relatedVulnerabilities\":[")?;
    if id != f.cve {
        write!(w, "{{\"id\":\"{}\",\"dataSource\":\"https://nvd.nist.gov/vuln/detail/{}\",\"namespace\":\"nvd:cpe\",\"severity\":\"{sev}\",\"urls\":[],\"description\":{},\"cvss\":[]}}", f.cve, f.cve, js(&description(rng)))?;
    }
    write!(w, "],\"matchDetails\":[{{\"type\":\"exact-direct-match\",\"matcher\":\"{}-matcher\",\"searchedBy\":{{\"language\":\"{}\",\"namespace\":\"{ns}\",\"package\":{{\"name\":{},\"version\":{}}}}},\"found\":{{\"vulnerabilityID\":\"{id}\",\"versionConstraint\":\"< {}\"}}}}],", eco.0, eco.5, js(&p.name), js(&p.version), f.fixed.as_deref().unwrap_or("99"))?;
    write!(w, "\"artifact\":{{\"id\":\"{}\",\"name\":{},\"version\":{},\"type\":\"{}\",\"locations\":[{{\"path\":\"/usr/lib/{}/{}\",\"layerID\":\"{}\"}}],\"language\":\"{}\",\"licenses\":[\"{}\"],\"cpes\":[{}],\"purl\":{},\"upstreams\":[]}}}}",
        p.id, js(&p.name), js(&p.version), eco.0, eco.1, p.name, ctx.layers[p.layer], eco.5, p.license, js(&cpe(p)), js(&p.purl))
}

fn bom_ref(p: &Pkg) -> String {
    if p.purl.contains('?') {
        format!("{}&package-id={}", p.purl, p.id)
    } else {
        format!("{}?package-id={}", p.purl, p.id)
    }
}

/// Each package depends on 0-3 later-chosen packages; the first tenth are the image's
/// direct dependencies, the rest reached transitively.
fn deps_of(ctx: &Ctx, i: usize) -> Vec<usize> {
    let mut r = Rng::new(ctx.seed ^ 0xDE95 ^ (i as u64).wrapping_mul(0x2545_F491_4F6C_DD1D));
    let n = ctx.pkgs.len() as u64;
    let k = *r.pick(&[0u64, 0, 1, 2, 3]);
    (0..k)
        .map(|_| r.below(n) as usize)
        .filter(|&j| j != i)
        .collect()
}

fn write_cdx(ctx: &Ctx, rng: &mut Rng, w: &mut impl Write) -> io::Result<()> {
    write!(w, "{{\"$schema\":\"http://cyclonedx.org/schema/bom-1.6.schema.json\",\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.6\",\"serialNumber\":\"urn:uuid:{}-{}-4{}-8{}-{}\",\"version\":1,", rng.hex(8), rng.hex(4), rng.hex(3), rng.hex(3), rng.hex(12))?;
    write!(w, "\"metadata\":{{\"timestamp\":\"2026-11-27T00:00:00Z\",\"tools\":{{\"components\":[{{\"type\":\"application\",\"author\":\"anchore\",\"name\":\"syft\",\"version\":\"1.18.1\"}}]}},\"component\":{{\"bom-ref\":\"image-root\",\"type\":\"container\",\"name\":\"{IMAGE}\",\"version\":\"{}\"}}}},\"components\":[", ctx.digest)?;
    for (i, p) in ctx.pkgs.iter().enumerate() {
        if i > 0 {
            w.write_all(b",")?;
        }
        let eco = ECOS[p.eco];
        write!(w, "{{\"bom-ref\":{},\"type\":\"library\",\"publisher\":\"{} Maintainers\",\"name\":{},\"version\":{},\"licenses\":[{{\"license\":{{\"id\":\"{}\"}}}}],\"cpe\":{},\"purl\":{},", js(&bom_ref(p)), rng.pick(WORDS), js(&p.name), js(&p.version), p.license, js(&cpe(p)), js(&p.purl))?;
        if p.eco != 0 {
            write!(w, "\"hashes\":[{{\"alg\":\"SHA-1\",\"content\":\"{}\"}},{{\"alg\":\"SHA-256\",\"content\":\"{}\"}}],", rng.hex(40), rng.hex(64))?;
        }
        write!(w, "\"properties\":[{{\"name\":\"syft:package:foundBy\",\"value\":\"{}-cataloger\"}},{{\"name\":\"syft:package:type\",\"value\":\"{}\"}},{{\"name\":\"syft:cpe23\",\"value\":{}}},{{\"name\":\"syft:location:0:layerID\",\"value\":\"{}\"}},{{\"name\":\"syft:location:0:path\",\"value\":\"/usr/lib/{}/{}\"}}]}}",
            eco.0, eco.0, js(&cpe(p).replacen(":a:", ":a:vendor_", 1)), ctx.layers[p.layer], eco.1, js(&p.name).trim_matches('"'))?;
    }
    w.write_all(b"],\"dependencies\":[")?;
    let n = ctx.pkgs.len();
    let direct = (n / 10).max(1);
    write!(w, "{{\"ref\":\"image-root\",\"dependsOn\":[")?;
    for (i, p) in ctx.pkgs.iter().take(direct).enumerate() {
        write!(w, "{}{}", if i > 0 { "," } else { "" }, js(&bom_ref(p)))?;
    }
    w.write_all(b"]}")?;
    for (i, p) in ctx.pkgs.iter().enumerate() {
        let d = deps_of(ctx, i);
        write!(w, ",{{\"ref\":{},\"dependsOn\":[", js(&bom_ref(p)))?;
        for (k, j) in d.iter().enumerate() {
            write!(
                w,
                "{}{}",
                if k > 0 { "," } else { "" },
                js(&bom_ref(&ctx.pkgs[*j]))
            )?;
        }
        w.write_all(b"]}")?;
    }
    w.write_all(b"]}\n")
}

fn write_spdx(ctx: &Ctx, rng: &mut Rng, w: &mut impl Write) -> io::Result<()> {
    let hexd = ctx.digest.trim_start_matches("sha256:");
    write!(w, "{{\n \"spdxVersion\": \"SPDX-2.3\",\n \"dataLicense\": \"CC0-1.0\",\n \"SPDXID\": \"SPDXRef-DOCUMENT\",\n \"name\": \"{IMAGE}\",\n \"documentNamespace\": \"https://anchore.com/syft/image/app-{}\",\n", rng.hex(36))?;
    write!(w, " \"creationInfo\": {{\"licenseListVersion\": \"3.25\", \"creators\": [\"Organization: Anchore, Inc\", \"Tool: syft-1.18.1\"], \"created\": \"2026-11-27T00:00:00Z\"}},\n \"packages\": [\n")?;
    write!(w, "  {{\"name\": \"{IMAGE}\", \"SPDXID\": \"SPDXRef-DocumentRoot-Image-app\", \"versionInfo\": \"{}\", \"supplier\": \"NOASSERTION\", \"downloadLocation\": \"NOASSERTION\", \"filesAnalyzed\": false, \"checksums\": [{{\"algorithm\": \"SHA256\", \"checksumValue\": \"{hexd}\"}}], \"licenseConcluded\": \"NOASSERTION\", \"licenseDeclared\": \"NOASSERTION\", \"copyrightText\": \"NOASSERTION\", \"externalRefs\": [{{\"referenceCategory\": \"PACKAGE-MANAGER\", \"referenceType\": \"purl\", \"referenceLocator\": \"pkg:oci/app@sha256%3A{hexd}?arch=amd64&tag=1.0\"}}], \"primaryPackagePurpose\": \"CONTAINER\"}}", ctx.digest)?;
    for p in &ctx.pkgs {
        let eco = ECOS[p.eco];
        write!(w, ",\n  {{\"name\": {}, \"SPDXID\": \"SPDXRef-Package-{}-{}-{}\", \"versionInfo\": {}, \"supplier\": \"Organization: {} Maintainers\", \"originator\": \"Person: {}\", \"downloadLocation\": \"NOASSERTION\", \"filesAnalyzed\": false, \"sourceInfo\": \"acquired package info from {} at /usr/lib/{}\", ",
            js(&p.name), eco.0, p.name, p.id, js(&p.version), rng.pick(WORDS), rng.pick(WORDS), eco.0, eco.1)?;
        if p.eco != 0 {
            write!(
                w,
                "\"checksums\": [{{\"algorithm\": \"SHA1\", \"checksumValue\": \"{}\"}}], ",
                rng.hex(40)
            )?;
        }
        write!(w, "\"licenseConcluded\": \"NOASSERTION\", \"licenseDeclared\": \"{}\", \"copyrightText\": \"NOASSERTION\", \"externalRefs\": [{{\"referenceCategory\": \"SECURITY\", \"referenceType\": \"cpe23Type\", \"referenceLocator\": {}}}, {{\"referenceCategory\": \"PACKAGE-MANAGER\", \"referenceType\": \"purl\", \"referenceLocator\": {}}}], \"primaryPackagePurpose\": \"LIBRARY\"}}",
            p.license, js(&cpe(p)), js(&p.purl))?;
    }
    write!(w, "\n ],\n \"relationships\": [\n  {{\"spdxElementId\": \"SPDXRef-DOCUMENT\", \"relationshipType\": \"DESCRIBES\", \"relatedSpdxElement\": \"SPDXRef-DocumentRoot-Image-app\"}}")?;
    let sid = |p: &Pkg| format!("SPDXRef-Package-{}-{}-{}", ECOS[p.eco].0, p.name, p.id);
    let n = ctx.pkgs.len();
    let direct = (n / 10).max(1);
    for p in ctx.pkgs.iter().take(direct) {
        write!(w, ",\n  {{\"spdxElementId\": \"SPDXRef-DocumentRoot-Image-app\", \"relationshipType\": \"CONTAINS\", \"relatedSpdxElement\": \"{}\"}}", sid(p))?;
    }
    for (i, p) in ctx.pkgs.iter().enumerate() {
        for j in deps_of(ctx, i) {
            write!(w, ",\n  {{\"spdxElementId\": \"{}\", \"relationshipType\": \"DEPENDS_ON\", \"relatedSpdxElement\": \"{}\"}}", sid(p), sid(&ctx.pkgs[j]))?;
        }
    }
    w.write_all(b"\n ]\n}\n")
}

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
