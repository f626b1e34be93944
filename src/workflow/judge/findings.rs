//! Per-finding judgement: threat data, VEX, gate class, waivers and the reviewer's own
//! disposition, plus the diagnostics that need the findings (scanner disagreement, VEX and
//! waivers that match nothing, waiver expiry). Indexed lookups keep a million rows cheap.

use super::inputs::Gathered;
use super::{Counts, JudgeError};
use crate::analysis::checks::Diagnostic;
use crate::analysis::gate::{self, GateClass, GateInput};
use crate::analysis::policy::Policy;
use crate::analysis::waiver_eval::{Candidate, Standing};
use crate::model::waiver::DispositionState;
use crate::model::Severity;
use crate::store::judge::ThreatSource;
use crate::store::{SetRow, Store};
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WaiverTag {
    pub id: String,
    /// valid | expired | unsigned | untrusted | bad-signature | self-approved
    pub standing: String,
    pub applies: bool,
    pub source: String,
    pub expires: Option<String>,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VexTag {
    pub status: String,
    pub justification: Option<String>,
    pub counts: bool,
    pub file: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FindingJudgement {
    pub finding_id: i64,
    pub id: String,
    pub aliases: Vec<String>,
    pub component: String,
    pub name: String,
    pub version: Option<String>,
    pub severity: Severity,
    pub gate: GateClass,
    pub reason: String,
    /// waived | not_affected | the reviewer's recorded state; `None` = undecided.
    pub disposition: Option<String>,
    pub waiver: Option<WaiverTag>,
    pub vex: Option<VexTag>,
    pub epss: Option<f64>,
    pub kev: bool,
}

pub(super) struct Judged {
    pub diagnostics: Vec<Diagnostic>,
    pub counts: Counts,
}

fn index_by_id<'a, T>(
    items: &'a [T],
    ids: impl Fn(&'a T) -> Vec<&'a str>,
) -> HashMap<String, Vec<usize>> {
    let mut m: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, it) in items.iter().enumerate() {
        for id in ids(it) {
            m.entry(id.to_ascii_uppercase()).or_default().push(i);
        }
    }
    m
}

fn lookup(ix: &HashMap<String, Vec<usize>>, vuln: &str, aliases: &[String]) -> BTreeSet<usize> {
    let mut out = BTreeSet::new();
    if ix.is_empty() {
        return out;
    }
    for id in std::iter::once(vuln).chain(aliases.iter().map(String::as_str)) {
        if let Some(v) = ix.get(&id.to_ascii_uppercase()) {
            out.extend(v.iter().copied());
        }
    }
    out
}

/// Severity order (highest first), then id, then row id.
type Key = (std::cmp::Reverse<Severity>, String, i64);

fn key(r: &crate::store::judge::GateRow) -> Key {
    (std::cmp::Reverse(r.severity), r.vuln_id.clone(), r.id)
}

fn in_order(mut v: Vec<(Key, String)>) -> Vec<String> {
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v.into_iter().map(|(_, s)| s).collect()
}

pub(super) fn judge_findings(
    store: &Store,
    set: &SetRow,
    p: &Policy,
    as_of: NaiveDate,
    g: &Gathered,
    threat: &[ThreatSource],
    sink: &mut dyn FnMut(FindingJudgement),
) -> Result<Judged, JudgeError> {
    // By id, then component: looked up with borrowed strings, no key built per finding.
    let mut dispositions: HashMap<String, HashMap<String, DispositionState>> = HashMap::new();
    for d in store.dispositions(set.id)? {
        dispositions
            .entry(d.vuln_id)
            .or_default()
            .insert(d.component_key, d.state);
    }
    let epss_src = threat
        .iter()
        .find(|t| t.kind == "epss")
        .map(|t| format!("FIRST EPSS {} {}", t.version, t.data_date));
    let kev_src = threat
        .iter()
        .find(|t| t.kind == "kev")
        .map(|t| format!("catalog {}", t.version));
    let have_threat = !threat.is_empty();

    let vex_ix = index_by_id(&g.vex, |s| {
        std::iter::once(s.vulnerability.as_str())
            .chain(s.aliases.iter().map(String::as_str))
            .collect()
    });
    let waiver_ix = index_by_id(&g.waivers, |w| vec![w.vulnerability.as_str()]);
    let wildcard: Vec<usize> = g
        .waivers
        .iter()
        .enumerate()
        .filter(|(_, w)| w.vulnerability == "*")
        .map(|(i, _)| i)
        .collect();
    let in_scope: Vec<bool> = g
        .waivers
        .iter()
        .map(|w| w.scoped_to(set.digest.as_deref(), set.repository.as_deref()))
        .collect();
    let standing: Vec<Standing> = g
        .waivers
        .iter()
        .map(|w| w.standing(as_of, p.self_approval))
        .collect();
    let mut vex_used = vec![false; g.vex.len()];
    let mut waiver_used = vec![false; g.waivers.len()];
    let mut block_waiver_refused: Vec<(Key, String)> = Vec::new();

    let scanners_seen: BTreeSet<String> = store.finding_scanners(set.id)?;
    let multi_scanner = scanners_seen.len() > 1;
    // Evidence lists carry their finding's severity-order key: rows stream in store order.
    let mut only_one: Vec<(Key, String)> = Vec::new();
    let mut sev_differs: Vec<(Key, String)> = Vec::new();

    let mut counts = Counts::default();
    // Tallied in arrays and named once at the end (no string keys per finding).
    let mut by_severity = [0usize; 6];
    let mut by_gate = [0usize; 3];
    store.for_each_gate_row(set.id, &mut |r| {
        // VEX: the newest matching statement decides.
        let mut vex_hit: Option<usize> = None;
        for i in lookup(&vex_ix, &r.vuln_id, &r.aliases) {
            let st = &g.vex[i];
            if crate::analysis::vex::matches(
                st,
                &r.vuln_id,
                &r.aliases,
                Some(r.component_key.as_str()),
                set.digest.as_deref(),
            ) {
                vex_used[i] = true;
                if vex_hit.is_none_or(|h| g.vex[h].timestamp <= st.timestamp) {
                    vex_hit = Some(i);
                }
            }
        }
        let vex = vex_hit.map(|i| &g.vex[i]);
        // Threat data: the scanner's own first, then the imported catalogs.
        let (mut t_epss, mut t_kev) = (r.threat_epss, r.threat_kev_added.clone());
        if have_threat && t_epss.is_none() && t_kev.is_none() && !r.vuln_id.starts_with("CVE-") {
            for a in r.aliases.iter().filter(|a| a.starts_with("CVE-")) {
                let (e, k) = store.threat_for(a)?;
                t_epss = t_epss.or(e);
                t_kev = t_kev.or(k);
            }
        }
        let epss = match (r.epss, t_epss) {
            (Some(e), _) => Some((
                e,
                format!(
                    "grype{}",
                    r.epss_date
                        .as_deref()
                        .map(|d| format!(" {d}"))
                        .unwrap_or_default()
                ),
            )),
            (None, Some(e)) => Some((e, epss_src.clone().unwrap_or_else(|| "FIRST EPSS".into()))),
            _ => None,
        };
        let kev = if r.kev == Some(true) {
            Some("reported by the scanner".to_string())
        } else {
            t_kev.map(|d| {
                format!(
                    "{}, added {d}",
                    kev_src.clone().unwrap_or_else(|| "catalog".into())
                )
            })
        };
        let vectors: Vec<&str> = [&r.cvss_v2_vector, &r.cvss_v3_vector, &r.cvss_v4_vector]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect();
        let input = GateInput {
            severity: r.severity,
            severity_disagrees: r.severity_disagrees,
            direct: r.direct,
            fix_available: !r.fixed_versions.is_empty() || r.fix_state == "fixed",
            vectors,
            epss: epss.clone(),
            kev: kev.clone(),
            vex_not_affected: vex
                .filter(|v| v.justified_not_affected())
                .map(|v| v.describe()),
        };
        let decision = gate::classify(&input, p);

        // Waivers: prefer one that applies; otherwise show the best-standing match.
        let mut wv: Option<(usize, bool)> = None;
        for i in lookup(&waiver_ix, &r.vuln_id, &r.aliases)
            .into_iter()
            .chain(wildcard.iter().copied())
        {
            let w: &Candidate = &g.waivers[i];
            if !in_scope[i] || !w.covers(&r.vuln_id, &r.aliases, &r.component_key) {
                continue;
            }
            waiver_used[i] = true;
            let ok = standing[i] == Standing::Valid;
            if wv.is_none_or(|(_, prev_ok)| ok && !prev_ok) {
                wv = Some((i, ok));
            }
        }
        let mut reason = decision.reason.clone();
        let waiver_applies = match wv {
            Some((_, true)) if decision.class == GateClass::Block && !p.block_waivable => {
                block_waiver_refused.push((
                    key(&r),
                    format!("{} on {}", r.vuln_id, r.component_key),
                ));
                reason
                    .push_str("; a valid waiver exists but this policy does not let waivers dispose of BLOCK findings");
                false
            }
            Some((i, ok)) => {
                if !ok {
                    reason.push_str(&format!(
                        "; waiver {} does not apply ({})",
                        g.waivers[i].id,
                        standing[i].as_str()
                    ));
                }
                ok
            }
            None => false,
        };
        let reviewer = dispositions
            .get(&r.vuln_id)
            .and_then(|m| m.get(&r.component_key))
            .copied();
        let disposition = match reviewer {
            Some(DispositionState::Open) => None,
            Some(DispositionState::Waived) if !waiver_applies => {
                reason.push_str("; recorded as waived, but no valid waiver applies at this date");
                None
            }
            Some(s) => Some(s.as_str().to_string()),
            None if waiver_applies => Some("waived".to_string()),
            // VEX decides only what it can: not_affected (justified), false_positive, fixed.
            None => vex
                .and_then(crate::analysis::vex::VexStatement::disposition)
                .map(str::to_string),
        };
        let disposed = match disposition.as_deref() {
            Some("waived") => decision.class != GateClass::Block || p.block_waivable,
            Some(_) => true,
            None => false,
        };
        counts.findings += 1;
        by_severity[r.severity as usize] += 1;
        by_gate[decision.class as usize] += 1;
        match (decision.class, disposed) {
            (GateClass::Block, false) => counts.undisposed_block += 1,
            (GateClass::Warn, false) => counts.undisposed_warn += 1,
            _ => {}
        }
        match disposition.as_deref() {
            Some("waived") => counts.waived += 1,
            Some("not_affected") => counts.not_affected += 1,
            _ => {}
        }
        if multi_scanner && r.scanners.len() == 1 {
            only_one.push((
                key(&r),
                format!(
                    "{} on {}: only {}",
                    r.vuln_id, r.component_key, r.scanners[0]
                ),
            ));
        }
        if r.severity_disagrees {
            sev_differs.push((
                key(&r),
                format!(
                    "{} on {} ({}, highest used)",
                    r.vuln_id, r.component_key, r.severity
                ),
            ));
        }
        sink(FindingJudgement {
            finding_id: r.id,
            id: r.vuln_id,
            aliases: r.aliases,
            component: r.component_key,
            name: r.name,
            version: r.version,
            severity: r.severity,
            gate: decision.class,
            reason,
            disposition,
            waiver: wv.map(|(i, ok)| {
                let w = &g.waivers[i];
                WaiverTag {
                    id: w.id.clone(),
                    standing: standing[i].as_str().into(),
                    applies: ok && waiver_applies,
                    source: w.source.clone(),
                    expires: w.expires.map(|d| d.to_string()),
                    detail: w.describe(),
                }
            }),
            vex: vex.map(|v| VexTag {
                status: v.status.clone(),
                justification: v.justification.clone(),
                counts: v.disposition().is_some(),
                file: v.file.clone(),
            }),
            epss: epss.map(|e| e.0),
            kev: kev.is_some(),
        });
        Ok(())
    })?;
    for s in Severity::ALL {
        if by_severity[s as usize] > 0 {
            counts
                .by_severity
                .insert(s.as_str().to_string(), by_severity[s as usize]);
        }
    }
    for g in [GateClass::Info, GateClass::Warn, GateClass::Block] {
        if by_gate[g as usize] > 0 {
            counts
                .by_gate
                .insert(g.as_str().to_string(), by_gate[g as usize]);
        }
    }

    let only_one = in_order(only_one);
    let sev_differs = in_order(sev_differs);
    let block_waiver_refused = in_order(block_waiver_refused);
    let mut d = Vec::new();
    let n = |v: &Vec<String>| v.len();
    if !only_one.is_empty() {
        d.push(Diagnostic::problem(
            p,
            "scanner-disagreement",
            "scanner-only-one",
            format!(
                "{} finding(s) reported by one scanner only ({} in the set)",
                n(&only_one),
                scanners_seen.iter().cloned().collect::<Vec<_>>().join(", ")
            ),
            only_one,
        ));
    }
    if !sev_differs.is_empty() {
        d.push(Diagnostic::problem(
            p,
            "scanner-disagreement",
            "scanner-severity-differs",
            format!(
                "{} finding(s) where scanners name different severities",
                n(&sev_differs)
            ),
            sev_differs,
        ));
    }
    // Only a set scanned by more than one scanner can disagree on fixes.
    let fix = if multi_scanner {
        store.fix_disagreements(set.id)?
    } else {
        Vec::new()
    };
    if !fix.is_empty() {
        let ev: Vec<String> = fix
            .iter()
            .map(|(v, c, s)| format!("{v} on {c}: {s}"))
            .collect();
        d.push(Diagnostic::problem(
            p,
            "scanner-disagreement",
            "scanner-fix-differs",
            format!(
                "{} finding(s) where scanners name different fixed versions",
                ev.len()
            ),
            ev,
        ));
    }
    vex_diagnostics(g, &vex_used, p, &mut d);
    waiver_diagnostics(g, &standing, &in_scope, &waiver_used, as_of, p, &mut d);
    if !block_waiver_refused.is_empty() {
        d.push(Diagnostic::problem(
            p,
            "waivers",
            "waiver-block-not-waivable",
            format!(
                "{} valid waiver(s) cover BLOCK findings, which this policy does not let waivers dispose of",
                block_waiver_refused.len()
            ),
            block_waiver_refused,
        ));
    }
    Ok(Judged {
        diagnostics: d,
        counts,
    })
}

fn vex_diagnostics(g: &Gathered, used: &[bool], p: &Policy, d: &mut Vec<Diagnostic>) {
    let unmatched: Vec<String> = g
        .vex
        .iter()
        .zip(used)
        .filter(|(_, u)| !**u)
        .map(|(s, _)| {
            format!(
                "{}: {} {} ({})",
                s.file,
                s.vulnerability,
                s.status,
                if s.purls.is_empty() {
                    s.digests.join(", ")
                } else {
                    s.purls.join(", ")
                }
            )
        })
        .collect();
    if !unmatched.is_empty() {
        d.push(Diagnostic::problem(
            p,
            "vex",
            "vex-statement-unmatched",
            format!(
                "{} VEX statement(s) match no finding of this set",
                unmatched.len()
            ),
            unmatched,
        ));
    }
    let unjustified: Vec<String> = g
        .vex
        .iter()
        .filter(|s| s.status == "not_affected" && !s.justified_not_affected())
        .map(|s| format!("{}: {}", s.file, s.vulnerability))
        .collect();
    if !unjustified.is_empty() {
        d.push(Diagnostic::problem(
            p,
            "vex",
            "vex-not-affected-unjustified",
            format!(
                "{} not_affected VEX statement(s) carry no justification and do not count",
                unjustified.len()
            ),
            unjustified,
        ));
    }
}

fn waiver_diagnostics(
    g: &Gathered,
    standing: &[Standing],
    in_scope: &[bool],
    used: &[bool],
    as_of: NaiveDate,
    p: &Policy,
    d: &mut Vec<Diagnostic>,
) {
    let mut by: HashMap<&'static str, Vec<String>> = HashMap::new();
    for (i, w) in g.waivers.iter().enumerate() {
        if !in_scope[i] {
            continue;
        }
        let code = match &standing[i] {
            Standing::Expired => "waiver-expired",
            Standing::Unsigned => "waiver-unsigned",
            Standing::Untrusted => "waiver-untrusted",
            Standing::BadSignature => "waiver-bad-signature",
            Standing::SelfApproved => "waiver-self-approved",
            Standing::Valid => {
                if !used[i] {
                    by.entry("waiver-unused").or_default().push(w.describe());
                }
                match w.expires {
                    Some(e) if (e - as_of).num_days() <= i64::from(p.expiry_warning_days) => {
                        "waiver-expiring-soon"
                    }
                    _ => continue,
                }
            }
        };
        by.entry(code).or_default().push(w.describe());
    }
    let text = |code: &str| match code {
        "waiver-expired" => "waiver(s) expired at the evaluation date and no longer apply",
        "waiver-unsigned" => {
            "unsigned waiver(s) (imported ignore rules or unsigned documents) never apply"
        }
        "waiver-untrusted" => {
            "waiver(s) signed by a key that is not a trusted approver do not apply"
        }
        "waiver-bad-signature" => "waiver(s) whose signature does not verify do not apply",
        "waiver-self-approved" => {
            "waiver(s) approved by their own requester do not count under this policy"
        }
        "waiver-unused" => "valid waiver(s) match no finding of this set",
        _ => "waiver(s) expire within the warning window",
    };
    let mut codes: Vec<&&'static str> = by.keys().collect();
    codes.sort();
    for code in codes {
        let ev = by[*code].clone();
        let msg = if **code == *"waiver-expiring-soon" {
            format!(
                "{} {} ({} days from {as_of})",
                ev.len(),
                text(code),
                p.expiry_warning_days
            )
        } else {
            format!("{} {}", ev.len(), text(code))
        };
        d.push(Diagnostic::problem(p, "waivers", code, msg, ev));
    }
}
