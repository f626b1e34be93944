//! How the findings views filter in SQL: the text filter through the trigram FTS5 index on
//! identifier columns (LIKE for terms under 3 characters), gate class and disposition from
//! the judgement cache, and keeping the FTS index in step with imports.

use super::{Result, StoreError};
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

/// More FTS matches than this (across the store) and the list walks its sort index
/// checking membership instead of fetching every match by id.
/// (Small under test so both query shapes are exercised on small data.)
const BROAD: i64 = if cfg!(test) { 40 } else { 20_000 };

/// How a text filter is answered.
#[derive(Debug, Clone)]
pub(super) enum TextPlan {
    None,
    /// Terms under 3 characters: the trigram index cannot answer them.
    Like(String),
    Fts {
        query: String,
        broad: bool,
        /// Non-ASCII terms: FTS folds Unicode case but LIKE folds ASCII only, so the LIKE
        /// re-check keeps the old semantics exactly.
        recheck: Option<String>,
    },
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

pub(super) fn plan(conn: &Connection, f: &ViewFilter) -> Result<TextPlan> {
    let t = f.text.trim();
    if t.is_empty() {
        return Ok(TextPlan::None);
    }
    if t.chars().count() < 3 {
        return Ok(TextPlan::Like(like_pattern(t)));
    }
    // One quoted phrase: the trigram tokenizer turns it into consecutive trigrams, which
    // is a substring match within one column.
    let query = format!("\"{}\"", t.replace('"', "\"\""));
    let n: i64 = conn
        .prepare_cached(
            "SELECT COUNT(*) FROM (SELECT rowid FROM finding_fts WHERE finding_fts MATCH ?1 LIMIT ?2)",
        )?
        .query_row(rusqlite::params![query, BROAD], |r| r.get(0))
        .map_err(StoreError::from)?;
    Ok(TextPlan::Fts {
        query,
        broad: n >= BROAD,
        recheck: (!t.is_ascii()).then(|| like_pattern(t)),
    })
}

/// The set-id column as a query over `finding f` should name it. A selective text match
/// is answered by fetching its few matches by id: `+` keeps SQLite from walking the
/// set's whole sort index instead (it cannot know how few the matches are).
pub(super) fn set_column(plan: &TextPlan) -> &'static str {
    match plan {
        TextPlan::Fts { broad: false, .. } => "+f.set_id",
        _ => "f.set_id",
    }
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
        TextPlan::Fts {
            query,
            broad,
            recheck,
        } => {
            let m = q.arg(query.clone());
            // `+` stops SQLite from driving the query from the match list, so a broad term
            // walks the sort index and stops at the page limit (see `set_column` for the
            // selective case).
            let plus = if *broad { "+" } else { "" };
            q.text.push_str(&format!(
                " AND {plus}f.id IN (SELECT rowid FROM finding_fts WHERE finding_fts MATCH {m})"
            ));
            if let Some(pat) = recheck {
                push_like(q, pat.clone());
            }
        }
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

/// Indexes the identifier columns of every finding of `set_id` for the text filter. Call
/// once after the set's findings were (re)written in `tx`: deleting a finding removes its
/// entry (trigger), so a re-imported set is indexed afresh.
pub(crate) fn index_set(tx: &rusqlite::Transaction<'_>, set_id: i64) -> Result<()> {
    tx.execute(
        "INSERT INTO finding_fts(rowid, vuln_id, aliases, component_key, name, purl)
         SELECT f.id, f.vuln_id, f.aliases, f.component_key, c.name, NULLIF(c.purl, f.component_key)
         FROM finding f LEFT JOIN component c ON c.set_id = f.set_id AND c.key = f.component_key
         WHERE f.set_id = ?1",
        [set_id],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ComponentKey, ScannerView, SetComponent, SetFinding, Severity};
    use crate::store::{Cursor, FindingRow, SetWrite, Store, ViewSort};
    use std::collections::{BTreeMap, BTreeSet};

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
        let deps = BTreeSet::new();
        let w = SetWrite {
            existing: None,
            package: None,
            digest: Some("sha256:ab"),
            image: None,
            repository: None,
            source: "t",
            image_user: None,
            new_files: &[],
            file_shas: &[],
            components: &comps,
            dependencies: &deps,
            findings: &findings,
        };
        let id = st.write_import(&w, &|_, _| Ok(())).unwrap().set_id;
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
    fn fts_filter_equals_a_brute_force_substring_filter() {
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
        let mut broad_seen = false;
        for term in terms {
            let want = brute(&fx, term);
            let f = ViewFilter {
                text: term.into(),
                ..ViewFilter::default()
            };
            if let TextPlan::Fts { broad: true, .. } = plan(st.conn(), &f).unwrap() {
                broad_seen = true;
            }
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
        assert!(broad_seen, "no term took the broad (index walk) path");
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
        // Deleting a finding removes it from the index (trigger).
        st.conn()
            .execute(
                "DELETE FROM finding WHERE set_id = ?1 AND component_key LIKE '%zlib%'",
                [id],
            )
            .unwrap();
        let left: i64 = st
            .conn()
            .query_row(
                "SELECT COUNT(*) FROM finding_fts WHERE finding_fts MATCH '\"zlib\"'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(left, 0);
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
