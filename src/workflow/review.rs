//! Review use-cases: find the finding a reviewer means, record its disposition (one
//! audited transaction, history appended, never overwritten), and prove the audit chain.
//! No printing: the CLI and the TUI present what these return.

use super::Actor;
use crate::model::waiver::{DispositionState, VexJustification};
use crate::store::audit::{entry_hash, GENESIS};
use crate::store::review::{self as rs, DispositionRow, DispositionWrite};
use crate::store::{FindingRow, Store, StoreError};
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("set {set}: no finding {vuln}{}", .component.as_ref().map(|c| format!(" on component '{c}'")).unwrap_or_default())]
    NoFinding {
        set: i64,
        vuln: String,
        component: Option<String>,
    },
    #[error("{vuln} is on {} components; name one with --component:\n  {}", .candidates.len(), .candidates.join("\n  "))]
    Ambiguous {
        vuln: String,
        candidates: Vec<String>,
    },
    #[error("{0}")]
    Invalid(String),
}

/// Finds a set's finding by vulnerability id (or alias) and, where several components
/// carry it, by component (key, purl, name, or name@version).
pub fn find_finding(
    store: &Store,
    set_id: i64,
    vuln: &str,
    component: Option<&str>,
) -> Result<FindingRow, ReviewError> {
    let v = vuln.trim();
    let hits: Vec<FindingRow> = store
        .findings(set_id)?
        .into_iter()
        .filter(|f| {
            f.vuln_id.eq_ignore_ascii_case(v) || f.aliases.iter().any(|a| a.eq_ignore_ascii_case(v))
        })
        .collect();
    let hits: Vec<FindingRow> = match component.map(str::trim).filter(|c| !c.is_empty()) {
        None => hits,
        Some(c) => hits
            .into_iter()
            .filter(|f| component_matches(f, c))
            .collect(),
    };
    match hits.len() {
        0 => Err(ReviewError::NoFinding {
            set: set_id,
            vuln: v.to_string(),
            component: component.map(str::to_string),
        }),
        1 => Ok(hits
            .into_iter()
            .next()
            .ok_or_else(|| ReviewError::Invalid("unreachable".into()))?),
        _ => Err(ReviewError::Ambiguous {
            vuln: v.to_string(),
            candidates: hits
                .iter()
                .map(|f| crate::sanitize::line(&f.component_key, 200))
                .collect(),
        }),
    }
}

fn component_matches(f: &FindingRow, c: &str) -> bool {
    let name_ver = f.version.as_ref().map(|v| format!("{}@{v}", f.name));
    f.component_key == c
        || f.purl.as_deref() == Some(c)
        || f.name == c
        || name_ver.as_deref() == Some(c)
        || crate::model::normalize_purl(c).as_deref() == Some(f.component_key.as_str())
}

#[derive(Debug, Clone, Default)]
pub struct DispositionInput {
    pub state: Option<DispositionState>,
    pub justification: Option<VexJustification>,
    pub note: Option<String>,
    /// For `waived`: the waiver document id that covers the finding.
    pub waiver_id: Option<String>,
}

/// Parses the words a reviewer typed, with errors that list the accepted words.
pub fn parse_input(
    state: &str,
    justification: Option<&str>,
    note: Option<&str>,
    waiver: Option<&str>,
) -> Result<DispositionInput, ReviewError> {
    let st = DispositionState::parse(state).ok_or_else(|| {
        ReviewError::Invalid(format!(
            "unknown state '{state}'; use one of: {}",
            DispositionState::words()
        ))
    })?;
    let just = match justification.map(str::trim).filter(|j| !j.is_empty()) {
        None => None,
        Some(j) => Some(VexJustification::parse(j).ok_or_else(|| {
            ReviewError::Invalid(format!(
                "unknown justification '{j}'; use one of: {}",
                VexJustification::words()
            ))
        })?),
    };
    Ok(DispositionInput {
        state: Some(st),
        justification: just,
        note: note.map(str::to_string),
        waiver_id: waiver.map(|w| w.trim().to_string()),
    })
}

