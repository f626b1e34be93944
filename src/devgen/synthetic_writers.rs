//! The four writers of the synthetic evidence: Trivy and Grype reports, CycloneDX and SPDX
//! SBOMs, each streamed element by element from the shared packages and findings (`Ctx`).

use super::*;

pub(super) fn write_trivy(ctx: &Ctx, w: &mut impl Write) -> io::Result<()> {
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

pub(super) fn write_grype(ctx: &Ctx, w: &mut impl Write) -> io::Result<()> {
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

pub(super) fn write_cdx(ctx: &Ctx, rng: &mut Rng, w: &mut impl Write) -> io::Result<()> {
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

pub(super) fn write_spdx(ctx: &Ctx, rng: &mut Rng, w: &mut impl Write) -> io::Result<()> {
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
