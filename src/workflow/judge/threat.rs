//! `threat import`: a FIRST EPSS CSV or the CISA KEV catalog replaces the stored data of its
//! kind in one audited transaction, keeping the file's hash and the dates it is valid for.

use super::JudgeError;
use crate::analysis::threat::{parse_threat, ThreatData};
use crate::store::judge::{replace_epss, replace_kev, KevWrite, ThreatSource};
use crate::store::Store;
use crate::workflow::Actor;
use sha2::{Digest, Sha256};
use std::path::Path;

/// Largest threat file read (the real EPSS dump is about 2 MB gzipped, 8 MB plain).
const MAX_FILE: u64 = 256 * 1024 * 1024;

pub fn import_threat(
    store: &mut Store,
    path: &Path,
    actor: &Actor,
) -> Result<ThreatSource, JudgeError> {
    let name = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|e| JudgeError::Input(format!("{name}: {e}")))?;
    if meta.len() > MAX_FILE {
        return Err(JudgeError::Input(format!(
            "{name}: {} bytes is over the {MAX_FILE} byte limit",
            meta.len()
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| JudgeError::Input(format!("{name}: {e}")))?;
    let data = parse_threat(&name, &bytes).map_err(|e| JudgeError::Input(e.to_string()))?;
    let sha = hex::encode(Sha256::digest(&bytes));
    let now = crate::store::now_utc();
    let src = match &data {
        ThreatData::Epss(e) => ThreatSource {
            kind: "epss".into(),
            file: name.clone(),
            sha256: sha,
            version: e.model_version.clone(),
            data_date: e.score_date.clone(),
            rows: e.rows.len() as i64,
            imported_at: now,
        },
        ThreatData::Kev(k) => ThreatSource {
            kind: "kev".into(),
            file: name.clone(),
            sha256: sha,
            version: k.catalog_version.clone(),
            data_date: k.date_released.clone(),
            rows: k.rows.len() as i64,
            imported_at: now,
        },
    };
    let details = serde_json::to_value(&src).unwrap_or_default();
    let out = src.clone();
    store.audited(
        &actor.label(),
        "threat-import",
        &format!("threat:{}", src.kind),
        move |tx| {
            match data {
                ThreatData::Epss(e) => replace_epss(
                    tx,
                    &src,
                    e.rows.into_iter().map(|r| (r.cve, r.epss, r.percentile)),
                )?,
                ThreatData::Kev(k) => replace_kev(
                    tx,
                    &src,
                    k.rows.into_iter().map(|r| KevWrite {
                        cve: r.cve,
                        vendor_project: r.vendor_project,
                        product: r.product,
                        date_added: r.date_added,
                        due_date: r.due_date,
                        ransomware: r.ransomware,
                    }),
                )?,
            }
            Ok(((), details))
        },
    )?;
    Ok(out)
}
