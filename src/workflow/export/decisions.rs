//! What the other areas decided about a set, folded into the export model: the judge's
//! verdict, gate classes and checks (`workflow::judge::evaluate_set`), the reviewer's
//! dispositions and the waivers in scope (`Store::dispositions` / `waivers`), verification
//! results (`Store::verification_results`) and the STIG summary (`analysis::xccdf`).

use super::ExportError;
use crate::analysis::policy::Policy;
use crate::analysis::waiver_eval::TrustedKey;
use crate::export::model::*;
use crate::model::waiver::DispositionState;
use crate::store::Store;
use crate::workflow::judge::{self, JudgeReport};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Applies the judgement to `set` (whose findings carry their store ids in `ids`).
/// A judging error leaves the set `not evaluated` with the error as the reason. `trusted`
/// is the trust store's keys, read once per package (or the error reading them).
pub fn apply_judgement(
    store: &Store,
    set: &mut SetExport,
    ids: &[i64],
    policy: &Policy,
    as_of: chrono::NaiveDate,
    trusted: &Result<Vec<TrustedKey>, String>,
) -> Result<(), ExportError> {
    let judged = match trusted {
        Ok(keys) => {
            judge::evaluate_set_with(store, set.id, policy, as_of, keys).map_err(|e| e.to_string())
        }
        Err(e) => Err(e.clone()),
    };
    let report = match judged {
        Ok(r) => r,
        Err(e) => {
            set.verdict = Verdict::not_evaluated(&format!("judging failed: {e}"));
            return Ok(());
        }
    };
    fold(store, set, ids, &report)?;
    Ok(())
}

fn fold(
    store: &Store,
    set: &mut SetExport,
    ids: &[i64],
    r: &JudgeReport,
) -> Result<(), ExportError> {
    set.verdict = Verdict {
        status: r.verdict.as_str().to_string(),
        policy_sha256: Some(r.policy_sha256.clone()),
        as_of: Some(r.as_of.clone()),
        reasons: r.reasons.clone(),
    };
    let by_id: HashMap<i64, &judge::FindingJudgement> =
        r.findings.iter().map(|f| (f.finding_id, f)).collect();
    let decided: HashMap<(String, String), crate::store::review::DispositionRow> = store
        .dispositions(set.id)?
        .into_iter()
        .map(|d| ((d.vuln_id.clone(), d.component_key.clone()), d))
        .collect();
    let mut waiver_ids: BTreeSet<String> = BTreeSet::new();
    let mut standing: BTreeMap<String, String> = BTreeMap::new();
    for (f, id) in set.findings.iter_mut().zip(ids) {
        if let Some(j) = by_id.get(id) {
            f.gate = j.gate.as_str().to_string();
            f.gate_reason = Some(j.reason.clone());
            f.disposition = j
                .disposition
                .as_deref()
                .and_then(DispositionState::parse)
                .map_or("open", |d| d.as_str())
                .to_string();
            if let Some(w) = &j.waiver {
                waiver_ids.insert(w.id.clone());
                standing.insert(w.id.clone(), w.standing.clone());
                if w.applies {
                    f.waiver = Some(w.id.clone());
                }
            }
            if let Some(v) = j.vex.as_ref().filter(|v| v.counts) {
                f.justification = v.justification.clone();
                f.note = Some(format!("VEX {} ({})", v.status, v.file));
            }
        }
        if let Some(d) = decided.get(&(f.vuln_id.clone(), f.component_key.clone())) {
            if d.state.as_str() == f.disposition {
                f.justification = d
                    .justification
                    .map(|j| j.as_str().to_string())
                    .or(f.justification.take());
                f.note = d.note.clone().or(f.note.take());
                f.decided_by = Some(d.actor.clone());
                f.decided_at = Some(d.at.clone());
                if f.waiver.is_none() {
                    f.waiver = d.waiver_id.clone();
                }
            }
        }
    }
    set.counts = count(&set.findings);
    set.checks = Some(
        r.diagnostics
            .iter()
            .map(|d| {
                let mut reason = d.message.clone();
                if !d.evidence.is_empty() {
                    reason.push_str(&format!(" [{}]", d.evidence.join(", ")));
                }
                CheckItem {
                    code: d.code.to_string(),
                    status: d.level.as_str().to_string(),
                    reason,
                }
            })
            .collect(),
    );
    let mut waivers: BTreeMap<String, WaiverItem> = BTreeMap::new();
    let rows = store.waivers(set.id)?;
    for row in &rows {
        waiver_ids.insert(row.waiver_id.clone());
    }
    for id in waiver_ids {
        let row = match rows.iter().find(|w| w.waiver_id == id) {
            Some(r) => Some(r.clone()),
            None => store.waiver(&id)?,
        };
        let sig = standing.get(&id).cloned();
        let item = match row {
            Some(w) => {
                let d = &w.document;
                let person = |p: &crate::model::waiver::Person| match &p.role {
                    Some(r) => format!("{} ({r})", p.name),
                    None => p.name.clone(),
                };
                WaiverItem {
                    id: id.clone(),
                    vulnerability: d.vulnerability.clone(),
                    scope_image: d.scope.image.clone(),
                    scope_repository: d.scope.repository.clone(),
                    scope_purl: d.scope.purl.clone(),
                    justification_type: d.justification.kind.as_str().to_string(),
                    justification_text: d.justification.text.clone(),
                    requested_by: Some(person(&d.requested_by)),
                    approver: d.approved_by.as_ref().map(person),
                    approved_at: d.approved_at.clone(),
                    expires: d.expires.clone(),
                    signature: sig.unwrap_or_else(|| {
                        if d.signature.is_some() {
                            "signed (not evaluated)".into()
                        } else {
                            "unsigned".into()
                        }
                    }),
                    state: Some(w.state.as_str().to_string()),
                }
            }
            // Waivers read from ignore files live only in the judgement.
            None => WaiverItem {
                id: id.clone(),
                vulnerability: String::new(),
                scope_image: None,
                scope_repository: None,
                scope_purl: None,
                justification_type: String::new(),
                justification_text: String::new(),
                requested_by: None,
                approver: None,
                approved_at: None,
                expires: r
                    .findings
                    .iter()
                    .filter_map(|f| f.waiver.as_ref())
                    .find(|w| w.id == id)
                    .and_then(|w| w.expires.clone())
                    .unwrap_or_default(),
                signature: sig.unwrap_or_else(|| "unsigned".into()),
                state: None,
            },
        };
        waivers.insert(id, item);
    }
    set.waivers = Some(waivers.into_values().collect());
    Ok(())
}

