//! Judging a set: every finding classified by the policy, tagged with VEX, waiver and the
//! reviewer's disposition; the cross-checks; and the verdict with its reasons. One call,
//! `evaluate_set`, serves the CLI, the TUI and export. Recording a verdict is audited.

pub mod diff;
mod findings;
pub mod inputs;
mod statements;
pub mod threat;
mod view;

pub use findings::{FindingJudgement, VexTag, WaiverTag};
pub use view::{FindingView, ReasonView, WaiverNote};

use super::Actor;
use crate::analysis::checks::{self, Diagnostic, FileFacts, Level, SetFacts};
use crate::analysis::gate::{self, GateClass, Verdict};
use crate::analysis::policy::Policy;
use crate::analysis::waiver_eval::TrustedKey;
use crate::store::judge::ThreatSource;
use crate::store::{Store, StoreError};
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, thiserror::Error)]
pub enum JudgeError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Policy(#[from] crate::analysis::policy::PolicyError),
    #[error("{0}")]
    Input(String),
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Counts {
    pub findings: usize,
    pub by_severity: BTreeMap<String, usize>,
    pub by_gate: BTreeMap<String, usize>,
    pub undisposed_block: usize,
    pub undisposed_warn: usize,
    pub waived: usize,
    pub not_affected: usize,
    pub checks_failed: usize,
    pub checks_warned: usize,
}

/// The whole judgement of one set at one date under one policy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JudgeReport {
    pub set_id: i64,
    pub image: Option<String>,
    pub digest: Option<String>,
    pub verdict: Verdict,
    pub policy_name: String,
    pub policy_sha256: String,
    pub policy_source: String,
    pub as_of: String,
    pub reasons: Vec<String>,
    pub counts: Counts,
    pub findings: Vec<FindingJudgement>,
    pub diagnostics: Vec<Diagnostic>,
    /// The threat data in the store and how old it is.
    pub threat: Vec<ThreatSource>,
}

/// Today's date in UTC, the default evaluation date.
pub fn today() -> NaiveDate {
    chrono::Utc::now().date_naive()
}

/// Parses `--as-of` (`YYYY-MM-DD`).
pub fn parse_as_of(s: Option<&str>) -> Result<NaiveDate, JudgeError> {
    match s {
        None => Ok(today()),
        Some(s) => NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
            .map_err(|_| JudgeError::Input(format!("--as-of '{s}' is not a date (YYYY-MM-DD)"))),
    }
}

/// Loads `--policy FILE`, or the embedded default.
pub fn load_policy(path: Option<&std::path::Path>) -> Result<Policy, JudgeError> {
    Ok(match path {
        Some(p) => Policy::load(p)?,
        None => Policy::default_policy(),
    })
}

/// Evaluates a set with the trust store's keys.
pub fn evaluate_set(
    store: &Store,
    set_id: i64,
    policy: &Policy,
    as_of: NaiveDate,
) -> Result<JudgeReport, JudgeError> {
    let trusted = inputs::trusted_keys(store)?;
    evaluate_set_with(store, set_id, policy, as_of, &trusted)
}

/// Evaluates a set against explicitly given trusted keys.
pub fn evaluate_set_with(
    store: &Store,
    set_id: i64,
    policy: &Policy,
    as_of: NaiveDate,
    trusted: &[TrustedKey],
) -> Result<JudgeReport, JudgeError> {
    let mut findings = Vec::new();
    let mut r = evaluate_set_views(store, set_id, policy, as_of, trusted, &mut |f| {
        findings.push(f.to_judgement())
    })?;
    r.findings = in_severity_order(findings);
    Ok(r)
}

/// Severity order (highest first), then id, then row id, as every presenter lists them.
/// Sorts a permutation of small keys and moves each judgement once: sorting the ~250-byte
/// judgements themselves was most of a million-finding gate (profiled: memmove and the
/// comparisons of a stable merge sort).
fn in_severity_order(findings: Vec<FindingJudgement>) -> Vec<FindingJudgement> {
    let mut order: Vec<usize> = (0..findings.len()).collect();
    // The row id makes every key unique, so an unstable sort gives the one order.
    order.sort_unstable_by(|&a, &b| {
        let (a, b) = (&findings[a], &findings[b]);
        (std::cmp::Reverse(a.severity), &a.id, a.finding_id).cmp(&(
            std::cmp::Reverse(b.severity),
            &b.id,
            b.finding_id,
        ))
    });
    let mut slots: Vec<Option<FindingJudgement>> = findings.into_iter().map(Some).collect();
    order.into_iter().filter_map(|i| slots[i].take()).collect()
}

/// Like `evaluate_set_with`, but hands each finding's judgement to `sink` (in store
/// order, not severity order) instead of collecting them: the returned report's `findings` is empty. For a
/// million findings this keeps memory to what the sink keeps.
pub fn evaluate_set_streaming(
    store: &Store,
    set_id: i64,
    policy: &Policy,
    as_of: NaiveDate,
    trusted: &[TrustedKey],
    sink: &mut dyn FnMut(FindingJudgement),
) -> Result<JudgeReport, JudgeError> {
    evaluate_set_views(store, set_id, policy, as_of, trusted, &mut |f| {
        sink(f.to_judgement())
    })
}

