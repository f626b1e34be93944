//! Read queries behind the workstation's screens: windowed keyset paging of findings in
//! both directions (so a million-row set scrolls from either end without OFFSET), the rank
//! of a row under a new order (selection survives re-sorting), and live severity counts.

use super::queries::{finding_row, FINDING_COLS, FINDING_FROM};
pub use super::view_filter::ViewFilter;
use super::view_filter::{plan, push_filter, set_column, Sql, TextPlan};
use super::{FindingRow, Result, Store};

/// Orders the findings list can take; each is a total order backed by an index.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ViewSort {
    /// Highest severity first, then vulnerability id.
    #[default]
    Severity,
    /// Vulnerability id, then component.
    Id,
    /// Component key (purl), then vulnerability id.
    Component,
}

impl ViewSort {
    pub fn label(self) -> &'static str {
        match self {
            Self::Severity => "severity",
            Self::Id => "id",
            Self::Component => "component",
        }
    }

    pub fn next(self) -> Self {
        match self {
            Self::Severity => Self::Id,
            Self::Id => Self::Component,
            Self::Component => Self::Severity,
        }
    }
}

/// The sort key of one row: enough to resume paging after or before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub severity_rank: i64,
    pub vuln_id: String,
    pub component_key: String,
    pub id: i64,
}

