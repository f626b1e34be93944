//! Trivy (SchemaVersion 2, --list-all-pkgs) and Grype (v6 DB descriptor, EPSS, KEV,
//! relatedVulnerabilities, one ignored match) reports over the same packages. They
//! overlap and disagree on purpose: severities, fix versions, one finding each alone.

use super::catalog::{Pkg, Vuln};
use super::Version;
use serde_json::{json, Value};

fn trivy_type(p: &Pkg) -> (&'static str, &'static str, String) {
    match p.kind {
        "deb" => ("os-pkgs", "debian", String::new()),
        "npm" => ("lang-pkgs", "node-pkg", "Node.js".into()),
        _ => ("lang-pkgs", "gobinary", "usr/local/bin/ledger-sync".into()),
    }
}

pub fn trivy(pkgs: &[Pkg], vulns: &[Vuln], reference: &str, digest: &str, ver: &Version) -> Value {
    let repo = reference.rsplit_once(':').map_or(reference, |x| x.0);
    let mut results = Vec::new();
    for (class, ty, target) in [
        ("os-pkgs", "debian", format!("{reference} (debian 12.4)")),
        ("lang-pkgs", "node-pkg", "Node.js".to_string()),
        (
            "lang-pkgs",
            "gobinary",
            "usr/local/bin/ledger-sync".to_string(),
        ),
    ] {
        let in_result: Vec<&Pkg> = pkgs.iter().filter(|p| trivy_type(p).1 == ty).collect();
        let packages: Vec<Value> = in_result
            .iter()
            .map(|p| json!({"ID": format!("{}@{}", p.name, p.version), "Name": p.name, "Version": p.version,
                "Identifier": {"PURL": p.purl}, "Licenses": [p.license], "FilePath": if ty == "debian" { Value::Null } else { json!(p.path) }}))
            .collect();
        let mut vs = Vec::new();
        for v in vulns.iter().filter(|v| v.trivy_severity.is_some()) {
            let Some(p) = in_result.iter().find(|p| p.name == v.pkg) else {
                continue;
            };
            let Some(sev) = v.trivy_severity else {
                continue;
            };
            let mut cvss = serde_json::Map::new();
            if let Some(vec3) = v.v3 {
                let mut nvd = json!({"V3Vector": vec3, "V3Score": v.v3_score});
                if let Some(v2) = v.v2 {
                    nvd["V2Vector"] = json!(v2);
                    nvd["V2Score"] = json!(7.8);
                }
                cvss.insert("nvd".into(), nvd);
            }
            let status = match (&v.fixed, v.pkg.as_str()) {
                (Some(_), _) => "fixed",
                (None, "tar") => "will_not_fix",
                (None, _) => "affected",
            };
            let mut x = json!({
                "VulnerabilityID": v.id, "PkgID": format!("{}@{}", p.name, p.version), "PkgName": p.name,
                "PkgIdentifier": {"PURL": p.purl}, "InstalledVersion": p.version, "Status": status,
                "SeveritySource": if ty == "debian" { "debian" } else { "ghsa" },
                "PrimaryURL": format!("https://avd.aquasec.com/nvd/{}", v.id.to_lowercase()),
                "DataSource": if ty == "debian" { json!({"ID": "debian", "Name": "Debian Security Tracker", "URL": "https://salsa.debian.org/security-tracker-team/security-tracker"}) }
                              else { json!({"ID": "ghsa", "Name": "GitHub Security Advisory", "URL": "https://github.com/advisories"}) },
                "Title": v.title, "Description": v.description, "Severity": sev,
                "VendorSeverity": {"nvd": sev_int(sev)},
                "CVSS": cvss,
                "References": [format!("https://nvd.nist.gov/vuln/detail/{}", v.id)],
                "PublishedDate": "2023-10-18T04:15:11.077Z",
            });
            if let Some(f) = &v.fixed {
                x["FixedVersion"] = json!(f);
            }
            if !ty.eq("debian") && !p.path.is_empty() {
                x["PkgPath"] = json!(p.path);
            }
            vs.push(x);
        }
        let mut r = json!({"Target": target, "Class": class, "Type": ty, "Packages": packages});
        if !vs.is_empty() {
            r["Vulnerabilities"] = json!(vs);
        }
        results.push(r);
    }
    json!({
        "SchemaVersion": 2,
        "CreatedAt": ver.scanned_at,
        "ArtifactName": reference,
        "ArtifactType": "container_image",
        "Metadata": {
            "OS": {"Family": "debian", "Name": "12.4"},
            "ImageID": format!("sha256:{}", super::sha256_hex(format!("config-{}", ver.tag).as_bytes())),
            "RepoTags": [reference],
            "RepoDigests": [format!("{repo}@{digest}")],
            "ImageConfig": {"architecture": "amd64", "os": "linux", "config": {"User": ver.user}},
        },
        "Results": results,
    })
}

fn sev_int(s: &str) -> i64 {
    match s {
        "CRITICAL" => 4,
        "HIGH" => 3,
        "MEDIUM" => 2,
        "LOW" => 1,
        _ => 0,
    }
}

