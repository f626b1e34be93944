//! Building the export model from the store: sets, evidence inventory, scanners, findings,
//! and (where those areas provide them) verdicts, gate classes, dispositions, waivers,
//! verification results and checks. Missing areas stay `None` / `not evaluated`, never faked.

use super::{ExportError, Selection, EXPORT_ACTION};
use crate::analysis::waiver_eval::TrustedKey;
use crate::export::model::*;
use crate::store::{EvidenceFileRow, FindingRow, SetRow, Store};

pub struct BuildContext {
    pub generated_at: chrono::DateTime<chrono::Utc>,
    /// The date waivers, staleness and the verdict are evaluated at.
    pub as_of: chrono::NaiveDate,
    pub policy: crate::analysis::policy::Policy,
    pub reviewer: Reviewer,
    pub classification: String,
}

fn parse_time(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    use chrono::TimeZone;
    if let Ok(d) = chrono::DateTime::parse_from_rfc3339(s.trim()) {
        return Some(d.with_timezone(&chrono::Utc));
    }
    let day = s.trim().get(..10)?;
    let d = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()?;
    Some(chrono::Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0)?))
}

fn scanners(files: &[EvidenceFileRow]) -> Vec<ScannerInfo> {
    let mut out: Vec<ScannerInfo> = files
        .iter()
        .filter_map(|f| {
            let scanner = f.scanner.clone()?;
            let age = match (
                f.db_built.as_deref().and_then(parse_time),
                f.scanned_at.as_deref().and_then(parse_time),
            ) {
                (Some(b), Some(s)) => Some((s - b).num_days()),
                _ => None,
            };
            Some(ScannerInfo {
                scanner,
                version: f.scanner_version.clone(),
                db_built: f.db_built.clone(),
                scanned_at: f.scanned_at.clone(),
                db_age_days: age,
                file: f.path.clone(),
            })
        })
        .collect();
    out.sort();
    out
}

fn finding_item(f: FindingRow) -> FindingItem {
    FindingItem {
        vuln_id: f.vuln_id,
        aliases: f.aliases,
        component_key: f.component_key,
        purl: f.purl,
        name: f.name,
        version: f.version,
        severity: f.severity.as_str().to_string(),
        direct: f.direct,
        fixed_versions: f.fixed_versions,
        fix_state: f.fix_state,
        cvss_v3_score: f.cvss_v3_score,
        epss: f.epss,
        kev: f.kev,
        scanners: f.scanners,
        title: f.title,
        gate: NOT_EVALUATED.into(),
        gate_reason: None,
        disposition: "open".into(),
        justification: None,
        note: None,
        decided_by: None,
        decided_at: None,
        waiver: None,
    }
}

fn set_export(
    store: &Store,
    s: &SetRow,
    ctx: &BuildContext,
    trusted: &Result<Vec<TrustedKey>, String>,
    phase: &mut dyn FnMut(&str),
) -> Result<SetExport, ExportError> {
    phase("reading findings");
    let files = store.set_files(s.id)?;
    let mut evidence: Vec<EvidenceItem> = files
        .iter()
        .map(|f| EvidenceItem {
            path: f.path.clone(),
            format: f.format.clone(),
            spec_version: f.spec_version.clone(),
            status: f.status.clone(),
            message: f.message.clone(),
            sha256: f.sha256.clone(),
            size: f.size,
            stored: f.stored,
        })
        .collect();
    evidence.sort();
    let mut rows = store.findings(s.id)?;
    rows.sort_by(|a, b| {
        (b.severity as u8)
            .cmp(&(a.severity as u8))
            .then_with(|| a.vuln_id.cmp(&b.vuln_id))
            .then_with(|| a.component_key.cmp(&b.component_key))
    });
    let ids: Vec<i64> = rows.iter().map(|f| f.id).collect();
    let findings: Vec<FindingItem> = rows.into_iter().map(finding_item).collect();
    let counts = count(&findings);
    let stig = super::decisions::stig(store, &evidence)?;
    let mut set = SetExport {
        id: s.id,
        image: s.image.clone(),
        repository: s.repository.clone(),
        digest: s.digest.clone(),
        verdict: Verdict::not_evaluated(
            "the scan-gate policy has not been evaluated for this image",
        ),
        evidence,
        verification: super::decisions::verification(store, s.id)?,
        checks: None,
        scanners: scanners(&files),
        counts,
        findings,
        waivers: None,
        stig,
    };
    phase("judging");
    super::decisions::apply_judgement(store, &mut set, &ids, &ctx.policy, ctx.as_of, trusted)?;
    Ok(set)
}