/// Records a decision on one finding in one audited transaction and returns the new row.
pub fn set_disposition(
    store: &mut Store,
    actor: &Actor,
    finding: &FindingRow,
    input: &DispositionInput,
) -> Result<DispositionRow, ReviewError> {
    let state = input
        .state
        .ok_or_else(|| ReviewError::Invalid("a disposition needs a state".into()))?;
    match (state, input.justification) {
        (DispositionState::NotAffected, None) => {
            return Err(ReviewError::Invalid(format!(
                "not_affected needs a justification: one of {}",
                VexJustification::words()
            )))
        }
        (s, Some(_)) if s != DispositionState::NotAffected => {
            return Err(ReviewError::Invalid(format!(
                "a VEX justification applies to not_affected only, not {s}"
            )))
        }
        _ => {}
    }
    if state == DispositionState::Waived {
        let id = input.waiver_id.as_deref().ok_or_else(|| {
            ReviewError::Invalid(
                "waived needs the id of the waiver that covers it (--waiver ID)".into(),
            )
        })?;
        if store.waiver(id)?.is_none() {
            return Err(ReviewError::Invalid(format!(
                "no waiver with id '{id}' in the store"
            )));
        }
    }
    let set = store.set(finding.set_id)?;
    let previous = store
        .disposition_history(finding.set_id, &finding.vuln_id, &finding.component_key)?
        .pop()
        .map(|d| d.state.as_str());
    let label = actor.label();
    let target = format!(
        "set {} {} {}",
        finding.set_id, finding.vuln_id, finding.component_key
    );
    let details = serde_json::json!({
        "set": finding.set_id,
        "digest": set.digest,
        "vulnerability": finding.vuln_id,
        "component": finding.component_key,
        "state": state.as_str(),
        "previous": previous,
        "justification": input.justification.map(|j| j.as_str()),
        "note": input.note,
        "waiver": input.waiver_id,
        "key": actor.key_fingerprint,
    });
    let write = DispositionWrite {
        set_id: finding.set_id,
        vuln_id: &finding.vuln_id,
        component_key: &finding.component_key,
        state,
        justification: input.justification,
        note: input.note.as_deref(),
        waiver_id: input.waiver_id.as_deref(),
        actor: &actor.name,
        actor_role: actor.role.as_deref(),
        key_fingerprint: actor.key_fingerprint.as_deref(),
    };
    let id = with_retry(|| {
        store.audited(&label, "disposition", &target, |tx| {
            Ok((rs::insert_disposition(tx, &write)?, details.clone()))
        })
    })?;
    store
        .disposition_history(finding.set_id, &finding.vuln_id, &finding.component_key)?
        .into_iter()
        .find(|d| d.id == id)
        .ok_or_else(|| ReviewError::Invalid(format!("disposition {id} vanished after commit")))
}

/// The busy timeout covers waiting for another writer; a few retries cover the rare case
/// where SQLite gives up immediately (a stale WAL snapshot).
pub(crate) fn with_retry<T>(
    mut f: impl FnMut() -> crate::store::Result<T>,
) -> crate::store::Result<T> {
    let mut tries = 0;
    loop {
        match f() {
            Err(StoreError::Busy(_)) if tries < 5 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(50 * tries));
            }
            r => return r,
        }
    }
}

/// The result of walking the audit chain.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditVerification {
    pub entries: usize,
    /// The last entry's hash (GENESIS for an empty log): compare with an exported package
    /// to detect truncation, which no chain can show by itself.
    pub head: String,
    pub broken: Option<BrokenEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BrokenEntry {
    pub seq: i64,
    pub reason: String,
}

/// Recomputes every hash from the rows as stored and names the first entry that does not
/// follow from its predecessor (edited, inserted, deleted or reordered rows all show here).
pub fn verify_audit(store: &Store) -> Result<AuditVerification, ReviewError> {
    let rows = store.audit_raw()?;
    let mut prev = GENESIS.to_string();
    for (expected_seq, r) in (1i64..).zip(rows.iter()) {
        let seq = r.seq.unwrap_or(-r.rowid);
        let broken = |reason: String| AuditVerification {
            entries: rows.len(),
            head: rows
                .last()
                .and_then(|l| l.hash.clone())
                .unwrap_or_else(|| GENESIS.to_string()),
            broken: Some(BrokenEntry { seq, reason }),
        };
        if r.seq != Some(expected_seq) {
            return Ok(broken(format!(
                "sequence number is {seq}, expected {expected_seq} (a row was removed, added or renumbered)"
            )));
        }
        let (
            Some(at),
            Some(actor),
            Some(action),
            Some(target),
            Some(details),
            Some(prev_hash),
            Some(hash),
        ) = (
            &r.at,
            &r.actor,
            &r.action,
            &r.target,
            &r.details,
            &r.prev_hash,
            &r.hash,
        )
        else {
            return Ok(broken("a column holds a non-text value".into()));
        };
        if *prev_hash != prev {
            return Ok(broken(
                "prev_hash does not equal the previous entry's hash".into(),
            ));
        }
        let parsed: serde_json::Value = match serde_json::from_str(details) {
            Ok(v) => v,
            Err(e) => return Ok(broken(format!("details are not JSON: {e}"))),
        };
        let canon = serde_json_canonicalizer::to_string(&parsed).unwrap_or_default();
        if canon != *details {
            return Ok(broken(
                "details are not in the canonical form they were written in".into(),
            ));
        }
        let want = entry_hash(&prev, expected_seq, at, actor, action, target, &parsed);
        if want != *hash {
            return Ok(broken("hash does not match the entry's contents".into()));
        }
        prev = hash.clone();
    }
    Ok(AuditVerification {
        entries: rows.len(),
        head: prev,
        broken: None,
    })
}
