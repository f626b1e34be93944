//! Per-finding judgement: threat data, VEX, gate class, waivers and the reviewer's own
//! disposition, plus the diagnostics found on the way (scanner disagreement, waivers that
//! may not dispose of a BLOCK). Indexed lookups keep a million rows cheap; the diagnostics
//! about the statements and waivers themselves are in `statements`.

use super::inputs::Gathered;
use super::statements::{vex_diagnostics, waiver_diagnostics};
use super::view::{FindingView, ReasonView, TopN, WaiverNote};
use super::{Counts, JudgeError};
use crate::analysis::checks::{Diagnostic, MAX_EVIDENCE};
use crate::analysis::gate::{self, GateClass, GateFacts};
use crate::analysis::policy::Policy;
use crate::analysis::waiver_eval::{Candidate, Standing};
use crate::model::waiver::DispositionState;
use crate::model::Severity;
use crate::store::judge::{GateSet, ThreatSource};
use crate::store::str_array::StrArray;
use crate::store::Store;
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};
use std::fmt;

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

/// The items indexed under the finding's id or any alias, ascending and distinct, into
/// `out`; `upper` is a reused buffer for the upper-cased id (no allocation per finding).
fn lookup(
    ix: &HashMap<String, Vec<usize>>,
    vuln: &str,
    aliases: &StrArray<'_>,
    upper: &mut String,
    out: &mut Vec<usize>,
) {
    out.clear();
    if ix.is_empty() {
        return;
    }
    for id in std::iter::once(vuln).chain(aliases.iter()) {
        upper.clear();
        upper.push_str(id);
        upper.make_ascii_uppercase();
        if let Some(v) = ix.get(upper.as_str()) {
            out.extend(v.iter().copied());
        }
    }
    out.sort_unstable();
    out.dedup();
}

/// EPSS as Grype reports it: `grype` and the date when it names one.
struct GrypeEpss<'a>(Option<&'a str>);

impl fmt::Display for GrypeEpss<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(d) => write!(f, "grype {d}"),
            None => f.write_str("grype"),
        }
    }
}

/// KEV from the imported catalog: its source and the date the id was added.
struct KevCatalog<'a> {
    src: &'a str,
    added: &'a str,
}

impl fmt::Display for KevCatalog<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}, added {}", self.src, self.added)
    }
}

/// A VEX statement as the reason names it.
struct VexWhy<'a>(&'a crate::analysis::vex::VexStatement);

impl fmt::Display for VexWhy<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.describe())
    }
}

