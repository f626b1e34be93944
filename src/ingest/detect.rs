//! Format detection by content, never by file name: a cheap sniff of the top-level keys
//! (JSON), the root element (XML) or the first lines (text), answering one of supported,
//! known-but-unsupported-version, or unrecognised. `REGISTRY` is the one ordered list.

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;

/// Every evidence format dossier knows. `name()` is the stable string stored and printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    CycloneDxJson,
    CycloneDxXml,
    SpdxJson,
    SpdxTagValue,
    TrivyJson,
    GrypeJson,
    OciManifest,
    OciIndex,
    OciImageConfig,
    OciLayoutMarker,
    SkopeoInspect,
    ImageDigest,
    ImageReference,
    CosignSimpleSigning,
    ContainersSigstoreSignature,
    SignatureBase64,
    SignatureDer,
    DsseEnvelope,
    InTotoStatement,
    SigstoreBundle,
    RekorBundle,
    SigstoreTrustedRoot,
    PublicKeyPem,
    CertificatePem,
    PrivateKey,
    OpenVex,
    CsafVex,
    DossierWaiver,
    TrivyIgnoreYaml,
    TrivyIgnore,
    GrypeConfig,
    HarborAllowlist,
    XccdfResults,
    ArfReport,
    StigViewerChecklist,
    EpssCsv,
    KevJson,
    KevCsv,
    Sarif,
    SyftJson,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Self::CycloneDxJson => "cyclonedx-json",
            Self::CycloneDxXml => "cyclonedx-xml",
            Self::SpdxJson => "spdx-json",
            Self::SpdxTagValue => "spdx-tag-value",
            Self::TrivyJson => "trivy-json",
            Self::GrypeJson => "grype-json",
            Self::OciManifest => "oci-manifest",
            Self::OciIndex => "oci-index",
            Self::OciImageConfig => "oci-image-config",
            Self::OciLayoutMarker => "oci-layout",
            Self::SkopeoInspect => "skopeo-inspect",
            Self::ImageDigest => "image-digest",
            Self::ImageReference => "image-reference",
            Self::CosignSimpleSigning => "cosign-simple-signing",
            Self::ContainersSigstoreSignature => "containers-sigstore-signature",
            Self::SignatureBase64 => "signature-base64",
            Self::SignatureDer => "signature-der",
            Self::DsseEnvelope => "dsse-envelope",
            Self::InTotoStatement => "in-toto-statement",
            Self::SigstoreBundle => "sigstore-bundle",
            Self::RekorBundle => "rekor-bundle",
            Self::SigstoreTrustedRoot => "sigstore-trusted-root",
            Self::PublicKeyPem => "public-key",
            Self::CertificatePem => "certificate",
            Self::PrivateKey => "private-key",
            Self::OpenVex => "openvex",
            Self::CsafVex => "csaf-vex",
            Self::DossierWaiver => "dossier-waiver",
            Self::TrivyIgnoreYaml => "trivyignore-yaml",
            Self::TrivyIgnore => "trivyignore",
            Self::GrypeConfig => "grype-config",
            Self::HarborAllowlist => "harbor-allowlist",
            Self::XccdfResults => "xccdf-results",
            Self::ArfReport => "arf-report",
            Self::StigViewerChecklist => "stig-viewer-checklist",
            Self::EpssCsv => "epss-csv",
            Self::KevJson => "kev-json",
            Self::KevCsv => "kev-csv",
            Self::Sarif => "sarif",
            Self::SyftJson => "syft-json",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        REGISTRY.iter().map(|e| e.format).find(|f| f.name() == name)
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Detection {
    Supported {
        format: Format,
        spec_version: Option<String>,
    },
    UnsupportedVersion {
        format: Format,
        spec_version: Option<String>,
        reason: String,
    },
    Unrecognised {
        reason: String,
    },
}

/// What the sniff saw: top-level keys and the small scalar values of a few of them.
#[derive(Debug, Default, Clone)]
pub struct Sniff {
    pub json: bool,
    pub top_array: bool,
    pub keys: BTreeMap<String, Option<String>>,
    pub xml_root: Option<(String, String)>,
    pub text: String,
}

impl Sniff {
    fn has(&self, k: &str) -> bool {
        self.keys.contains_key(k)
    }
    fn val(&self, k: &str) -> Option<&str> {
        self.keys.get(k).and_then(|v| v.as_deref())
    }
}

type Rule = fn(&Sniff) -> Option<Detection>;

