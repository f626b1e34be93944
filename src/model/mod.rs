//! The normalized, format-free domain model. Parsers produce it, the store persists it,
//! analysis and presenters read it. It imports nothing from the rest of the crate.

mod identity;
mod severity;
pub mod waiver;

pub use identity::{component_key, normalize_purl, purl_type, ComponentKey};
pub use severity::Severity;

use serde::{Deserialize, Serialize};

/// What kind of evidence a parsed document is; decides how import merges it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DocKind {
    Sbom,
    Scan,
    /// A document that is both (e.g. CycloneDX from Trivy/Grype with `vulnerabilities`).
    SbomWithScan,
    ImageManifest,
    ImageIndex,
    ImageConfig,
    /// Detected and stored, meaning read later by analysis (signatures, VEX, waivers, ...).
    Other,
}

/// The thing an SBOM or scan report is about (the image), never a component.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Subject {
    pub name: Option<String>,
    pub version: Option<String>,
    /// Registry reference such as `registry/ns/repo:tag` or `...@sha256:..`.
    pub reference: Option<String>,
    /// Format-local ids (CycloneDX bom-ref, SPDXID) that denote the subject; dependency
    /// edges from these make a component `direct`.
    pub refs: Vec<String>,
}

/// One software package as one document saw it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Component {
    pub purl: Option<String>,
    /// purl type when there is a purl, else the format's own type word, lowercased.
    pub kind: String,
    pub name: String,
    pub version: Option<String>,
    pub licenses: Vec<String>,
    pub cpes: Vec<String>,
    /// Paths inside the image where the package was found.
    pub locations: Vec<String>,
    /// Format-local id (CycloneDX bom-ref, SPDXID) used by `Document::dependencies`.
    pub local_ref: Option<String>,
}

