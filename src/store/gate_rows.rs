//! The gate's read of a set's findings: one pass in rowid order, each row lent borrowed
//! (no copy per finding), its component found by the id the import recorded, threat data
//! joined only when there is some.

use super::str_array::StrArray;
use super::{Result, Store};
use crate::model::Severity;
use rusqlite::params;
use std::collections::HashMap;

/// What the gate reads of one finding, owned: the form tests compare (the gate itself
/// reads `GateRowRef`).
#[cfg(test)]
#[derive(Debug, Clone, PartialEq)]
pub struct GateRow {
    pub id: i64,
    pub vuln_id: String,
    pub aliases: Vec<String>,
    pub component_key: String,
    pub purl: Option<String>,
    pub name: String,
    pub version: Option<String>,
    pub severity: Severity,
    pub severity_disagrees: bool,
    pub cvss_v2_vector: Option<String>,
    pub cvss_v3_vector: Option<String>,
    pub cvss_v4_vector: Option<String>,
    /// EPSS from the scanner report (Grype), with its date.
    pub epss: Option<f64>,
    pub epss_date: Option<String>,
    /// KEV flag from the scanner report.
    pub kev: Option<bool>,
    pub fixed_versions: Vec<String>,
    pub fix_state: String,
    pub direct: Option<bool>,
    pub scanners: Vec<String>,
    /// From the imported FIRST EPSS data, by vulnerability id.
    pub threat_epss: Option<f64>,
    /// `dateAdded` from the imported CISA KEV catalog, by vulnerability id.
    pub threat_kev_added: Option<String>,
}

/// One finding as the gate reads it, borrowed from the row being read: nothing is copied
/// per finding (a million rows), the judge owns only what it keeps.
#[derive(Debug, Clone, PartialEq)]
pub struct GateRowRef<'r> {
    pub id: i64,
    pub vuln_id: &'r str,
    pub aliases: StrArray<'r>,
    pub component_key: &'r str,
    pub purl: Option<&'r str>,
    pub name: &'r str,
    pub version: Option<&'r str>,
    pub severity: Severity,
    pub severity_disagrees: bool,
    pub cvss_v2_vector: Option<&'r str>,
    pub cvss_v3_vector: Option<&'r str>,
    pub cvss_v4_vector: Option<&'r str>,
    pub epss: Option<f64>,
    pub epss_date: Option<&'r str>,
    pub kev: Option<bool>,
    pub fixed_versions: StrArray<'r>,
    pub fix_state: &'r str,
    /// The import found scanners naming different fixed versions (`finding.fix_disagrees`).
    pub fix_disagrees: bool,
    pub direct: Option<bool>,
    pub scanners: StrArray<'r>,
    pub threat_epss: Option<f64>,
    pub threat_kev_added: Option<&'r str>,
}

#[cfg(test)]
impl GateRowRef<'_> {
    pub fn to_owned_row(&self) -> GateRow {
        let own = |s: Option<&str>| s.map(str::to_string);
        GateRow {
            id: self.id,
            vuln_id: self.vuln_id.to_string(),
            aliases: self.aliases.to_vec(),
            component_key: self.component_key.to_string(),
            purl: own(self.purl),
            name: self.name.to_string(),
            version: own(self.version),
            severity: self.severity,
            severity_disagrees: self.severity_disagrees,
            cvss_v2_vector: own(self.cvss_v2_vector),
            cvss_v3_vector: own(self.cvss_v3_vector),
            cvss_v4_vector: own(self.cvss_v4_vector),
            epss: self.epss,
            epss_date: own(self.epss_date),
            kev: self.kev,
            fixed_versions: self.fixed_versions.to_vec(),
            fix_state: self.fix_state.to_string(),
            direct: self.direct,
            scanners: self.scanners.to_vec(),
            threat_epss: self.threat_epss,
            threat_kev_added: own(self.threat_kev_added),
        }
    }
}

/// A text column borrowed from the row (no copy for keys and JSON that are only looked at).
pub(super) fn text<'r>(r: &'r rusqlite::Row<'_>, i: usize) -> rusqlite::Result<&'r str> {
    r.get_ref(i)?.as_str().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
    })
}

/// A nullable text column borrowed from the row.
fn opt_text<'r>(r: &'r rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Option<&'r str>> {
    match r.get_ref(i)? {
        rusqlite::types::ValueRef::Null => Ok(None),
        v => v.as_str().map(Some).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
        }),
    }
}

