//! SQL for judging: threat data (EPSS, KEV) replaced whole on import with the dates they
//! hold, a lean read of a set's findings for the gate (narrow rows in rowid order, so a
//! million rows stay cheap), scanner fix disagreements, and the verdict history.

use super::gate_rows::text;
#[cfg(test)]
pub use super::gate_rows::GateRow;
pub use super::gate_rows::GateRowRef;
use super::str_array::StrArray;
use super::{now_utc, Result, Store};
use rusqlite::{params, OptionalExtension, Transaction};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ThreatSource {
    pub kind: String,
    pub file: String,
    pub sha256: String,
    pub version: String,
    pub data_date: String,
    pub rows: i64,
    pub imported_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerdictRow {
    pub id: i64,
    pub set_id: i64,
    pub verdict: String,
    pub policy_name: String,
    pub policy_sha256: String,
    pub as_of: String,
    pub evaluated_at: String,
    pub counts: serde_json::Value,
    pub reasons: serde_json::Value,
}

/// A set as the judge reads it: `SetRow` without its component and finding counts, which
/// cost a walk of the set's index entries (~0.1 s at a million findings) and the judge
/// never shows.
#[derive(Debug, Clone, PartialEq)]
pub struct GateSet {
    pub id: i64,
    pub image: Option<String>,
    pub repository: Option<String>,
    pub digest: Option<String>,
    pub image_user: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct JudgeComponent {
    pub key: String,
    pub kind: String,
    pub name: String,
    pub version: Option<String>,
    pub in_sbom: bool,
    pub in_scan: bool,
}

/// One KEV catalog entry to store.
#[derive(Debug, Clone)]
pub struct KevWrite {
    pub cve: String,
    pub vendor_project: String,
    pub product: String,
    pub date_added: String,
    pub due_date: Option<String>,
    pub ransomware: Option<String>,
}

fn json_vec(s: &str) -> Vec<String> {
    StrArray::parse_or_empty(s).to_vec()
}

/// Replaces the EPSS data and records where it came from.
pub fn replace_epss(
    tx: &Transaction<'_>,
    src: &ThreatSource,
    rows: impl Iterator<Item = (String, f64, Option<f64>)>,
) -> Result<()> {
    tx.execute("DELETE FROM threat_epss", [])?;
    let mut st = tx
        .prepare("INSERT OR REPLACE INTO threat_epss(cve, epss, percentile) VALUES (?1, ?2, ?3)")?;
    for (cve, epss, pct) in rows {
        st.execute(params![cve, epss, pct])?;
    }
    put_source(tx, src)
}

/// Replaces the KEV catalog and records where it came from.
pub fn replace_kev(
    tx: &Transaction<'_>,
    src: &ThreatSource,
    rows: impl Iterator<Item = KevWrite>,
) -> Result<()> {
    tx.execute("DELETE FROM threat_kev", [])?;
    let mut st = tx.prepare(
        "INSERT OR REPLACE INTO threat_kev(cve, vendor_project, product, date_added, due_date, ransomware)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for r in rows {
        st.execute(params![
            r.cve,
            r.vendor_project,
            r.product,
            r.date_added,
            r.due_date,
            r.ransomware
        ])?;
    }
    put_source(tx, src)
}

fn put_source(tx: &Transaction<'_>, s: &ThreatSource) -> Result<()> {
    tx.execute(
        "INSERT OR REPLACE INTO threat_source(kind, file, sha256, version, data_date, rows, imported_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![s.kind, s.file, s.sha256, s.version, s.data_date, s.rows, s.imported_at],
    )?;
    Ok(())
}

/// Appends one verdict to the history.
#[allow(clippy::too_many_arguments)]
pub fn insert_verdict(
    tx: &Transaction<'_>,
    set_id: i64,
    verdict: &str,
    policy_name: &str,
    policy_sha256: &str,
    as_of: &str,
    counts: &serde_json::Value,
    reasons: &serde_json::Value,
) -> Result<i64> {
    tx.execute(
        "INSERT INTO verdict(set_id, verdict, policy_name, policy_sha256, as_of, evaluated_at, counts, reasons)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            set_id,
            verdict,
            policy_name,
            policy_sha256,
            as_of,
            now_utc(),
            counts.to_string(),
            reasons.to_string()
        ],
    )?;
    Ok(tx.last_insert_rowid())
}

impl Store {
    pub fn threat_sources(&self) -> Result<Vec<ThreatSource>> {
        let mut st = self.conn().prepare(
            "SELECT kind, file, sha256, version, data_date, rows, imported_at FROM threat_source ORDER BY kind",
        )?;
        let rows = st
            .query_map([], |r| {
                Ok(ThreatSource {
                    kind: r.get(0)?,
                    file: r.get(1)?,
                    sha256: r.get(2)?,
                    version: r.get(3)?,
                    data_date: r.get(4)?,
                    rows: r.get(5)?,
                    imported_at: r.get(6)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// The set being judged, or `NoSuchSet`.
    pub fn gate_set(&self, id: i64) -> Result<GateSet> {
        self.conn()
            .query_row(
                "SELECT id, image, repository, digest, image_user FROM evidence_set WHERE id = ?1",
                [id],
                |r| {
                    Ok(GateSet {
                        id: r.get(0)?,
                        image: r.get(1)?,
                        repository: r.get(2)?,
                        digest: r.get(3)?,
                        image_user: r.get(4)?,
                    })
                },
            )
            .optional()?
            .ok_or_else(|| super::StoreError::NoSuchSet(id.to_string()))
    }

    /// EPSS and KEV (`dateAdded`) for one id, for aliases the main query did not join.
    pub fn threat_for(&self, cve: &str) -> Result<(Option<f64>, Option<String>)> {
        // Cached statements: called once per non-CVE finding with CVE aliases.
        let e: Option<f64> = self
            .conn()
            .prepare_cached("SELECT epss FROM threat_epss WHERE cve = ?1")?
            .query_row([cve], |r| r.get(0))
            .optional()?;
        let k: Option<String> = self
            .conn()
            .prepare_cached("SELECT date_added FROM threat_kev WHERE cve = ?1")?
            .query_row([cve], |r| r.get(0))
            .optional()?;
        Ok((e, k))
    }

    /// The distinct scanners named by a set's findings.
    pub fn finding_scanners(&self, set_id: i64) -> Result<std::collections::BTreeSet<String>> {
        let mut out = std::collections::BTreeSet::new();
        let Some((lo, hi)) = self.finding_id_range(set_id)? else {
            return Ok(out);
        };
        let mut st = self.conn().prepare(
            "SELECT DISTINCT scanners FROM finding WHERE id BETWEEN ?2 AND ?3 AND +set_id = ?1",
        )?;
        let mut rows = st.query(params![set_id, lo, hi])?;
        while let Some(r) = rows.next()? {
            out.extend(json_vec(text(r, 0)?));
        }
        Ok(out)
    }

    /// Findings whose scanners give different fixed versions: (vuln, component, "scanner=[..]; ...").
    /// The import flags them (`fix_disagrees`), so only their scanner views are read: reading
    /// every view of a million two-scanner findings is gigabytes. The flagged rows come from
    /// the set's id range in id order, then `fix_disagreements_of` reads their views (views
    /// in chunks cannot be read by SQL).
    pub fn fix_disagreements(&self, set_id: i64) -> Result<Vec<(String, String, String)>> {
        let Some((lo, hi)) = self.finding_id_range(set_id)? else {
            return Ok(Vec::new());
        };
        let mut st = self.conn().prepare(
            "SELECT id, vuln_id, component_key FROM finding
             WHERE id BETWEEN ?2 AND ?3 AND +set_id = ?1 AND fix_disagrees ORDER BY id",
        )?;
        let flagged: Vec<(i64, String, String)> = st
            .query_map(params![set_id, lo, hi], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?
            .collect::<rusqlite::Result<_>>()?;
        self.fix_disagreements_of(&flagged)
    }

    /// `fix_disagreements` for the given findings only, each given as (id, vuln, component)
    /// as the gate's one pass over the rows read them, so the finding table is not scanned
    /// nor probed again. Each id is one probe of `finding_source` that reads that
    /// finding's few scanner views (inline, or from a chunk kept inflated while consecutive
    /// findings share it), and only their `fixed_versions` member is taken out (serde skips
    /// the rest without building it). The rule: views that are not JSON are left out, a
    /// missing or null member counts as `[]`, and the finding is reported when more than
    /// one scanner names more than one distinct value; ordered by vuln, then component.
    pub fn fix_disagreements_of(
        &self,
        flagged: &[(i64, String, String)],
    ) -> Result<Vec<(String, String, String)>> {
        #[derive(serde::Deserialize)]
        struct Fixed<'a> {
            #[serde(borrow, default)]
            fixed_versions: Option<&'a serde_json::value::RawValue>,
        }
        type Raw = (String, Option<String>, super::view_chunks::ChunkCols);
        let mut st = self.conn().prepare(
            "SELECT scanner, view, chunk_id, chunk_at, chunk_len FROM finding_source
             WHERE finding_id = ?1 ORDER BY file_id",
        )?;
        let mut chunks = super::view_chunks::ChunkReader::default();
        let mut out: Vec<(String, String, String)> = Vec::new();
        let mut views: Vec<(String, String)> = Vec::new();
        let mut raw: Vec<Raw> = Vec::new();
        for (id, vuln, comp) in flagged {
            views.clear();
            raw.clear();
            let mut rows = st.query([id])?;
            while let Some(r) = rows.next()? {
                raw.push((r.get(0)?, r.get(1)?, (r.get(2)?, r.get(3)?, r.get(4)?)));
            }
            for (scanner, view, chunk) in raw.drain(..) {
                let text = chunks.text(self.conn(), view, chunk)?;
                let Ok(v) = serde_json::from_str::<Fixed<'_>>(&text) else {
                    continue;
                };
                let fixed = v.fixed_versions.map_or("[]", |f| f.get());
                views.push((scanner, fixed.to_string()));
            }
            let distinct = |pick: fn(&(String, String)) -> &str| {
                let mut v: Vec<&str> = views.iter().map(pick).collect();
                v.sort_unstable();
                v.dedup();
                v.len()
            };
            if !views.is_empty() && distinct(|v| v.0.as_str()) > 1 && distinct(|v| v.1.as_str()) > 1
            {
                let text: Vec<String> = views.iter().map(|(s, f)| format!("{s}={f}")).collect();
                out.push((vuln.clone(), comp.clone(), text.join("; ")));
            }
        }
        out.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        Ok(out)
    }

    /// The component keys the scans name and no SBOM lists, and those an SBOM lists and no
    /// scan covered, each by key: what the coverage checks need of the components, without
    /// reading and sorting every component row.
    pub fn component_gaps(&self, set_id: i64) -> Result<(Vec<String>, Vec<String>)> {
        let (mut scan_only, mut sbom_only) = (Vec::new(), Vec::new());
        let (lo, hi): (Option<i64>, Option<i64>) = self.conn().query_row(
            "SELECT MIN(id), MAX(id) FROM component WHERE set_id = ?1",
            [set_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        if let (Some(lo), Some(hi)) = (lo, hi) {
            let mut st = self.conn().prepare(
                "SELECT key, in_scan FROM component
                 WHERE id BETWEEN ?2 AND ?3 AND +set_id = ?1 AND (in_sbom <> 0) <> (in_scan <> 0)",
            )?;
            let mut rows = st.query(params![set_id, lo, hi])?;
            while let Some(r) = rows.next()? {
                if r.get::<_, bool>(1)? {
                    scan_only.push(r.get(0)?);
                } else {
                    sbom_only.push(r.get(0)?);
                }
            }
        }
        // Byte order, as SQLite's BINARY collation orders keys.
        scan_only.sort_unstable();
        sbom_only.sort_unstable();
        Ok((scan_only, sbom_only))
    }

    /// A set's components without per-component finding counts (the listing query counts
    /// findings per component, which is far too slow for a million findings), by key.
    pub fn judge_components(&self, set_id: i64) -> Result<Vec<JudgeComponent>> {
        let mut out: Vec<JudgeComponent> = self
            .set_components(set_id)?
            .into_iter()
            .map(|c| JudgeComponent {
                key: c.key,
                kind: c.kind,
                name: c.name,
                version: c.version,
                in_sbom: c.in_sbom,
                in_scan: c.in_scan,
            })
            .collect();
        // Byte order, as SQLite's BINARY collation ordered them.
        out.sort_unstable_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    pub fn verdicts(&self, set_id: i64) -> Result<Vec<VerdictRow>> {
        let mut st = self.conn().prepare(
            "SELECT id, set_id, verdict, policy_name, policy_sha256, as_of, evaluated_at, counts, reasons
             FROM verdict WHERE set_id = ?1 ORDER BY id",
        )?;
        let rows = st
            .query_map([set_id], |r| {
                let c: String = r.get(7)?;
                let re: String = r.get(8)?;
                Ok(VerdictRow {
                    id: r.get(0)?,
                    set_id: r.get(1)?,
                    verdict: r.get(2)?,
                    policy_name: r.get(3)?,
                    policy_sha256: r.get(4)?,
                    as_of: r.get(5)?,
                    evaluated_at: r.get(6)?,
                    counts: serde_json::from_str(&c).unwrap_or(serde_json::Value::Null),
                    reasons: serde_json::from_str(&re).unwrap_or(serde_json::Value::Null),
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }
}

/// One finding's judgement for the workstation's cache (`finding_judgement`).
#[derive(Debug, Clone, PartialEq)]
pub struct JudgementRow {
    pub finding_id: i64,
    /// BLOCK | WARN | INFO
    pub gate: String,
    /// `undecided` when nothing disposes of the finding.
    pub disposition: String,
    pub reason: String,
    pub epss: Option<f64>,
    pub kev: bool,
}

impl Store {
    /// Replaces a set's cached judgements in one transaction. Derived data (re-computable
    /// from the evidence and decisions at any time), so it is not audited. Writes only what
    /// changed: a set judged again (the workstation does on every opening) mostly finds its
    /// rows as they were, and rewriting a million unchanged rows was seconds of B-tree and
    /// WAL writes.
    pub fn replace_judgements(
        &mut self,
        set_id: i64,
        rows: impl IntoIterator<Item = JudgementRow>,
    ) -> Result<()> {
        let tx = self
            .conn_mut()
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        // Ids the judge saw may have been deleted by a concurrent re-import since: keep the
        // rows whose id is one of the set's findings now. A set's findings are one id range
        // (written in one transaction), so the range read under this write lock answers
        // that without a lookup per row.
        let (lo, hi): (Option<i64>, Option<i64>) = tx.query_row(
            "SELECT MIN(id), MAX(id) FROM finding WHERE set_id = ?1",
            [set_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let mut given: Vec<i64> = Vec::new();
        if let (Some(lo), Some(hi)) = (lo, hi) {
            // An unchanged row is read and compared, not written.
            let mut up = tx.prepare(
                "INSERT INTO finding_judgement(finding_id, set_id, gate, disposition, reason, epss, kev)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT(finding_id) DO UPDATE SET set_id = excluded.set_id, gate = excluded.gate,
                    disposition = excluded.disposition, reason = excluded.reason, epss = excluded.epss,
                    kev = excluded.kev
                 WHERE set_id IS NOT excluded.set_id OR gate IS NOT excluded.gate
                    OR disposition IS NOT excluded.disposition OR reason IS NOT excluded.reason
                    OR epss IS NOT excluded.epss OR kev IS NOT excluded.kev",
            )?;
            for r in rows
                .into_iter()
                .filter(|r| (lo..=hi).contains(&r.finding_id))
            {
                up.execute(params![
                    r.finding_id,
                    set_id,
                    r.gate,
                    r.disposition,
                    r.reason,
                    r.epss,
                    r.kev
                ])?;
                given.push(r.finding_id);
            }
        }
        // The set's cached rows that were not given go (ids read from the set index).
        given.sort_unstable();
        let stale: Vec<i64> = {
            let mut st =
                tx.prepare("SELECT finding_id FROM finding_judgement WHERE set_id = ?1")?;
            let ids = st
                .query_map([set_id], |r| r.get::<_, i64>(0))?
                .collect::<rusqlite::Result<Vec<i64>>>()?;
            ids.into_iter()
                .filter(|id| given.binary_search(id).is_err())
                .collect()
        };
        if !stale.is_empty() {
            let mut del = tx.prepare("DELETE FROM finding_judgement WHERE finding_id = ?1")?;
            for id in stale {
                del.execute([id])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// One finding's cached judgement, if the set was judged for the workstation.
    pub fn judgement(&self, finding_id: i64) -> Result<Option<JudgementRow>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT finding_id, gate, disposition, reason, epss, kev FROM finding_judgement WHERE finding_id = ?1",
                [finding_id],
                |r| {
                    Ok(JudgementRow {
                        finding_id: r.get(0)?,
                        gate: r.get(1)?,
                        disposition: r.get(2)?,
                        reason: r.get(3)?,
                        epss: r.get(4)?,
                        kev: r.get(5)?,
                    })
                },
            )
            .optional()?)
    }
}