impl From<&FindingRow> for Cursor {
    fn from(r: &FindingRow) -> Self {
        Self {
            severity_rank: r.severity as i64,
            vuln_id: r.vuln_id.clone(),
            component_key: r.component_key.clone(),
            id: r.id,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dir {
    Forward,
    Backward,
}

fn base(select: &str, set_id: i64, f: &ViewFilter, plan: &TextPlan) -> Sql {
    let mut q = Sql {
        text: String::new(),
        args: Vec::new(),
    };
    let s = q.arg(set_id);
    q.text = format!("{select} WHERE {} = {s}", set_column(plan));
    push_filter(&mut q, f, plan, true);
    q
}

fn order(sort: ViewSort, dir: Dir) -> &'static str {
    match (sort, dir) {
        (ViewSort::Severity, Dir::Forward) => "f.severity_rank DESC, f.vuln_id, f.id",
        (ViewSort::Severity, Dir::Backward) => "f.severity_rank ASC, f.vuln_id DESC, f.id DESC",
        (ViewSort::Id, Dir::Forward) => "f.vuln_id, f.component_key",
        (ViewSort::Id, Dir::Backward) => "f.vuln_id DESC, f.component_key DESC",
        (ViewSort::Component, Dir::Forward) => "f.component_key, f.vuln_id",
        (ViewSort::Component, Dir::Backward) => "f.component_key DESC, f.vuln_id DESC",
    }
}

impl Store {
    /// Up to `limit` rows strictly after `after` in `sort` order (from the top when `None`).
    pub fn findings_after(
        &self,
        set_id: i64,
        filter: &ViewFilter,
        sort: ViewSort,
        after: Option<&Cursor>,
        limit: usize,
    ) -> Result<Vec<FindingRow>> {
        self.page(set_id, filter, sort, after, limit, Dir::Forward)
    }

    /// Up to `limit` rows strictly before `before` (the last rows when `None`), returned in
    /// display order.
    pub fn findings_before(
        &self,
        set_id: i64,
        filter: &ViewFilter,
        sort: ViewSort,
        before: Option<&Cursor>,
        limit: usize,
    ) -> Result<Vec<FindingRow>> {
        let mut rows = self.page(set_id, filter, sort, before, limit, Dir::Backward)?;
        rows.reverse();
        Ok(rows)
    }

    fn page(
        &self,
        set_id: i64,
        filter: &ViewFilter,
        sort: ViewSort,
        at: Option<&Cursor>,
        limit: usize,
        dir: Dir,
    ) -> Result<Vec<FindingRow>> {
        let select = format!("SELECT {FINDING_COLS} {FINDING_FROM}");
        let p = plan(self.conn(), filter)?;
        let cmp = if dir == Dir::Forward { ">" } else { "<" };
        let Some(c) = at else {
            let mut q = base(&select, set_id, filter, &p);
            q.text
                .push_str(&format!(" ORDER BY {} LIMIT {limit}", order(sort, dir)));
            return self.run(&q);
        };
        match sort {
            // Two range seeks instead of one OR, so both halves walk the index directly.
            ViewSort::Severity => {
                let mut q = base(&select, set_id, filter, &p);
                let (r, v, i) = (
                    q.arg(c.severity_rank),
                    q.arg(c.vuln_id.clone()),
                    q.arg(c.id),
                );
                q.text.push_str(&format!(
                    " AND f.severity_rank = {r} AND (f.vuln_id, f.id) {cmp} ({v}, {i}) ORDER BY {} LIMIT {limit}",
                    order(sort, dir)
                ));
                let mut rows = self.run(&q)?;
                if rows.len() < limit {
                    let mut q = base(&select, set_id, filter, &p);
                    let r = q.arg(c.severity_rank);
                    let rank_cmp = if dir == Dir::Forward { "<" } else { ">" };
                    q.text.push_str(&format!(
                        " AND f.severity_rank {rank_cmp} {r} ORDER BY {} LIMIT {}",
                        order(sort, dir),
                        limit - rows.len()
                    ));
                    rows.extend(self.run(&q)?);
                }
                Ok(rows)
            }
            ViewSort::Id | ViewSort::Component => {
                let mut q = base(&select, set_id, filter, &p);
                let (a, b) = if sort == ViewSort::Id {
                    (c.vuln_id.clone(), c.component_key.clone())
                } else {
                    (c.component_key.clone(), c.vuln_id.clone())
                };
                let cols = if sort == ViewSort::Id {
                    "(f.vuln_id, f.component_key)"
                } else {
                    "(f.component_key, f.vuln_id)"
                };
                let (pa, pb) = (q.arg(a), q.arg(b));
                q.text.push_str(&format!(
                    " AND {cols} {cmp} ({pa}, {pb}) ORDER BY {} LIMIT {limit}",
                    order(sort, dir)
                ));
                self.run(&q)
            }
        }
    }

    fn run(&self, q: &Sql) -> Result<Vec<FindingRow>> {
        let mut st = self.conn().prepare(&q.text)?;
        let rows = st
            .query_map(rusqlite::params_from_iter(q.args.iter()), finding_row)?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// How many rows (under `filter`) come before the row at `c` in `sort` order.
    pub fn findings_rank(
        &self,
        set_id: i64,
        filter: &ViewFilter,
        sort: ViewSort,
        c: &Cursor,
    ) -> Result<u64> {
        let p = plan(self.conn(), filter)?;
        let parts: Vec<Sql> = match sort {
            ViewSort::Severity => {
                let mut a = base("SELECT COUNT(*) FROM finding f", set_id, filter, &p);
                let r = a.arg(c.severity_rank);
                a.text.push_str(&format!(" AND f.severity_rank > {r}"));
                let mut b = base("SELECT COUNT(*) FROM finding f", set_id, filter, &p);
                let (r, v, i) = (
                    b.arg(c.severity_rank),
                    b.arg(c.vuln_id.clone()),
                    b.arg(c.id),
                );
                b.text.push_str(&format!(
                    " AND f.severity_rank = {r} AND (f.vuln_id, f.id) < ({v}, {i})"
                ));
                vec![a, b]
            }
            ViewSort::Id => {
                let mut a = base("SELECT COUNT(*) FROM finding f", set_id, filter, &p);
                let (v, k) = (a.arg(c.vuln_id.clone()), a.arg(c.component_key.clone()));
                a.text
                    .push_str(&format!(" AND (f.vuln_id, f.component_key) < ({v}, {k})"));
                vec![a]
            }
            ViewSort::Component => {
                let mut a = base("SELECT COUNT(*) FROM finding f", set_id, filter, &p);
                let (k, v) = (a.arg(c.component_key.clone()), a.arg(c.vuln_id.clone()));
                a.text
                    .push_str(&format!(" AND (f.component_key, f.vuln_id) < ({k}, {v})"));
                vec![a]
            }
        };
        let mut n: i64 = 0;
        for q in parts {
            n +=
                self.conn()
                    .query_row(&q.text, rusqlite::params_from_iter(q.args.iter()), |r| {
                        r.get::<_, i64>(0)
                    })?;
        }
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Findings per severity under the text filter only (severity toggles ignored, so the
    /// toggles can show what they would add back). Indexed by `Severity as usize`.
    pub fn finding_severity_counts(&self, set_id: i64, text: &str) -> Result<[u64; 6]> {
        let f = ViewFilter {
            text: text.to_string(),
            ..ViewFilter::default()
        };
        self.finding_view_counts(set_id, &f)
    }

    /// Findings per severity under every filter but the severity toggles: the same
    /// selection the list pages through, counted in one grouped pass.
    pub fn finding_view_counts(&self, set_id: i64, filter: &ViewFilter) -> Result<[u64; 6]> {
        let p = plan(self.conn(), filter)?;
        let mut q = Sql {
            text: String::new(),
            args: Vec::new(),
        };
        let s = q.arg(set_id);
        q.text = format!(
            "SELECT f.severity_rank, COUNT(*) FROM finding f WHERE {} = {s}",
            set_column(&p)
        );
        push_filter(&mut q, filter, &p, false);
        q.text.push_str(" GROUP BY f.severity_rank");
        let mut st = self.conn().prepare(&q.text)?;
        let mut out = [0u64; 6];
        let rows = st.query_map(rusqlite::params_from_iter(q.args.iter()), |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
        })?;
        for row in rows {
            let (rank, n) = row?;
            if let Some(slot) = usize::try_from(rank).ok().and_then(|i| out.get_mut(i)) {
                *slot = u64::try_from(n).unwrap_or(0);
            }
        }
        Ok(out)
    }

    /// The judgement cache's (gate, disposition) of these findings, for the list's GATE and
    /// DECISION columns: `(finding_id, gate, disposition)`.
    pub fn judgement_marks(&self, ids: &[i64]) -> Result<Vec<(i64, String, String)>> {
        let mut out = Vec::with_capacity(ids.len());
        let mut st = self.conn().prepare_cached(
            "SELECT finding_id, gate, disposition FROM finding_judgement WHERE finding_id = ?1",
        )?;
        for id in ids {
            let mut rows = st.query([id])?;
            if let Some(r) = rows.next()? {
                out.push((r.get(0)?, r.get(1)?, r.get(2)?));
            }
        }
        Ok(out)
    }

    /// Streams the identifier columns of a set's components: `(key, name, purl)`.
    pub fn for_each_component_ident(
        &self,
        set_id: i64,
        f: &mut dyn FnMut(&str, &str, Option<&str>),
    ) -> Result<()> {
        let mut st = self
            .conn()
            .prepare("SELECT key, name, purl FROM component WHERE set_id = ?1")?;
        let mut rows = st.query([set_id])?;
        while let Some(r) = rows.next()? {
            f(text(r, 0)?, text(r, 1)?, text_or_null(r, 2)?);
        }
        Ok(())
    }

    /// Streams a set's findings' narrow columns in rowid order (one sequential pass over
    /// the table pages, not an index walk with a random read per row):
    /// `(id, severity_rank, vuln_id, aliases as stored, component_key)`.
    pub fn for_each_finding_ident(
        &self,
        set_id: i64,
        f: &mut dyn FnMut(i64, i64, &str, &str, &str),
    ) -> Result<()> {
        // A set's findings were written in one transaction, so their ids are one range;
        // `+set_id` keeps SQLite on the rowid range instead of the set index.
        let (lo, hi): (Option<i64>, Option<i64>) = self.conn().query_row(
            "SELECT MIN(id), MAX(id) FROM finding WHERE set_id = ?1",
            [set_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let (Some(lo), Some(hi)) = (lo, hi) else {
            return Ok(());
        };
        let mut st = self.conn().prepare(
            "SELECT id, severity_rank, vuln_id, aliases, component_key FROM finding
             WHERE id BETWEEN ?2 AND ?3 AND +set_id = ?1 ORDER BY id",
        )?;
        let mut rows = st.query([set_id, lo, hi])?;
        while let Some(r) = rows.next()? {
            f(r.get(0)?, r.get(1)?, text(r, 2)?, text(r, 3)?, text(r, 4)?);
        }
        Ok(())
    }

    /// Streams a set's finding ids in `sort` order (the same order `findings_after`
    /// pages in), read from the covering index alone.
    pub fn for_each_finding_in_order(
        &self,
        set_id: i64,
        sort: ViewSort,
        f: &mut dyn FnMut(i64),
    ) -> Result<()> {
        let sql = format!(
            "SELECT f.id FROM finding f WHERE f.set_id = ?1 ORDER BY {}",
            order(sort, Dir::Forward)
        );
        let mut st = self.conn().prepare(&sql)?;
        let mut rows = st.query([set_id])?;
        while let Some(r) = rows.next()? {
            f(r.get(0)?);
        }
        Ok(())
    }

    /// Streams the judgement cache of a set: `(finding_id, gate, disposition)`.
    pub fn for_each_judgement_mark(
        &self,
        set_id: i64,
        f: &mut dyn FnMut(i64, &str, &str),
    ) -> Result<()> {
        let mut st = self.conn().prepare(
            "SELECT finding_id, gate, disposition FROM finding_judgement WHERE set_id = ?1",
        )?;
        let mut rows = st.query([set_id])?;
        while let Some(r) = rows.next()? {
            f(r.get(0)?, text(r, 1)?, text(r, 2)?);
        }
        Ok(())
    }

    /// Full rows of these findings in the order given (primary-key lookups); ids that
    /// no longer exist are skipped.
    pub fn findings_by_ids(&self, ids: &[i64]) -> Result<Vec<FindingRow>> {
        let sql = format!("SELECT {FINDING_COLS} {FINDING_FROM} WHERE f.id = ?1");
        let mut st = self.conn().prepare_cached(&sql)?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let mut rows = st.query([id])?;
            if let Some(r) = rows.next()? {
                out.push(finding_row(r)?);
            }
        }
        Ok(out)
    }

    /// Severity counts of every set at once, for the dashboard: `(set_id, counts)`.
    pub fn all_severity_counts(&self) -> Result<Vec<(i64, [u64; 6])>> {
        let mut st = self
            .conn()
            .prepare("SELECT set_id, severity_rank, COUNT(*) FROM finding GROUP BY set_id, severity_rank ORDER BY set_id")?;
        let rows = st.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })?;
        let mut out: Vec<(i64, [u64; 6])> = Vec::new();
        for row in rows {
            let (set, rank, n) = row?;
            if out.last().map(|(s, _)| *s) != Some(set) {
                out.push((set, [0; 6]));
            }
            if let (Some(last), Ok(i)) = (out.last_mut(), usize::try_from(rank)) {
                if let Some(slot) = last.1.get_mut(i) {
                    *slot = u64::try_from(n).unwrap_or(0);
                }
            }
        }
        Ok(out)
    }

    /// Findings on one component (for the component detail screen), highest severity first.
    pub fn component_findings(
        &self,
        set_id: i64,
        component_key: &str,
        limit: usize,
    ) -> Result<Vec<FindingRow>> {
        let select = format!("SELECT {FINDING_COLS} {FINDING_FROM}");
        let mut q = base(&select, set_id, &ViewFilter::default(), &TextPlan::None);
        let k = q.arg(component_key.to_string());
        q.text.push_str(&format!(
            " AND f.component_key = {k} ORDER BY f.severity_rank DESC, f.vuln_id LIMIT {limit}"
        ));
        self.run(&q)
    }
}

fn text<'a>(r: &'a rusqlite::Row<'_>, i: usize) -> rusqlite::Result<&'a str> {
    Ok(r.get_ref(i)?.as_str()?)
}

fn text_or_null<'a>(r: &'a rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Option<&'a str>> {
    Ok(r.get_ref(i)?.as_str_or_null()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ComponentKey, ScannerView, SetComponent, SetFinding, Severity};
    use std::collections::BTreeSet;

    /// 30 findings: ids CVE-0..29 over 3 components, severity cycling through all six.
    fn store() -> (Store, i64) {
        let mut st = Store::open_in_memory().unwrap();
        let comps: Vec<SetComponent> = (0..3)
            .map(|i| SetComponent {
                key: ComponentKey(format!("pkg:deb/x/c{i}@1")),
                purl: Some(format!("pkg:deb/x/c{i}@1")),
                kind: "deb".into(),
                name: format!("c{i}"),
                version: Some("1".into()),
                ..Default::default()
            })
            .collect();
        let sev = Severity::ALL;
        let findings: Vec<SetFinding> = (0..30)
            .map(|i| SetFinding {
                vuln_id: format!("CVE-{i:02}"),
                aliases: vec![],
                component_key: ComponentKey(format!("pkg:deb/x/c{}@1", i % 3)),
                views: vec![(
                    0,
                    ScannerView {
                        scanner: "t".into(),
                        severity: sev[i % 6],
                        ..Default::default()
                    },
                )],
            })
            .collect();
        let id = st.write_test_set("sha256:aa", &comps, &findings);
        (st, id)
    }

    fn walk(st: &Store, id: i64, f: &ViewFilter, sort: ViewSort, page: usize) -> Vec<String> {
        let mut out: Vec<FindingRow> = Vec::new();
        loop {
            let next = st
                .findings_after(id, f, sort, out.last().map(Cursor::from).as_ref(), page)
                .unwrap();
            if next.is_empty() {
                break;
            }
            out.extend(next);
        }
        out.into_iter().map(|r| r.vuln_id).collect()
    }

    #[test]
    fn paging_forward_and_backward_visits_every_row_once_in_order() {
        let (st, id) = store();
        let all = ViewFilter::default();
        for sort in [ViewSort::Severity, ViewSort::Id, ViewSort::Component] {
            let fwd = walk(&st, id, &all, sort, 7);
            assert_eq!(fwd.len(), 30, "{sort:?}");
            let uniq: BTreeSet<&String> = fwd.iter().collect();
            assert_eq!(uniq.len(), 30);
            // Backward from the end must give the same sequence.
            let mut back: Vec<FindingRow> = st.findings_before(id, &all, sort, None, 7).unwrap();
            loop {
                let first = back.first().map(Cursor::from);
                let prev = st
                    .findings_before(id, &all, sort, first.as_ref(), 7)
                    .unwrap();
                if prev.is_empty() {
                    break;
                }
                back.splice(0..0, prev);
            }
            let back: Vec<String> = back.into_iter().map(|r| r.vuln_id).collect();
            assert_eq!(fwd, back, "{sort:?}");
        }
        // Severity order: CVE-00 is CRITICAL (ALL[0]) and CVE-05 UNKNOWN (ALL[5]).
        let fwd = walk(&st, id, &all, ViewSort::Severity, 4);
        assert_eq!(
            &fwd[..5],
            &["CVE-00", "CVE-06", "CVE-12", "CVE-18", "CVE-24"]
        );
        assert_eq!(fwd.last().map(String::as_str), Some("CVE-29"));
        let by_comp = walk(&st, id, &all, ViewSort::Component, 30);
        assert_eq!(&by_comp[..3], &["CVE-00", "CVE-03", "CVE-06"]);
    }

    #[test]
    fn rank_filters_and_counts_agree_with_a_hand_count() {
        let (st, id) = store();
        let f = ViewFilter {
            text: "c1@".into(),
            ..ViewFilter::default()
        };
        // i % 3 == 1 -> 10 rows.
        assert_eq!(walk(&st, id, &f, ViewSort::Id, 3).len(), 10);
        let counts = st.finding_severity_counts(id, "c1@").unwrap();
        assert_eq!(counts.iter().sum::<u64>(), 10);
        let hi = ViewFilter {
            text: String::new(),
            severities: vec![Severity::High],
            ..ViewFilter::default()
        };
        assert_eq!(
            walk(&st, id, &hi, ViewSort::Severity, 2),
            vec!["CVE-01", "CVE-07", "CVE-13", "CVE-19", "CVE-25"]
        );
        let rows = st
            .findings_after(id, &ViewFilter::default(), ViewSort::Severity, None, 30)
            .unwrap();
        for (i, r) in rows.iter().enumerate() {
            assert_eq!(
                st.findings_rank(
                    id,
                    &ViewFilter::default(),
                    ViewSort::Severity,
                    &Cursor::from(r)
                )
                .unwrap(),
                i as u64
            );
        }
        let all = st.all_severity_counts().unwrap();
        assert_eq!(all, vec![(id, [5, 5, 5, 5, 5, 5])]);
        assert_eq!(
            st.component_findings(id, "pkg:deb/x/c2@1", 100)
                .unwrap()
                .len(),
            10
        );
        let pct = ViewFilter {
            text: "%".into(),
            ..ViewFilter::default()
        };
        assert!(st
            .findings_after(id, &pct, ViewSort::Id, None, 5)
            .unwrap()
            .is_empty());
    }
}