pub struct Entry {
    pub format: Format,
    rule: Rule,
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

/// Sniffs `bytes` and answers from the registry. Never parses more than it must, never panics.
pub fn detect(bytes: &[u8]) -> Detection {
    let sniff = sniff(bytes);
    for e in REGISTRY {
        if let Some(d) = (e.rule)(&sniff) {
            return d;
        }
    }
    Detection::Unrecognised {
        reason: unrecognised_reason(bytes, &sniff),
    }
}

/// Base64 text longer than any signature may be: a hit on the `max-signature-bytes` limit,
/// which fails the file (it is not merely "unrecognised").
pub fn is_oversized_signature(bytes: &[u8]) -> bool {
    bytes.len() > crate::crypto::MAX_SIGNATURE_TEXT
        && bytes
            .iter()
            .take(4096)
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'\n' | b'\r'))
}

fn unrecognised_reason(bytes: &[u8], s: &Sniff) -> String {
    if bytes.is_empty() {
        return "empty file".into();
    }
    if bytes.starts_with(&[0xFD, b'7', b'z', b'X', b'Z', 0]) {
        return "xz-compressed file: decompress it first".into();
    }
    if bytes.starts_with(b"PK\x03\x04") {
        return "zip archive: not supported, use .tar or .tar.gz".into();
    }
    if is_oversized_signature(bytes) {
        return format!(
            "base64 text of {} bytes: too long for a signature (limit max-signature-bytes: {} bytes of base64)",
            bytes.len(),
            crate::crypto::MAX_SIGNATURE_TEXT
        );
    }
    if bytes.len() > 8 && bytes[0] == 0x30 && bytes[1] & 0x80 == 0 {
        return "binary DER data (a raw signature?) with no payload beside it".into();
    }
    if s.json {
        let keys: Vec<&str> = s.keys.keys().map(String::as_str).take(8).collect();
        return format!(
            "JSON document of no known evidence format (top-level keys: {})",
            keys.join(", ")
        );
    }
    if let Some((root, ns)) = &s.xml_root {
        return format!(
            "XML document of no known evidence format (root <{root}> in namespace '{ns}')"
        );
    }
    let lower = s.text.to_ascii_lowercase();
    if lower.contains("<html") || lower.contains("<!doctype html") {
        return "HTML document (a human-readable report, not evidence data)".into();
    }
    if std::str::from_utf8(&bytes[..bytes.len().min(4096)]).is_err() {
        return "binary data of no known evidence format".into();
    }
    "text of no known evidence format".into()
}

/// `detect` for a file too large to hold: `head` is its first bytes (at least 64 KiB when
/// the file is that long) and `rest` reads the whole file from the start. The top-level
/// keys are read from the stream, because some formats name themselves at the end (Grype's
/// `descriptor` follows every match).
pub fn detect_reader<R: std::io::Read>(head: &[u8], rest: R) -> Detection {
    let mut s = sniff(head);
    if s.json {
        let keys = RefCell::new(BTreeMap::new());
        let mut de = serde_json::Deserializer::from_reader(rest);
        let mut top_array = false;
        let _ = TopLevel {
            keys: &keys,
            top_array: &mut top_array,
        }
        .deserialize(&mut de);
        s.keys = keys.into_inner();
        s.top_array = top_array;
    }
    answer(head, &s)
}

/// The top-level keys of a JSON object as `detect_reader` records them: each key with its
/// value when that is a short scalar (`TopKeys::value`), the last one winning for a
/// repeated key.
pub type TopKeys = BTreeMap<String, Option<String>>;

/// `detect_reader` for a JSON object whose top-level keys were already collected by a
/// parser's own pass over the whole file (`keys`, as `TopKeys` records them): the same
/// answer without a second pass.
pub fn detect_with_keys(head: &[u8], keys: TopKeys) -> Detection {
    let mut s = sniff(head);
    if s.json {
        s.keys = keys;
        s.top_array = false;
    }
    answer(head, &s)
}

/// The streamable format a large file probably is, from its first bytes only: what the
/// registry answers on the keys seen so far, or the keys that only a Trivy or Grype report
/// puts first. A guess, never an answer: the caller parses with it, collects every
/// top-level key on the way and confirms with `detect_with_keys`.
pub fn guess_streamable(head: &[u8]) -> Option<Format> {
    let s = sniff(head);
    if !s.json || s.top_array {
        return None;
    }
    match REGISTRY.iter().find_map(|e| (e.rule)(&s)) {
        Some(Detection::Supported {
            format: format @ (Format::TrivyJson | Format::GrypeJson),
            ..
        }) => return Some(format),
        Some(_) => return None,
        None => {}
    }
    // The head usually ends inside the value of the big array, whose key the sniff does
    // not record (it records a key with its value): look at the keys as they start.
    let started = started_keys(head);
    let has = |k: &str| s.has(k) || started.iter().any(|x| x == k);
    if has("matches") {
        Some(Format::GrypeJson)
    } else if has("SchemaVersion") || has("Results") {
        Some(Format::TrivyJson)
    } else {
        None
    }
}

