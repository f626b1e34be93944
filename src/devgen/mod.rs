//! Evidence generator for the bundled `sample-evidence/` (and tests): writes complete,
//! deterministic evidence sets shaped like real Syft, Trivy, Grype and cosign output,
//! signed with fixed TEST-ONLY keys. Hidden CLI: `dossier dev gen-sample DIR`.

mod catalog;
mod sboms;
mod scans;
mod signing;
pub mod synthetic;

use sha2::{Digest, Sha256};
use std::path::Path;

pub use signing::TestKey;

pub const SAMPLE_REPO: &str = "registry.example.mil/platform/payments-api";

/// One version of the sample image.
pub struct Version {
    pub v: u8,
    pub tag: &'static str,
    pub user: &'static str,
    pub scanned_at: &'static str,
    pub db_built: &'static str,
}

pub const VERSIONS: [Version; 2] = [
    Version {
        v: 1,
        tag: "1.4.0",
        user: "0",
        scanned_at: "2026-11-02T09:14:00Z",
        db_built: "2026-10-31T01:12:08Z",
    },
    Version {
        v: 2,
        tag: "1.5.0",
        user: "10001",
        scanned_at: "2026-11-24T08:40:00Z",
        db_built: "2026-11-23T01:05:44Z",
    },
];

fn sha256_hex(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

fn write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d)?;
    }
    std::fs::write(path, bytes)
}

fn pretty(v: &serde_json::Value) -> Vec<u8> {
    let mut s = serde_json::to_vec_pretty(v).unwrap_or_default();
    s.push(b'\n');
    s
}

/// Writes the whole `sample-evidence/` tree into `out`.
pub fn gen_sample(out: &Path) -> std::io::Result<()> {
    let pipeline = TestKey::derive("pipeline-signer");
    let approver = TestKey::derive("approver");
    let reviewer = TestKey::derive("reviewer");
    write(
        &out.join("keys/pipeline.pub"),
        pipeline.public_pem().as_bytes(),
    )?;
    write(
        &out.join("keys/approver.pub"),
        approver.public_pem().as_bytes(),
    )?;
    write(
        &out.join("keys/approver.key"),
        approver.private_pem().as_bytes(),
    )?;
    write(
        &out.join("keys/reviewer.pub"),
        reviewer.public_pem().as_bytes(),
    )?;
    write(
        &out.join("keys/reviewer.key"),
        reviewer.private_pem().as_bytes(),
    )?;
    write(
        &out.join("README.md"),
        include_str!("sample_readme.md").as_bytes(),
    )?;
    for ver in &VERSIONS {
        let dir = out.join("sets").join(format!("payments-api-{}", ver.tag));
        gen_version(&dir, ver, &pipeline, &approver)?;
    }
    Ok(())
}

fn gen_version(
    dir: &Path,
    ver: &Version,
    pipeline: &TestKey,
    approver: &TestKey,
) -> std::io::Result<()> {
    let pkgs = catalog::packages(ver.v);
    let vulns = catalog::vulns(ver.v);
    let reference = format!("{SAMPLE_REPO}:{}", ver.tag);

    // Image: config, then a manifest naming it; the image digest is sha256(manifest bytes).
    let config = serde_json::json!({
        "architecture": "amd64", "os": "linux", "created": "2026-11-01T00:00:00Z",
        "config": {"User": ver.user, "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "NODE_ENV=production"],
                   "Entrypoint": ["node", "/app/server.js"], "WorkingDir": "/app",
                   "Labels": {"org.opencontainers.image.version": ver.tag}},
        "rootfs": {"type": "layers", "diff_ids": [format!("sha256:{}", sha256_hex(format!("layer-{}", ver.tag).as_bytes()))]},
    });
    let config_bytes = serde_json::to_vec(&config).unwrap_or_default();
    let manifest = serde_json::json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": format!("sha256:{}", sha256_hex(&config_bytes)), "size": config_bytes.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": format!("sha256:{}", sha256_hex(format!("blob-{}", ver.tag).as_bytes())), "size": 31_457_280}],
    });
    let manifest_bytes = serde_json::to_vec(&manifest).unwrap_or_default();
    let digest = format!("sha256:{}", sha256_hex(&manifest_bytes));
    write(&dir.join("image/config.json"), &config_bytes)?;
    write(&dir.join("image/manifest.json"), &manifest_bytes)?;
    write(
        &dir.join("image/reference.txt"),
        format!("{reference}\n").as_bytes(),
    )?;

    let cdx = sboms::cyclonedx(&pkgs, &reference, &digest, ver);
    let cdx_bytes = pretty(&cdx);
    write(&dir.join("sbom/syft.cdx.json"), &cdx_bytes)?;
    write(
        &dir.join("sbom/syft.spdx.json"),
        &pretty(&sboms::spdx(&pkgs, &reference, &digest, ver)),
    )?;
    write(
        &dir.join("scans/trivy.json"),
        &pretty(&scans::trivy(&pkgs, &vulns, &reference, &digest, ver)),
    )?;
    write(
        &dir.join("scans/grype.json"),
        &pretty(&scans::grype(&pkgs, &vulns, &reference, &digest, ver)),
    )?;

    // Cosign keyed signature (no tlog: the air-gapped mode) and an SBOM attestation.
    let payload = signing::simple_signing_payload(SAMPLE_REPO, &digest);
    write(&dir.join("signature/simplesigning-payload.json"), &payload)?;
    write(
        &dir.join("signature/signature.b64"),
        pipeline.sign_b64(&payload).as_bytes(),
    )?;
    let env = signing::dsse_attestation(pipeline, &reference, &digest, &cdx);
    write(&dir.join("attestation/cyclonedx.dsse.json"), &pretty(&env))?;

    write(
        &dir.join("vex/openvex.json"),
        &pretty(&signing::openvex(&digest, ver)),
    )?;
    write(
        &dir.join("waivers/waivers.yaml"),
        signing::waivers(approver, &digest, ver).as_bytes(),
    )?;
    Ok(())
}
