//! How the findings views filter in SQL (the CLI-side and fallback path; the workstation's
//! list filters its in-memory finding index): the text filter as a LIKE over identifier
//! columns, gate class and disposition from the judgement cache.

use super::Result;
use rusqlite::types::Value;
use rusqlite::Connection;

/// Filters applied by the database; empty fields mean "everything".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ViewFilter {
    /// Case-insensitive substring over id, aliases (as stored), component key, name and purl.
    pub text: String,
    pub severities: Vec<crate::model::Severity>,
    /// Gate classes (`BLOCK`, `WARN`, `INFO`) from the set's last judgement; empty = all.
    pub gates: Vec<String>,
    /// Effective dispositions (`undecided`, `not_affected`, `patched`, `false_positive`,
    /// `waived`) from the set's last judgement; empty = all.
    pub dispositions: Vec<String>,
}

/// How a text filter is answered.
#[derive(Debug, Clone)]
pub(super) enum TextPlan {
    None,
    /// A LIKE scan; the workstation's list answers text filters from its in-memory
    /// finding index, so this path serves small sets and the fallback only.
    Like(String),
}

pub(super) struct Sql {
    pub text: String,
    pub args: Vec<Value>,
}

impl Sql {
    pub fn arg(&mut self, v: impl Into<Value>) -> String {
        self.args.push(v.into());
        format!("?{}", self.args.len())
    }
}

fn like_pattern(t: &str) -> String {
    format!(
        "%{}%",
        t.replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    )
}

pub(super) fn plan(_conn: &Connection, f: &ViewFilter) -> Result<TextPlan> {
    let t = f.text.trim();
    if t.is_empty() {
        return Ok(TextPlan::None);
    }
    Ok(TextPlan::Like(like_pattern(t)))
}

/// The set-id column as a query over `finding f` should name it.
pub(super) fn set_column(_plan: &TextPlan) -> &'static str {
    "f.set_id"
}

fn push_like(q: &mut Sql, pat: String) {
    let p = q.arg(pat);
    // The component side is one non-correlated subquery (evaluated once per statement),
    // not a lookup per finding. `?1` is the set id in every query this module extends.
    q.text.push_str(&format!(
        " AND (f.vuln_id LIKE {p} ESCAPE '\\' OR f.aliases LIKE {p} ESCAPE '\\' OR f.component_key LIKE {p} ESCAPE '\\'
           OR f.component_key IN (SELECT c2.key FROM component c2 WHERE c2.set_id = ?1
                                  AND (c2.name LIKE {p} ESCAPE '\\' OR c2.purl LIKE {p} ESCAPE '\\')))"
    ));
}

