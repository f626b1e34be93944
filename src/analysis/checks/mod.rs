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

const WEAK: &[&str] = &["sha1", "sha-1", "md5", "rsa-512", "rsa-1024", "rsa-768", "dsa"];

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
        .filter(|x| x.status == "failed" || x.status == "refused" || x.status == "unsupported-version")
        .map(|x| format!("{}: {} ({})", x.path, x.status, x.message.clone().unwrap_or_default()))
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
        let n = f.files.iter().filter(|x| !x.named_digests.is_empty()).count();
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
    let images: Vec<&SignatureFact> = sigs.iter().filter(|s| s.kind == "image-signature").collect();
    let good: Vec<&SignatureFact> = images.iter().copied().filter(|s| s.outcome == "verified").collect();
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
            let a = format!("{} {}", s.algorithm.clone().unwrap_or_default(), s.detail).to_ascii_lowercase();
            // Whole tokens only: "dsa" must not match "ecdsa-p256".
            a.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
                .any(|t| WEAK.contains(&t))
        })
        .map(|s| format!("{}: {} {}", s.file, s.algorithm.clone().unwrap_or_default(), s.detail))
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

fn scanner_age(f: &SetFacts, p: &Policy, as_of: NaiveDate, out: &mut Vec<Diagnostic>) {
    let scans: Vec<&FileFacts> = f
        .files
        .iter()
        .filter(|x| x.status == "parsed" && matches!(x.doc_kind.as_deref(), Some("scan" | "sbom-with-scan")))
        .collect();
    if scans.is_empty() {
        out.push(Diagnostic::problem(
            p,
            "coverage",
            "no-scan-report",
            "no vulnerability scan report in the set: findings cannot be judged".into(),
            vec![],
        ));
        return;
    }
    let as_of_t = as_of.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    for s in scans {
        let who = format!("{} ({})", s.path, s.scanner.clone().unwrap_or_else(|| "scanner".into()));
        let built = s.db_built.as_deref().and_then(parse_time);
        let at = s.scanned_at.as_deref().and_then(parse_time);
        match (built, at) {
            (Some(b), Some(a)) => {
                let days = (a - b).num_seconds() as f64 / 86400.0;
                if days > f64::from(p.max_db_age_days) {
                    out.push(Diagnostic::problem(p, "scanner-db-age", "scanner-db-stale", format!("{who}: vulnerability DB built {b} was {days:.1} days old at scan time {a}, over the {}-day limit", p.max_db_age_days), vec![s.path.clone()]));
                } else {
                    out.push(Diagnostic::with_level(
                        Level::Pass,
                        "scanner-db-age",
                        "scanner-db-fresh",
                        format!("{who}: vulnerability DB {days:.1} days old at scan time"),
                        vec![s.path.clone()],
                    ));
                }
            }
            (None, _) => out.push(Diagnostic::problem(
                p,
                "scanner-db-age-unknown",
                "scanner-db-age-unknown",
                format!("{who}: DB age unknown (the report does not say when its vulnerability DB was built)"),
                vec![s.path.clone()],
            )),
            (Some(_), None) => out.push(Diagnostic::problem(
                p,
                "scanner-db-age-unknown",
                "scanner-db-age-unknown",
                format!("{who}: DB age at scan time unknown (the report does not say when the scan ran)"),
                vec![s.path.clone()],
            )),
        }
        match (at, as_of_t) {
            (Some(a), Some(now)) => {
                let days = (now - a).num_seconds() as f64 / 86400.0;
                if days > f64::from(p.max_scan_age_days) {
                    out.push(Diagnostic::problem(
                        p,
                        "scan-age",
                        "scan-stale",
                        format!(
                            "{who}: scan ran {a}, {days:.0} days before {as_of}, over the {}-day limit",
                            p.max_scan_age_days
                        ),
                        vec![s.path.clone()],
                    ));
                }
            }
            _ => out.push(Diagnostic::problem(
                p,
                "scan-age",
                "scan-age-unknown",
                format!("{who}: scan time unknown, so its age at review is unknown"),
                vec![s.path.clone()],
            )),
        }
    }
}

fn coverage(f: &SetFacts, p: &Policy, out: &mut Vec<Diagnostic>) {
    let has_sbom = f
        .files
        .iter()
        .any(|x| x.status == "parsed" && matches!(x.doc_kind.as_deref(), Some("sbom" | "sbom-with-scan")));
    if !has_sbom {
        out.push(Diagnostic::problem(
            p,
            "coverage",
            "no-sbom",
            "no SBOM in the set: scanned packages cannot be compared with an inventory".into(),
            vec![],
        ));
        return;
    }
    if !f.scan_not_in_sbom.is_empty() {
        out.push(Diagnostic::problem(
            p,
            "coverage",
            "scan-component-not-in-sbom",
            format!(
                "{} package(s) reported by a scanner are missing from the SBOM",
                f.scan_not_in_sbom.len()
            ),
            f.scan_not_in_sbom.clone(),
        ));
    }
    if !f.sbom_not_scanned.is_empty() {
        out.push(Diagnostic::problem(
            p,
            "coverage",
            "sbom-component-not-scanned",
            format!("{} SBOM package(s) appear in no scan report", f.sbom_not_scanned.len()),
            f.sbom_not_scanned.clone(),
        ));
    }
}

