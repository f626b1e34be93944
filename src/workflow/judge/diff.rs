//! `diff OLD NEW`: loads both sets' findings, components and waiver coverage and hands them
//! to the pure `analysis::diff`.

use super::{evaluate_set, JudgeError};
use crate::analysis::diff::{self, DiffComponent, DiffFinding, DiffReport, WaiverCover};
use crate::analysis::policy::Policy;
use crate::store::Store;
use chrono::NaiveDate;
use std::collections::BTreeMap;

pub fn diff_sets(
    store: &Store,
    old: i64,
    new: i64,
    policy: &Policy,
    as_of: NaiveDate,
) -> Result<DiffReport, JudgeError> {
    let a = evaluate_set(store, old, policy, as_of)?;
    let b = evaluate_set(store, new, policy, as_of)?;
    let findings = |r: &super::JudgeReport| -> Vec<DiffFinding> {
        r.findings
            .iter()
            .map(|f| DiffFinding {
                id: f.id.clone(),
                component: f.component.clone(),
                severity: f.severity,
            })
            .collect()
    };
    let comps = |id: i64| -> Result<Vec<DiffComponent>, JudgeError> {
        Ok(store
            .judge_components(id)?
            .into_iter()
            .map(|c| DiffComponent {
                key: c.key,
                kind: c.kind,
                name: c.name,
                version: c.version,
            })
            .collect())
    };
    let mut covers: BTreeMap<String, WaiverCover> = BTreeMap::new();
    for (r, is_new) in [(&a, false), (&b, true)] {
        for f in &r.findings {
            if let Some(w) = f.waiver.as_ref().filter(|w| w.applies) {
                let e = covers.entry(w.id.clone()).or_insert_with(|| WaiverCover {
                    id: w.id.clone(),
                    old: vec![],
                    new: vec![],
                });
                let k = diff::finding_key(&f.id, &f.component);
                if is_new {
                    e.new.push(k)
                } else {
                    e.old.push(k)
                }
            }
        }
    }
    let covers: Vec<WaiverCover> = covers.into_values().collect();
    Ok(diff::diff(
        &findings(&a),
        &findings(&b),
        &comps(old)?,
        &comps(new)?,
        &covers,
    ))
}
