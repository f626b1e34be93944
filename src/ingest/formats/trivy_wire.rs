//! The wire shape of a Trivy JSON report: the typed structs serde reads it into, strings
//! borrowed from the input where they hold no escapes. `trivy.rs` turns them into the model.

use super::super::conv::{SortedMap, Str};
use serde::Deserialize;

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub(super) struct Report<'a> {
    #[serde(default)]
    pub(super) trivy: Option<TrivyInfo>,
    pub(super) created_at: Option<String>,
    pub(super) artifact_name: Option<String>,
    pub(super) artifact_type: Option<String>,
    pub(super) metadata: Option<Metadata>,
    #[serde(default, borrow)]
    pub(super) results: Option<Vec<TResult<'a>>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub(super) struct TrivyInfo {
    pub(super) version: Option<String>,
    pub(super) server: Option<ServerInfo>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ServerInfo {
    #[serde(rename = "VulnerabilityDB")]
    pub(super) vulnerability_db: Option<DbInfo>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub(super) struct DbInfo {
    pub(super) version: Option<serde_json::Value>,
    pub(super) updated_at: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub(super) struct Metadata {
    #[serde(default)]
    pub(super) repo_tags: Option<Vec<String>>,
    #[serde(default)]
    pub(super) repo_digests: Option<Vec<String>>,
    pub(super) reference: Option<String>,
    pub(super) image_config: Option<ImageConfig>,
}

#[derive(Deserialize, Default)]
pub(super) struct ImageConfig {
    pub(super) config: Option<ImageConfigInner>,
}

#[derive(Deserialize, Default)]
pub(super) struct ImageConfigInner {
    #[serde(rename = "User")]
    pub(super) user: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub(super) struct TResult<'a> {
    pub(super) target: Option<String>,
    pub(super) class: Option<String>,
    #[serde(rename = "Type")]
    pub(super) kind: Option<String>,
    #[serde(default)]
    pub(super) packages: Option<Vec<Package>>,
    #[serde(default, borrow)]
    pub(super) vulnerabilities: Option<Vec<Vuln<'a>>>,
    #[serde(default, borrow)]
    pub(super) experimental_modified_findings: Option<Vec<ModifiedFinding<'a>>>,
    #[serde(default)]
    pub(super) secrets: Option<Vec<serde::de::IgnoredAny>>,
    #[serde(default)]
    pub(super) misconfigurations: Option<Vec<serde::de::IgnoredAny>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub(super) struct Identifier {
    #[serde(rename = "PURL")]
    pub(super) purl: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub(super) struct Package {
    pub(super) name: Option<String>,
    pub(super) identifier: Option<Identifier>,
    pub(super) version: Option<String>,
    pub(super) release: Option<String>,
    pub(super) epoch: Option<i64>,
    pub(super) file_path: Option<String>,
    #[serde(default)]
    pub(super) licenses: Option<Vec<String>>,
}

/// One vulnerability, its strings borrowed from the input where they hold no escapes
/// (the whole report's bytes, or one element's slice in the stream).
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub(super) struct Vuln<'a> {
    #[serde(rename = "VulnerabilityID", borrow)]
    pub(super) vulnerability_id: Option<Str<'a>>,
    #[serde(rename = "VendorIDs", default, borrow)]
    pub(super) vendor_ids: Option<Vec<Str<'a>>>,
    #[serde(borrow)]
    pub(super) pkg_name: Option<Str<'a>>,
    #[serde(borrow)]
    pub(super) pkg_path: Option<Str<'a>>,
    #[serde(borrow)]
    pub(super) pkg_identifier: Option<VIdentifier<'a>>,
    #[serde(borrow)]
    pub(super) installed_version: Option<Str<'a>>,
    #[serde(borrow)]
    pub(super) fixed_version: Option<Str<'a>>,
    #[serde(borrow)]
    pub(super) status: Option<Str<'a>>,
    #[serde(borrow)]
    pub(super) severity_source: Option<Str<'a>>,
    #[serde(rename = "PrimaryURL", borrow)]
    pub(super) primary_url: Option<Str<'a>>,
    #[serde(borrow)]
    pub(super) data_source: Option<DataSource<'a>>,
    #[serde(borrow)]
    pub(super) title: Option<Str<'a>>,
    #[serde(borrow)]
    pub(super) description: Option<Str<'a>>,
    #[serde(borrow)]
    pub(super) severity: Option<Str<'a>>,
    #[serde(default, borrow)]
    pub(super) vendor_severity: Option<SortedMap<Str<'a>, i64>>,
    #[serde(rename = "CVSS", default, borrow)]
    pub(super) cvss: Option<SortedMap<Str<'a>, CvssEntry<'a>>>,
    #[serde(default, borrow)]
    pub(super) references: Option<Vec<Str<'a>>>,
    #[serde(borrow)]
    pub(super) published_date: Option<Str<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub(super) struct VIdentifier<'a> {
    #[serde(rename = "PURL", borrow)]
    pub(super) purl: Option<Str<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub(super) struct DataSource<'a> {
    #[serde(rename = "ID", borrow)]
    pub(super) id: Option<Str<'a>>,
    #[serde(borrow)]
    pub(super) name: Option<Str<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub(super) struct CvssEntry<'a> {
    #[serde(borrow)]
    pub(super) v2_vector: Option<Str<'a>>,
    pub(super) v2_score: Option<f64>,
    #[serde(borrow)]
    pub(super) v3_vector: Option<Str<'a>>,
    pub(super) v3_score: Option<f64>,
    #[serde(borrow)]
    pub(super) v40_vector: Option<Str<'a>>,
    pub(super) v40_score: Option<f64>,
}

/// `--show-suppressed` output: a finding hidden by VEX or an ignore rule.
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ModifiedFinding<'a> {
    #[serde(rename = "Type")]
    pub(super) kind: Option<String>,
    pub(super) status: Option<String>,
    pub(super) statement: Option<String>,
    pub(super) source: Option<String>,
    #[serde(borrow)]
    pub(super) finding: Option<Vuln<'a>>,
}
