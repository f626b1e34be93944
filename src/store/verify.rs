//! SQL for the verify area: the trust store (`trusted_key`) and verification runs with
//! their per-signature results. Writers take the caller's transaction so the audit entry
//! lands with the change (`Store::audited`).

use super::{Result, Store};
use rusqlite::{params, OptionalExtension, Row};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustedKeyRow {
    pub id: i64,
    pub name: String,
    pub role: String,
    pub fingerprint: String,
    pub algorithm: String,
    /// `public-key` or `certificate`.
    pub kind: String,
    /// SPKI DER, or the certificate DER.
    #[serde(skip)]
    pub der: Vec<u8>,
    pub pem: String,
    pub subject: Option<String>,
    pub source: Option<String>,
    pub added_at: String,
    /// trusted_root.json `validFor` window (Unix seconds); `None` = unbounded on that side.
    pub valid_from: Option<i64>,
    pub valid_until: Option<i64>,
}

/// A trust-store entry to add.
#[derive(Debug, Clone)]
pub struct NewTrustedKey {
    pub name: String,
    pub role: String,
    pub fingerprint: String,
    pub algorithm: String,
    pub kind: String,
    pub der: Vec<u8>,
    pub pem: String,
    pub subject: Option<String>,
    pub source: Option<String>,
    pub valid_from: Option<i64>,
    pub valid_until: Option<i64>,
}

/// One stored signature result (strings as in `dossier verify --json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerificationResultRow {
    pub kind: String,
    pub file: String,
    pub key_fingerprint: Option<String>,
    pub key_name: Option<String>,
    pub subject_digest: Option<String>,
    pub predicate_type: Option<String>,
    pub outcome: String,
    pub tlog: String,
    pub detail: String,
    pub sbom_file: Option<String>,
    pub integrated_time: Option<i64>,
    /// Certificate signatures: `verified | absent | invalid | not-checked`.
    pub sct: Option<String>,
}

/// The latest verification of a set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerificationRun {
    pub id: i64,
    pub set_id: i64,
    pub run_at: String,
    pub trust_hash: String,
    pub actor: String,
    /// The policy whose signature rules applied (`name sha256:<hex>`); `None` for runs
    /// stored before policies were recorded.
    pub policy: Option<String>,
    /// Keys and certificates found in the evidence (JSON, see `analysis::verify::EvidenceKey`).
    pub evidence_keys: serde_json::Value,
    pub results: Vec<VerificationResultRow>,
}

const KEY_COLS: &str = "id, name, role, fingerprint, algorithm, kind, der, pem, subject, source, added_at, valid_from, valid_until";

fn key_row(r: &Row<'_>) -> rusqlite::Result<TrustedKeyRow> {
    Ok(TrustedKeyRow {
        id: r.get(0)?,
        name: r.get(1)?,
        role: r.get(2)?,
        fingerprint: r.get(3)?,
        algorithm: r.get(4)?,
        kind: r.get(5)?,
        der: r.get(6)?,
        pem: r.get(7)?,
        subject: r.get(8)?,
        source: r.get(9)?,
        added_at: r.get(10)?,
        valid_from: r.get(11)?,
        valid_until: r.get(12)?,
    })
}

