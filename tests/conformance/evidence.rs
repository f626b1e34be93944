//! The real evidence set (`../shared/fixtures/real-evidence`, made by real tools, see its
//! README) imported through the binary: one set for the image digest, the SBOMs'
//! components merged (counted here from the raw files), every file on disk accounted for,
//! and the image layouts alone (directory and tarred) naming the same digest.
//!
//! Component identity, written out independently of the parsers: the purl without
//! qualifiers/subpath (type lowercased), else `nopurl:<type>/<name>@<version>` where type
//! is the CycloneDX component `type`, the SPDX `primaryPackagePurpose` (lowercased, `_` as
//! `-`, `package` when absent), or the Trivy Result `Type`. The SBOM's own subject
//! (CycloneDX `metadata.component`, SPDX packages the document DESCRIBES) and CycloneDX
//! `file` components are not components.

use super::common;
use assert_cmd::Command;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const DIGEST: &str = "sha256:52c1fa53b306f09e32761cfbffae79ceedad6482dec55cdd472de220f41c145b";
const LAYER: &str = "00e32be70cd41b2c085acffadf80aaca702633b7efe9d950a318c4368cc29839";

fn real() -> PathBuf {
    common::shared().join("fixtures/real-evidence")
}

fn dossier(store: &Path, args: &[&str]) -> (i32, Value) {
    let out = Command::cargo_bin("dossier")
        .unwrap()
        .env("DOSSIER_ACTOR", "conformance")
        .env_remove("DOSSIER_STORE")
        .arg("--store")
        .arg(store)
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let v = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "{args:?}: {e}\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), v)
}

fn nopurl(kind: &str, name: &str, version: &str) -> String {
    format!("nopurl:{}/{name}@{version}", kind.to_ascii_lowercase())
}

fn key(purl: Option<&str>, kind: &str, name: &str, version: &str) -> String {
    purl.and_then(common::purl_key)
        .unwrap_or_else(|| nopurl(kind, name, version))
}

fn str_of<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or("")
}

fn cyclonedx_keys(v: &Value, out: &mut BTreeSet<String>) {
    fn walk(cs: Option<&Value>, out: &mut BTreeSet<String>) {
        for c in cs.and_then(Value::as_array).into_iter().flatten() {
            if str_of(c, "type") != "file" {
                let purl = c.get("purl").and_then(Value::as_str);
                out.insert(key(
                    purl,
                    str_of(c, "type"),
                    str_of(c, "name"),
                    str_of(c, "version"),
                ));
            }
            walk(c.get("components"), out);
        }
    }
    walk(v.get("components"), out);
}

fn spdx_kind(purpose: &str) -> String {
    if purpose.is_empty() {
        "package".into()
    } else {
        purpose.to_ascii_lowercase().replace('_', "-")
    }
}

fn spdx_json_keys(v: &Value, out: &mut BTreeSet<String>) {
    let mut described: BTreeSet<&str> = v
        .get("documentDescribes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    for r in v
        .get("relationships")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if str_of(r, "relationshipType") == "DESCRIBES"
            && str_of(r, "spdxElementId") == "SPDXRef-DOCUMENT"
        {
            described.insert(str_of(r, "relatedSpdxElement"));
        }
    }
    for p in v
        .get("packages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if described.contains(str_of(p, "SPDXID")) {
            continue;
        }
        let purl = p
            .get("externalRefs")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|e| str_of(e, "referenceType") == "purl")
            .and_then(|e| e.get("referenceLocator"))
            .and_then(Value::as_str);
        let kind = spdx_kind(str_of(p, "primaryPackagePurpose"));
        out.insert(key(
            purl,
            &kind,
            str_of(p, "name"),
            str_of(p, "versionInfo"),
        ));
    }
}