/// The top-level keys of a JSON object whose values start within `head`.
fn started_keys(head: &[u8]) -> Vec<String> {
    struct Keys<'a>(&'a RefCell<Vec<String>>);
    impl<'de> Visitor<'de> for Keys<'_> {
        type Value = ();
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            while let Some(k) = map.next_key::<String>()? {
                self.0.borrow_mut().push(k);
                map.next_value::<IgnoredAny>()?;
            }
            Ok(())
        }
    }
    let keys = RefCell::new(Vec::new());
    let mut de = serde_json::Deserializer::from_slice(head);
    let _ = de.deserialize_map(Keys(&keys));
    keys.into_inner()
}

/// The next map value as `TopKeys` records it (a short scalar, else `None`).
pub fn top_value<'de, A: MapAccess<'de>>(map: &mut A) -> Result<Option<String>, A::Error> {
    Ok(map.next_value::<Scalar>()?.0)
}

/// `top_value` for a value already cut out of the document (`None` when it is not valid
/// on its own: the caller has checked it against the whole parse's type first).
pub fn top_value_of(value: &[u8]) -> Option<String> {
    serde_json::from_slice::<Scalar>(value)
        .ok()
        .and_then(|s| s.0)
}

fn answer(head: &[u8], s: &Sniff) -> Detection {
    for e in REGISTRY {
        if let Some(d) = (e.rule)(s) {
            return d;
        }
    }
    Detection::Unrecognised {
        reason: unrecognised_reason(head, s),
    }
}

const TEXT_SNIFF: usize = 64 * 1024;

fn sniff(bytes: &[u8]) -> Sniff {
    let head = &bytes[..bytes.len().min(TEXT_SNIFF)];
    let text = String::from_utf8_lossy(head).into_owned();
    let body = text.trim_start_matches('\u{feff}').trim_start();
    let mut s = Sniff {
        text: text.clone(),
        ..Sniff::default()
    };
    if body.starts_with('{') || body.starts_with('[') {
        s.json = true;
        let keys = RefCell::new(BTreeMap::new());
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let mut top_array = false;
        // Errors are ignored on purpose: the keys seen before a syntax error still decide the
        // format, and the parser then reports the error with its position.
        let _ = TopLevel {
            keys: &keys,
            top_array: &mut top_array,
        }
        .deserialize(&mut de);
        s.keys = keys.into_inner();
        s.top_array = top_array;
    } else if body.starts_with('<') {
        s.xml_root = xml_root(head);
    }
    s
}

fn xml_root(head: &[u8]) -> Option<(String, String)> {
    use quick_xml::events::Event;
    let mut r = quick_xml::NsReader::from_reader(head);
    let mut buf = Vec::new();
    loop {
        match r.read_resolved_event_into(&mut buf) {
            Ok((ns, Event::Start(e) | Event::Empty(e))) => {
                let local = e.local_name().into_inner().to_string();
                let ns = match ns {
                    quick_xml::name::ResolveResult::Bound(n) => n.into_inner().to_string(),
                    _ => String::new(),
                };
                return Some((local, ns));
            }
            Ok((_, Event::Eof)) | Err(_) => return None,
            Ok(_) => {}
        }
        buf.clear();
    }
}

struct TopLevel<'a> {
    keys: &'a RefCell<BTreeMap<String, Option<String>>>,
    top_array: &'a mut bool,
}

impl<'de> DeserializeSeed<'de> for TopLevel<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TopLevel<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object or array")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        record_keys(self.keys, map)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        *self.top_array = true;
        if let Some(()) = seq.next_element_seed(FirstElement { keys: self.keys })? {}
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }
}

/// Records every key of a map with its value when that is a short scalar.
fn record_keys<'de, A: MapAccess<'de>>(
    keys: &RefCell<BTreeMap<String, Option<String>>>,
    mut map: A,
) -> Result<(), A::Error> {
    while let Some(k) = map.next_key::<String>()? {
        let v = map.next_value::<Scalar>()?;
        keys.borrow_mut().insert(k, v.0);
    }
    Ok(())
}