impl Store {
    /// Trusted keys and roots, all or of one role, by id.
    pub fn trusted_keys(&self, role: Option<&str>) -> Result<Vec<TrustedKeyRow>> {
        let mut st = self.conn().prepare(&format!(
            "SELECT {KEY_COLS} FROM trusted_key WHERE ?1 IS NULL OR role = ?1 ORDER BY id"
        ))?;
        let rows = st
            .query_map([role], key_row)?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// The latest verification run of a set with its results, if the set was ever verified.
    pub fn verification_results(&self, set_id: i64) -> Result<Option<VerificationRun>> {
        let run = self
            .conn()
            .query_row(
                "SELECT id, set_id, run_at, trust_hash, actor, evidence_keys, policy FROM verification_run
                 WHERE set_id = ?1 ORDER BY id DESC LIMIT 1",
                [set_id],
                |r| {
                    let ek: String = r.get(5)?;
                    Ok(VerificationRun {
                        id: r.get(0)?,
                        set_id: r.get(1)?,
                        run_at: r.get(2)?,
                        trust_hash: r.get(3)?,
                        actor: r.get(4)?,
                        policy: r.get(6)?,
                        evidence_keys: serde_json::from_str(&ek).unwrap_or(serde_json::Value::Null),
                        results: Vec::new(),
                    })
                },
            )
            .optional()?;
        let Some(mut run) = run else { return Ok(None) };
        let mut st = self.conn().prepare(
            "SELECT kind, file, key_fingerprint, key_name, subject_digest, predicate_type, outcome, tlog, detail,
                    sbom_file, integrated_time, sct
             FROM verification_result WHERE run_id = ?1 ORDER BY seq",
        )?;
        run.results = st
            .query_map([run.id], |r| {
                Ok(VerificationResultRow {
                    kind: r.get(0)?,
                    file: r.get(1)?,
                    key_fingerprint: r.get(2)?,
                    key_name: r.get(3)?,
                    subject_digest: r.get(4)?,
                    predicate_type: r.get(5)?,
                    outcome: r.get(6)?,
                    tlog: r.get(7)?,
                    detail: r.get(8)?,
                    sbom_file: r.get(9)?,
                    integrated_time: r.get(10)?,
                    sct: r.get(11)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(Some(run))
    }
}

/// Adds an entry; `None` when the same key is already trusted in that role.
pub fn insert_trusted_key(
    tx: &rusqlite::Transaction<'_>,
    k: &NewTrustedKey,
) -> Result<Option<i64>> {
    let n = tx.execute(
        "INSERT INTO trusted_key(name, role, fingerprint, algorithm, kind, der, pem, subject, source, added_at, valid_from, valid_until)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) ON CONFLICT(fingerprint, role) DO NOTHING",
        params![k.name, k.role, k.fingerprint, k.algorithm, k.kind, k.der, k.pem, k.subject, k.source, super::now_utc(), k.valid_from, k.valid_until],
    )?;
    Ok((n == 1).then(|| tx.last_insert_rowid()))
}

pub fn trusted_key_in(tx: &rusqlite::Transaction<'_>, id: i64) -> Result<Option<TrustedKeyRow>> {
    Ok(tx
        .query_row(
            &format!("SELECT {KEY_COLS} FROM trusted_key WHERE id = ?1"),
            [id],
            key_row,
        )
        .optional()?)
}

/// Removes an entry; returns what was removed.
pub fn delete_trusted_key(
    tx: &rusqlite::Transaction<'_>,
    id: i64,
) -> Result<Option<TrustedKeyRow>> {
    let row = trusted_key_in(tx, id)?;
    if row.is_some() {
        tx.execute("DELETE FROM trusted_key WHERE id = ?1", [id])?;
    }
    Ok(row)
}

/// One verification run to store.
pub struct NewRun<'a> {
    pub set_id: i64,
    pub run_at: &'a str,
    pub trust_hash: &'a str,
    pub actor: &'a str,
    pub policy: &'a str,
    pub evidence_keys: &'a serde_json::Value,
}

/// Stores one verification run and its results; returns the run id.
pub fn insert_run(
    tx: &rusqlite::Transaction<'_>,
    run: &NewRun<'_>,
    results: &[VerificationResultRow],
) -> Result<i64> {
    tx.execute(
        "INSERT INTO verification_run(set_id, run_at, trust_hash, actor, evidence_keys, policy) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![run.set_id, run.run_at, run.trust_hash, run.actor, run.evidence_keys.to_string(), run.policy],
    )?;
    let run = tx.last_insert_rowid();
    let mut st = tx.prepare(
        "INSERT INTO verification_result(run_id, seq, kind, file, key_fingerprint, key_name, subject_digest, predicate_type,
            outcome, tlog, detail, sbom_file, integrated_time, sct) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    )?;
    for (i, r) in results.iter().enumerate() {
        st.execute(params![
            run,
            i as i64,
            r.kind,
            r.file,
            r.key_fingerprint,
            r.key_name,
            r.subject_digest,
            r.predicate_type,
            r.outcome,
            r.tlog,
            r.detail,
            r.sbom_file,
            r.integrated_time,
            r.sct
        ])?;
    }
    Ok(run)
}