/// What the gate (and the component checks) need of a component.
pub(super) struct GateComponent {
    pub(super) id: i64,
    pub(super) key: String,
    pub(super) purl: Option<String>,
    pub(super) kind: String,
    pub(super) name: String,
    pub(super) version: Option<String>,
    pub(super) direct: Option<bool>,
    pub(super) in_sbom: bool,
    pub(super) in_scan: bool,
}

/// A set's components in row id order, found by the id `finding.component_id` holds, or
/// by key for rows without one (written before migration 012 filled it, or by a writer
/// that does not), which is the old join's answer.
struct GateComponents {
    items: Vec<GateComponent>,
    /// The ids are one unbroken range (the import writes them so): index, no search.
    dense: bool,
    by_key: std::cell::OnceCell<HashMap<String, usize>>,
}

impl GateComponents {
    fn get(&self, id: Option<i64>, key: &str) -> Option<&GateComponent> {
        let first = self.items.first()?;
        let at = match id {
            Some(id) if self.dense => usize::try_from(id.wrapping_sub(first.id))
                .ok()
                .filter(|i| *i < self.items.len()),
            Some(id) => self.items.binary_search_by_key(&id, |c| c.id).ok(),
            None => None,
        };
        match at {
            Some(i) => self.items.get(i),
            None => {
                let by_key = self.by_key.get_or_init(|| {
                    self.items
                        .iter()
                        .enumerate()
                        .map(|(i, c)| (c.key.clone(), i))
                        .collect()
                });
                by_key.get(key).and_then(|i| self.items.get(*i))
            }
        }
    }
}

/// `finding.severity_rank` back to the severity (the rank is `Severity as i64`), without
/// parsing the text column per row.
fn severity_of_rank(rank: i64) -> Severity {
    Severity::ALL
        .into_iter()
        .find(|s| *s as i64 == rank)
        .unwrap_or_default()
}

