//! The curated sample image: a payments API on Debian 12 with Go and npm dependencies,
//! in two versions. Findings are chosen so the gate has something to say about every
//! class (BLOCK, WARN, INFO), scanners disagree in places, and version 2 fixes some.
//! Descriptions are written for this sample; ids, packages and vectors are realistic.

/// A package in the sample image.
#[derive(Debug, Clone)]
pub struct Pkg {
    pub purl: String,
    pub kind: &'static str,
    pub name: String,
    pub version: String,
    pub license: &'static str,
    pub path: String,
    /// Names of packages this one depends on (within the image).
    pub deps: Vec<String>,
    /// Direct dependency of the application (edge from the image subject).
    pub direct: bool,
}

/// A vulnerability on one package, with what each scanner says about it.
#[derive(Debug, Clone)]
pub struct Vuln {
    pub id: String,
    pub ghsa: Option<String>,
    pub pkg: String,
    pub trivy_severity: Option<&'static str>,
    pub grype_severity: Option<&'static str>,
    pub v3: Option<&'static str>,
    pub v3_score: f64,
    pub v2: Option<&'static str>,
    pub fixed: Option<String>,
    /// Grype's fixed version when it differs from Trivy's (disagreement on the fix).
    pub grype_fixed: Option<String>,
    pub epss: Option<f64>,
    pub kev: bool,
    pub title: String,
    pub description: String,
}

fn deb(name: &str, version: &str, license: &'static str, deps: &[&str]) -> Pkg {
    Pkg {
        purl: format!("pkg:deb/debian/{name}@{version}?arch=amd64&distro=debian-12"),
        kind: "deb",
        name: name.into(),
        version: version.into(),
        license,
        path: format!("/var/lib/dpkg/status.d/{name}"),
        deps: deps.iter().map(|s| s.to_string()).collect(),
        direct: true,
    }
}

fn npm(name: &str, version: &str, direct: bool, deps: &[&str]) -> Pkg {
    Pkg {
        purl: format!("pkg:npm/{}@{version}", name.replace('@', "%40")),
        kind: "npm",
        name: name.into(),
        version: version.into(),
        license: "MIT",
        path: format!("/app/node_modules/{name}/package.json"),
        deps: deps.iter().map(|s| s.to_string()).collect(),
        direct,
    }
}

fn golang(name: &str, version: &str, direct: bool) -> Pkg {
    Pkg {
        purl: format!("pkg:golang/{name}@{version}"),
        kind: "golang",
        name: name.into(),
        version: version.into(),
        license: "BSD-3-Clause",
        path: "/usr/local/bin/ledger-sync".into(),
        deps: vec![],
        direct,
    }
}

/// Packages of version `v` (1 or 2) of the sample image.
pub fn packages(v: u8) -> Vec<Pkg> {
    let curl = if v == 1 {
        "7.88.1-10+deb12u3"
    } else {
        "7.88.1-10+deb12u8"
    };
    let qs = if v == 1 { "6.5.2" } else { "6.11.0" };
    let xnet = if v == 1 { "v0.15.0" } else { "v0.23.0" };
    let mut p = vec![
        deb("base-files", "12.4+deb12u5", "GPL-2.0-or-later", &[]),
        deb("libc6", "2.36-9+deb12u1", "LGPL-2.1-or-later", &[]),
        deb("libssl3", "3.0.11-1~deb12u2", "Apache-2.0", &["libc6"]),
        deb(
            "openssl",
            "3.0.11-1~deb12u2",
            "Apache-2.0",
            &["libssl3", "libc6"],
        ),
        deb("zlib1g", "1:1.2.13.dfsg-1", "Zlib", &["libc6"]),
        deb("libcurl4", curl, "curl", &["libssl3", "zlib1g", "libc6"]),
        deb("curl", curl, "curl", &["libcurl4"]),
        deb("libexpat1", "2.5.0-1", "MIT", &["libc6"]),
        deb(
            "tar",
            "1.34+dfsg-1.2+deb12u1",
            "GPL-3.0-or-later",
            &["libc6"],
        ),
        deb("ncurses-base", "6.4-4", "X11", &[]),
        npm("express", "4.18.2", true, &["qs", "body-parser", "cookie"]),
        npm("body-parser", "1.20.1", false, &["qs"]),
        npm("qs", qs, false, &[]),
        npm("cookie", "0.5.0", false, &[]),
        npm("jsonwebtoken", "9.0.0", true, &["semver"]),
        npm("semver", "7.5.1", false, &[]),
        npm(
            "axios",
            if v == 1 { "1.4.0" } else { "1.7.4" },
            true,
            &["follow-redirects"],
        ),
        npm("follow-redirects", "1.15.2", false, &[]),
        golang("golang.org/x/net", xnet, true),
        golang("github.com/golang-jwt/jwt/v4", "v4.5.0", true),
    ];
    if v == 2 {
        p.push(npm("helmet", "7.1.0", true, &[]));
    }
    // qs is pulled in by express directly in this sample, so it counts as direct there.
    for x in &mut p {
        if x.name == "qs" {
            x.direct = true;
        }
    }
    p
}