fn grype_cvss(v: &Vuln) -> Vec<Value> {
    v.v3.map(|vec3| {
        json!({"source": "nvd@nist.gov", "type": "Primary", "version": "3.1", "vector": vec3,
               "metrics": {"baseScore": v.v3_score, "exploitabilityScore": 3.9, "impactScore": 3.6}, "vendorMetadata": {}})
    })
    .into_iter()
    .collect()
}

fn grype_match(p: &Pkg, v: &Vuln, ver: &Version, sev: &str) -> Value {
    let (id, related) = match &v.ghsa {
        Some(g) => (
            g.clone(),
            vec![
                json!({"id": v.id, "dataSource": format!("https://nvd.nist.gov/vuln/detail/{}", v.id),
            "namespace": "nvd:cpe", "severity": sev, "urls": [], "description": v.description, "cvss": grype_cvss(v)}),
            ],
        ),
        None => (v.id.clone(), vec![]),
    };
    let fixed = v.grype_fixed.clone().or_else(|| v.fixed.clone());
    let (state, versions) = match (&fixed, v.pkg.as_str()) {
        (Some(f), _) => ("fixed", vec![f.clone()]),
        (None, "tar") => ("wont-fix", vec![]),
        (None, _) => ("not-fixed", vec![]),
    };
    let namespace = match p.kind {
        "deb" => "debian:distro:debian:12",
        "npm" => "github:language:javascript",
        _ => "github:language:go",
    };
    let mut vuln = json!({
        "id": id, "dataSource": format!("https://github.com/advisories/{id}"), "namespace": namespace,
        "severity": sev, "urls": [], "description": v.description, "cvss": if v.ghsa.is_some() { json!([]) } else { json!(grype_cvss(v)) },
        "fix": {"versions": versions, "state": state}, "advisories": [],
    });
    if let Some(e) = v.epss {
        vuln["epss"] = json!([{"cve": v.id, "epss": e, "percentile": (e * 1.4).min(0.999), "date": &ver.db_built[..10]}]);
    }
    if v.kev {
        vuln["knownExploited"] = json!([{"cve": v.id, "vendorProject": "IETF", "product": "HTTP/2", "dateAdded": "2023-10-10",
            "requiredAction": "Apply mitigations per vendor instructions or discontinue use of the product if mitigations are unavailable.",
            "dueDate": "2023-10-31", "knownRansomwareCampaignUse": "Unknown"}]);
    }
    json!({
        "vulnerability": vuln,
        "relatedVulnerabilities": related,
        "matchDetails": [{"type": "exact-direct-match", "matcher": format!("{}-matcher", if p.kind == "deb" { "dpkg" } else { p.kind }),
            "searchedBy": {"package": {"name": p.name, "version": p.version}, "namespace": namespace},
            "found": {"vulnerabilityID": id, "versionConstraint": fixed.map(|f| format!("< {f}")).unwrap_or_else(|| "none (unknown)".into())}}],
        "artifact": {"id": &super::sha256_hex(p.purl.as_bytes())[..16], "name": p.name, "version": p.version, "type": p.kind,
            "locations": [{"path": p.path}], "language": if p.kind == "npm" { "javascript" } else { "" },
            "licenses": [p.license], "cpes": [], "purl": p.purl},
    })
}

pub fn grype(pkgs: &[Pkg], vulns: &[Vuln], reference: &str, digest: &str, ver: &Version) -> Value {
    let repo = reference.rsplit_once(':').map_or(reference, |x| x.0);
    let mut matches = Vec::new();
    let mut ignored = Vec::new();
    for v in vulns {
        let Some(sev) = v.grype_severity else {
            continue;
        };
        let Some(p) = pkgs.iter().find(|p| p.name == v.pkg) else {
            continue;
        };
        let m = grype_match(p, v, ver, sev);
        if v.pkg == "tar" {
            let mut m = m;
            m["appliedIgnoreRules"] = json!([{"vulnerability": v.id, "reason": "documented behaviour, rejected by Debian", "fix-state": "", "package": {}}]);
            ignored.push(m);
        } else {
            matches.push(m);
        }
    }
    json!({
        "matches": matches,
        "ignoredMatches": ignored,
        "source": {"type": "image", "target": {"userInput": reference,
            "imageID": format!("sha256:{}", super::sha256_hex(format!("config-{}", ver.tag).as_bytes())),
            "manifestDigest": digest, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "tags": [reference], "repoDigests": [format!("{repo}@{digest}")], "architecture": "amd64", "os": "linux"}},
        "distro": {"name": "debian", "version": "12", "idLike": []},
        "descriptor": {"name": "grype", "version": "0.86.1", "timestamp": ver.scanned_at,
            "db": {"status": {"schemaVersion": "v6.0.2", "from": "https://grype.anchore.io/databases/v6/vulnerability-db_v6.0.2.tar.zst",
                "built": ver.db_built, "path": "/root/.cache/grype/db/6/vulnerability.db", "valid": true}}},
    })
}