/// Every set's export. With more than one set and a store on disk, a helper thread with its
/// own connection builds every second set while this thread builds the others (reading and
/// judging a set is one core's work; the model is the same either way, sorted by id after).
fn build_sets(
    store: &Store,
    rows: &[SetRow],
    ctx: &BuildContext,
    trusted: &Result<Vec<TrustedKey>, String>,
    phase: &mut dyn FnMut(&str),
) -> Result<Vec<SetExport>, ExportError> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let on_disk = store.path().is_file();
    if rows.len() < 2 || cores < 2 || !on_disk {
        return rows
            .iter()
            .map(|r| set_export(store, r, ctx, trusted, phase))
            .collect();
    }
    type Half<'a> = Vec<(usize, &'a SetRow)>;
    let (mine, theirs): (Half<'_>, Half<'_>) =
        rows.iter().enumerate().partition(|(i, _)| i % 2 == 0);
    let path = store.path().to_path_buf();
    std::thread::scope(|scope| {
        let helper = scope.spawn(move || -> Result<Vec<SetExport>, ExportError> {
            let own = Store::open(&path)?;
            theirs
                .iter()
                .map(|(_, r)| set_export(&own, r, ctx, trusted, &mut |_| {}))
                .collect()
        });
        let mut sets: Vec<SetExport> = Vec::with_capacity(rows.len());
        for (_, r) in &mine {
            sets.push(set_export(store, r, ctx, trusted, phase)?);
        }
        let helped = helper.join().map_err(|_| {
            ExportError::Usage("building the package: a worker thread failed".into())
        })??;
        sets.extend(helped);
        Ok(sets)
    })
}

/// The package verdict: the worst set verdict; `not evaluated` if any set is.
fn package_verdict(sets: &[SetExport]) -> Verdict {
    let unevaluated: Vec<String> = sets
        .iter()
        .filter(|s| !s.verdict.is_evaluated())
        .map(|s| format!("set {} is not evaluated", s.id))
        .collect();
    if sets.is_empty() {
        return Verdict::not_evaluated("the package has no evidence sets");
    }
    if !unevaluated.is_empty() {
        return Verdict {
            status: NOT_EVALUATED.into(),
            policy_sha256: None,
            as_of: None,
            reasons: unevaluated,
        };
    }
    let worst = sets
        .iter()
        .max_by_key(|s| s.verdict.rank())
        .map(|s| s.verdict.clone());
    let mut v = worst.unwrap_or_else(|| Verdict::not_evaluated("no sets"));
    v.reasons = sets
        .iter()
        .filter(|s| s.verdict.status != "PASS")
        .flat_map(|s| {
            s.verdict
                .reasons
                .iter()
                .map(move |r| format!("set {}: {r}", s.id))
        })
        .collect();
    v
}

/// The audit head as of the last decision: export entries are skipped, so exporting the same
/// decisions twice (e.g. with the same `--as-of`) gives the same package bytes.
fn decision_head(store: &Store) -> Result<String, ExportError> {
    let entries = store.audit_entries()?;
    Ok(entries
        .iter()
        .rev()
        .find(|e| e.action != EXPORT_ACTION)
        .map_or_else(
            || crate::store::audit::GENESIS.to_string(),
            |e| e.hash.clone(),
        ))
}

pub fn build_package(
    store: &Store,
    sel: &Selection,
    ctx: &BuildContext,
) -> Result<Package, ExportError> {
    build_package_with(store, sel, ctx, &mut |_| {})
}

/// `build_package`, naming each phase (per set: reading findings, judging) as it starts.
pub fn build_package_with(
    store: &Store,
    sel: &Selection,
    ctx: &BuildContext,
    phase: &mut dyn FnMut(&str),
) -> Result<Package, ExportError> {
    let (name, rows) = match sel {
        Selection::Package(p) => {
            let rows = store.package_sets(p)?;
            if rows.is_empty() {
                let known: Vec<String> = store
                    .list_sets()?
                    .into_iter()
                    .filter_map(|s| s.package)
                    .collect();
                let mut known: Vec<String> = known;
                known.sort();
                known.dedup();
                return Err(ExportError::Usage(format!(
                    "no package named '{p}' (known: {})",
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                )));
            }
            (p.clone(), rows)
        }
        Selection::Set(q) => {
            let id = store.resolve_set(q)?;
            let row = store.set(id)?;
            (format!("set-{id}"), vec![row])
        }
    };
    // Read once for the package; judging each set used to read (and parse) them again.
    let trusted = crate::workflow::judge::inputs::trusted_keys(store).map_err(|e| e.to_string());
    let mut sets = build_sets(store, &rows, ctx, &trusted, phase)?;
    sets.sort_by_key(|s| s.id);
    let verdict = package_verdict(&sets);
    Ok(Package {
        schema_version: SCHEMA_VERSION.into(),
        name,
        generated_at: ctx
            .generated_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        generator: Generator {
            name: "dossier".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        },
        classification: ctx.classification.clone(),
        reviewer: ctx.reviewer.clone(),
        verdict,
        audit_head: decision_head(store)?,
        sets,
    })
}