/// Just enough SPDX tag-value for the package identities: PackageName starts a package.
fn spdx_tagvalue_keys(text: &str, out: &mut BTreeSet<String>) {
    #[derive(Default)]
    struct P {
        id: String,
        name: String,
        version: String,
        purl: Option<String>,
        purpose: String,
    }
    let mut pkgs: Vec<P> = Vec::new();
    let mut described: BTreeSet<String> = BTreeSet::new();
    for line in text.lines() {
        let Some((tag, val)) = line.split_once(':') else {
            continue;
        };
        let val = val.trim();
        match tag.trim() {
            "PackageName" => pkgs.push(P {
                name: val.to_string(),
                ..P::default()
            }),
            "SPDXID" => {
                if let Some(p) = pkgs.last_mut().filter(|p| p.id.is_empty()) {
                    p.id = val.to_string();
                }
            }
            "PackageVersion" => {
                if let Some(p) = pkgs.last_mut() {
                    p.version = val.to_string();
                }
            }
            "PrimaryPackagePurpose" => {
                if let Some(p) = pkgs.last_mut() {
                    p.purpose = val.to_string();
                }
            }
            "ExternalRef" => {
                let parts: Vec<&str> = val.split_whitespace().collect();
                if parts.len() >= 3 && parts[1] == "purl" {
                    if let Some(p) = pkgs.last_mut() {
                        p.purl.get_or_insert_with(|| parts[2].to_string());
                    }
                }
            }
            "Relationship" => {
                let parts: Vec<&str> = val.split_whitespace().collect();
                if parts.len() == 3 && parts[0] == "SPDXRef-DOCUMENT" && parts[1] == "DESCRIBES" {
                    described.insert(parts[2].to_string());
                }
            }
            _ => {}
        }
    }
    for p in pkgs.iter().filter(|p| !described.contains(&p.id)) {
        out.insert(key(
            p.purl.as_deref(),
            &spdx_kind(&p.purpose),
            &p.name,
            &p.version,
        ));
    }
}

fn trivy_package_keys(v: &Value, out: &mut BTreeSet<String>) {
    for r in v
        .get("Results")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        for p in r
            .get("Packages")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let purl = p.pointer("/Identifier/PURL").and_then(Value::as_str);
            let mut ver = str_of(p, "Version").to_string();
            if !str_of(p, "Release").is_empty() {
                ver = format!("{ver}-{}", str_of(p, "Release"));
            }
            if let Some(e) = p.get("Epoch").and_then(Value::as_i64).filter(|e| *e != 0) {
                ver = format!("{e}:{ver}");
            }
            out.insert(key(purl, str_of(r, "Type"), str_of(p, "Name"), &ver));
        }
    }
}

/// Component keys of every SBOM and package-listing scan in the real evidence set.
fn expected_component_keys() -> BTreeSet<String> {
    let sbom = real().join("sbom");
    let read =
        |p: PathBuf| -> Value { serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap() };
    let mut keys = BTreeSet::new();
    for f in [
        "syft.cdx.json",
        "trivy.cdx.json",
        "trivy-rootfs.cdx.json",
        "cdxgen.cdx.json",
    ] {
        cyclonedx_keys(&read(sbom.join(f)), &mut keys);
    }
    for f in ["syft.spdx.json", "trivy.spdx.json"] {
        spdx_json_keys(&read(sbom.join(f)), &mut keys);
    }
    spdx_tagvalue_keys(
        &std::fs::read_to_string(sbom.join("syft.spdx")).unwrap(),
        &mut keys,
    );
    trivy_package_keys(
        &read(real().join("vuln/trivy-report-no-vulndb.json")),
        &mut keys,
    );
    keys
}

fn files_on_disk(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files_on_disk(&p, out);
        } else {
            out.push(p);
        }
    }
}

