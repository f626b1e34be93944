//! Syft-shaped CycloneDX 1.6 and SPDX 2.3 JSON for the sample image, with the same
//! dependency graph in both (image -> direct packages -> their dependencies).

use super::catalog::Pkg;
use super::Version;
use serde_json::{json, Value};

fn bom_ref(p: &Pkg) -> String {
    format!(
        "{}&package-id={}",
        p.purl,
        &super::sha256_hex(p.purl.as_bytes())[..16]
    )
}

fn cpe(p: &Pkg) -> String {
    format!(
        "cpe:2.3:a:{0}:{0}:{1}:*:*:*:*:*:*:*",
        p.name.replace(['/', '@'], "_"),
        p.version.trim_start_matches('v')
    )
}

pub fn cyclonedx(pkgs: &[Pkg], reference: &str, digest: &str, ver: &Version) -> Value {
    let by_name = |n: &str| pkgs.iter().find(|p| p.name == n);
    let components: Vec<Value> = pkgs
        .iter()
        .map(|p| {
            json!({
                "bom-ref": bom_ref(p),
                "type": "library",
                "name": p.name,
                "version": p.version,
                "licenses": [{"license": {"id": p.license}}],
                "cpe": cpe(p),
                "purl": p.purl,
                "properties": [
                    {"name": "syft:package:type", "value": p.kind},
                    {"name": "syft:location:0:path", "value": p.path},
                ],
            })
        })
        .collect();
    let mut deps = vec![json!({
        "ref": "image-root",
        "dependsOn": pkgs.iter().filter(|p| p.direct).map(bom_ref).collect::<Vec<_>>(),
    })];
    for p in pkgs {
        let on: Vec<String> = p
            .deps
            .iter()
            .filter_map(|d| by_name(d))
            .map(bom_ref)
            .collect();
        deps.push(json!({"ref": bom_ref(p), "dependsOn": on}));
    }
    let repo = reference.rsplit_once(':').map_or(reference, |x| x.0);
    json!({
        "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": format!("urn:uuid:{}", uuid_like(&format!("cdx-{}", ver.tag))),
        "version": 1,
        "metadata": {
            "timestamp": ver.scanned_at,
            "tools": {"components": [{"type": "application", "author": "anchore", "name": "syft", "version": "1.18.1"}]},
            "component": {"bom-ref": "image-root", "type": "container", "name": repo, "version": digest},
        },
        "components": components,
        "dependencies": deps,
    })
}

fn spdx_id(p: &Pkg) -> String {
    format!(
        "SPDXRef-Package-{}-{}",
        p.kind,
        &super::sha256_hex(p.purl.as_bytes())[..16]
    )
}

pub fn spdx(pkgs: &[Pkg], reference: &str, digest: &str, ver: &Version) -> Value {
    let repo = reference.rsplit_once(':').map_or(reference, |x| x.0);
    let root = "SPDXRef-DocumentRoot-Image-payments-api";
    let mut packages = vec![json!({
        "name": repo, "SPDXID": root, "versionInfo": digest, "supplier": "NOASSERTION",
        "downloadLocation": "NOASSERTION", "filesAnalyzed": false, "licenseConcluded": "NOASSERTION",
        "licenseDeclared": "NOASSERTION", "copyrightText": "NOASSERTION",
        "checksums": [{"algorithm": "SHA256", "checksumValue": digest.trim_start_matches("sha256:")}],
        "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
            "referenceLocator": format!("pkg:oci/payments-api@{}?repository_url={repo}", digest.replace(':', "%3A"))}],
        "primaryPackagePurpose": "CONTAINER",
    })];
    for p in pkgs {
        packages.push(json!({
            "name": p.name, "SPDXID": spdx_id(p), "versionInfo": p.version, "supplier": "NOASSERTION",
            "downloadLocation": "NOASSERTION", "filesAnalyzed": false, "sourceInfo": format!("acquired package info from {}", p.path),
            "licenseConcluded": "NOASSERTION", "licenseDeclared": p.license, "copyrightText": "NOASSERTION",
            "externalRefs": [
                {"referenceCategory": "SECURITY", "referenceType": "cpe23Type", "referenceLocator": cpe(p)},
                {"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": p.purl},
            ],
        }));
    }
    let mut rels = vec![
        json!({"spdxElementId": "SPDXRef-DOCUMENT", "relatedSpdxElement": root, "relationshipType": "DESCRIBES"}),
    ];
    for p in pkgs.iter().filter(|p| p.direct) {
        rels.push(json!({"spdxElementId": root, "relatedSpdxElement": spdx_id(p), "relationshipType": "CONTAINS"}));
    }
    for p in pkgs {
        for d in &p.deps {
            if let Some(q) = pkgs.iter().find(|x| &x.name == d) {
                rels.push(json!({"spdxElementId": spdx_id(p), "relatedSpdxElement": spdx_id(q), "relationshipType": "DEPENDS_ON"}));
            }
        }
    }
    json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": reference,
        "documentNamespace": format!("https://anchore.com/syft/image/payments-api-{}-{}", ver.tag, uuid_like(&format!("spdx-{}", ver.tag))),
        "creationInfo": {"licenseListVersion": "3.25", "creators": ["Organization: Anchore, Inc", "Tool: syft-1.18.1"], "created": ver.scanned_at},
        "packages": packages,
        "relationships": rels,
    })
}

/// A stable UUID-shaped string from a label (sample documents must be reproducible).
pub fn uuid_like(label: &str) -> String {
    let h = super::sha256_hex(label.as_bytes());
    format!(
        "{}-{}-4{}-8{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}