struct FirstElement<'a> {
    keys: &'a RefCell<BTreeMap<String, Option<String>>>,
}

impl<'de> DeserializeSeed<'de> for FirstElement<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for FirstElement<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        record_keys(self.keys, map)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
}

/// A value kept only when it is a short scalar (or the first string of an array, which is
/// how older OpenVEX and some `@context`s spell themselves).
struct Scalar(Option<String>);

impl<'de> de::Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar((v.len() <= 512).then(|| v.to_string())))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar(Some(v.to_string())))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar(Some(v.to_string())))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar(Some(v.to_string())))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar(Some(v.to_string())))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Scalar, E> {
                Ok(Scalar(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Scalar, A::Error> {
                while m.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Scalar(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<Scalar, A::Error> {
                let mut first = None;
                if let Some(Scalar(v)) = s.next_element::<Scalar>()? {
                    first = v;
                }
                while s.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Scalar(first))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt_of(b: &str) -> Option<Format> {
        match detect(b.as_bytes()) {
            Detection::Supported { format, .. } => Some(format),
            _ => None,
        }
    }

    #[test]
    fn sniffs_by_content() {
        assert_eq!(
            fmt_of(r#"{"bomFormat":"CycloneDX","specVersion":"1.6","components":[]}"#),
            Some(Format::CycloneDxJson)
        );
        assert_eq!(
            fmt_of(r#"{"spdxVersion":"SPDX-2.3","packages":[]}"#),
            Some(Format::SpdxJson)
        );
        assert_eq!(
            fmt_of(r#"{"SchemaVersion":2,"ArtifactName":"x","Results":[]}"#),
            Some(Format::TrivyJson)
        );
        assert_eq!(
            fmt_of(r#"[{"Target":"x","Vulnerabilities":null}]"#),
            Some(Format::TrivyJson)
        );
        assert_eq!(
            fmt_of(r#"{"matches":[],"source":{},"descriptor":{}}"#),
            Some(Format::GrypeJson)
        );
        assert_eq!(
            fmt_of("SPDXVersion: SPDX-2.2\nDataLicense: CC0-1.0\n"),
            Some(Format::SpdxTagValue)
        );
        assert_eq!(
            fmt_of(
                r#"<?xml version="1.0"?><bom xmlns="http://cyclonedx.org/schema/bom/1.4"></bom>"#
            ),
            Some(Format::CycloneDxXml)
        );
        assert_eq!(
            fmt_of("sha256:52c1fa53b306f09e32761cfbffae79ceedad6482dec55cdd472de220f41c145b\n"),
            Some(Format::ImageDigest)
        );
    }

    #[test]
    fn a_head_cut_inside_the_big_array_still_gives_a_guess() {
        let grype = br#"{"matches":[{"vulnerability":{"id":"CVE-1"#;
        assert_eq!(guess_streamable(grype), Some(Format::GrypeJson));
        let trivy = br#"{"SchemaVersion":2,"ArtifactName":"a","Results":[{"Target":"t"#;
        assert_eq!(guess_streamable(trivy), Some(Format::TrivyJson));
        // Not a guess of a streamable format: a CycloneDX head, an array, text.
        assert_eq!(
            guess_streamable(br#"{"bomFormat":"CycloneDX","specVersion":"1.5","components":[{"#),
            None
        );
        assert_eq!(
            guess_streamable(br#"[{"Target":"t","Vulnerabilities":[{"#),
            None
        );
        assert_eq!(guess_streamable(b"SchemaVersion: 2\n"), None);
    }

    #[test]
    fn known_format_with_unsupported_version() {
        assert!(matches!(
            detect(br#"{"bomFormat":"CycloneDX","specVersion":"1.1"}"#),
            Detection::UnsupportedVersion {
                format: Format::CycloneDxJson,
                ..
            }
        ));
        assert!(matches!(
            detect(br#"{"spdxVersion":"SPDX-2.1"}"#),
            Detection::UnsupportedVersion {
                format: Format::SpdxJson,
                ..
            }
        ));
    }

    #[test]
    fn unrecognised_says_why_and_truncated_json_still_sniffs() {
        match detect(br#"{"hello":1}"#) {
            Detection::Unrecognised { reason } => assert!(reason.contains("hello"), "{reason}"),
            d => panic!("{d:?}"),
        }
        // A syntax error after the deciding keys still detects; the parser reports the error.
        assert_eq!(
            fmt_of(r#"{"SchemaVersion":2,"ArtifactName":"x","Results":[{"#),
            Some(Format::TrivyJson)
        );
    }
}
