//! Writing the formats derived from the package model (PDF, VEX, POA&M) on worker threads:
//! the model is read-only by then, so the formats run side by side on every core while the
//! calling thread only relays their progress; files are reported in the requested order.

use super::{write_atomic, write_atomic_with, write_streamed, ExportError, ExportProgress};
use super::{ExportRequest, WrittenFile};
use crate::export::{self, files, pdf, ExportFormat, Package};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Mutex};

/// Longest first, so the slowest format never starts last (2 cores, measured on the
/// 50-image package: XLSX ~2x the PDF, which is ~2x each of the others).
/// One format's result with its place in the requested order.
type Outcome = (usize, Result<Option<WrittenFile>, ExportError>);

fn cost_rank(f: ExportFormat) -> u8 {
    match f {
        ExportFormat::PoamXlsx => 0,
        ExportFormat::Pdf => 1,
        ExportFormat::OpenVex => 2,
        ExportFormat::PoamCsv => 3,
        ExportFormat::CycloneDxVex => 4,
        ExportFormat::Json => 5,
    }
}

fn write_one(
    pkg: &Package,
    req: &ExportRequest,
    f: ExportFormat,
    package_sha256: &str,
    when: chrono::DateTime<chrono::Utc>,
    say: &mut dyn FnMut(&str, usize, usize),
) -> Result<Option<WrittenFile>, ExportError> {
    let dir = req.out_dir.as_path();
    Ok(Some(match f {
        ExportFormat::Json => return Ok(None),
        ExportFormat::Pdf => {
            let opts = pdf::PdfOptions {
                package_sha256: package_sha256.to_string(),
                all_findings: req.all_findings,
            };
            let bytes = pdf::render(pkg, &opts, &mut |p, d, t| say(p, d, t))?;
            write_atomic(dir, files::PDF, &bytes)?
        }
        ExportFormat::OpenVex => {
            write_streamed(dir, files::OPENVEX, |w| export::openvex::write(pkg, w))?
        }
        ExportFormat::CycloneDxVex => write_streamed(dir, files::CDX_VEX, |w| {
            let v = export::cyclonedx_vex::SpecVersion::V1_6;
            export::cyclonedx_vex::write(pkg, v, w)
        })?,
        ExportFormat::PoamCsv => write_atomic_with(dir, files::POAM_CSV, &mut |w| {
            export::poam::write_csv(pkg, when.date_naive(), w).map_err(|e| {
                if let csv::ErrorKind::Io(_) = e.kind() {
                    let path = dir.join(files::POAM_CSV);
                    match e.into_kind() {
                        csv::ErrorKind::Io(source) => ExportError::Io { path, source },
                        k => ExportError::Csv(format!("{k:?}")),
                    }
                } else {
                    ExportError::Csv(e.to_string())
                }
            })
        })?,
        ExportFormat::PoamXlsx => {
            let b = export::poam_xlsx::render(pkg, when)?;
            write_atomic(dir, files::POAM_XLSX, &b)?
        }
    }))
}

/// Writes every requested format but JSON (already written: `package_sha256` is its hash)
/// with up to `available_parallelism` workers; `say` runs on the calling thread only.
pub(super) fn write_formats(
    pkg: &Package,
    req: &ExportRequest,
    package_sha256: &str,
    when: chrono::DateTime<chrono::Utc>,
    say: &mut dyn FnMut(&str, usize, usize),
) -> Result<Vec<WrittenFile>, ExportError> {
    let mut jobs: Vec<(usize, ExportFormat)> = req
        .formats
        .iter()
        .copied()
        .filter(|f| *f != ExportFormat::Json)
        .enumerate()
        .collect();
    jobs.sort_by_key(|(_, f)| cost_rank(*f));
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, jobs.len().max(1));
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Outcome>> = Mutex::new(Vec::new());
    let (tx, rx) = mpsc::channel::<ExportProgress>();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let tx = tx.clone();
            let (next, jobs, results) = (&next, &jobs, &results);
            scope.spawn(move || {
                while let Some(&(order, f)) = jobs.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let mut report = |phase: &str, done: usize, total: usize| {
                        let _ = tx.send(ExportProgress {
                            phase: phase.to_string(),
                            done,
                            total,
                        });
                    };
                    report(&format!("writing {f:?}"), 0, 1);
                    let r = write_one(pkg, req, f, package_sha256, when, &mut report);
                    report(&format!("written {f:?}"), 1, 1);
                    let failed = r.is_err();
                    if let Ok(mut v) = results.lock() {
                        v.push((order, r));
                    }
                    if failed {
                        // Let the other workers stop after their current format.
                        next.store(jobs.len(), Ordering::Relaxed);
                        break;
                    }
                }
            });
        }
        drop(tx);
        // Ends when every worker has dropped its sender, i.e. finished.
        for p in rx {
            say(&p.phase, p.done, p.total);
        }
    });
    let mut done = results.into_inner().unwrap_or_else(|p| p.into_inner());
    done.sort_by_key(|(order, _)| *order);
    let mut out = Vec::with_capacity(done.len());
    for (_, r) in done {
        if let Some(w) = r? {
            out.push(w);
        }
    }
    Ok(out)
}