pub(super) fn judge_findings(
    store: &Store,
    set: &GateSet,
    p: &Policy,
    as_of: NaiveDate,
    g: &Gathered,
    threat: &[ThreatSource],
    sink: &mut dyn FnMut(&FindingView<'_>),
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
    let epss_src: &str = epss_src.as_deref().unwrap_or("FIRST EPSS");
    let kev_src = threat
        .iter()
        .find(|t| t.kind == "kev")
        .map(|t| format!("catalog {}", t.version));
    let kev_src: &str = kev_src.as_deref().unwrap_or("catalog");
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
    // Evidence lists, each cut to what a diagnostic shows while the rows stream by.
    let mut block_waiver_refused = TopN::default();
    let mut only_one = TopN::default();
    let mut sev_differs = TopN::default();
    // Gathered in the same pass: the scanners named (a handful), and the findings the import
    // flagged as having scanners that disagree on the fix (their views are read after).
    let mut scanners_seen: Vec<String> = Vec::new();
    let mut fix_flagged: Vec<(i64, String, String)> = Vec::new();
    let (mut upper, mut hits) = (String::new(), Vec::new());

    let mut counts = Counts::default();
    // Tallied in arrays and named once at the end (no string keys per finding).
    let mut by_severity = [0usize; 6];
    let mut by_gate = [0usize; 3];
    store.for_each_gate_row_ref(set.id, &mut |r| {
        // The aliases as a list, made only for the rare finding a VEX statement or waiver
        // is checked against.
        let mut alias_list: Option<Vec<String>> = None;
        // VEX: the newest matching statement decides.
        let mut vex_hit: Option<usize> = None;
        lookup(&vex_ix, r.vuln_id, &r.aliases, &mut upper, &mut hits);
        for &i in &hits {
            let st = &g.vex[i];
            let al = alias_list.get_or_insert_with(|| r.aliases.to_vec());
            if crate::analysis::vex::matches(
                st,
                r.vuln_id,
                al,
                Some(r.component_key),
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
        let (mut alias_epss, mut alias_kev) = (None, None);
        if have_threat
            && r.threat_epss.is_none()
            && r.threat_kev_added.is_none()
            && !r.vuln_id.starts_with("CVE-")
        {
            for a in r.aliases.iter().filter(|a| a.starts_with("CVE-")) {
                let (e, k) = store.threat_for(a)?;
                alias_epss = alias_epss.or(e);
                alias_kev = alias_kev.or(k);
            }
        }
        let t_epss = r.threat_epss.or(alias_epss);
        let t_kev = r.threat_kev_added.or(alias_kev.as_deref());
        let grype = GrypeEpss(r.epss_date);
        let epss: Option<(f64, &dyn fmt::Display)> = match (r.epss, t_epss) {
            (Some(e), _) => Some((e, &grype)),
            (None, Some(e)) => Some((e, &epss_src)),
            _ => None,
        };
        let catalog = t_kev.map(|added| KevCatalog {
            src: kev_src,
            added,
        });
        let kev: Option<&dyn fmt::Display> = if r.kev == Some(true) {
            Some(&"reported by the scanner")
        } else {
            catalog.as_ref().map(|c| c as &dyn fmt::Display)
        };
        let mut vbuf = [""; 3];
        let mut nv = 0;
        for v in [r.cvss_v2_vector, r.cvss_v3_vector, r.cvss_v4_vector]
            .into_iter()
            .flatten()
        {
            vbuf[nv] = v;
            nv += 1;
        }
        let vex_why = vex.filter(|v| v.justified_not_affected()).map(VexWhy);
        let facts = GateFacts {
            severity: r.severity,
            severity_disagrees: r.severity_disagrees,
            direct: r.direct,
            fix_available: !r.fixed_versions.is_empty() || r.fix_state == "fixed",
            vectors: &vbuf[..nv],
            epss,
            kev,
            vex_not_affected: vex_why.as_ref().map(|v| v as &dyn fmt::Display),
        };
        // Writing nowhere cannot fail.
        let class = gate::decide(&facts, p, None).unwrap_or(GateClass::Warn);

        // Waivers: prefer one that applies; otherwise show the best-standing match.
        let mut wv: Option<(usize, bool)> = None;
        lookup(&waiver_ix, r.vuln_id, &r.aliases, &mut upper, &mut hits);
        for i in hits.iter().copied().chain(wildcard.iter().copied()) {
            let w: &Candidate = &g.waivers[i];
            if !in_scope[i] {
                continue;
            }
            let al = alias_list.get_or_insert_with(|| r.aliases.to_vec());
            if !w.covers(r.vuln_id, al, r.component_key) {
                continue;
            }
            waiver_used[i] = true;
            let ok = standing[i] == Standing::Valid;
            if wv.is_none_or(|(_, prev_ok)| ok && !prev_ok) {
                wv = Some((i, ok));
            }
        }
        let mut note = WaiverNote::None;
        let waiver_applies = match wv {
            Some((_, true)) if class == GateClass::Block && !p.block_waivable => {
                block_waiver_refused.offer(r.severity, r.vuln_id, r.id, || {
                    format!("{} on {}", r.vuln_id, r.component_key)
                });
                note = WaiverNote::BlockNotWaivable;
                false
            }
            Some((i, ok)) => {
                if !ok {
                    note = WaiverNote::NotApplying {
                        id: &g.waivers[i].id,
                        standing: standing[i].as_str(),
                    };
                }
                ok
            }
            None => false,
        };
        let reviewer = dispositions
            .get(r.vuln_id)
            .and_then(|m| m.get(r.component_key))
            .copied();
        let mut recorded_waived_invalid = false;
        let disposition: Option<&'static str> = match reviewer {
            Some(DispositionState::Open) => None,
            Some(DispositionState::Waived) if !waiver_applies => {
                recorded_waived_invalid = true;
                None
            }
            Some(s) => Some(s.as_str()),
            None if waiver_applies => Some("waived"),
            // VEX decides only what it can: not_affected (justified), false_positive, fixed.
            None => vex.and_then(crate::analysis::vex::VexStatement::disposition),
        };
        let disposed = match disposition {
            Some("waived") => class != GateClass::Block || p.block_waivable,
            Some(_) => true,
            None => false,
        };
        counts.findings += 1;
        by_severity[r.severity as usize] += 1;
        by_gate[class as usize] += 1;
        match (class, disposed) {
            (GateClass::Block, false) => counts.undisposed_block += 1,
            (GateClass::Warn, false) => counts.undisposed_warn += 1,
            _ => {}
        }
        match disposition {
            Some("waived") => counts.waived += 1,
            Some("not_affected") => counts.not_affected += 1,
            _ => {}
        }
        for sc in r.scanners.iter() {
            if !scanners_seen.iter().any(|s| s == sc) {
                scanners_seen.push(sc.to_string());
            }
        }
        // Kept whatever the scanner count: whether the set has more than one scanner is
        // known only at the end of the pass.
        if r.scanners.len() == 1 {
            only_one.offer(r.severity, r.vuln_id, r.id, || {
                format!(
                    "{} on {}: only {}",
                    r.vuln_id,
                    r.component_key,
                    r.scanners.first().unwrap_or_default()
                )
            });
        }
        if r.severity_disagrees {
            sev_differs.offer(r.severity, r.vuln_id, r.id, || {
                format!(
                    "{} on {} ({}, highest used)",
                    r.vuln_id, r.component_key, r.severity
                )
            });
        }
        if r.fix_disagrees {
            fix_flagged.push((r.id, r.vuln_id.to_string(), r.component_key.to_string()));
        }
        sink(&FindingView {
            finding_id: r.id,
            id: r.vuln_id,
            aliases: &r.aliases,
            component: r.component_key,
            name: r.name,
            version: r.version,
            severity: r.severity,
            gate: class,
            reason: ReasonView {
                facts,
                policy: p,
                waiver: note,
                recorded_waived_invalid,
            },
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

    let scanners_seen: BTreeSet<String> = scanners_seen.into_iter().collect();
    let multi_scanner = scanners_seen.len() > 1;
    let mut d = Vec::new();
    if multi_scanner && !only_one.is_empty() {
        let total = only_one.total;
        d.push(Diagnostic::problem_top(
            p,
            "scanner-disagreement",
            "scanner-only-one",
            format!(
                "{total} finding(s) reported by one scanner only ({} in the set)",
                scanners_seen.iter().cloned().collect::<Vec<_>>().join(", ")
            ),
            only_one.into_items(),
            total,
        ));
    }
    if !sev_differs.is_empty() {
        let total = sev_differs.total;
        d.push(Diagnostic::problem_top(
            p,
            "scanner-disagreement",
            "scanner-severity-differs",
            format!("{total} finding(s) where scanners name different severities"),
            sev_differs.into_items(),
            total,
        ));
    }
    // Only a set scanned by more than one scanner can disagree on fixes. The import's flag
    // follows the cross-check's rule over the stored views (migration 014), so the flagged
    // rows are counted and only the ones listed have their views read; should a listed one
    // not disagree after all (a flag the store got some other way), every flagged finding
    // is checked, as before.
    if multi_scanner && !fix_flagged.is_empty() {
        let total = fix_flagged.len();
        fix_flagged.sort_by(|a, b| (&a.1, &a.2, a.0).cmp(&(&b.1, &b.2, b.0)));
        let listed = &fix_flagged[..total.min(MAX_EVIDENCE)];
        let mut fix = store.fix_disagreements_of(listed)?;
        let mut total_fix = total;
        if fix.len() < listed.len() {
            fix = store.fix_disagreements_of(&fix_flagged)?;
            total_fix = fix.len();
        }
        if total_fix > 0 {
            let ev: Vec<String> = fix
                .iter()
                .map(|(v, c, s)| format!("{v} on {c}: {s}"))
                .collect();
            d.push(Diagnostic::problem_top(
                p,
                "scanner-disagreement",
                "scanner-fix-differs",
                format!("{total_fix} finding(s) where scanners name different fixed versions"),
                ev,
                total_fix,
            ));
        }
    }
    vex_diagnostics(g, &vex_used, p, &mut d);
    waiver_diagnostics(g, &standing, &in_scope, &waiver_used, as_of, p, &mut d);
    if !block_waiver_refused.is_empty() {
        let total = block_waiver_refused.total;
        d.push(Diagnostic::problem_top(
            p,
            "waivers",
            "waiver-block-not-waivable",
            format!(
                "{total} valid waiver(s) cover BLOCK findings, which this policy does not let waivers dispose of"
            ),
            block_waiver_refused.into_items(),
            total,
        ));
    }
    Ok(Judged {
        diagnostics: d,
        counts,
    })
}
