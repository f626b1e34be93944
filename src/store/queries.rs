//! Read-only queries for listings and views: sets, files, components, findings (keyset
//! paged, so a million findings never sit in memory), and each finding's scanner views.

use super::{Result, Store, StoreError};
use rusqlite::{params, OptionalExtension, Row};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SetRow {
    pub id: i64,
    pub image: Option<String>,
    pub repository: Option<String>,
    pub digest: Option<String>,
    pub package: Option<String>,
    pub source: String,
    pub image_user: Option<String>,
    pub components: i64,
    pub findings: i64,
    pub imported_at: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct EvidenceFileRow {
    pub id: i64,
    pub path: String,
    pub sha256: String,
    pub size: i64,
    pub stored: bool,
    pub format: Option<String>,
    pub spec_version: Option<String>,
    pub status: String,
    pub message: Option<String>,
    pub named_digests: Vec<String>,
    pub doc_kind: Option<String>,
    pub scanner: Option<String>,
    pub scanner_version: Option<String>,
    pub db_built: Option<String>,
    pub scanned_at: Option<String>,
    pub imported_at: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ComponentRow {
    pub id: i64,
    pub key: String,
    pub purl: Option<String>,
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub version: Option<String>,
    pub licenses: Vec<String>,
    pub cpes: Vec<String>,
    pub locations: Vec<crate::model::Location>,
    pub direct: Option<bool>,
    pub in_sbom: bool,
    pub in_scan: bool,
    pub findings: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FindingRow {
    pub id: i64,
    pub set_id: i64,
    pub vuln_id: String,
    pub aliases: Vec<String>,
    pub component_key: String,
    pub purl: Option<String>,
    pub name: String,
    pub version: Option<String>,
    pub severity: crate::model::Severity,
    pub severity_disagrees: bool,
    pub cvss_v2_vector: Option<String>,
    pub cvss_v3_vector: Option<String>,
    pub cvss_v3_score: Option<f64>,
    pub cvss_v4_vector: Option<String>,
    pub epss: Option<f64>,
    pub epss_percentile: Option<f64>,
    pub epss_date: Option<String>,
    pub kev: Option<bool>,
    pub fixed_versions: Vec<String>,
    pub fix_state: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub direct: Option<bool>,
    pub scanners: Vec<String>,
    pub locations: Vec<crate::model::Location>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SourceRow {
    pub scanner: String,
    pub file: String,
    pub view: crate::model::ScannerView,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FindingSort {
    /// Severity (highest first), then id.
    #[default]
    Severity,
    Id,
    Component,
}

/// A page request: filters plus a keyset cursor (the last row of the previous page).
#[derive(Debug, Clone, Default)]
pub struct FindingQuery {
    /// Case-insensitive substring over id, aliases, component name and purl.
    pub text: Option<String>,
    /// Only these severities; empty = all.
    pub severities: Vec<crate::model::Severity>,
    pub sort: FindingSort,
    pub after: Option<FindingRow>,
    pub limit: Option<usize>,
}

fn json_vec<T: serde::de::DeserializeOwned>(s: Option<String>) -> Vec<T> {
    s.and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default()
}

const SET_COLS: &str = "s.id, s.image, s.repository, s.digest, p.name, s.source, s.image_user,
    (SELECT COUNT(*) FROM component c WHERE c.set_id = s.id),
    (SELECT COUNT(*) FROM finding f WHERE f.set_id = s.id), s.imported_at";

fn set_row(r: &Row<'_>) -> rusqlite::Result<SetRow> {
    Ok(SetRow {
        id: r.get(0)?,
        image: r.get(1)?,
        repository: r.get(2)?,
        digest: r.get(3)?,
        package: r.get(4)?,
        source: r.get(5)?,
        image_user: r.get(6)?,
        components: r.get(7)?,
        findings: r.get(8)?,
        imported_at: r.get(9)?,
    })
}

pub(super) const FINDING_COLS: &str = "f.id, f.set_id, f.vuln_id, f.aliases, f.component_key, c.purl, COALESCE(c.name, f.component_key), c.version,
    f.severity, f.severity_disagrees, f.cvss_v2_vector, f.cvss_v3_vector, f.cvss_v3_score, f.cvss_v4_vector,
    f.epss, f.epss_percentile, f.epss_date, f.kev, f.fixed_versions, f.fix_state, t.title, t.description,
    c.direct, f.scanners, c.locations, f.severity_rank";

/// What `FINDING_COLS` reads from: the narrow finding row, its component, and its long text
/// (kept in `finding_text` so scans of a set's findings stay small).
pub(super) const FINDING_FROM: &str = "FROM finding f
    LEFT JOIN component c ON c.set_id = f.set_id AND c.key = f.component_key
    LEFT JOIN finding_text t ON t.finding_id = f.id";

pub(super) fn finding_row(r: &Row<'_>) -> rusqlite::Result<FindingRow> {
    let sev: String = r.get(8)?;
    Ok(FindingRow {
        id: r.get(0)?,
        set_id: r.get(1)?,
        vuln_id: r.get(2)?,
        aliases: json_vec(r.get(3)?),
        component_key: r.get(4)?,
        purl: r.get(5)?,
        name: r.get(6)?,
        version: r.get(7)?,
        severity: crate::model::Severity::parse(&sev),
        severity_disagrees: r.get(9)?,
        cvss_v2_vector: r.get(10)?,
        cvss_v3_vector: r.get(11)?,
        cvss_v3_score: r.get(12)?,
        cvss_v4_vector: r.get(13)?,
        epss: r.get(14)?,
        epss_percentile: r.get(15)?,
        epss_date: r.get(16)?,
        kev: r.get(17)?,
        fixed_versions: json_vec(r.get(18)?),
        fix_state: r.get(19)?,
        title: r.get(20)?,
        description: r.get(21)?,
        direct: r.get(22)?,
        scanners: json_vec(r.get(23)?),
        locations: json_vec(r.get(24)?),
    })
}

impl Store {
    pub fn list_sets(&self) -> Result<Vec<SetRow>> {
        let sql = format!(
            "SELECT {SET_COLS} FROM evidence_set s LEFT JOIN package p ON p.id = s.package_id ORDER BY s.id"
        );
        let mut st = self.conn().prepare(&sql)?;
        let rows = st
            .query_map([], set_row)?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    pub fn set(&self, id: i64) -> Result<SetRow> {
        let sql = format!(
            "SELECT {SET_COLS} FROM evidence_set s LEFT JOIN package p ON p.id = s.package_id WHERE s.id = ?1"
        );
        self.conn()
            .query_row(&sql, [id], set_row)
            .optional()?
            .ok_or_else(|| StoreError::NoSuchSet(id.to_string()))
    }

    /// Sets of a package, by package name.
    pub fn package_sets(&self, package: &str) -> Result<Vec<SetRow>> {
        Ok(self
            .list_sets()?
            .into_iter()
            .filter(|s| s.package.as_deref() == Some(package))
            .collect())
    }

    /// Resolves SET: a numeric id, a unique digest prefix (with or without `sha256:`), or an
    /// image reference (exact, or its repository when only one set has it).
    pub fn resolve_set(&self, query: &str) -> Result<i64> {
        let q = query.trim();
        let sets = self.list_sets()?;
        if let Ok(id) = q.parse::<i64>() {
            if sets.iter().any(|s| s.id == id) {
                return Ok(id);
            }
        }
        let hex = q.strip_prefix("sha256:").unwrap_or(q).to_ascii_lowercase();
        let mut hits: Vec<&SetRow> = Vec::new();
        if hex.len() >= 4 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
            hits = sets
                .iter()
                .filter(|s| {
                    s.digest
                        .as_deref()
                        .is_some_and(|d| d.trim_start_matches("sha256:").starts_with(&hex))
                })
                .collect();
        }
        if hits.is_empty() {
            hits = sets
                .iter()
                .filter(|s| s.image.as_deref() == Some(q))
                .collect();
        }
        if hits.is_empty() {
            if let Some((_, dg)) = q.split_once('@') {
                hits = sets
                    .iter()
                    .filter(|s| s.digest.as_deref() == Some(dg))
                    .collect();
            }
        }
        if hits.is_empty() {
            hits = sets
                .iter()
                .filter(|s| s.repository.as_deref() == Some(q))
                .collect();
        }
        match hits.len() {
            0 => Err(StoreError::NoSuchSet(q.to_string())),
            1 => Ok(hits[0].id),
            _ => Err(StoreError::AmbiguousSet {
                query: q.to_string(),
                candidates: hits
                    .iter()
                    .map(|s| s.id.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        }
    }

    pub fn set_files(&self, set_id: i64) -> Result<Vec<EvidenceFileRow>> {
        let mut st = self.conn().prepare(
            "SELECT id, path, sha256, size, stored, format, spec_version, status, message, named_digests, doc_kind,
                    scanner, scanner_version, db_built, scanned_at, imported_at
             FROM evidence_file WHERE set_id = ?1 ORDER BY path, id",
        )?;
        let rows = st
            .query_map([set_id], |r| {
                Ok(EvidenceFileRow {
                    id: r.get(0)?,
                    path: r.get(1)?,
                    sha256: r.get(2)?,
                    size: r.get(3)?,
                    stored: r.get(4)?,
                    format: r.get(5)?,
                    spec_version: r.get(6)?,
                    status: r.get(7)?,
                    message: r.get(8)?,
                    named_digests: json_vec(r.get(9)?),
                    doc_kind: r.get(10)?,
                    scanner: r.get(11)?,
                    scanner_version: r.get(12)?,
                    db_built: r.get(13)?,
                    scanned_at: r.get(14)?,
                    imported_at: r.get(15)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    pub fn components(&self, set_id: i64) -> Result<Vec<ComponentRow>> {
        let mut st = self.conn().prepare(
            "SELECT c.id, c.key, c.purl, c.type, c.name, c.version, c.licenses, c.cpes, c.locations, c.direct,
                    c.in_sbom, c.in_scan,
                    (SELECT COUNT(*) FROM finding f WHERE f.set_id = c.set_id AND f.component_key = c.key)
             FROM component c WHERE c.set_id = ?1 ORDER BY c.name, c.version, c.key",
        )?;
        let rows = st
            .query_map([set_id], |r| {
                Ok(ComponentRow {
                    id: r.get(0)?,
                    key: r.get(1)?,
                    purl: r.get(2)?,
                    kind: r.get(3)?,
                    name: r.get(4)?,
                    version: r.get(5)?,
                    licenses: json_vec(r.get(6)?),
                    cpes: json_vec(r.get(7)?),
                    locations: json_vec(r.get(8)?),
                    direct: r.get(9)?,
                    in_sbom: r.get(10)?,
                    in_scan: r.get(11)?,
                    findings: r.get(12)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// Dependency edges of a set as component keys (`@subject` is the image).
    pub fn dependencies(&self, set_id: i64) -> Result<Vec<(String, String)>> {
        let mut st = self.conn().prepare(
            "SELECT from_key, to_key FROM dependency WHERE set_id = ?1 ORDER BY from_key, to_key",
        )?;
        let rows = st
            .query_map([set_id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// Every finding of a set, in severity order. For analysis and export.
    pub fn findings(&self, set_id: i64) -> Result<Vec<FindingRow>> {
        self.findings_page(set_id, &FindingQuery::default())
    }

    pub fn finding(&self, finding_id: i64) -> Result<FindingRow> {
        let sql = format!(
            "SELECT {FINDING_COLS} {FINDING_FROM}
             WHERE f.id = ?1"
        );
        self.conn()
            .query_row(&sql, [finding_id], finding_row)
            .optional()?
            .ok_or_else(|| StoreError::Invalid(format!("no finding with id {finding_id}")))
    }

    /// One page of findings, keyset-paged (never OFFSET) so deep pages stay fast.
    pub fn findings_page(&self, set_id: i64, q: &FindingQuery) -> Result<Vec<FindingRow>> {
        let mut sql = format!(
            "SELECT {FINDING_COLS} {FINDING_FROM}
             WHERE f.set_id = ?1"
        );
        let mut args: Vec<rusqlite::types::Value> = vec![set_id.into()];
        if let Some(t) = q.text.as_deref().filter(|t| !t.is_empty()) {
            args.push(
                format!(
                    "%{}%",
                    t.replace('\\', "\\\\")
                        .replace('%', "\\%")
                        .replace('_', "\\_")
                )
                .into(),
            );
            let n = args.len();
            sql.push_str(&format!(
                " AND (f.vuln_id LIKE ?{n} ESCAPE '\\' OR f.aliases LIKE ?{n} ESCAPE '\\' OR f.component_key LIKE ?{n} ESCAPE '\\' OR c.name LIKE ?{n} ESCAPE '\\')"
            ));
        }
        if !q.severities.is_empty() {
            let list: Vec<String> = q
                .severities
                .iter()
                .map(|s| (*s as i64).to_string())
                .collect();
            sql.push_str(&format!(" AND f.severity_rank IN ({})", list.join(",")));
        }
        let (order, keyset) = match q.sort {
            FindingSort::Severity => (
                "f.severity_rank DESC, f.vuln_id, f.id",
                "(-f.severity_rank, f.vuln_id, f.id) > (?A, ?B, ?C)",
            ),
            FindingSort::Id => ("f.vuln_id, f.id", "(f.vuln_id, f.id) > (?B, ?C)"),
            FindingSort::Component => (
                "f.component_key, f.vuln_id, f.id",
                "(f.component_key, f.vuln_id, f.id) > (?D, ?B, ?C)",
            ),
        };
        if let Some(a) = &q.after {
            let base = args.len();
            args.push((-(a.severity as i64)).into());
            args.push(a.vuln_id.clone().into());
            args.push(a.id.into());
            args.push(a.component_key.clone().into());
            let k = keyset
                .replace("?A", &format!("?{}", base + 1))
                .replace("?B", &format!("?{}", base + 2))
                .replace("?C", &format!("?{}", base + 3))
                .replace("?D", &format!("?{}", base + 4));
            sql.push_str(&format!(" AND {k}"));
        }
        sql.push_str(&format!(" ORDER BY {order}"));
        if let Some(l) = q.limit {
            sql.push_str(&format!(" LIMIT {l}"));
        }
        let mut st = self.conn().prepare(&sql)?;
        let rows = st
            .query_map(rusqlite::params_from_iter(args.iter()), finding_row)?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// The scanner views of a finding, each exactly as imported (the title and description
    /// a stored view leaves to `finding_text` are put back; views in chunks are inflated).
    pub fn finding_sources(&self, finding_id: i64) -> Result<Vec<SourceRow>> {
        type Raw = (
            String,
            String,
            Option<String>,
            super::view_chunks::ChunkCols,
            Option<String>,
            Option<String>,
        );
        let mut st = self.conn().prepare(
            "SELECT s.scanner, e.path, s.view, s.chunk_id, s.chunk_at, s.chunk_len, t.title, t.description
             FROM finding_source s JOIN evidence_file e ON e.id = s.file_id
             LEFT JOIN finding_text t ON t.finding_id = s.finding_id
             WHERE s.finding_id = ?1 ORDER BY s.scanner, e.path",
        )?;
        let raw: Vec<Raw> = st
            .query_map(params![finding_id], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    (r.get(3)?, r.get(4)?, r.get(5)?),
                    r.get(6)?,
                    r.get(7)?,
                ))
            })?
            .collect::<rusqlite::Result<_>>()?;
        let mut chunks = super::view_chunks::ChunkReader::default();
        raw.into_iter()
            .map(|(scanner, file, view, chunk, title, description)| {
                let v = chunks.text(self.conn(), view, chunk)?;
                Ok(SourceRow {
                    scanner,
                    file,
                    view: super::stored_view::restore(&v, title.as_deref(), description.as_deref()),
                })
            })
            .collect()
    }
}
