//! Differences between two evidence sets (usually two builds of one repository): findings
//! new / fixed / unchanged, components added / removed / changed version, and which waivers
//! still apply or need re-review. Pure and deterministic (BTree ordering).

use crate::model::Severity;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct DiffFinding {
    pub id: String,
    pub component: String,
    pub severity: Severity,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct DiffComponent {
    pub key: String,
    pub kind: String,
    pub name: String,
    pub version: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangedComponent {
    pub kind: String,
    pub name: String,
    pub old_version: Option<String>,
    pub new_version: Option<String>,
}

/// What a waiver covered in each set (finding keys `id|component`), as the workflow saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WaiverCover {
    pub id: String,
    pub old: Vec<String>,
    pub new: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WaiverDiff {
    pub id: String,
    /// `still-applies`, `needs-re-review` (a finding it covered is still there, uncovered),
    /// `no-longer-needed` (every finding it covered is fixed).
    pub status: String,
    pub findings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DiffReport {
    pub new_findings: Vec<DiffFinding>,
    pub fixed_findings: Vec<DiffFinding>,
    pub unchanged_findings: usize,
    pub added_components: Vec<DiffComponent>,
    pub removed_components: Vec<DiffComponent>,
    pub changed_components: Vec<ChangedComponent>,
    pub waivers: Vec<WaiverDiff>,
}

pub fn finding_key(id: &str, component: &str) -> String {
    format!("{id}|{component}")
}

pub fn diff(
    old_f: &[DiffFinding],
    new_f: &[DiffFinding],
    old_c: &[DiffComponent],
    new_c: &[DiffComponent],
    waivers: &[WaiverCover],
) -> DiffReport {
    let ok: BTreeSet<(&str, &str)> = old_f
        .iter()
        .map(|f| (f.id.as_str(), f.component.as_str()))
        .collect();
    let nk: BTreeSet<(&str, &str)> = new_f
        .iter()
        .map(|f| (f.id.as_str(), f.component.as_str()))
        .collect();
    let mut new_findings: Vec<DiffFinding> = new_f
        .iter()
        .filter(|f| !ok.contains(&(f.id.as_str(), f.component.as_str())))
        .cloned()
        .collect();
    let mut fixed_findings: Vec<DiffFinding> = old_f
        .iter()
        .filter(|f| !nk.contains(&(f.id.as_str(), f.component.as_str())))
        .cloned()
        .collect();
    new_findings.sort();
    fixed_findings.sort();
    let unchanged_findings = nk.intersection(&ok).count();

    // Components are the same package when type and name match; the version may move.
    let by_name = |cs: &[DiffComponent]| -> BTreeMap<(String, String), BTreeSet<Option<String>>> {
        let mut m: BTreeMap<(String, String), BTreeSet<Option<String>>> = BTreeMap::new();
        for c in cs {
            m.entry((c.kind.clone(), c.name.clone()))
                .or_default()
                .insert(c.version.clone());
        }
        m
    };
    let om = by_name(old_c);
    let nm = by_name(new_c);
    let mut added_components = Vec::new();
    let mut removed_components = Vec::new();
    let mut changed_components = Vec::new();
    for c in new_c {
        if !om.contains_key(&(c.kind.clone(), c.name.clone())) {
            added_components.push(c.clone());
        }
    }
    for c in old_c {
        if !nm.contains_key(&(c.kind.clone(), c.name.clone())) {
            removed_components.push(c.clone());
        }
    }
    for (k, ov) in &om {
        if let Some(nv) = nm.get(k) {
            if ov != nv {
                let fmt = |s: &BTreeSet<Option<String>>| {
                    let v: Vec<String> = s
                        .iter()
                        .map(|x| x.clone().unwrap_or_else(|| "?".into()))
                        .collect();
                    Some(v.join(", "))
                };
                changed_components.push(ChangedComponent {
                    kind: k.0.clone(),
                    name: k.1.clone(),
                    old_version: fmt(ov),
                    new_version: fmt(nv),
                });
            }
        }
    }
    added_components.sort();
    removed_components.sort();

    let new_keys: BTreeSet<String> = new_f
        .iter()
        .map(|f| finding_key(&f.id, &f.component))
        .collect();
    let waivers = waivers
        .iter()
        .filter(|w| !w.old.is_empty() || !w.new.is_empty())
        .map(|w| {
            let persisting: Vec<String> = w
                .old
                .iter()
                .filter(|k| new_keys.contains(*k) && !w.new.contains(k))
                .cloned()
                .collect();
            let (status, findings) = if !persisting.is_empty() {
                ("needs-re-review", persisting)
            } else if !w.new.is_empty() {
                ("still-applies", w.new.clone())
            } else {
                ("no-longer-needed", w.old.clone())
            };
            WaiverDiff {
                id: w.id.clone(),
                status: status.into(),
                findings,
            }
        })
        .collect();
    DiffReport {
        new_findings,
        fixed_findings,
        unchanged_findings,
        added_components,
        removed_components,
        changed_components,
        waivers,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(id: &str, c: &str) -> DiffFinding {
        DiffFinding {
            id: id.into(),
            component: c.into(),
            severity: Severity::High,
        }
    }

    fn c(name: &str, v: &str) -> DiffComponent {
        DiffComponent {
            key: format!("pkg:npm/{name}@{v}"),
            kind: "npm".into(),
            name: name.into(),
            version: Some(v.into()),
        }
    }

    #[test]
    fn findings_components_and_waivers() {
        let old = [f("CVE-1", "a@1"), f("CVE-2", "b@1"), f("CVE-3", "c@1")];
        let new = [f("CVE-2", "b@1"), f("CVE-3", "c@1"), f("CVE-4", "d@1")];
        let oc = [c("a", "1"), c("b", "1"), c("c", "1")];
        let nc = [c("b", "1"), c("c", "2"), c("d", "1")];
        let w = [
            WaiverCover {
                id: "W1".into(),
                old: vec![finding_key("CVE-1", "a@1")],
                new: vec![],
            },
            WaiverCover {
                id: "W2".into(),
                old: vec![finding_key("CVE-2", "b@1")],
                new: vec![],
            },
            WaiverCover {
                id: "W3".into(),
                old: vec![finding_key("CVE-3", "c@1")],
                new: vec![finding_key("CVE-3", "c@1")],
            },
        ];
        let d = diff(&old, &new, &oc, &nc, &w);
        assert_eq!(d.new_findings, vec![f("CVE-4", "d@1")]);
        assert_eq!(d.fixed_findings, vec![f("CVE-1", "a@1")]);
        assert_eq!(d.unchanged_findings, 2);
        assert_eq!(d.added_components, vec![c("d", "1")]);
        assert_eq!(d.removed_components, vec![c("a", "1")]);
        assert_eq!(d.changed_components.len(), 1);
        assert_eq!(d.changed_components[0].new_version.as_deref(), Some("2"));
        let st: Vec<&str> = d.waivers.iter().map(|w| w.status.as_str()).collect();
        assert_eq!(st, ["no-longer-needed", "needs-re-review", "still-applies"]);
    }
}
