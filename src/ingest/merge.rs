//! Merging the documents of one evidence set: components by key (several locations),
//! findings by (vulnerability or alias, component), and `direct` from the dependency graph
//! relative to the image (the SBOM subject). Pure: no store, no I/O.

use crate::model::{
    Component, ComponentKey, DocKind, Document, Location, SetComponent, SetFinding,
};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// The pseudo-key dependency edges use for the image itself.
pub const SUBJECT: &str = "@subject";

#[derive(Debug, Default)]
pub struct MergedSet {
    pub components: Vec<SetComponent>,
    pub dependencies: BTreeSet<(String, String)>,
    pub findings: Vec<SetFinding>,
}

/// `docs` pairs each parsed document with its file index and display path. Clones the
/// scanner views; the import uses `merge_owned`, which moves them.
pub fn merge(docs: &[(usize, &str, &Document)]) -> MergedSet {
    merge_owned(
        docs.iter()
            .map(|(i, p, d)| (*i, *p, (*d).clone()))
            .collect(),
    )
}

/// `merge` over documents it owns: components and scanner views move into the set's rows
/// instead of being copied, so a large SBOM or report is held once, not twice.
pub fn merge_owned(mut docs: Vec<(usize, &str, Document)>) -> MergedSet {
    let (components, dependencies, keys) = merge_components(&mut docs);
    let findings = merge_findings(&mut docs, &keys);
    MergedSet {
        components,
        dependencies,
        findings,
    }
}

type Components = (
    Vec<SetComponent>,
    BTreeSet<(String, String)>,
    Vec<Vec<ComponentKey>>,
);

/// Drains each document's components and dependencies. Returns, per document, the key of
/// each of its components (empty when it has no findings to place on them).
fn merge_components(docs: &mut [(usize, &str, Document)]) -> Components {
    let mut comps: BTreeMap<ComponentKey, SetComponent> = BTreeMap::new();
    let mut deps: BTreeSet<(String, String)> = BTreeSet::new();
    let mut doc_keys = Vec::with_capacity(docs.len());

    for (_, path, doc) in docs.iter_mut() {
        let is_sbom = matches!(doc.kind, DocKind::Sbom | DocKind::SbomWithScan);
        let is_scan =
            matches!(doc.kind, DocKind::Scan | DocKind::SbomWithScan) || !doc.findings.is_empty();
        let mut keys = Vec::new();
        let mut local: HashMap<String, String> = HashMap::new();
        if let Some(s) = &doc.subject {
            for r in &s.refs {
                local.insert(r.clone(), SUBJECT.to_string());
            }
        }
        for mut c in std::mem::take(&mut doc.components) {
            let key = c.key();
            if let Some(r) = c.local_ref.take() {
                local.entry(r).or_insert_with(|| key.0.clone());
            }
            if !doc.findings.is_empty() {
                keys.push(key.clone());
            }
            match comps.entry(key) {
                std::collections::btree_map::Entry::Occupied(e) => {
                    absorb(e.into_mut(), c, path, is_sbom, is_scan);
                }
                std::collections::btree_map::Entry::Vacant(v) => {
                    let key = v.key().clone();
                    v.insert(first_view(key, c, path, is_sbom, is_scan));
                }
            }
        }
        for (from, to) in std::mem::take(&mut doc.dependencies) {
            let (Some(f), Some(t)) = (local.get(&from), local.get(&to)) else {
                continue;
            };
            if f != t && t != SUBJECT {
                deps.insert((f.clone(), t.clone()));
            }
        }
        doc_keys.push(keys);
    }

    let has_subject_edges = deps.iter().any(|(f, _)| f == SUBJECT);
    let in_graph: HashSet<&str> = deps
        .iter()
        .flat_map(|(f, t)| [f.as_str(), t.as_str()])
        .collect();
    let direct: HashSet<&str> = deps
        .iter()
        .filter(|(f, _)| f == SUBJECT)
        .map(|(_, t)| t.as_str())
        .collect();
    for c in comps.values_mut() {
        let k = c.key.0.as_str();
        finish_component(
            c,
            direct.contains(k),
            has_subject_edges,
            in_graph.contains(k),
        );
    }

    (comps.into_values().collect(), deps, doc_keys)
}

