//! The wire shape of a Grype JSON report: the typed structs serde reads it into, strings
//! borrowed from the input where they hold no escapes. `grype.rs` turns them into the model.

use super::super::conv::{Node, Str};
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize, Default)]
pub(super) struct Report<'a> {
    #[serde(default, borrow)]
    pub(super) matches: Option<Vec<Match<'a>>>,
    #[serde(default, rename = "ignoredMatches", borrow)]
    pub(super) ignored_matches: Option<Vec<Match<'a>>>,
    pub(super) source: Option<Source>,
    pub(super) descriptor: Option<Descriptor>,
}

#[derive(Deserialize, Default)]
pub(super) struct Source {
    #[serde(rename = "type")]
    pub(super) kind: Option<String>,
    /// An object for images, a plain string for directories and files.
    pub(super) target: Option<Value>,
}

#[derive(Deserialize, Default)]
pub(super) struct Descriptor {
    pub(super) version: Option<String>,
    pub(super) timestamp: Option<String>,
    pub(super) db: Option<Value>,
}

/// One match, its strings borrowed from the input where they hold no escapes (the whole
/// report's bytes, or one element's slice in the stream).
#[derive(Deserialize, Default)]
pub(super) struct Match<'a> {
    #[serde(borrow)]
    pub(super) vulnerability: Option<Vuln<'a>>,
    #[serde(default, rename = "relatedVulnerabilities", borrow)]
    pub(super) related: Option<Vec<Vuln<'a>>>,
    #[serde(default, rename = "matchDetails", borrow)]
    pub(super) match_details: Option<Node<'a>>,
    #[serde(borrow)]
    pub(super) artifact: Option<Artifact<'a>>,
    #[serde(default, rename = "appliedIgnoreRules")]
    pub(super) applied_ignore_rules: Option<Value>,
}

pub(super) type Text<'a> = Option<Str<'a>>;

#[derive(Deserialize, Default)]
pub(super) struct Vuln<'a> {
    #[serde(borrow)]
    pub(super) id: Text<'a>,
    #[serde(rename = "dataSource", borrow)]
    pub(super) data_source: Text<'a>,
    #[serde(borrow)]
    pub(super) namespace: Text<'a>,
    #[serde(borrow)]
    pub(super) severity: Text<'a>,
    #[serde(default, borrow)]
    pub(super) urls: Option<Vec<Str<'a>>>,
    /// Grype 0.7x spelling of `urls`.
    #[serde(default, borrow)]
    pub(super) links: Option<Vec<Str<'a>>>,
    #[serde(borrow)]
    pub(super) description: Text<'a>,
    #[serde(default, borrow)]
    pub(super) cvss: Option<Vec<CvssEntry<'a>>>,
    #[serde(rename = "cvssV2", borrow)]
    pub(super) cvss_v2: Option<OldCvss<'a>>,
    #[serde(rename = "cvssV3", borrow)]
    pub(super) cvss_v3: Option<OldCvss<'a>>,
    #[serde(rename = "fixedInVersion", borrow)]
    pub(super) fixed_in_version: Text<'a>,
    #[serde(borrow)]
    pub(super) fix: Option<Fix<'a>>,
    #[serde(default, borrow)]
    pub(super) epss: Option<Vec<EpssEntry<'a>>>,
    #[serde(default, rename = "knownExploited", borrow)]
    pub(super) known_exploited: Option<Vec<Kev<'a>>>,
}

#[derive(Deserialize, Default)]
pub(super) struct CvssEntry<'a> {
    #[serde(borrow)]
    pub(super) source: Text<'a>,
    #[serde(borrow)]
    pub(super) version: Text<'a>,
    #[serde(borrow)]
    pub(super) vector: Text<'a>,
    pub(super) metrics: Option<Metrics>,
}

#[derive(Deserialize, Default)]
pub(super) struct Metrics {
    #[serde(rename = "baseScore")]
    pub(super) base_score: Option<f64>,
}

#[derive(Deserialize, Default)]
pub(super) struct OldCvss<'a> {
    #[serde(rename = "baseScore")]
    pub(super) base_score: Option<f64>,
    #[serde(borrow)]
    pub(super) vector: Text<'a>,
}

#[derive(Deserialize, Default)]
pub(super) struct Fix<'a> {
    #[serde(default, borrow)]
    pub(super) versions: Option<Vec<Str<'a>>>,
    #[serde(borrow)]
    pub(super) state: Text<'a>,
}

#[derive(Deserialize, Default)]
pub(super) struct EpssEntry<'a> {
    #[serde(borrow)]
    pub(super) cve: Text<'a>,
    pub(super) epss: Option<f64>,
    pub(super) percentile: Option<f64>,
    #[serde(borrow)]
    pub(super) date: Text<'a>,
}

#[derive(Deserialize, Default)]
pub(super) struct Kev<'a> {
    #[serde(borrow)]
    pub(super) cve: Text<'a>,
}

#[derive(Deserialize, Default)]
pub(super) struct Artifact<'a> {
    #[serde(borrow)]
    pub(super) id: Text<'a>,
    #[serde(borrow)]
    pub(super) name: Text<'a>,
    #[serde(borrow)]
    pub(super) version: Text<'a>,
    #[serde(rename = "type", borrow)]
    pub(super) kind: Text<'a>,
    #[serde(default, borrow)]
    pub(super) locations: Option<Vec<ArtifactLocation<'a>>>,
    #[serde(default, borrow)]
    pub(super) licenses: Option<Vec<Node<'a>>>,
    /// Strings in current Grype, structured objects in 0.7x.
    #[serde(default, borrow)]
    pub(super) cpes: Option<Vec<Node<'a>>>,
    #[serde(borrow)]
    pub(super) purl: Text<'a>,
}

#[derive(Deserialize, Default)]
pub(super) struct ArtifactLocation<'a> {
    #[serde(borrow)]
    pub(super) path: Text<'a>,
}