fn image_reference_and_user(f: &SetFacts, p: &Policy, out: &mut Vec<Diagnostic>) {
    if let Some(img) = f.image.as_deref().filter(|i| !i.contains("@sha256:")) {
        let pinned = f
            .digest
            .as_deref()
            .map(|d| format!("; the digest {d} comes from other evidence"))
            .unwrap_or_default();
        out.push(Diagnostic::problem(
            p,
            "tag-only-reference",
            "tag-only-reference",
            format!("the evidence references the image by the mutable tag '{img}' only{pinned}"),
            vec![],
        ));
    }
    match f.image_user.as_deref().map(str::trim) {
        None => out.push(Diagnostic::with_level(
            Level::Info,
            "image-user",
            "image-user-unknown",
            "no image config in the evidence: the user the image runs as is unknown".into(),
            vec![],
        )),
        Some(u) => {
            let user = u.split(':').next().unwrap_or("");
            if user.is_empty() || user == "root" || user == "0" {
                let shown = if u.is_empty() { "unset (root)" } else { u };
                out.push(Diagnostic::problem(
                    p,
                    "image-user",
                    "image-user-root",
                    format!("image config User is {shown}: the container runs as root"),
                    vec![],
                ));
            } else if let Ok(uid) = user.parse::<u64>() {
                if uid < 10000 {
                    out.push(Diagnostic::problem(
                        p,
                        "image-user",
                        "image-user-low-uid",
                        format!("image config User is UID {uid}, below 10000 (may collide with a host account)"),
                        vec![],
                    ));
                } else {
                    out.push(Diagnostic::with_level(
                        Level::Pass,
                        "image-user",
                        "image-user-ok",
                        format!("image runs as UID {uid}"),
                        vec![],
                    ));
                }
            } else {
                out.push(Diagnostic::problem(
                    p,
                    "image-user",
                    "image-user-unresolved",
                    format!("image config User is the name '{user}': its UID cannot be checked from the evidence"),
                    vec![],
                ));
            }
        }
    }
}

fn stig(s: &StigSummary, p: &Policy, out: &mut Vec<Diagnostic>) {
    let counts = format!(
        "pass {}, fail {}, error {}, notapplicable {}, notchecked {}",
        s.count("pass"),
        s.count("fail"),
        s.count("error"),
        s.count("notapplicable"),
        s.count("notchecked")
    );
    if s.failures() == 0 {
        out.push(Diagnostic::with_level(
            Level::Pass,
            "stig",
            "stig-pass",
            format!("{}: no STIG rule failed ({counts})", s.file),
            vec![s.file.clone()],
        ));
    } else {
        let ev = s.failed_rules.iter().map(|(sev, id)| format!("{sev}: {id}")).collect();
        out.push(Diagnostic::problem(
            p,
            "stig",
            "stig-failures",
            format!(
                "{}: STIG failures CAT I {}, CAT II {}, CAT III {}, other {} ({counts})",
                s.file, s.cat_i_fail, s.cat_ii_fail, s.cat_iii_fail, s.other_fail
            ),
            ev,
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const B: &str = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    fn scan(path: &str, digests: &[&str], built: Option<&str>, at: Option<&str>) -> FileFacts {
        FileFacts {
            path: path.into(),
            status: "parsed".into(),
            named_digests: digests.iter().map(|s| s.to_string()).collect(),
            doc_kind: Some("scan".into()),
            scanner: Some("grype".into()),
            db_built: built.map(Into::into),
            scanned_at: at.map(Into::into),
            ..Default::default()
        }
    }

    fn codes(d: &[Diagnostic]) -> Vec<(&'static str, Level)> {
        d.iter().map(|x| (x.code, x.level)).collect()
    }

    #[test]
    fn mixed_images_and_stale_db_fail() {
        let p = Policy::default_policy();
        let f = SetFacts {
            digest: Some(A.into()),
            files: vec![
                scan(
                    "a.json",
                    &[A],
                    Some("2024-01-01T00:00:00Z"),
                    Some("2024-01-20T00:00:00Z"),
                ),
                scan(
                    "b.json",
                    &[B],
                    Some("2024-01-19T00:00:00Z"),
                    Some("2024-01-20T00:00:00Z"),
                ),
            ],
            ..Default::default()
        };
        let d = run(&f, &p, NaiveDate::from_ymd_opt(2024, 1, 21).unwrap());
        let c = codes(&d);
        assert!(c.contains(&("digest-mismatch", Level::Fail)), "{c:?}");
        assert!(c.contains(&("scanner-db-stale", Level::Fail)), "{c:?}");
        assert!(c.contains(&("scanner-db-fresh", Level::Pass)), "{c:?}");
        assert!(c.contains(&("image-unsigned", Level::Fail)), "{c:?}");
        let mm = d.iter().find(|x| x.code == "digest-mismatch").unwrap();
        assert!(mm.evidence[0].starts_with("b.json"), "{mm:?}");
    }

    #[test]
    fn unknown_db_age_and_users() {
        let p = Policy::default_policy();
        let mut f = SetFacts {
            digest: Some(A.into()),
            files: vec![scan("t.json", &[A], None, None)],
            image_user: Some("0:0".into()),
            ..Default::default()
        };
        let c = codes(&run(&f, &p, NaiveDate::from_ymd_opt(2024, 1, 21).unwrap()));
        assert!(c.contains(&("scanner-db-age-unknown", Level::Warn)));
        assert!(c.contains(&("image-user-root", Level::Warn)));
        f.image_user = Some("1001".into());
        let c = codes(&run(&f, &p, NaiveDate::from_ymd_opt(2024, 1, 21).unwrap()));
        assert!(c.contains(&("image-user-low-uid", Level::Warn)));
        f.image_user = Some("65532".into());
        let c = codes(&run(&f, &p, NaiveDate::from_ymd_opt(2024, 1, 21).unwrap()));
        assert!(c.contains(&("image-user-ok", Level::Pass)));
    }
}