#[test]
#[ignore = "needs ../shared/fixtures"]
fn real_evidence_imports_as_one_set_with_every_file_accounted_for() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("s.db");
    let root = real();
    let (code, v) = dossier(&store, &["import", root.to_str().unwrap(), "--json"]);
    let sets = v["sets"].as_array().unwrap();
    assert_eq!(sets.len(), 1);
    let s = &sets[0];
    assert_eq!(s["digest"], DIGEST);
    let files = s["files"].as_array().unwrap();

    let reported: BTreeSet<String> = files
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect();
    let mut disk = Vec::new();
    files_on_disk(&root, &mut disk);
    let disk: BTreeSet<String> = disk.iter().map(|p| p.display().to_string()).collect();
    assert_eq!(
        reported, disk,
        "every file on disk, each listed once, nothing unpacked"
    );

    let failed: Vec<&Value> = files.iter().filter(|f| f["status"] == "failed").collect();
    assert!(failed.is_empty(), "exit {code}; failed files: {failed:#?}");
    assert_eq!(code, 0);
    for layer in files
        .iter()
        .filter(|f| f["path"].as_str().unwrap().ends_with(LAYER))
    {
        assert!(
            ["unrecognised", "duplicate"].contains(&layer["status"].as_str().unwrap()),
            "{layer}"
        );
        assert_eq!(layer["sha256"], LAYER);
    }
    let first_layer = files
        .iter()
        .find(|f| f["path"].as_str().unwrap().ends_with(LAYER))
        .unwrap();
    assert!(
        first_layer["message"]
            .as_str()
            .unwrap()
            .contains("image layer"),
        "{first_layer}"
    );

    let (_, comps) = dossier(&store, &["components", "1", "--json"]);
    let got: BTreeSet<String> = comps
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["key"].as_str().unwrap().to_string())
        .collect();
    let want = expected_component_keys();
    assert_eq!(got, want, "SBOM components merged by key, not duplicated");
    assert_eq!(s["components"].as_u64().unwrap() as usize, want.len());
}

#[test]
#[ignore = "needs ../shared/fixtures"]
fn each_layout_alone_names_the_same_digest() {
    let layouts = real().join("layouts");
    for sub in ["oci-image-sig-att", "skopeo-dir-with-sigstore", ""] {
        let tmp = tempfile::tempdir().unwrap();
        let p = layouts.join(sub);
        let (code, v) = dossier(
            &tmp.path().join("s.db"),
            &["import", p.to_str().unwrap(), "--json"],
        );
        assert_eq!(code, 0, "{sub}: {v:#}");
        assert_eq!(v["sets"][0]["digest"], DIGEST, "{sub}");
        let files = v["sets"][0]["files"].as_array().unwrap();
        assert!(
            !files
                .iter()
                .any(|f| f["path"].as_str().unwrap().contains('!')),
            "{sub}: a layer was unpacked"
        );
    }
}

#[test]
#[ignore = "needs ../shared/fixtures"]
fn a_tarred_layout_names_the_same_digest_and_lists_its_layer() {
    let dir = real().join("layouts/oci-image-sig-att");
    let mut b = tar::Builder::new(Vec::new());
    b.append_dir_all(".", &dir).unwrap();
    let data = b.into_inner().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path().join("cosign-save.tar");
    std::fs::write(&t, data).unwrap();
    let (code, v) = dossier(
        &tmp.path().join("s.db"),
        &["import", t.to_str().unwrap(), "--json"],
    );
    assert_eq!(code, 0, "{v:#}");
    let s = &v["sets"][0];
    assert_eq!(s["digest"], DIGEST);
    let files = s["files"].as_array().unwrap();
    let mut on_disk = Vec::new();
    files_on_disk(&dir, &mut on_disk);
    assert_eq!(files.len(), on_disk.len(), "one row per file in the layout");
    let layer = files
        .iter()
        .find(|f| f["path"].as_str().unwrap().ends_with(LAYER))
        .unwrap();
    assert_eq!(layer["status"], "unrecognised");
    assert_eq!(layer["sha256"], LAYER);
}
