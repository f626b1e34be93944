//! The inventory-side checks: scanner DB and scan age, SBOM vs scan coverage, the image
//! reference and user, and STIG results.

use super::{parse_time, Diagnostic, FileFacts, Level, SetFacts};
use crate::analysis::policy::Policy;
use crate::analysis::xccdf::StigSummary;
use chrono::NaiveDate;

pub(super) fn scanner_age(f: &SetFacts, p: &Policy, as_of: NaiveDate, out: &mut Vec<Diagnostic>) {
    let scans: Vec<&FileFacts> = f
        .files
        .iter()
        .filter(|x| {
            x.status == "parsed" && matches!(x.doc_kind.as_deref(), Some("scan" | "sbom-with-scan"))
        })
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
        let who = format!(
            "{} ({})",
            s.path,
            s.scanner.clone().unwrap_or_else(|| "scanner".into())
        );
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

pub(super) fn coverage(f: &SetFacts, p: &Policy, out: &mut Vec<Diagnostic>) {
    let has_sbom = f.files.iter().any(|x| {
        x.status == "parsed" && matches!(x.doc_kind.as_deref(), Some("sbom" | "sbom-with-scan"))
    });
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
            format!(
                "{} SBOM package(s) appear in no scan report",
                f.sbom_not_scanned.len()
            ),
            f.sbom_not_scanned.clone(),
        ));
    }
}

pub(super) fn image_reference_and_user(f: &SetFacts, p: &Policy, out: &mut Vec<Diagnostic>) {
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

pub(super) fn stig(s: &StigSummary, p: &Policy, out: &mut Vec<Diagnostic>) {
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
        let ev = s
            .failed_rules
            .iter()
            .map(|(sev, id)| format!("{sev}: {id}"))
            .collect();
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
