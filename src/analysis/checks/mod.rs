//! Cross-checks on one evidence set (DESIGN.md section 7). Each outcome is a `Diagnostic`
//! with a stable kebab-case code, the policy check it belongs to, a level the policy grades,
//! and a message naming the evidence. Pure: the workflow gathers the facts from the store.

use super::policy::{CheckGrade, Policy};
use super::xccdf::StigSummary;
use chrono::NaiveDate;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Pass,
    Info,
    Warn,
    Fail,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Info => "info",
            Self::Warn => "warn",
            Self::Fail => "fail",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnostic {
    /// Stable kebab-case code (`scanner-db-stale`, `waiver-expired`, ...).
    pub code: &'static str,
    /// The `[checks]` key of the policy that grades it.
    pub check: &'static str,
    pub level: Level,
    pub message: String,
    /// Evidence files or items the diagnostic is about (capped, with a count when cut).
    pub evidence: Vec<String>,
}

/// Most items listed in one diagnostic; the message carries the full count.
pub const MAX_EVIDENCE: usize = 20;

impl Diagnostic {
    /// A problem graded by the policy's check.
    pub fn problem(
        p: &Policy,
        check: &'static str,
        code: &'static str,
        message: String,
        evidence: Vec<String>,
    ) -> Self {
        let level = match p.grade(check) {
            CheckGrade::Fail => Level::Fail,
            CheckGrade::Warn => Level::Warn,
            CheckGrade::Info => Level::Info,
        };
        Self {
            code,
            check,
            level,
            message,
            evidence: cap(evidence),
        }
    }

    /// `problem` for a list that was cut while it was collected: `top` holds the first
    /// items (at most `MAX_EVIDENCE`) of `total`, and the evidence reads as `problem` would
    /// have cut the whole list.
    pub fn problem_top(
        p: &Policy,
        check: &'static str,
        code: &'static str,
        message: String,
        mut top: Vec<String>,
        total: usize,
    ) -> Self {
        top.truncate(MAX_EVIDENCE);
        let more = total.saturating_sub(top.len());
        let mut d = Self::problem(p, check, code, message, top);
        if more > 0 {
            d.evidence.push(format!("... and {more} more"));
        }
        d
    }

    pub fn with_level(
        level: Level,
        check: &'static str,
        code: &'static str,
        message: String,
        evidence: Vec<String>,
    ) -> Self {
        Self {
            code,
            check,
            level,
            message,
            evidence: cap(evidence),
        }
    }
}

fn cap(mut v: Vec<String>) -> Vec<String> {
    if v.len() > MAX_EVIDENCE {
        let more = v.len() - MAX_EVIDENCE;
        v.truncate(MAX_EVIDENCE);
        v.push(format!("... and {more} more"));
    }
    v
}

/// One evidence file as the checks see it.
#[derive(Debug, Clone, Default)]
pub struct FileFacts {
    pub path: String,
    pub format: Option<String>,
    pub status: String,
    pub message: Option<String>,
    pub named_digests: Vec<String>,
    pub doc_kind: Option<String>,
    pub scanner: Option<String>,
    pub db_built: Option<String>,
    pub scanned_at: Option<String>,
}

/// One signature or attestation verification result.
#[derive(Debug, Clone, Default)]
pub struct SignatureFact {
    /// `image-signature` or `attestation`.
    pub kind: String,
    /// `verified | bad-signature | untrusted-key | digest-mismatch | unverifiable`.
    pub outcome: String,
    /// Transparency-log proof present and verified.
    pub tlog_verified: bool,
    pub predicate_type: Option<String>,
    pub algorithm: Option<String>,
    pub file: String,
    pub detail: String,
}

/// Everything the set-level checks read.
#[derive(Debug, Clone, Default)]
pub struct SetFacts {
    pub digest: Option<String>,
    pub image: Option<String>,
    pub image_user: Option<String>,
    pub files: Vec<FileFacts>,
    /// `None` when no verification has been recorded for the set.
    pub signatures: Option<Vec<SignatureFact>>,
    /// Components seen by a scanner but in no SBOM, and the reverse (keys).
    pub scan_not_in_sbom: Vec<String>,
    pub sbom_not_scanned: Vec<String>,
    pub stig: Vec<StigSummary>,
}

/// Parses RFC 3339 or a leading `YYYY-MM-DD` into a UTC date-time.
pub fn parse_time(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    let s = s.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&chrono::Utc));
    }
    let d = NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d").ok()?;
    Some(d.and_hms_opt(0, 0, 0)?.and_utc())
}

/// True when an algorithm description names SHA-1, MD5 or RSA below 2048 bits.
fn non_approved(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    if ["sha1", "sha-1", "md5"].iter().any(|w| t.contains(w)) {
        return true;
    }
    t.match_indices("rsa-").any(|(i, _)| {
        let bits: String = t[i + 4..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        bits.parse::<u32>().is_ok_and(|b| b < 2048)
    })
}

mod inventory;

use inventory::{coverage, image_reference_and_user, scanner_age, stig};

pub fn run(f: &SetFacts, p: &Policy, as_of: NaiveDate) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    digest_consistency(f, p, &mut out);
    signatures(f, p, &mut out);
    scanner_age(f, p, as_of, &mut out);
    coverage(f, p, &mut out);
    image_reference_and_user(f, p, &mut out);
    for s in &f.stig {
        stig(s, p, &mut out);
    }
    let failed: Vec<String> = f
        .files
        .iter()
        .filter(|x| {
            x.status == "failed" || x.status == "refused" || x.status == "unsupported-version"
        })
        .map(|x| {
            format!(
                "{}: {} ({})",
                x.path,
                x.status,
                x.message.clone().unwrap_or_default()
            )
        })
        .collect();
    if !failed.is_empty() {
        out.push(Diagnostic::problem(
            p,
            "evidence-files",
            "evidence-file-failed",
            format!("{} evidence file(s) could not be read", failed.len()),
            failed,
        ));
    }
    out
}

