//! A set's gate judgement as the workstation holds it (the report, per-finding classes in
//! the store's judgement cache, tagged findings whole) and how one finding's judgement is
//! rebuilt from that cache.

use crate::analysis::gate::GateClass;
use crate::store::judge::JudgementRow;
use crate::store::{FindingRow, Store};
use crate::workflow::judge::{self, FindingJudgement, JudgeReport};
use std::collections::HashMap;

/// A set's judgement as the workstation holds it: the report without its per-finding
/// list (a million judgements would not fit the memory budget). Each finding's class,
/// disposition and reason live in the store's judgement cache; only the few findings with
/// a waiver or VEX tag are kept whole here.
#[derive(Debug, Clone)]
pub struct Judged {
    pub report: JudgeReport,
    pub tagged: HashMap<i64, FindingJudgement>,
}

impl Judged {
    /// Judges a set with the default policy at today's date, caches every finding's
    /// judgement in the store, and keeps the report.
    pub fn compute(store: &mut Store, set_id: i64) -> Result<Self, String> {
        let policy = crate::analysis::policy::Policy::default_policy();
        let trusted = judge::inputs::trusted_keys(store).map_err(|e| e.to_string())?;
        let mut rows: Vec<Mark> = Vec::new();
        let mut tagged = HashMap::new();
        let report =
            judge::evaluate_set_views(store, set_id, &policy, judge::today(), &trusted, &mut |f| {
                rows.push(Mark {
                    id: f.finding_id,
                    gate: f.gate,
                    disposition: f.disposition,
                    reason: f.reason.to_string().into_boxed_str(),
                    epss: f.epss,
                    kev: f.kev,
                });
                if f.waiver.is_some() || f.vex.is_some() {
                    tagged.insert(f.finding_id, f.to_judgement());
                }
            })
            .map_err(|e| e.to_string())?;
        store
            .replace_judgements(
                set_id,
                rows.into_iter().map(|m| JudgementRow {
                    finding_id: m.id,
                    gate: m.gate.as_str().to_string(),
                    disposition: m.disposition.unwrap_or("undecided").to_string(),
                    reason: m.reason.into(),
                    epss: m.epss,
                    kev: m.kev,
                }),
            )
            .map_err(|e| e.to_string())?;
        Ok(Self { report, tagged })
    }

    /// One finding's judgement: kept whole when tagged, else rebuilt from the cache.
    pub fn finding(&self, store: &Store, row: &FindingRow) -> Option<FindingJudgement> {
        if let Some(f) = self.tagged.get(&row.id) {
            return Some(f.clone());
        }
        let j = store.judgement(row.id).ok()??;
        Some(FindingJudgement {
            finding_id: row.id,
            id: row.vuln_id.clone(),
            aliases: row.aliases.clone(),
            component: row.component_key.clone(),
            name: row.name.clone(),
            version: row.version.clone(),
            severity: row.severity,
            gate: parse_gate(&j.gate)?,
            reason: j.reason,
            disposition: (j.disposition != "undecided").then_some(j.disposition),
            waiver: None,
            vex: None,
            epss: j.epss,
            kev: j.kev,
        })
    }

    /// The outcome of the check named `check`, by its diagnostic code.
    pub fn check_code(&self, check: &str) -> Option<&'static str> {
        self.report
            .diagnostics
            .iter()
            .find(|d| d.check == check)
            .map(|d| d.code)
    }
}

/// A judgement while judging, kept small until it is written to the cache.
struct Mark {
    id: i64,
    gate: GateClass,
    disposition: Option<&'static str>,
    reason: Box<str>,
    epss: Option<f64>,
    kev: bool,
}

pub fn parse_gate(s: &str) -> Option<GateClass> {
    [GateClass::Block, GateClass::Warn, GateClass::Info]
        .into_iter()
        .find(|g| g.as_str() == s)
}