#[allow(clippy::too_many_arguments)]
fn vuln(
    id: &str,
    ghsa: Option<&str>,
    pkg: &str,
    sev: (Option<&'static str>, Option<&'static str>),
    v3: Option<&'static str>,
    v3_score: f64,
    v2: Option<&'static str>,
    fixed: Option<&str>,
    epss: Option<f64>,
    kev: bool,
    title: &str,
    description: &str,
) -> Vuln {
    Vuln {
        id: id.into(),
        ghsa: ghsa.map(str::to_string),
        pkg: pkg.into(),
        trivy_severity: sev.0,
        grype_severity: sev.1,
        v3,
        v3_score,
        v2,
        fixed: fixed.map(str::to_string),
        grype_fixed: None,
        epss,
        kev,
        title: title.into(),
        description: description.into(),
    }
}

/// Vulnerabilities present in version `v`.
pub fn vulns(v: u8) -> Vec<Vuln> {
    let mut out = Vec::new();
    if v == 1 {
        out.push(vuln("CVE-2023-38545", None, "libcurl4", (Some("CRITICAL"), Some("Critical")),
            Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"), 9.8, None, Some("7.88.1-10+deb12u4"), Some(0.31), false,
            "curl: heap overflow in the SOCKS5 proxy handshake",
            "A long host name sent through a SOCKS5 proxy during a slow handshake can overflow a heap buffer in libcurl. The sample application uses libcurl only for health checks through no proxy, but the library is present and reachable by any process in the image."));
        out.push(vuln("CVE-2023-44487", Some("GHSA-qppj-fm5r-hxr3"), "golang.org/x/net", (Some("HIGH"), Some("High")),
            Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"), 7.5, None, Some("0.17.0"), Some(0.82), true,
            "HTTP/2 rapid reset can exhaust server resources",
            "An HTTP/2 client can open and immediately reset many streams, forcing the server to do work for requests that never complete. The ledger-sync binary serves HTTP/2 on its metrics port. Listed in the CISA Known Exploited Vulnerabilities catalog."));
        out.push(vuln("CVE-2022-24999", Some("GHSA-hrpp-h998-j3pp"), "qs", (Some("HIGH"), Some("High")),
            Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"), 7.5, Some("AV:N/AC:L/Au:N/C:N/I:N/A:C"), Some("6.5.3"), Some(0.21), false,
            "qs: prototype pollution in query string parsing",
            "Crafted query strings with __proto__ keys let a remote client pollute Object.prototype in the Node.js process, typically causing a crash of the request handler. Express parses query strings with qs on every request."));
        out.push(vuln("CVE-2023-45857", Some("GHSA-wf5p-g6vw-rhxx"), "axios", (Some("MEDIUM"), Some("Medium")),
            Some("CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:H/I:N/A:N"), 6.5, None, Some("1.6.0"), Some(0.002), false,
            "axios: XSRF token disclosed to third-party hosts",
            "axios sends the XSRF-TOKEN cookie value in a header on every request, including requests to hosts other than the one that set it, which can disclose the token to a third party."));
        out.push(vuln("CVE-2024-28849", Some("GHSA-cxjh-pqwp-8mfp"), "follow-redirects", (Some("MEDIUM"), Some("Medium")),
            Some("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N"), 6.5, None, Some("1.15.6"), None, false,
            "follow-redirects: Proxy-Authorization header kept across hosts",
            "When a request is redirected to another host, the Proxy-Authorization header is not removed, which can leak proxy credentials to the redirect target."));
    }
    out.push(vuln("CVE-2022-25883", Some("GHSA-c2qf-rxjj-qqgw"), "semver", (Some("HIGH"), Some("Medium")),
        Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"), 7.5, None, Some("7.5.2"), Some(0.004), false,
        "semver: regular expression denial of service in range parsing",
        "Untrusted input passed to new Range() can take super-linear time to parse. In the sample application semver is only used by jsonwebtoken to check the Node.js version at start-up, never on request data."));
    out.push(vuln("CVE-2023-4911", None, "libc6", (Some("HIGH"), Some("High")),
        Some("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H"), 7.8, None, Some("2.36-9+deb12u3"), Some(0.6), false,
        "glibc: buffer overflow in GLIBC_TUNABLES handling (Looney Tunables)",
        "A local attacker can overflow a buffer in the dynamic loader by setting GLIBC_TUNABLES before running a setuid program. The image contains no setuid binaries and runs as a non-root user, which the pipeline's VEX statement records."));
    out.push(vuln("CVE-2023-52425", None, "libexpat1", (Some("HIGH"), Some("High")),
        Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"), 7.5, None, None, Some(0.01), false,
        "expat: parsing large tokens can be slow",
        "libexpat re-parses large tokens repeatedly, so a crafted XML document can consume a lot of CPU. Debian has not released a fix for bookworm."));
    out.push(vuln("CVE-2024-2511", None, "libssl3", (Some("MEDIUM"), Some("Low")),
        Some("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:N/A:L"), 3.7, None, Some("3.0.13-1~deb12u1"), Some(0.003), false,
        "openssl: unbounded memory growth with session handling in TLSv1.3",
        "Some non-default TLS server configurations can grow memory without bound while processing TLSv1.3 sessions."));
    out.push(vuln("CVE-2023-50495", None, "ncurses-base", (Some("MEDIUM"), None),
        None, 6.5, None, None, None, false,
        "ncurses: segmentation fault via _nc_wrap_entry",
        "A crafted terminfo entry can crash programs that load it. Only Trivy reports this finding for the sample image."));
    out.push(vuln("CVE-2005-2541", None, "tar", (Some("LOW"), Some("Negligible")),
        Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"), 9.8, Some("AV:N/AC:L/Au:N/C:C/I:C/A:C"), None, None, false,
        "tar: setuid files extracted without warning",
        "tar extracts setuid and setgid files without warning the user. Debian rates this as a documented behaviour, not a vulnerability."));
    out.push(vuln("CVE-2024-37890", Some("GHSA-3h5v-q93c-6h6q"), "cookie", (None, Some("Unknown")),
        None, 0.0, None, None, None, false,
        "cookie: out-of-bounds characters accepted in cookie names",
        "The cookie package accepts characters outside the allowed range in cookie name, path and domain. Only Grype reports this finding, and without a severity."));
    let mut g = vuln("CVE-2023-45288", Some("GHSA-4v7x-pqxf-cx7m"), "golang.org/x/net", (Some("MEDIUM"), Some("Medium")),
        Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L"), 5.3, None, Some("0.23.0"), Some(0.04), false,
        "net/http2: unlimited CONTINUATION frames",
        "An attacker can send an excessive number of CONTINUATION frames, causing the server to process headers without limit.");
    g.grype_fixed = Some("0.22.0".into());
    if v == 1 {
        out.push(g);
    }
    out
}