/// The merged component `key` as the first document that names it sees it (`c.key()` is
/// `key`; `path` is that document's display path).
pub fn first_view(
    key: ComponentKey,
    mut c: Component,
    path: &str,
    is_sbom: bool,
    is_scan: bool,
) -> SetComponent {
    let mut e = SetComponent {
        key,
        purl: c.purl.take(),
        kind: std::mem::take(&mut c.kind),
        name: std::mem::take(&mut c.name),
        version: c.version.take(),
        ..SetComponent::default()
    };
    absorb(&mut e, c, path, is_sbom, is_scan);
    e
}

/// Adds a later document's view of the same component: a purl if it had none, the
/// licenses, CPEs and locations it did not have yet (in the order met), the flags.
pub fn absorb(e: &mut SetComponent, c: Component, path: &str, is_sbom: bool, is_scan: bool) {
    if e.purl.is_none() {
        e.purl = c.purl;
    }
    push_missing(&mut e.licenses, c.licenses);
    push_missing(&mut e.cpes, c.cpes);
    let locs: Vec<Location> = if c.locations.is_empty() {
        vec![Location {
            file: path.to_string(),
            path: None,
        }]
    } else {
        c.locations
            .into_iter()
            .map(|p| Location {
                file: path.to_string(),
                path: Some(p),
            })
            .collect()
    };
    push_missing(&mut e.locations, locs);
    e.in_sbom |= is_sbom;
    e.in_scan |= is_scan;
}

/// Appends the items `into` does not hold yet, in the order met (lists of a few entries:
/// a linear `contains` beats hashing).
pub fn push_missing<T: PartialEq>(into: &mut Vec<T>, items: impl IntoIterator<Item = T>) {
    for x in items {
        if !into.contains(&x) {
            into.push(x);
        }
    }
}

/// Once every document is in: `direct` from the resolved graph (an edge from the subject:
/// direct; in a graph that has subject edges: transitive; else unknown), locations sorted.
pub fn finish_component(
    c: &mut SetComponent,
    from_subject: bool,
    has_subject_edges: bool,
    in_graph: bool,
) {
    c.direct = if from_subject {
        Some(true)
    } else if has_subject_edges && in_graph {
        Some(false)
    } else {
        None
    };
    c.locations.sort();
}

/// Union-find over vulnerability ids, so an alias reported by one scanner and the primary
/// id reported by another land on one finding.
struct Aliases {
    parent: HashMap<String, String>,
}

impl Aliases {
    fn find(&mut self, x: &str) -> String {
        let mut cur = x.to_string();
        while let Some(p) = self.parent.get(&cur) {
            if *p == cur {
                break;
            }
            cur = p.clone();
        }
        cur
    }
    fn add(&mut self, x: &str) {
        self.parent
            .entry(x.to_string())
            .or_insert_with(|| x.to_string());
    }
    fn union(&mut self, a: &str, b: &str) {
        self.add(a);
        self.add(b);
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            // The root is the preferred id, so the group is named by it.
            let (keep, other) = if preferred(&ra, &rb) {
                (ra, rb)
            } else {
                (rb, ra)
            };
            self.parent.insert(other, keep);
        }
    }
}

/// CVE ids name a group before any other id; otherwise the smaller string wins (stable).
pub(crate) fn preferred(a: &str, b: &str) -> bool {
    match (a.starts_with("CVE-"), b.starts_with("CVE-")) {
        (true, false) => true,
        (false, true) => false,
        _ => a <= b,
    }
}

