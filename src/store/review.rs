//! SQL for review decisions: waivers (document + state) and dispositions (append-only
//! history, newest row wins). Writers take the caller's transaction so the workflow can
//! append the audit entry in the same one (`Store::audited`).

use super::{Result, Store, StoreError};
use crate::model::waiver::{DispositionState, VexJustification, Waiver, WaiverState};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WaiverRow {
    pub id: i64,
    pub waiver_id: String,
    /// The set the waiver was created from (None for imported waivers).
    pub set_id: Option<i64>,
    pub state: WaiverState,
    pub state_reason: Option<String>,
    pub signer_keyid: Option<String>,
    pub source_file: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub document: Waiver,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DispositionRow {
    pub id: i64,
    pub set_id: i64,
    pub vuln_id: String,
    pub component_key: String,
    pub state: DispositionState,
    pub justification: Option<VexJustification>,
    pub note: Option<String>,
    pub waiver_id: Option<String>,
    pub actor: String,
    pub actor_role: Option<String>,
    pub key_fingerprint: Option<String>,
    pub at: String,
}

/// One new disposition row (history is never rewritten).
#[derive(Debug, Clone)]
pub struct DispositionWrite<'a> {
    pub set_id: i64,
    pub vuln_id: &'a str,
    pub component_key: &'a str,
    pub state: DispositionState,
    pub justification: Option<VexJustification>,
    pub note: Option<&'a str>,
    pub waiver_id: Option<&'a str>,
    pub actor: &'a str,
    pub actor_role: Option<&'a str>,
    pub key_fingerprint: Option<&'a str>,
}

const WAIVER_COLS: &str =
    "id, waiver_id, set_id, state, state_reason, signer_keyid, source_file, created_at, updated_at, document";
const DISP_COLS: &str =
    "id, set_id, vuln_id, component_key, state, justification, note, waiver_id, actor, actor_role, key_fingerprint, at";

fn bad(what: &str, v: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        0,
        rusqlite::types::Type::Text,
        format!("unknown {what} '{v}' in the store").into(),
    )
}

fn waiver_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<WaiverRow> {
    let state: String = r.get(3)?;
    let doc: String = r.get(9)?;
    Ok(WaiverRow {
        id: r.get(0)?,
        waiver_id: r.get(1)?,
        set_id: r.get(2)?,
        state: WaiverState::parse(&state).ok_or_else(|| bad("waiver state", &state))?,
        state_reason: r.get(4)?,
        signer_keyid: r.get(5)?,
        source_file: r.get(6)?,
        created_at: r.get(7)?,
        updated_at: r.get(8)?,
        document: serde_json::from_str(&doc).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(9, rusqlite::types::Type::Text, Box::new(e))
        })?,
    })
}

fn disposition_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<DispositionRow> {
    let state: String = r.get(4)?;
    let just: Option<String> = r.get(5)?;
    Ok(DispositionRow {
        id: r.get(0)?,
        set_id: r.get(1)?,
        vuln_id: r.get(2)?,
        component_key: r.get(3)?,
        state: DispositionState::parse(&state).ok_or_else(|| bad("disposition state", &state))?,
        justification: match just {
            Some(j) => Some(VexJustification::parse(&j).ok_or_else(|| bad("justification", &j))?),
            None => None,
        },
        note: r.get(6)?,
        waiver_id: r.get(7)?,
        actor: r.get(8)?,
        actor_role: r.get(9)?,
        key_fingerprint: r.get(10)?,
        at: r.get(11)?,
    })
}

/// Inserts a waiver, or replaces the document and state of the one with the same id.
pub fn put_waiver(
    conn: &Connection,
    doc: &Waiver,
    set_id: Option<i64>,
    state: WaiverState,
    source_file: Option<&str>,
) -> Result<i64> {
    let json = doc
        .canonical_json()
        .map_err(|e| StoreError::Invalid(e.to_string()))?;
    let now = super::now_utc();
    let signer = doc.signature.as_ref().map(|s| s.keyid.clone());
    conn.execute(
        "INSERT INTO waiver(waiver_id, set_id, vulnerability, scope_image, scope_digest, scope_repository, scope_purl,
                            justification_type, expires, document, state, signer_keyid, source_file, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?14)
         ON CONFLICT(waiver_id) DO UPDATE SET
            set_id = COALESCE(excluded.set_id, waiver.set_id), vulnerability = excluded.vulnerability,
            scope_image = excluded.scope_image, scope_digest = excluded.scope_digest,
            scope_repository = excluded.scope_repository, scope_purl = excluded.scope_purl,
            justification_type = excluded.justification_type, expires = excluded.expires,
            document = excluded.document, state = excluded.state, state_reason = NULL,
            signer_keyid = excluded.signer_keyid,
            source_file = COALESCE(excluded.source_file, waiver.source_file), updated_at = excluded.updated_at",
        params![
            doc.id,
            set_id,
            doc.vulnerability,
            doc.scope.image,
            doc.scope_digest(),
            doc.scope.repository,
            doc.scope.purl,
            doc.justification.kind.as_str(),
            doc.expires,
            json,
            state.as_str(),
            signer,
            source_file,
            now
        ],
    )?;
    Ok(conn.query_row(
        "SELECT id FROM waiver WHERE waiver_id = ?1",
        [&doc.id],
        |r| r.get(0),
    )?)
}