fn digest_consistency(f: &SetFacts, p: &Policy, out: &mut Vec<Diagnostic>) {
    let Some(set) = f.digest.as_deref() else {
        out.push(Diagnostic::problem(
            p,
            "digest-consistency",
            "digest-unknown",
            "no evidence names an image digest: the set cannot be tied to an image".into(),
            vec![],
        ));
        return;
    };
    // A file may name related digests (index and platform manifest); it is about this image
    // when any of them is the set's digest.
    let others: Vec<String> = f
        .files
        .iter()
        .filter(|x| !x.named_digests.is_empty() && !x.named_digests.iter().any(|d| d == set))
        .map(|x| format!("{} names {}", x.path, x.named_digests.join(", ")))
        .collect();
    if others.is_empty() {
        let n = f
            .files
            .iter()
            .filter(|x| !x.named_digests.is_empty())
            .count();
        out.push(Diagnostic::with_level(
            Level::Pass,
            "digest-consistency",
            "digest-consistent",
            format!("{n} evidence file(s) name the image digest, all {set}"),
            vec![],
        ));
    } else {
        out.push(Diagnostic::problem(
            p,
            "digest-consistency",
            "digest-mismatch",
            format!("{} evidence file(s) are about another image than {set}: evidence of different images is mixed in this set", others.len()),
            others,
        ));
    }
}

fn signatures(f: &SetFacts, p: &Policy, out: &mut Vec<Diagnostic>) {
    let sig_problem = |code, msg: String, ev: Vec<String>| {
        if p.unsigned_image_fails {
            Diagnostic::problem(p, "image-signature", code, msg, ev)
        } else {
            Diagnostic::with_level(Level::Warn, "image-signature", code, msg, ev)
        }
    };
    let Some(sigs) = &f.signatures else {
        out.push(sig_problem(
            "image-unsigned",
            "no signature verification recorded for this set (run `dossier verify SET`): image signature not verified"
                .into(),
            vec![],
        ));
        out.push(Diagnostic::problem(
            p,
            "sbom-attested",
            "sbom-not-attested",
            "no attestation verification recorded for this set".into(),
            vec![],
        ));
        return;
    };
    let images: Vec<&SignatureFact> = sigs
        .iter()
        .filter(|s| s.kind == "image-signature")
        .collect();
    let good: Vec<&SignatureFact> = images
        .iter()
        .copied()
        .filter(|s| s.outcome == "verified")
        .collect();
    if images.is_empty() {
        out.push(sig_problem(
            "image-unsigned",
            "no image signature in the evidence".into(),
            vec![],
        ));
    } else if good.is_empty() {
        let ev = images
            .iter()
            .map(|s| format!("{}: {} ({})", s.file, s.outcome, s.detail))
            .collect();
        out.push(sig_problem(
            "image-signature-invalid",
            format!("{} image signature(s), none verified", images.len()),
            ev,
        ));
    } else if good.iter().all(|s| !s.tlog_verified) && !p.tlog_absence_acceptable {
        let ev = good.iter().map(|s| s.file.clone()).collect();
        out.push(sig_problem(
            "tlog-absent",
            "the image signature verified but has no transparency-log proof, which this policy does not accept".into(),
            ev,
        ));
    } else {
        let tlog = if good.iter().any(|s| s.tlog_verified) {
            "with transparency-log proof"
        } else {
            "no transparency-log proof (accepted by policy for keyed signatures)"
        };
        let ev = good.iter().map(|s| s.file.clone()).collect();
        out.push(Diagnostic::with_level(
            Level::Pass,
            "image-signature",
            "image-signature-verified",
            format!("image signature verified, {tlog}"),
            ev,
        ));
    }
    let sbom_att: Vec<&SignatureFact> = sigs
        .iter()
        .filter(|s| s.kind == "attestation" && s.outcome == "verified")
        .filter(|s| {
            s.predicate_type
                .as_deref()
                .is_some_and(|t| t.contains("spdx") || t.contains("cyclonedx"))
        })
        .collect();
    if sbom_att.is_empty() {
        out.push(Diagnostic::problem(
            p,
            "sbom-attested",
            "sbom-not-attested",
            "no verified SBOM attestation (SPDX or CycloneDX predicate) for the image".into(),
            vec![],
        ));
    } else {
        out.push(Diagnostic::with_level(
            Level::Pass,
            "sbom-attested",
            "sbom-attested",
            "SBOM attestation verified".into(),
            sbom_att.iter().map(|s| s.file.clone()).collect(),
        ));
    }
    let weak: Vec<String> = sigs
        .iter()
        .filter(|s| {
            non_approved(&format!(
                "{} {}",
                s.algorithm.clone().unwrap_or_default(),
                s.detail
            ))
        })
        .map(|s| {
            format!(
                "{}: {} {}",
                s.file,
                s.algorithm.clone().unwrap_or_default(),
                s.detail
            )
        })
        .collect();
    if !weak.is_empty() {
        out.push(Diagnostic::problem(
            p,
            "crypto",
            "non-approved-crypto",
            "non-approved cryptography (SHA-1, MD5, RSA below 2048 bits) in signatures".into(),
            weak,
        ));
    }
}

#[cfg(test)]
mod tests;