impl Store {
    /// Streams the gate's rows of a set in rowid order, each borrowed from the row being
    /// read, so judging a million findings never holds them all nor copies a string per
    /// row. Rowid order reads the table's pages sequentially: the severity order walks the
    /// index and fetches each row at random, measured 7x slower on a 1M-finding store (25 s
    /// against 3.4 s for the bare scan). Callers that need severity order sort what they
    /// keep. `visit` may run other queries on this store meanwhile.
    ///
    /// The CVSS vectors are read for HIGH findings only: the gate's class and reason use
    /// them for no other severity (`gate::decide`), and three text columns per row were a
    /// tenth of the read.
    pub fn for_each_gate_row_ref(
        &self,
        set_id: i64,
        visit: &mut dyn FnMut(&GateRowRef<'_>) -> Result<()>,
    ) -> Result<()> {
        let Some((lo, hi)) = self.finding_id_range(set_id)? else {
            return Ok(());
        };
        // The set's components in memory (tens of thousands at most), found by the row id
        // the import recorded: joining them in SQL probes the component index once per
        // finding, and a map by key string hashes and compares a key per finding.
        let comps = self.gate_components(set_id)?;
        // Without threat data (the usual offline case) the two joins are a probe of an
        // empty index per finding for nothing.
        let threat: bool = self.conn().query_row(
            "SELECT EXISTS(SELECT 1 FROM threat_epss) OR EXISTS(SELECT 1 FROM threat_kev)",
            [],
            |r| r.get(0),
        )?;
        let (cols, joins) = if threat {
            (
                "e.epss, k.date_added",
                "LEFT JOIN threat_epss e ON e.cve = f.vuln_id
                 LEFT JOIN threat_kev k ON k.cve = f.vuln_id",
            )
        } else {
            ("NULL, NULL", "")
        };
        let mut st = self.conn().prepare(&format!(
            "SELECT f.id, f.vuln_id, f.aliases, f.component_key, f.severity_rank, f.severity_disagrees,
                    CASE WHEN f.severity_rank = ?4 THEN f.cvss_v2_vector END,
                    CASE WHEN f.severity_rank = ?4 THEN f.cvss_v3_vector END,
                    CASE WHEN f.severity_rank = ?4 THEN f.cvss_v4_vector END,
                    f.epss, f.epss_date, f.kev,
                    f.fixed_versions, f.fix_state, f.scanners, {cols}, f.fix_disagrees, f.component_id
             FROM finding f {joins}
             WHERE f.id BETWEEN ?2 AND ?3 AND +f.set_id = ?1
             ORDER BY f.id"
        ))?;
        let mut rows = st.query(params![set_id, lo, hi, Severity::High as i64])?;
        while let Some(r) = rows.next()? {
            let key = text(r, 3)?;
            let c = comps.get(r.get(18)?, key);
            let epss: Option<f64> = r.get(9)?;
            let row = GateRowRef {
                id: r.get(0)?,
                vuln_id: text(r, 1)?,
                aliases: StrArray::parse_or_empty(text(r, 2)?),
                component_key: key,
                purl: c.and_then(|c| c.purl.as_deref()),
                name: c.map_or(key, |c| c.name.as_str()),
                version: c.and_then(|c| c.version.as_deref()),
                severity: severity_of_rank(r.get(4)?),
                severity_disagrees: r.get(5)?,
                cvss_v2_vector: opt_text(r, 6)?,
                cvss_v3_vector: opt_text(r, 7)?,
                cvss_v4_vector: opt_text(r, 8)?,
                epss,
                // Only ever shown beside the EPSS score it dates.
                epss_date: if epss.is_some() {
                    opt_text(r, 10)?
                } else {
                    None
                },
                kev: r.get(11)?,
                fixed_versions: StrArray::parse_or_empty(text(r, 12)?),
                fix_state: text(r, 13)?,
                direct: c.and_then(|c| c.direct),
                scanners: StrArray::parse_or_empty(text(r, 14)?),
                threat_epss: if threat { r.get(15)? } else { None },
                threat_kev_added: if threat { opt_text(r, 16)? } else { None },
                fix_disagrees: r.get::<_, Option<bool>>(17)?.unwrap_or(false),
            };
            visit(&row)?;
        }
        Ok(())
    }

    /// A set's components in row id order, read as one rowid range (a set's components
    /// are written in one transaction): through the (set_id, key) index every row was a
    /// random fetch, 0.12 s for 50,000 components.
    pub(super) fn set_components(&self, set_id: i64) -> Result<Vec<GateComponent>> {
        let (lo, hi): (Option<i64>, Option<i64>) = self.conn().query_row(
            "SELECT MIN(id), MAX(id) FROM component WHERE set_id = ?1",
            [set_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let (Some(lo), Some(hi)) = (lo, hi) else {
            return Ok(Vec::new());
        };
        let mut st = self.conn().prepare(
            "SELECT id, key, purl, type, name, version, direct, in_sbom, in_scan FROM component
             WHERE id BETWEEN ?2 AND ?3 AND +set_id = ?1 ORDER BY id",
        )?;
        let mut out = Vec::new();
        let mut rows = st.query(params![set_id, lo, hi])?;
        while let Some(r) = rows.next()? {
            out.push(GateComponent {
                id: r.get(0)?,
                key: r.get(1)?,
                purl: r.get(2)?,
                kind: r.get(3)?,
                name: r.get(4)?,
                version: r.get(5)?,
                direct: r.get(6)?,
                in_sbom: r.get(7)?,
                in_scan: r.get(8)?,
            });
        }
        Ok(out)
    }

    fn gate_components(&self, set_id: i64) -> Result<GateComponents> {
        let items = self.set_components(set_id)?;
        let dense = items
            .iter()
            .enumerate()
            .all(|(i, c)| items[0].id.checked_add(i as i64) == Some(c.id));
        Ok(GateComponents {
            items,
            dense,
            by_key: std::cell::OnceCell::new(),
        })
    }

    /// The first and last finding id of a set. A set's findings are written in one
    /// transaction, so their ids form one range, and a scan of that rowid range reads the
    /// table's pages in order instead of one page per row through an index. Two scalar
    /// queries so each is answered from the `finding(set_id)` index in O(log n) (one
    /// query with both aggregates walks all of the set's index entries).
    pub(super) fn finding_id_range(&self, set_id: i64) -> Result<Option<(i64, i64)>> {
        let (lo, hi): (Option<i64>, Option<i64>) = self.conn().query_row(
            "SELECT (SELECT MIN(id) FROM finding WHERE set_id = ?1),
                    (SELECT MAX(id) FROM finding WHERE set_id = ?1)",
            [set_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok(lo.zip(hi))
    }
}