/// Appends the filter's conditions to a query over `finding f`.
pub(super) fn push_filter(q: &mut Sql, f: &ViewFilter, plan: &TextPlan, with_severities: bool) {
    match plan {
        TextPlan::None => {}
        TextPlan::Like(pat) => push_like(q, pat.clone()),
    }
    if with_severities && !f.severities.is_empty() {
        let list: Vec<String> = f
            .severities
            .iter()
            .map(|s| (*s as i64).to_string())
            .collect();
        q.text
            .push_str(&format!(" AND f.severity_rank IN ({})", list.join(",")));
    }
    if !f.gates.is_empty() || !f.dispositions.is_empty() {
        let mut cond = String::new();
        for (col, vals) in [("gate", &f.gates), ("disposition", &f.dispositions)] {
            if vals.is_empty() {
                continue;
            }
            let list: Vec<String> = vals.iter().map(|v| q.arg(v.clone())).collect();
            cond.push_str(&format!(" AND j.{col} IN ({})", list.join(",")));
        }
        q.text.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM finding_judgement j WHERE j.finding_id = f.id{cond})"
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ComponentKey, ScannerView, SetComponent, SetFinding, Severity};
    use crate::store::{Cursor, FindingRow, Store, ViewSort};
    use std::collections::BTreeMap;

    struct Fx {
        vuln: String,
        aliases: Vec<String>,
        key: String,
        name: String,
        purl: Option<String>,
        sev: Severity,
    }

    /// 300 findings over 12 components whose names, keys and purls mix case, digits,
    /// LIKE metacharacters and non-ASCII letters.
    fn fixture() -> (Store, i64, Vec<Fx>) {
        let names = [
            "OpenSSL",
            "libxml2",
            "zlib",
            "Jackson-Databind",
            "log4j_core",
            "100%-pure",
            "back\\slash",
            "Éclair",
            "éclair-lower",
            "curl",
            "libcurl3-gnutls",
            "a",
        ];
        let comps: Vec<SetComponent> = names
            .iter()
            .enumerate()
            .map(|(i, n)| {
                // Every third component has no purl, so the key is synthesised.
                let key = if i % 3 == 2 {
                    format!("{n}@{i}.0")
                } else {
                    format!("pkg:deb/debian/{}@{i}.0", n.to_lowercase())
                };
                SetComponent {
                    key: ComponentKey(key.clone()),
                    purl: (i % 3 != 2).then_some(key),
                    kind: "deb".into(),
                    name: n.to_string(),
                    version: Some(format!("{i}.0")),
                    ..Default::default()
                }
            })
            .collect();
        let mut fx = Vec::new();
        let findings: Vec<SetFinding> = (0..300)
            .map(|i| {
                let c = &comps[i % comps.len()];
                let vuln = if i % 4 == 0 {
                    format!("GHSA-{:04x}-Ab{}", i * 37, i % 10)
                } else {
                    format!("CVE-20{:02}-{}", 10 + i % 15, 1000 + i)
                };
                let aliases = if i % 5 == 0 {
                    vec![format!("CVE-2099-{i}"), "OSV-Ünï".to_string()]
                } else {
                    vec![]
                };
                let sev = Severity::ALL[(i * 5) % 6];
                fx.push(Fx {
                    vuln: vuln.clone(),
                    aliases: aliases.clone(),
                    key: c.key.0.clone(),
                    name: c.name.clone(),
                    purl: c.purl.clone(),
                    sev,
                });
                SetFinding {
                    vuln_id: vuln,
                    aliases,
                    component_key: c.key.clone(),
                    views: vec![(
                        0,
                        ScannerView {
                            scanner: "t".into(),
                            severity: sev,
                            ..Default::default()
                        },
                    )],
                }
            })
            .collect();
        let mut st = Store::open_in_memory().unwrap();
        let id = st.write_test_set("sha256:ab", &comps, &findings);
        (st, id, fx)
    }

    /// The old semantics, by brute force: LIKE '%term%' folds ASCII case only.
    fn brute(fx: &[Fx], term: &str) -> BTreeMap<(String, String), Severity> {
        let t = term.trim().to_ascii_lowercase();
        fx.iter()
            .filter(|f| {
                let aliases = serde_json::to_string(&f.aliases).unwrap();
                [
                    f.vuln.as_str(),
                    aliases.as_str(),
                    f.key.as_str(),
                    f.name.as_str(),
                    f.purl.as_deref().unwrap_or(""),
                ]
                .iter()
                .any(|s| s.to_ascii_lowercase().contains(&t))
            })
            .map(|f| ((f.vuln.clone(), f.key.clone()), f.sev))
            .collect()
    }

    fn walk(st: &Store, id: i64, f: &ViewFilter, sort: ViewSort) -> Vec<FindingRow> {
        let mut out: Vec<FindingRow> = Vec::new();
        loop {
            let c = out.last().map(Cursor::from);
            let next = st.findings_after(id, f, sort, c.as_ref(), 7).unwrap();
            if next.is_empty() {
                return out;
            }
            out.extend(next);
        }
    }

    #[test]
    fn like_filter_equals_a_brute_force_substring_filter() {
        let (st, id, fx) = fixture();
        let terms = [
            "openssl",
            "OPENSSL",
            "ssl",
            "lib",
            "LIBCURL3",
            "cve-2011",
            "CVE-20",
            "ghsa",
            "-ab",
            "ab7",
            "100%",
            "%",
            "_",
            "j_c",
            "4j_",
            "\\",
            "slash",
            "éclair",
            "Éclair",
            "ÉCLAIR",
            "ünï",
            "Ünï",
            "osv",
            "@1.0",
            "@10.0",
            "\"x",
            "pkg:deb",
            "debian/z",
            "zz",
            "a",
            "x",
            "  curl  ",
            "2099-1",
            "nothing-matches-this",
        ];
        for term in terms {
            let want = brute(&fx, term);
            let f = ViewFilter {
                text: term.into(),
                ..ViewFilter::default()
            };
            for sort in [ViewSort::Severity, ViewSort::Id, ViewSort::Component] {
                let got: BTreeMap<(String, String), Severity> = walk(&st, id, &f, sort)
                    .into_iter()
                    .map(|r| ((r.vuln_id, r.component_key), r.severity))
                    .collect();
                assert_eq!(
                    got.keys().collect::<Vec<_>>(),
                    want.keys().collect::<Vec<_>>(),
                    "term {term:?} sort {sort:?}"
                );
            }
            let mut counts = [0u64; 6];
            for s in want.values() {
                counts[*s as usize] += 1;
            }
            assert_eq!(
                st.finding_view_counts(id, &f).unwrap(),
                counts,
                "counts for {term:?}"
            );
        }
    }

    #[test]
    fn reimport_reindexes_and_gate_filters_read_the_judgement_cache() {
        let (mut st, id, fx) = fixture();
        let f = |t: &str| ViewFilter {
            text: t.into(),
            ..ViewFilter::default()
        };
        let n = walk(&st, id, &f("zlib"), ViewSort::Id).len();
        assert_eq!(n, brute(&fx, "zlib").len());
        st.conn()
            .execute(
                "DELETE FROM finding WHERE set_id = ?1 AND component_key LIKE '%zlib%'",
                [id],
            )
            .unwrap();
        assert!(walk(&st, id, &f("zlib"), ViewSort::Id).is_empty());
        // Judgement cache: every 2nd remaining finding BLOCK and undecided, the rest INFO
        // and not_affected.
        let rows = walk(&st, id, &ViewFilter::default(), ViewSort::Id);
        let marks: Vec<crate::store::judge::JudgementRow> = rows
            .iter()
            .enumerate()
            .map(|(i, r)| crate::store::judge::JudgementRow {
                finding_id: r.id,
                gate: if i % 2 == 0 { "BLOCK" } else { "INFO" }.into(),
                disposition: if i % 2 == 0 {
                    "undecided"
                } else {
                    "not_affected"
                }
                .into(),
                reason: "r".into(),
                epss: None,
                kev: false,
            })
            .collect();
        st.replace_judgements(id, marks).unwrap();
        let block = ViewFilter {
            gates: vec!["BLOCK".into()],
            ..ViewFilter::default()
        };
        assert_eq!(
            walk(&st, id, &block, ViewSort::Severity).len(),
            rows.len().div_ceil(2)
        );
        let na_ssl = ViewFilter {
            text: "ssl".into(),
            dispositions: vec!["not_affected".into()],
            ..ViewFilter::default()
        };
        let want = rows
            .iter()
            .enumerate()
            .filter(|(i, r)| i % 2 == 1 && r.component_key.to_ascii_lowercase().contains("ssl"))
            .count();
        assert!(want > 0);
        assert_eq!(walk(&st, id, &na_ssl, ViewSort::Component).len(), want);
        assert_eq!(
            st.finding_view_counts(id, &na_ssl)
                .unwrap()
                .iter()
                .sum::<u64>(),
            want as u64
        );
    }
}