/// The gate and every cross-check in one pass over the set's findings, each finding's
/// judgement lent to `sink` as a borrowed view (store order; its reason is written only
/// if the sink asks): the verdict, counts and diagnostics of a million findings without a
/// string per finding. The returned report's `findings` is empty.
pub fn evaluate_set_views(
    store: &Store,
    set_id: i64,
    policy: &Policy,
    as_of: NaiveDate,
    trusted: &[TrustedKey],
    sink: &mut dyn FnMut(&FindingView<'_>),
) -> Result<JudgeReport, JudgeError> {
    let set = store.gate_set(set_id)?;
    let files = store.set_files(set_id)?;
    let gathered = inputs::gather(store, set_id, &files, trusted, policy)?;
    let threat = store.threat_sources()?;
    let mut diagnostics = gathered.problems.clone();
    diagnostics.extend(inputs::verify_policy_mismatch(store, set_id, policy)?);

    let fj = findings::judge_findings(store, &set, policy, as_of, &gathered, &threat, sink)?;
    diagnostics.extend(fj.diagnostics);

    let (scan_not_in_sbom, sbom_not_scanned) = store.component_gaps(set_id)?;
    let facts = SetFacts {
        digest: set.digest.clone(),
        image: set.image.clone(),
        image_user: set.image_user.clone(),
        files: files
            .iter()
            .map(|f| FileFacts {
                path: f.path.clone(),
                format: f.format.clone(),
                status: f.status.clone(),
                message: f.message.clone(),
                named_digests: f.named_digests.clone(),
                doc_kind: f.doc_kind.clone(),
                scanner: f.scanner.clone(),
                db_built: f.db_built.clone(),
                scanned_at: f.scanned_at.clone(),
            })
            .collect(),
        signatures: inputs::signature_facts(store, set_id)?,
        scan_not_in_sbom,
        sbom_not_scanned,
        stig: gathered.stig.clone(),
    };
    let mut set_diags = checks::run(&facts, policy, as_of);
    set_diags.extend(diagnostics);
    let diagnostics = set_diags;

    let mut counts = fj.counts;
    counts.checks_failed = diagnostics
        .iter()
        .filter(|d| d.level == Level::Fail)
        .count();
    counts.checks_warned = diagnostics
        .iter()
        .filter(|d| d.level == Level::Warn)
        .count();
    let verdict = gate::verdict(
        counts.undisposed_block,
        counts.undisposed_warn,
        counts.checks_failed,
    );

    let mut reasons = Vec::new();
    if counts.undisposed_block > 0 {
        reasons.push(format!(
            "{} BLOCK finding(s) without patched / not_affected disposition",
            counts.undisposed_block
        ));
    }
    for d in diagnostics.iter().filter(|d| d.level == Level::Fail) {
        reasons.push(format!(
            "required check {} failed ({}): {}",
            d.check, d.code, d.message
        ));
    }
    if counts.undisposed_warn > 0 {
        reasons.push(format!(
            "{} WARN finding(s) need a waiver",
            counts.undisposed_warn
        ));
    }
    if reasons.is_empty() {
        reasons.push("no undisposed BLOCK or WARN finding and every required check passed".into());
    }
    Ok(JudgeReport {
        set_id,
        image: set.image.clone(),
        digest: set.digest.clone(),
        verdict,
        policy_name: policy.name.clone(),
        policy_sha256: policy.sha256.clone(),
        policy_source: policy.source.clone(),
        as_of: as_of.to_string(),
        reasons,
        counts,
        findings: Vec::new(),
        diagnostics,
        threat,
    })
}

/// Records a verdict in the history and the audit log (one transaction).
pub fn record_verdict(
    store: &mut Store,
    r: &JudgeReport,
    actor: &Actor,
) -> Result<i64, JudgeError> {
    let counts = serde_json::to_value(&r.counts).unwrap_or_default();
    let reasons = serde_json::to_value(&r.reasons).unwrap_or_default();
    let details = serde_json::json!({
        "verdict": r.verdict.as_str(), "policy_sha256": r.policy_sha256, "policy": r.policy_name,
        "as_of": r.as_of, "undisposed_block": r.counts.undisposed_block, "undisposed_warn": r.counts.undisposed_warn,
        "checks_failed": r.counts.checks_failed,
    });
    let id = store.audited(&actor.label(), "gate", &format!("set:{}", r.set_id), |tx| {
        let id = crate::store::judge::insert_verdict(
            tx,
            r.set_id,
            r.verdict.as_str(),
            &r.policy_name,
            &r.policy_sha256,
            &r.as_of,
            &counts,
            &reasons,
        )?;
        Ok((id, details))
    })?;
    Ok(id)
}

/// The class counts a presenter shows next to the verdict.
pub fn class_count(r: &JudgeReport, c: GateClass) -> usize {
    r.counts.by_gate.get(c.as_str()).copied().unwrap_or(0)
}
#[cfg(test)]
mod tests;
