//! The export model: one `Package` value built once (by `workflow::export`) and consumed by
//! every writer (JSON, PDF, VEX, POA&M), so no two outputs can disagree. Every collection is
//! sorted or a BTreeMap, so serialising the same store twice yields the same bytes.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The JSON Schema `$id` version this model serialises to; bump with the schema file.
pub const SCHEMA_VERSION: &str = "dossier.package/v1";

/// The word used wherever judging (or another area) has not produced a result.
pub const NOT_EVALUATED: &str = "not evaluated";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Package {
    pub schema_version: String,
    /// Package name (or `set-<id>` when one set is exported on its own).
    pub name: String,
    /// RFC 3339; `--as-of`, `SOURCE_DATE_EPOCH`, else the wall clock.
    pub generated_at: String,
    pub generator: Generator,
    pub classification: String,
    pub reviewer: Reviewer,
    /// Package verdict: the worst of the set verdicts, or `not evaluated`.
    pub verdict: Verdict,
    /// Hash of the newest audit-log entry that is a decision (export entries are skipped, so
    /// re-exporting unchanged decisions gives the same bytes).
    pub audit_head: String,
    pub sets: Vec<SetExport>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Generator {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Reviewer {
    pub name: String,
    pub role: Option<String>,
    /// sha256 of the reviewer's SPKI DER, hex, when the package is signed.
    pub key_fingerprint: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// `PASS`, `CONDITIONAL`, `FAIL`, or `not evaluated`.
    pub status: String,
    pub policy_sha256: Option<String>,
    pub as_of: Option<String>,
    pub reasons: Vec<String>,
}

impl Verdict {
    pub fn not_evaluated(reason: &str) -> Self {
        Self {
            status: NOT_EVALUATED.into(),
            policy_sha256: None,
            as_of: None,
            reasons: vec![reason.to_string()],
        }
    }

    pub fn is_evaluated(&self) -> bool {
        self.status != NOT_EVALUATED
    }

    /// FAIL > CONDITIONAL > PASS; any unevaluated set makes the whole unevaluated.
    pub fn rank(&self) -> u8 {
        match self.status.as_str() {
            "PASS" => 0,
            "CONDITIONAL" => 1,
            "FAIL" => 2,
            _ => 3,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SetExport {
    pub id: i64,
    pub image: Option<String>,
    pub repository: Option<String>,
    pub digest: Option<String>,
    pub verdict: Verdict,
    pub evidence: Vec<EvidenceItem>,
    /// `None` when verification has not been run or is not available.
    pub verification: Option<Vec<VerificationItem>>,
    /// `None` when cross-checks are not available.
    pub checks: Option<Vec<CheckItem>>,
    pub scanners: Vec<ScannerInfo>,
    pub counts: Counts,
    pub findings: Vec<FindingItem>,
    /// `None` when waivers are not available.
    pub waivers: Option<Vec<WaiverItem>>,
    pub stig: Option<StigSummary>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EvidenceItem {
    pub path: String,
    pub format: Option<String>,
    pub spec_version: Option<String>,
    pub status: String,
    pub message: Option<String>,
    pub sha256: String,
    pub size: i64,
    /// True when the raw bytes are kept in the store (and go into a bundle).
    pub stored: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct VerificationItem {
    /// What was verified (`image-signature`, `attestation`, ...).
    pub kind: String,
    /// The evidence file or artefact.
    pub subject: String,
    /// `verified`, `failed`, `not-checked`, ...
    pub status: String,
    pub key: Option<String>,
    pub detail: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CheckItem {
    pub code: String,
    /// `pass`, `warn`, `fail`.
    pub status: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ScannerInfo {
    pub scanner: String,
    pub version: Option<String>,
    pub db_built: Option<String>,
    pub scanned_at: Option<String>,
    /// Days between the DB build and the scan, when both are known.
    pub db_age_days: Option<i64>,
    pub file: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    pub total: u64,
    /// Keyed by severity word (`CRITICAL` .. `UNKNOWN`); every severity present, zero or not.
    pub by_severity: BTreeMap<String, u64>,
    /// Keyed by gate class (`BLOCK`, `WARN`, `INFO`) or `not evaluated`.
    pub by_gate: BTreeMap<String, u64>,
    /// Keyed by disposition state (`open`, `waived`, ...).
    pub by_disposition: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FindingItem {
    pub vuln_id: String,
    pub aliases: Vec<String>,
    pub component_key: String,
    pub purl: Option<String>,
    pub name: String,
    pub version: Option<String>,
    pub severity: String,
    pub direct: Option<bool>,
    pub fixed_versions: Vec<String>,
    pub fix_state: String,
    pub cvss_v3_score: Option<f64>,
    pub epss: Option<f64>,
    pub kev: Option<bool>,
    pub scanners: Vec<String>,
    pub title: Option<String>,
    /// `BLOCK`, `WARN`, `INFO`, or `not evaluated`.
    pub gate: String,
    pub gate_reason: Option<String>,
    /// `open`, `patched`, `waived`, `not_affected`, `false_positive`.
    pub disposition: String,
    pub justification: Option<String>,
    pub note: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    /// Id of the waiver that applies, when one does.
    pub waiver: Option<String>,
}

impl FindingItem {
    /// Severity rank for sorting (higher first): CRITICAL 5 .. UNKNOWN 0.
    pub fn severity_rank(&self) -> u8 {
        match self.severity.as_str() {
            "CRITICAL" => 5,
            "HIGH" => 4,
            "MEDIUM" => 3,
            "LOW" => 2,
            "NEGLIGIBLE" => 1,
            _ => 0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct WaiverItem {
    pub id: String,
    pub vulnerability: String,
    pub scope_image: Option<String>,
    pub scope_repository: Option<String>,
    pub scope_purl: Option<String>,
    pub justification_type: String,
    pub justification_text: String,
    pub requested_by: Option<String>,
    pub approver: Option<String>,
    pub approved_at: Option<String>,
    /// YYYY-MM-DD; the waiver stops applying at 00:00 UTC that day.
    pub expires: String,
    /// `verified`, `unsigned`, `untrusted`, `invalid`, ...
    pub signature: String,
    /// `active`, `expired`, `expiring`, ...
    pub state: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StigSummary {
    pub benchmark: Option<String>,
    pub pass: u64,
    pub fail: u64,
    pub other: u64,
    /// Failed rules by category (`CAT I`, `CAT II`, `CAT III`).
    pub failed_by_cat: BTreeMap<String, u64>,
}

impl Package {
    /// Every finding across sets with its set, in report order.
    pub fn all_findings(&self) -> impl Iterator<Item = (&SetExport, &FindingItem)> {
        self.sets
            .iter()
            .flat_map(|s| s.findings.iter().map(move |f| (s, f)))
    }
}

/// Sorts findings into report order: severity (highest first), id, component.
pub fn sort_findings(f: &mut [FindingItem]) {
    f.sort_by(|a, b| {
        b.severity_rank()
            .cmp(&a.severity_rank())
            .then_with(|| a.vuln_id.cmp(&b.vuln_id))
            .then_with(|| a.component_key.cmp(&b.component_key))
    });
}

/// Counts over a set's findings; every severity key is present so charts have fixed bars.
pub fn count(findings: &[FindingItem]) -> Counts {
    let mut c = Counts::default();
    for s in crate::model::Severity::ALL {
        c.by_severity.insert(s.as_str().to_string(), 0);
    }
    for f in findings {
        c.total += 1;
        *c.by_severity.entry(f.severity.clone()).or_default() += 1;
        *c.by_gate.entry(f.gate.clone()).or_default() += 1;
        *c.by_disposition.entry(f.disposition.clone()).or_default() += 1;
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn finding(id: &str, sev: &str, gate: &str) -> FindingItem {
        FindingItem {
            vuln_id: id.into(),
            aliases: vec![],
            component_key: "pkg:deb/debian/openssl@3.0.11".into(),
            purl: Some("pkg:deb/debian/openssl@3.0.11?arch=amd64".into()),
            name: "openssl".into(),
            version: Some("3.0.11".into()),
            severity: sev.into(),
            direct: Some(true),
            fixed_versions: vec![],
            fix_state: "unknown".into(),
            cvss_v3_score: None,
            epss: None,
            kev: None,
            scanners: vec!["trivy".into()],
            title: None,
            gate: gate.into(),
            gate_reason: None,
            disposition: "open".into(),
            justification: None,
            note: None,
            decided_by: None,
            decided_at: None,
            waiver: None,
        }
    }

    #[test]
    fn counts_cover_every_severity_and_sort_is_severity_first() {
        let mut f = vec![
            finding("CVE-2", "LOW", "INFO"),
            finding("CVE-1", "CRITICAL", "BLOCK"),
            finding("CVE-0", "LOW", "INFO"),
        ];
        sort_findings(&mut f);
        let ids: Vec<&str> = f.iter().map(|x| x.vuln_id.as_str()).collect();
        assert_eq!(ids, ["CVE-1", "CVE-0", "CVE-2"]);
        let c = count(&f);
        assert_eq!(c.total, 3);
        assert_eq!(c.by_severity.len(), 6);
        assert_eq!(c.by_severity["LOW"], 2);
        assert_eq!(c.by_severity["HIGH"], 0);
        assert_eq!(c.by_gate["BLOCK"], 1);
    }

    #[test]
    fn verdict_rank_orders_fail_above_pass() {
        let v = |s: &str| Verdict {
            status: s.into(),
            policy_sha256: None,
            as_of: None,
            reasons: vec![],
        };
        assert!(v("FAIL").rank() > v("CONDITIONAL").rank());
        assert!(v("CONDITIONAL").rank() > v("PASS").rank());
        assert!(!Verdict::not_evaluated("x").is_evaluated());
    }
}
