//! The audit log's storage: append inside the caller's transaction, read back in order.
//! Each entry's hash covers the previous hash and the canonical (RFC 8785) entry, so any
//! edit, deletion or reordering breaks the chain from that row on.

use super::{Result, Store, StoreError};
use rusqlite::{params, OptionalExtension};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The hash before the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub details: serde_json::Value,
    pub prev_hash: String,
    pub hash: String,
}

/// sha256(prev_hash || JCS({seq, at, actor, action, target, details})), hex.
pub fn entry_hash(
    prev_hash: &str,
    seq: i64,
    at: &str,
    actor: &str,
    action: &str,
    target: &str,
    details: &serde_json::Value,
) -> String {
    let body = serde_json::json!({
        "seq": seq, "at": at, "actor": actor, "action": action, "target": target, "details": details,
    });
    let canon = serde_json_canonicalizer::to_string(&body).unwrap_or_default();
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    h.update(canon.as_bytes());
    hex::encode(h.finalize())
}

/// Appends an entry inside `tx` (the same transaction as the change it records).
pub fn append(
    tx: &rusqlite::Transaction<'_>,
    actor: &str,
    action: &str,
    target: &str,
    details: &serde_json::Value,
) -> Result<String> {
    let last: Option<(i64, String)> = tx
        .query_row(
            "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let (seq, prev) = match last {
        Some((s, h)) => (s + 1, h),
        None => (1, GENESIS.to_string()),
    };
    let at = super::now_utc();
    let canon_details: serde_json::Value = serde_json_canonicalizer::to_string(details)
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or(serde_json::Value::Null);
    let hash = entry_hash(&prev, seq, &at, actor, action, target, &canon_details);
    tx.execute(
        "INSERT INTO audit_log(seq, at, actor, action, target, details, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            seq,
            at,
            actor,
            action,
            target,
            serde_json_canonicalizer::to_string(&canon_details).map_err(|e| StoreError::Invalid(e.to_string()))?,
            prev,
            hash
        ],
    )?;
    Ok(hash)
}

impl Store {
    /// Every entry in sequence order (details parsed; an unparsable row keeps its text as a string).
    pub fn audit_entries(&self) -> Result<Vec<AuditEntry>> {
        let mut st = self
            .conn()
            .prepare("SELECT seq, at, actor, action, target, details, prev_hash, hash FROM audit_log ORDER BY seq")?;
        let rows = st
            .query_map([], |r| {
                let d: String = r.get(5)?;
                Ok(AuditEntry {
                    seq: r.get(0)?,
                    at: r.get(1)?,
                    actor: r.get(2)?,
                    action: r.get(3)?,
                    target: r.get(4)?,
                    details: serde_json::from_str(&d).unwrap_or(serde_json::Value::String(d)),
                    prev_hash: r.get(6)?,
                    hash: r.get(7)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// The newest entry's hash (GENESIS for an empty log).
    pub fn audit_head(&self) -> Result<String> {
        Ok(self
            .conn()
            .query_row(
                "SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()?
            .unwrap_or_else(|| GENESIS.to_string()))
    }

    /// Runs `f` in one IMMEDIATE transaction and appends its audit entry in the same one.
    /// The only way the review layer writes.
    pub fn audited<T>(
        &mut self,
        actor: &str,
        action: &str,
        target: &str,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<(T, serde_json::Value)>,
    ) -> Result<T> {
        let tx = self
            .conn_mut()
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let (out, details) = f(&tx)?;
        append(&tx, actor, action, target, &details)?;
        tx.commit()?;
        Ok(out)
    }
}