/// The latest verification run's results, or `None` when the set was never verified.
pub fn verification(
    store: &Store,
    set_id: i64,
) -> Result<Option<Vec<VerificationItem>>, ExportError> {
    let Some(run) = store.verification_results(set_id)? else {
        return Ok(None);
    };
    let mut v: Vec<VerificationItem> = run
        .results
        .into_iter()
        .map(|r| {
            let mut detail = r.detail;
            if !r.tlog.is_empty() {
                detail.push_str(&format!(" (transparency log: {})", r.tlog));
            }
            VerificationItem {
                kind: r.kind,
                subject: r.file,
                status: r.outcome,
                key: r.key_name.or(r.key_fingerprint),
                detail: Some(detail),
            }
        })
        .collect();
    v.sort();
    Ok(Some(v))
}

/// STIG results from the set's XCCDF / ARF evidence, summed; `None` when there is none.
pub fn stig(store: &Store, evidence: &[EvidenceItem]) -> Result<Option<StigSummary>, ExportError> {
    let mut out: Option<StigSummary> = None;
    for e in evidence
        .iter()
        .filter(|e| matches!(e.format.as_deref(), Some("xccdf-results" | "arf-report")))
    {
        let Some(bytes) = store.blob(&e.sha256)? else {
            continue;
        };
        let Ok(s) = crate::analysis::xccdf::parse(&e.path, &bytes) else {
            continue;
        };
        let o = out.get_or_insert_with(StigSummary::default);
        o.benchmark = Some(match o.benchmark.take() {
            Some(b) => format!("{b}, {}", e.path),
            None => e.path.clone(),
        });
        let fail = s.failures();
        let pass = s.count("pass");
        o.pass += pass;
        o.fail += fail;
        o.other += s.results.values().sum::<u64>().saturating_sub(pass + fail);
        for (k, v) in [
            ("CAT I", s.cat_i_fail),
            ("CAT II", s.cat_ii_fail),
            ("CAT III", s.cat_iii_fail),
            ("other", s.other_fail),
        ] {
            *o.failed_by_cat.entry(k.to_string()).or_default() += v;
        }
    }
    Ok(out)
}