/// `keys[i]`: the component keys of `docs[i]` (`merge_components` took the components).
fn merge_findings(
    docs: &mut [(usize, &str, Document)],
    keys: &[Vec<ComponentKey>],
) -> Vec<SetFinding> {
    let mut al = Aliases {
        parent: HashMap::new(),
    };
    for (_, _, doc) in docs.iter() {
        for f in &doc.findings {
            al.add(&f.vuln_id);
            for a in &f.aliases {
                if !a.is_empty() && a != &f.vuln_id {
                    al.union(&f.vuln_id, a);
                }
            }
        }
    }
    let mut groups: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let ids: Vec<String> = al.parent.keys().cloned().collect();
    for id in ids {
        let root = al.find(&id);
        groups.entry(root).or_default().insert(id);
    }
    let mut out: BTreeMap<(String, ComponentKey), SetFinding> = BTreeMap::new();
    for ((file_idx, _, doc), keys) in docs.iter_mut().zip(keys) {
        for f in std::mem::take(&mut doc.findings) {
            let Some(ck) = keys.get(f.component) else {
                continue;
            };
            let root = al.find(&f.vuln_id);
            let key = (root, ck.clone());
            let e = match out.entry(key) {
                std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::btree_map::Entry::Vacant(v) => {
                    let (root, ck) = v.key().clone();
                    let aliases = groups
                        .get(&root)
                        .map(|g| g.iter().filter(|x| **x != root).cloned().collect())
                        .unwrap_or_default();
                    v.insert(SetFinding {
                        vuln_id: root,
                        aliases,
                        component_key: ck,
                        // Most findings have one or two views; the default growth (to 4)
                        // would reserve ~2 KB per finding, ~100 MB on a 100 MB report.
                        views: Vec::with_capacity(1),
                    })
                }
            };
            e.views.push((*file_idx, f.view));
        }
    }
    out.into_values()
        .map(|mut f| {
            f.views.shrink_to_fit();
            f
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Component, FindingRecord, ScannerView, Severity, Subject};

    fn comp(purl: &str, r: &str) -> Component {
        Component {
            purl: Some(purl.into()),
            kind: "library".into(),
            name: purl.rsplit('/').next().unwrap().into(),
            local_ref: Some(r.into()),
            ..Component::default()
        }
    }

    #[test]
    fn same_purl_in_two_sboms_is_one_component_with_two_locations() {
        let mut a = Document::new(DocKind::Sbom);
        a.components
            .push(comp("pkg:deb/debian/busybox@1?arch=amd64", "a1"));
        let mut b = Document::new(DocKind::Sbom);
        b.components.push(comp("pkg:DEB/debian/busybox@1", "b1"));
        let m = merge(&[(0, "a.json", &a), (1, "b.json", &b)]);
        assert_eq!(m.components.len(), 1);
        assert_eq!(m.components[0].locations.len(), 2);
    }

    #[test]
    fn aliases_merge_and_cve_names_the_group() {
        let mut t = Document::new(DocKind::Scan);
        t.components.push(comp("pkg:npm/x@1", "x"));
        t.findings.push(FindingRecord {
            vuln_id: "CVE-2024-1".into(),
            aliases: vec![],
            component: 0,
            view: ScannerView {
                scanner: "trivy".into(),
                severity: Severity::High,
                ..Default::default()
            },
        });
        let mut g = Document::new(DocKind::Scan);
        g.components.push(comp("pkg:npm/x@1", "x"));
        g.findings.push(FindingRecord {
            vuln_id: "GHSA-aaaa".into(),
            aliases: vec!["CVE-2024-1".into()],
            component: 0,
            view: ScannerView {
                scanner: "grype".into(),
                severity: Severity::Critical,
                ..Default::default()
            },
        });
        let m = merge(&[(0, "t", &t), (1, "g", &g)]);
        assert_eq!(m.findings.len(), 1);
        let f = &m.findings[0];
        assert_eq!(f.vuln_id, "CVE-2024-1");
        assert_eq!(f.aliases, vec!["GHSA-aaaa".to_string()]);
        assert_eq!(f.severity(), Severity::Critical);
        assert!(f.severity_disagrees());
    }

    #[test]
    fn direct_is_relative_to_the_subject_and_unknown_without_a_graph() {
        let mut d = Document::new(DocKind::Sbom);
        d.subject = Some(Subject {
            refs: vec!["root".into()],
            ..Default::default()
        });
        d.components.push(comp("pkg:npm/a@1", "a"));
        d.components.push(comp("pkg:npm/b@1", "b"));
        d.components.push(comp("pkg:npm/c@1", "c"));
        d.dependencies = vec![("root".into(), "a".into()), ("a".into(), "b".into())];
        let m = merge(&[(0, "d", &d)]);
        let by: HashMap<_, _> = m
            .components
            .iter()
            .map(|c| (c.name.as_str(), c.direct))
            .collect();
        assert_eq!(by["a@1"], Some(true));
        assert_eq!(by["b@1"], Some(false));
        assert_eq!(by["c@1"], None);
    }
}