impl Component {
    pub fn key(&self) -> ComponentKey {
        component_key(
            self.purl.as_deref(),
            &self.kind,
            &self.name,
            self.version.as_deref(),
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum CvssVersion {
    #[serde(rename = "2.0")]
    V2,
    #[serde(rename = "3.0")]
    V3_0,
    #[serde(rename = "3.1")]
    V3_1,
    #[serde(rename = "4.0")]
    V4,
}

impl CvssVersion {
    /// Reads the version from a vector's prefix (`CVSS:3.1/...`); bare v2 vectors have none.
    pub fn from_vector(vector: &str) -> Option<Self> {
        let v = vector.trim();
        if v.starts_with("CVSS:3.1/") {
            Some(Self::V3_1)
        } else if v.starts_with("CVSS:3.0/") {
            Some(Self::V3_0)
        } else if v.starts_with("CVSS:4.0/") {
            Some(Self::V4)
        } else if v.contains("AV:") && v.contains("Au:") {
            Some(Self::V2)
        } else {
            None
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cvss {
    /// Who scored it (`nvd`, `redhat`, `ghsa`, ...); empty when the report does not say.
    pub source: String,
    pub version: CvssVersion,
    pub vector: Option<String>,
    pub base_score: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Epss {
    pub score: f64,
    pub percentile: Option<f64>,
    /// Score date as the source gave it (YYYY-MM-DD).
    pub date: Option<String>,
}

/// One scanner's (or one document's) view of one vulnerability on one component.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScannerView {
    /// `trivy`, `grype`, or the tool named in a CycloneDX document (`cyclonedx` if none).
    pub scanner: String,
    pub scanner_version: Option<String>,
    pub severity: Severity,
    pub severity_source: Option<String>,
    pub cvss: Vec<Cvss>,
    pub fixed_versions: Vec<String>,
    /// `fixed`, `not-fixed`, `wont-fix`, `unknown`, or the scanner's own word.
    pub fix_state: String,
    pub data_source: Option<String>,
    pub namespace: Option<String>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub urls: Vec<String>,
    pub epss: Option<Epss>,
    pub kev: Option<bool>,
    /// Match details as compact JSON text (Grype matchDetails), kept for display.
    pub match_details: Option<String>,
    /// For Grype `ignoredMatches`: the ignore rules (JSON text) that hid this match.
    pub ignored_by: Option<String>,
    /// Trivy `Status` (fixed, affected, will_not_fix, ...).
    pub status: Option<String>,
    pub published: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FindingRecord {
    pub vuln_id: String,
    pub aliases: Vec<String>,
    /// Index into `Document::components`.
    pub component: usize,
    pub view: ScannerView,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScanInfo {
    pub scanner: String,
    pub scanner_version: Option<String>,
    /// When the vulnerability DB was built (RFC 3339), when the report says.
    pub db_built: Option<String>,
    pub db_version: Option<String>,
    /// When the scan ran (RFC 3339), when the report says.
    pub scanned_at: Option<String>,
}

/// Everything one parser extracted from one evidence file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Document {
    pub kind: DocKind,
    pub subject: Option<Subject>,
    /// Every image digest (`sha256:<hex>`) this document says it is about.
    pub image_digests: Vec<String>,
    pub components: Vec<Component>,
    /// Edges between `Component::local_ref`s (or subject refs): `from` depends on / contains `to`.
    pub dependencies: Vec<(String, String)>,
    pub findings: Vec<FindingRecord>,
    pub scan: Option<ScanInfo>,
    /// OCI image config `User`, when this is an image config.
    pub image_user: Option<String>,
    /// Non-fatal oddities met while parsing (shown on the evidence screen, never dropped).
    pub warnings: Vec<String>,
}

impl Document {
    pub fn new(kind: DocKind) -> Self {
        Self {
            kind,
            subject: None,
            image_digests: Vec::new(),
            components: Vec::new(),
            dependencies: Vec::new(),
            findings: Vec::new(),
            scan: None,
            image_user: None,
            warnings: Vec::new(),
        }
    }
}

/// Returns `sha256:<hex>` when `s` contains a well-formed sha256 digest, lowercased.
pub fn find_sha256_digest(s: &str) -> Option<String> {
    let idx = s.find("sha256:")?;
    let hex: String = s[idx + 7..]
        .chars()
        .take_while(|c| c.is_ascii_hexdigit())
        .collect();
    (hex.len() == 64).then(|| format!("sha256:{}", hex.to_ascii_lowercase()))
}

/// A component of an evidence set after merging every document that mentions it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SetComponent {
    pub key: ComponentKey,
    pub purl: Option<String>,
    pub kind: String,
    pub name: String,
    pub version: Option<String>,
    pub licenses: Vec<String>,
    pub cpes: Vec<String>,
    pub locations: Vec<Location>,
    /// `Some(true)` direct dependency of the image, `Some(false)` transitive, `None` unknown.
    pub direct: Option<bool>,
    pub in_sbom: bool,
    pub in_scan: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Location {
    /// Evidence file (path as discovered) that reported the component.
    pub file: String,
    /// Path inside the image, when the file said.
    pub path: Option<String>,
}

/// One finding of a set after merging scanners: key is (vulnerability, component).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SetFinding {
    pub vuln_id: String,
    pub aliases: Vec<String>,
    pub component_key: ComponentKey,
    /// Every scanner view, with the index of the file (in the import's file list) it came from.
    pub views: Vec<(usize, ScannerView)>,
}

impl SetFinding {
    /// Highest severity any scanner gave: disagreement resolves upwards.
    pub fn severity(&self) -> Severity {
        self.views
            .iter()
            .map(|(_, v)| v.severity)
            .max()
            .unwrap_or_default()
    }

    /// True when scanners named different (known) severities.
    pub fn severity_disagrees(&self) -> bool {
        let mut known = self
            .views
            .iter()
            .map(|(_, v)| v.severity)
            .filter(|s| *s != Severity::Unknown);
        match known.next() {
            Some(first) => known.any(|s| s != first),
            None => false,
        }
    }
}