pub fn set_waiver_state(
    conn: &Connection,
    waiver_id: &str,
    state: WaiverState,
    reason: Option<&str>,
) -> Result<()> {
    let n = conn.execute(
        "UPDATE waiver SET state = ?2, state_reason = ?3, updated_at = ?4 WHERE waiver_id = ?1",
        params![waiver_id, state.as_str(), reason, super::now_utc()],
    )?;
    if n == 0 {
        return Err(StoreError::Invalid(format!(
            "no waiver with id '{waiver_id}'"
        )));
    }
    Ok(())
}

pub fn waiver_by_id(conn: &Connection, waiver_id: &str) -> Result<Option<WaiverRow>> {
    Ok(conn
        .query_row(
            &format!("SELECT {WAIVER_COLS} FROM waiver WHERE waiver_id = ?1"),
            [waiver_id],
            waiver_row,
        )
        .optional()?)
}

pub fn insert_disposition(conn: &Connection, d: &DispositionWrite<'_>) -> Result<i64> {
    conn.execute(
        "INSERT INTO disposition(set_id, vuln_id, component_key, state, justification, note, waiver_id, actor,
                                 actor_role, key_fingerprint, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            d.set_id,
            d.vuln_id,
            d.component_key,
            d.state.as_str(),
            d.justification.map(|j| j.as_str()),
            d.note,
            d.waiver_id,
            d.actor,
            d.actor_role,
            d.key_fingerprint,
            super::now_utc()
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

/// The next free number for `W-<year>-<NNNN>` ids (call inside the writing transaction).
pub fn next_waiver_number(conn: &Connection, year: i32) -> Result<u32> {
    let prefix = format!("W-{year}-");
    let mut st = conn.prepare("SELECT waiver_id FROM waiver WHERE waiver_id LIKE ?1 || '%'")?;
    let ids: Vec<String> = st
        .query_map([&prefix], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let max = ids
        .iter()
        .filter_map(|i| i.strip_prefix(&prefix).and_then(|n| n.parse::<u32>().ok()))
        .max()
        .unwrap_or(0);
    Ok(max + 1)
}

/// An audit row exactly as stored, every column as text when it is text (a row edited
/// to hold another type shows as `None` there, which the verifier reports).
#[derive(Debug, Clone, PartialEq)]
pub struct RawAuditRow {
    pub rowid: i64,
    pub seq: Option<i64>,
    pub at: Option<String>,
    pub actor: Option<String>,
    pub action: Option<String>,
    pub target: Option<String>,
    pub details: Option<String>,
    pub prev_hash: Option<String>,
    pub hash: Option<String>,
}

impl Store {
    /// Every audit row in sequence order, untouched, for chain verification.
    pub fn audit_raw(&self) -> Result<Vec<RawAuditRow>> {
        use rusqlite::types::ValueRef;
        let mut st = self.conn().prepare(
            "SELECT rowid, seq, at, actor, action, target, details, prev_hash, hash FROM audit_log ORDER BY seq",
        )?;
        let rows = st
            .query_map([], |r| {
                let text = |i: usize| -> rusqlite::Result<Option<String>> {
                    Ok(match r.get_ref(i)? {
                        ValueRef::Text(t) => std::str::from_utf8(t).ok().map(str::to_string),
                        _ => None,
                    })
                };
                Ok(RawAuditRow {
                    rowid: r.get(0)?,
                    seq: match r.get_ref(1)? {
                        ValueRef::Integer(i) => Some(i),
                        _ => None,
                    },
                    at: text(2)?,
                    actor: text(3)?,
                    action: text(4)?,
                    target: text(5)?,
                    details: text(6)?,
                    prev_hash: text(7)?,
                    hash: text(8)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// Waivers that may apply to a set: scoped to its digest or its repository, or created
    /// from it. Whether one applies (state, signature, expiry, purl) is analysis's call.
    pub fn waivers(&self, set_id: i64) -> Result<Vec<WaiverRow>> {
        let set = self.set(set_id)?;
        let sql = format!(
            "SELECT {WAIVER_COLS} FROM waiver
             WHERE set_id = ?1 OR (?2 IS NOT NULL AND scope_digest = ?2) OR (?3 IS NOT NULL AND scope_repository = ?3)
             ORDER BY waiver_id"
        );
        let mut st = self.conn().prepare(&sql)?;
        let rows = st
            .query_map(params![set_id, set.digest, set.repository], waiver_row)?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    pub fn all_waivers(&self) -> Result<Vec<WaiverRow>> {
        let mut st = self.conn().prepare(&format!(
            "SELECT {WAIVER_COLS} FROM waiver ORDER BY waiver_id"
        ))?;
        let rows = st
            .query_map([], waiver_row)?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    pub fn waiver(&self, waiver_id: &str) -> Result<Option<WaiverRow>> {
        waiver_by_id(self.conn(), waiver_id)
    }

    /// The current disposition of every decided finding of a set (newest row per finding).
    pub fn dispositions(&self, set_id: i64) -> Result<Vec<DispositionRow>> {
        let sql = format!(
            "SELECT {DISP_COLS} FROM disposition d
             WHERE d.set_id = ?1 AND d.id = (SELECT MAX(id) FROM disposition x
                 WHERE x.set_id = d.set_id AND x.vuln_id = d.vuln_id AND x.component_key = d.component_key)
             ORDER BY vuln_id, component_key"
        );
        let mut st = self.conn().prepare(&sql)?;
        let rows = st
            .query_map([set_id], disposition_row)?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// Every decision ever recorded on one finding, oldest first.
    pub fn disposition_history(
        &self,
        set_id: i64,
        vuln_id: &str,
        component_key: &str,
    ) -> Result<Vec<DispositionRow>> {
        let sql = format!(
            "SELECT {DISP_COLS} FROM disposition WHERE set_id = ?1 AND vuln_id = ?2 AND component_key = ?3 ORDER BY id"
        );
        let mut st = self.conn().prepare(&sql)?;
        let rows = st
            .query_map(params![set_id, vuln_id, component_key], disposition_row)?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::waiver::parse_stream;

    fn store_with_set() -> (Store, i64) {
        let s = Store::open_in_memory().unwrap();
        s.conn()
            .execute(
                "INSERT INTO evidence_set(image, repository, digest, source, imported_at)
                 VALUES ('reg/app:1', 'reg/app', 'sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'x', 't')",
                [],
            )
            .unwrap();
        (s, 1)
    }

    fn waiver_yaml(id: &str, scope: &str) -> Waiver {
        let y = format!(
            "apiVersion: dossier/v1\nkind: Waiver\nid: {id}\nvulnerability: CVE-1\nscope:\n  {scope}\n\
             justification: {{type: compensating_control, text: t}}\nrequested_by: {{name: a}}\nexpires: 2030-01-01\n"
        );
        parse_stream("t", &y).unwrap().remove(0)
    }

    #[test]
    fn dispositions_keep_history_and_return_the_newest() {
        let (s, set) = store_with_set();
        let w = |state, note| DispositionWrite {
            set_id: set,
            vuln_id: "CVE-1",
            component_key: "pkg:deb/x@1",
            state,
            justification: None,
            note: Some(note),
            waiver_id: None,
            actor: "a",
            actor_role: None,
            key_fingerprint: None,
        };
        insert_disposition(s.conn(), &w(DispositionState::Open, "first")).unwrap();
        insert_disposition(s.conn(), &w(DispositionState::Patched, "second")).unwrap();
        let cur = s.dispositions(set).unwrap();
        assert_eq!(cur.len(), 1);
        assert_eq!(cur[0].state, DispositionState::Patched);
        assert_eq!(cur[0].note.as_deref(), Some("second"));
        let hist = s.disposition_history(set, "CVE-1", "pkg:deb/x@1").unwrap();
        assert_eq!(
            hist.iter()
                .map(|d| d.note.clone().unwrap())
                .collect::<Vec<_>>(),
            ["first", "second"]
        );
    }

    #[test]
    fn waivers_match_by_digest_repository_or_origin() {
        let (s, set) = store_with_set();
        put_waiver(
            s.conn(),
            &waiver_yaml("W-1", &format!("image: reg/app@sha256:{}", "a".repeat(64))),
            None,
            WaiverState::Pending,
            None,
        )
        .unwrap();
        put_waiver(
            s.conn(),
            &waiver_yaml("W-2", "repository: reg/app"),
            None,
            WaiverState::Signed,
            None,
        )
        .unwrap();
        put_waiver(
            s.conn(),
            &waiver_yaml("W-3", "repository: reg/other"),
            None,
            WaiverState::Signed,
            None,
        )
        .unwrap();
        put_waiver(
            s.conn(),
            &waiver_yaml("W-4", "repository: reg/other"),
            Some(set),
            WaiverState::Pending,
            None,
        )
        .unwrap();
        let ids: Vec<String> = s
            .waivers(set)
            .unwrap()
            .into_iter()
            .map(|w| w.waiver_id)
            .collect();
        assert_eq!(ids, ["W-1", "W-2", "W-4"]);
        set_waiver_state(
            s.conn(),
            "W-2",
            WaiverState::Revoked,
            Some("no longer needed"),
        )
        .unwrap();
        let w2 = s.waiver("W-2").unwrap().unwrap();
        assert_eq!(w2.state, WaiverState::Revoked);
        assert_eq!(w2.state_reason.as_deref(), Some("no longer needed"));
        assert!(set_waiver_state(s.conn(), "W-9", WaiverState::Revoked, None).is_err());
    }
}
