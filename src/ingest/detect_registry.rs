//! The ordered registry of formats: one rule per format over what the sniff saw, the first
//! rule that answers wins. Adding a format is adding an entry here (and its parser).

use super::{Detection, Format, Sniff};

type Rule = fn(&Sniff) -> Option<Detection>;

pub struct Entry {
    pub format: Format,
    pub(super) rule: Rule,
}

fn ok(format: Format, v: Option<&str>) -> Option<Detection> {
    Some(Detection::Supported {
        format,
        spec_version: v.map(str::to_string),
    })
}

fn unsupported(format: Format, v: Option<&str>, reason: &str) -> Option<Detection> {
    Some(Detection::UnsupportedVersion {
        format,
        spec_version: v.map(str::to_string),
        reason: reason.to_string(),
    })
}

/// The ordered registry: the first rule that answers wins.
pub static REGISTRY: &[Entry] = &[
    Entry {
        format: Format::CycloneDxJson,
        rule: |s| {
            let is = s
                .val("bomFormat")
                .is_some_and(|v| v.eq_ignore_ascii_case("cyclonedx"))
                || (s.has("specVersion")
                    && s.val("$schema").is_some_and(|v| v.contains("cyclonedx")));
            if !is {
                return None;
            }
            let v = s.val("specVersion");
            match v {
                Some("1.2" | "1.3" | "1.4" | "1.5" | "1.6" | "1.7") => ok(Format::CycloneDxJson, v),
                _ => unsupported(
                    Format::CycloneDxJson,
                    v,
                    "CycloneDX JSON spec 1.2 to 1.7 is supported",
                ),
            }
        },
    },
    Entry {
        format: Format::CycloneDxXml,
        rule: |s| {
            let (root, ns) = s.xml_root.as_ref()?;
            if root != "bom" {
                return None;
            }
            if !ns.contains("cyclonedx.org/schema/bom") {
                // A <bom> in a foreign namespace claims to be a BOM: the CycloneDX parser
                // refuses it with the namespace named, so the file fails instead of being
                // passed over as "unrecognised".
                return ok(Format::CycloneDxXml, None);
            }
            let v = ns.rsplit('/').next();
            match v {
                Some("1.2" | "1.3" | "1.4" | "1.5" | "1.6" | "1.7") => ok(Format::CycloneDxXml, v),
                _ => unsupported(
                    Format::CycloneDxXml,
                    v,
                    "CycloneDX XML spec 1.2 to 1.7 is supported",
                ),
            }
        },
    },
    Entry {
        format: Format::SpdxJson,
        rule: |s| {
            let v = s.val("spdxVersion")?;
            match v {
                "SPDX-2.2" | "SPDX-2.3" => ok(Format::SpdxJson, Some(v)),
                _ => unsupported(Format::SpdxJson, Some(v), "SPDX 2.2 and 2.3 are supported"),
            }
        },
    },
    Entry {
        format: Format::SpdxTagValue,
        rule: |s| {
            if s.json || s.xml_root.is_some() {
                return None;
            }
            let line = s
                .text
                .lines()
                .find(|l| l.trim_start().starts_with("SPDXVersion:"))?;
            let v = line.split_once(':').map(|x| x.1.trim())?;
            match v {
                "SPDX-2.2" | "SPDX-2.3" => ok(Format::SpdxTagValue, Some(v)),
                _ => unsupported(
                    Format::SpdxTagValue,
                    Some(v),
                    "SPDX 2.2 and 2.3 are supported",
                ),
            }
        },
    },
    Entry {
        format: Format::TrivyJson,
        rule: |s| {
            if s.top_array {
                return (s.has("Target") && (s.has("Vulnerabilities") || s.has("Type")))
                    .then(|| ok(Format::TrivyJson, Some("legacy")))
                    .flatten();
            }
            if !(s.has("SchemaVersion")
                && (s.has("ArtifactName") || s.has("Results") || s.has("ArtifactType")))
            {
                return None;
            }
            let v = s.val("SchemaVersion");
            match v {
                Some("2") => ok(Format::TrivyJson, v),
                _ => unsupported(
                    Format::TrivyJson,
                    v,
                    "Trivy SchemaVersion 2 and the pre-0.20 array form are supported",
                ),
            }
        },
    },
    Entry {
        format: Format::GrypeJson,
        rule: |s| {
            (s.has("matches") && (s.has("descriptor") || s.has("source") || s.has("distro")))
                .then(|| ok(Format::GrypeJson, None))
                .flatten()
        },
    },
    Entry {
        format: Format::Sarif,
        rule: |s| {
            (s.has("runs")
                && (s.val("$schema").is_some_and(|v| v.contains("sarif")) || s.has("version")))
            .then(|| {
                unsupported(
                    Format::Sarif,
                    s.val("version"),
                    "SARIF scan output is not supported: export Trivy or Grype JSON instead",
                )
            })
            .flatten()
        },
    },
    Entry {
        format: Format::SyftJson,
        rule: |s| {
            (s.has("artifacts") && s.has("source") && (s.has("schema") || s.has("distro")))
                .then(|| {
                    unsupported(
                        Format::SyftJson,
                        None,
                        "Syft's native JSON is not supported: use Syft's SPDX or CycloneDX output",
                    )
                })
                .flatten()
        },
    },
    Entry {
        format: Format::SigstoreBundle,
        rule: |s| {
            let mt = s.val("mediaType")?;
            if !mt.starts_with("application/vnd.dev.sigstore.bundle") {
                return None;
            }
            let v = if mt.contains("v0.3") {
                "0.3"
            } else if mt.contains("0.2") {
                "0.2"
            } else if mt.contains("0.1") {
                "0.1"
            } else {
                ""
            };
            if v.is_empty() {
                unsupported(
                    Format::SigstoreBundle,
                    Some(mt),
                    "Sigstore bundle v0.1 to v0.3 are supported",
                )
            } else {
                ok(Format::SigstoreBundle, Some(v))
            }
        },
    },
    Entry {
        format: Format::SigstoreTrustedRoot,
        rule: |s| {
            ((s.has("tlogs") || s.has("certificateAuthorities"))
                && s.val("mediaType").is_none_or(|m| m.contains("trustedroot")))
            .then(|| ok(Format::SigstoreTrustedRoot, s.val("mediaType")))
            .flatten()
        },
    },
    Entry {
        format: Format::OciIndex,
        rule: |s| {
            (s.has("manifests") && (s.has("schemaVersion") || s.has("mediaType")))
                .then(|| ok(Format::OciIndex, s.val("schemaVersion")))
                .flatten()
        },
    },
    Entry {
        format: Format::OciManifest,
        rule: |s| {
            if !(s.has("config") && s.has("layers")) {
                return None;
            }
            match s.val("schemaVersion") {
                Some("2") | None => ok(Format::OciManifest, Some("2")),
                v => unsupported(
                    Format::OciManifest,
                    v,
                    "image manifest schemaVersion 2 is supported",
                ),
            }
        },
    },
    Entry {
        format: Format::OciImageConfig,
        rule: |s| {
            (s.has("rootfs") && (s.has("architecture") || s.has("config") || s.has("os")))
                .then(|| ok(Format::OciImageConfig, None))
                .flatten()
        },
    },
    Entry {
        format: Format::OciLayoutMarker,
        rule: |s| {
            s.has("imageLayoutVersion")
                .then(|| ok(Format::OciLayoutMarker, s.val("imageLayoutVersion")))
                .flatten()
        },
    },
    Entry {
        format: Format::SkopeoInspect,
        rule: |s| {
            (s.has("Digest") && (s.has("RepoTags") || s.has("Layers")) && s.has("Name"))
                .then(|| ok(Format::SkopeoInspect, None))
                .flatten()
        },
    },
    Entry {
        format: Format::CosignSimpleSigning,
        rule: |s| {
            if !s.has("critical") {
                return None;
            }
            // The payload type lives one level down; the raw text is cheap to check.
            if s.text.contains("cosign container image signature") {
                ok(Format::CosignSimpleSigning, None)
            } else if s.text.contains("atomic container signature") {
                unsupported(Format::CosignSimpleSigning, None, "containers/image 'atomic container signature' payloads are not cosign signatures")
            } else {
                None
            }
        },
    },
    Entry {
        format: Format::ContainersSigstoreSignature,
        rule: |s| {
            s.text
                .starts_with("\0sigstore-json\n")
                .then(|| ok(Format::ContainersSigstoreSignature, None))
                .flatten()
        },
    },
    Entry {
        format: Format::DsseEnvelope,
        rule: |s| {
            (s.has("payloadType") && s.has("payload") && s.has("signatures"))
                .then(|| ok(Format::DsseEnvelope, None))
                .flatten()
        },
    },
    Entry {
        format: Format::InTotoStatement,
        rule: |s| {
            let t = s.val("_type")?;
            if !t.starts_with("https://in-toto.io/Statement/") {
                return None;
            }
            ok(Format::InTotoStatement, t.rsplit('/').next())
        },
    },
    Entry {
        format: Format::RekorBundle,
        rule: |s| {
            (s.has("SignedEntryTimestamp") && s.has("Payload"))
                .then(|| ok(Format::RekorBundle, None))
                .flatten()
        },
    },
    Entry {
        format: Format::OpenVex,
        rule: |s| {
            let c = s.val("@context")?;
            if !c.contains("openvex") {
                return None;
            }
            ok(Format::OpenVex, c.rsplit('/').next().or(Some(c)))
        },
    },
    Entry {
        format: Format::CsafVex,
        rule: |s| {
            (s.has("document") && s.text.contains("\"csaf_version\""))
                .then(|| {
                    unsupported(
                        Format::CsafVex,
                        None,
                        "CSAF VEX is not supported yet: use OpenVEX or CycloneDX VEX",
                    )
                })
                .flatten()
        },
    },
    Entry {
        format: Format::KevJson,
        rule: |s| {
            (s.has("catalogVersion") && s.has("vulnerabilities"))
                .then(|| ok(Format::KevJson, s.val("catalogVersion")))
                .flatten()
        },
    },
    Entry {
        format: Format::HarborAllowlist,
        rule: |s| {
            ((s.has("items") && s.text.contains("cve_id")) || s.has("cve_allowlist"))
                .then(|| ok(Format::HarborAllowlist, None))
                .flatten()
        },
    },
    Entry {
        format: Format::DossierWaiver,
        rule: |s| {
            (!s.json
                && s.text.contains("dossier/v1")
                && s.text
                    .lines()
                    .any(|l| matches!(l.trim().replace(['"', '\''], "").as_str(), "kind: Waiver")))
            .then(|| ok(Format::DossierWaiver, Some("dossier/v1")))
            .flatten()
        },
    },
    Entry {
        format: Format::TrivyIgnoreYaml,
        rule: |s| {
            if s.json || s.xml_root.is_some() {
                return None;
            }
            let top = |k: &str| s.text.lines().any(|l| l.starts_with(k));
            ((top("vulnerabilities:")
                || top("misconfigurations:")
                || top("secrets:")
                || top("licenses:"))
                && s.text.contains("- id:"))
            .then(|| ok(Format::TrivyIgnoreYaml, None))
            .flatten()
        },
    },
    Entry {
        format: Format::GrypeConfig,
        rule: |s| {
            if s.json || s.xml_root.is_some() {
                return None;
            }
            (s.text.lines().any(|l| l.starts_with("ignore:")))
                .then(|| ok(Format::GrypeConfig, None))
                .flatten()
        },
    },
    Entry {
        format: Format::XccdfResults,
        rule: |s| {
            let (root, ns) = s.xml_root.as_ref()?;
            if !(ns.contains("xccdf") || root == "Benchmark" || root == "TestResult") {
                return None;
            }
            if root != "Benchmark" && root != "TestResult" {
                return None;
            }
            let v = if ns.contains("1.2") {
                "1.2"
            } else if ns.contains("1.1") || ns.ends_with("xccdf") {
                "1.1"
            } else {
                ""
            };
            ok(Format::XccdfResults, (!v.is_empty()).then_some(v))
        },
    },
    Entry {
        format: Format::ArfReport,
        rule: |s| {
            let (root, _) = s.xml_root.as_ref()?;
            (root == "asset-report-collection")
                .then(|| ok(Format::ArfReport, None))
                .flatten()
        },
    },
    Entry {
        format: Format::StigViewerChecklist,
        rule: |s| {
            let (root, _) = s.xml_root.as_ref()?;
            root.eq_ignore_ascii_case("checklist")
                .then(|| {
                    unsupported(
                        Format::StigViewerChecklist,
                        None,
                        "STIG Viewer checklists are not supported: import the XCCDF results or ARF",
                    )
                })
                .flatten()
        },
    },
    Entry {
        format: Format::EpssCsv,
        rule: |s| {
            let first = s.text.lines().next()?.trim();
            let header_line = if first.starts_with("#model_version") {
                s.text.lines().nth(1)?
            } else {
                first
            };
            header_line
                .replace(' ', "")
                .to_ascii_lowercase()
                .starts_with("cve,epss")
                .then(|| ok(Format::EpssCsv, None))
                .flatten()
        },
    },
    Entry {
        format: Format::KevCsv,
        rule: |s| {
            s.text
                .lines()
                .next()?
                .starts_with("cveID,vendorProject")
                .then(|| ok(Format::KevCsv, None))
                .flatten()
        },
    },
    Entry {
        format: Format::PrivateKey,
        rule: |s| {
            (s.text.contains("-----BEGIN") && s.text.contains("PRIVATE KEY-----"))
                .then(|| ok(Format::PrivateKey, None))
                .flatten()
        },
    },
    Entry {
        format: Format::PublicKeyPem,
        rule: |s| {
            s.text
                .trim_start()
                .starts_with("-----BEGIN PUBLIC KEY-----")
                .then(|| ok(Format::PublicKeyPem, None))
                .flatten()
        },
    },
    Entry {
        format: Format::CertificatePem,
        rule: |s| {
            s.text
                .trim_start()
                .starts_with("-----BEGIN CERTIFICATE-----")
                .then(|| ok(Format::CertificatePem, None))
                .flatten()
        },
    },
    Entry {
        format: Format::ImageDigest,
        rule: |s| {
            let t = s.text.trim();
            (t.len() == 71
                && t.starts_with("sha256:")
                && t[7..].chars().all(|c| c.is_ascii_hexdigit()))
            .then(|| ok(Format::ImageDigest, None))
            .flatten()
        },
    },
    Entry {
        format: Format::TrivyIgnore,
        rule: |s| {
            if s.json || s.xml_root.is_some() || s.text.is_empty() {
                return None;
            }
            let mut any = false;
            for l in s.text.lines() {
                let l = l.trim();
                if l.is_empty() || l.starts_with('#') {
                    continue;
                }
                let id = l.split_whitespace().next().unwrap_or("");
                let looks = [
                    "CVE-", "GHSA-", "GO-", "RUSTSEC-", "PYSEC-", "OSV-", "ALAS", "DLA-", "DSA-",
                    "RHSA-", "ELSA-", "USN-",
                ]
                .iter()
                .any(|p| id.starts_with(p));
                if !looks {
                    return None;
                }
                any = true;
            }
            any.then(|| ok(Format::TrivyIgnore, None)).flatten()
        },
    },
    Entry {
        format: Format::ImageReference,
        rule: |s| {
            let t = s.text.trim();
            let plausible = !t.is_empty()
                && t.len() < 512
                && !t.contains(char::is_whitespace)
                && t.contains('/')
                && (t.contains(':') || t.contains('@'))
                && t.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "/:@._-".contains(c));
            plausible
                .then(|| ok(Format::ImageReference, None))
                .flatten()
        },
    },
    Entry {
        format: Format::SignatureBase64,
        rule: |s| {
            use base64::Engine;
            let t = s.text.trim();
            if t.is_empty()
                || t.len() > crate::crypto::MAX_SIGNATURE_TEXT
                || t.contains(char::is_whitespace)
            {
                return None;
            }
            let der = base64::engine::general_purpose::STANDARD.decode(t).ok()?;
            // DER (ECDSA), or the fixed sizes of raw Ed25519 and RSA-2048/3072/4096 signatures.
            let sig =
                (der.len() > 8 && der[0] == 0x30) || matches!(der.len(), 64 | 256 | 384 | 512);
            sig.then(|| ok(Format::SignatureBase64, None)).flatten()
        },
    },
];
