//! Slow work off the UI thread. The app queues `Job`s; a runner executes them (worker
//! threads with their own store connections in the real terminal, inline in tests) and
//! the results come back as events. Page queries are "latest request wins". Pages are
//! answered from the set's in-memory finding index once built (see `Views`).

use crate::analysis::finding_index::FindingIndex;
use crate::store::{Cursor, FindingRow, SetRow, Store, ViewFilter, ViewSort};
use crate::workflow::{self, Actor, ImportOptions, ImportProgress, ImportReport};
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, Mutex};

pub use super::index_views::Views;
pub use super::judged::{parse_gate, Judged};

/// Rows fetched per page, and the most the findings window ever holds.
pub const PAGE: usize = 200;
pub const MAX_WINDOW: usize = 1000;

#[derive(Debug, Clone)]
pub enum PageKind {
    /// Fresh first page; centred on this finding when it still matches.
    Reload {
        around: Option<i64>,
        /// Recount the severities (false when only the order changed).
        recount: bool,
    },
    After(Cursor),
    Before(Cursor),
    /// The last page (End key).
    Last,
}

#[derive(Debug, Clone)]
pub struct PageRequest {
    pub gen: u64,
    pub set_id: i64,
    pub filter: ViewFilter,
    pub sort: ViewSort,
    pub kind: PageKind,
}

#[derive(Debug, Clone)]
pub enum Job {
    Dashboard,
    Page(PageRequest),
    Import {
        paths: Vec<PathBuf>,
        package: Option<String>,
    },
    /// The gate's judgement of one set (default policy, today).
    Judge {
        set_id: i64,
    },
    /// Re-verify a set's signatures against the current trust store.
    Verify {
        set_id: i64,
    },
    /// Write an export package (its own thread: PDF rendering takes seconds).
    Export(Box<crate::workflow::export::ExportRequest>),
    /// The set's judgement cache was rewritten: refresh its index's classes.
    JudgementsChanged {
        set_id: i64,
    },
    /// Findings may have changed (an import): drop every index.
    ForgetIndexes,
    /// A finding index finished building on its own thread (threaded runner only).
    IndexBuilt(Built),
}

/// A built index on its way to the query worker (taken once).
#[derive(Debug, Clone)]
pub struct Built {
    pub(super) set_id: i64,
    pub(super) epoch: u64,
    pub(super) index: Arc<Mutex<Option<Result<FindingIndex, String>>>>,
}

#[derive(Debug, Clone, Default)]
pub struct SetSummary {
    pub set: Option<SetRow>,
    /// Per severity, indexed by `Severity as usize`.
    pub counts: [u64; 6],
    /// Days between the scanner DB build and the scan, worst scanner; `None` when unknown.
    pub db_age_days: Option<i64>,
    pub scanners: Vec<String>,
    pub files: usize,
    pub failed_files: usize,
}

#[derive(Debug, Clone, Default)]
pub struct DashboardData {
    pub sets: Vec<SetSummary>,
    pub audit_head: String,
}

#[derive(Debug, Clone)]
pub struct PageData {
    pub rows: Vec<FindingRow>,
    /// Absolute index of `rows[0]` when the request fixes it (reload, last page).
    pub offset: Option<u64>,
    /// Absolute index to select (reload around a finding).
    pub selected: Option<u64>,
    /// True when nothing follows the last row.
    pub at_end: bool,
    /// Cached (gate, disposition) of the rows that have one: `(finding_id, gate, disposition)`.
    pub marks: Vec<(i64, String, String)>,
    /// The filter waits for the set's finding index (rows stay empty until it arrives).
    pub indexing: bool,
}

#[derive(Debug, Clone)]
pub enum JobResult {
    Dashboard(Result<DashboardData, String>),
    Page {
        /// Boxed: a request carries the whole filter, and events move by value.
        req: Box<PageRequest>,
        result: Result<PageData, String>,
    },
    /// Live counts for the list (under the text filter), sent after the first page.
    Counts {
        gen: u64,
        result: Result<[u64; 6], String>,
    },
    ImportProgress(ImportProgress),
    ImportDone(Result<ImportReport, String>),
    Judged {
        set_id: i64,
        result: Result<Arc<Judged>, String>,
    },
    /// Verification finished: outcome name -> count, in first-seen order.
    Verified {
        set_id: i64,
        result: Result<Vec<(String, usize)>, String>,
    },
    ExportProgress(String),
    ExportDone(Result<crate::workflow::export::ExportReport, String>),
    /// A set's finding index is ready (threaded runner); filtered lists reload.
    IndexReady {
        set_id: i64,
        result: Result<(), String>,
    },
}

/// Runs one job on `store`, reporting every result (progress included) through `out`.
pub fn execute(store: &mut Store, views: &mut Views, job: Job, out: &mut dyn FnMut(JobResult)) {
    match job {
        Job::Dashboard => out(JobResult::Dashboard(
            dashboard(store).map_err(|e| e.to_string()),
        )),
        Job::Page(req) => {
            let wants_counts = matches!(req.kind, PageKind::Reload { recount: true, .. });
            if let Some(r) = views.page(store, &req) {
                let gen = req.gen;
                let (page, counts) = match r {
                    Ok((d, c)) => (Ok(d), Ok(c)),
                    Err(e) => (Err(e.to_string()), Err(e.to_string())),
                };
                out(JobResult::Page {
                    req: Box::new(req),
                    result: page,
                });
                if wants_counts {
                    out(JobResult::Counts {
                        gen,
                        result: counts,
                    });
                }
                return;
            }
            if views.waits(&req) {
                let indexing = PageData {
                    rows: Vec::new(),
                    offset: Some(0),
                    selected: Some(0),
                    at_end: true,
                    marks: Vec::new(),
                    indexing: true,
                };
                out(JobResult::Page {
                    req: Box::new(req),
                    result: Ok(indexing),
                });
                return;
            }
            let result = page(store, &req)
                .and_then(|mut d| {
                    let ids: Vec<i64> = d.rows.iter().map(|r| r.id).collect();
                    d.marks = store.judgement_marks(&ids)?;
                    Ok(d)
                })
                .map_err(|e| e.to_string());
            let (gen, set_id, filter) = (req.gen, req.set_id, req.filter.clone());
            out(JobResult::Page {
                req: Box::new(req),
                result,
            });
            if wants_counts {
                let result = store
                    .finding_view_counts(set_id, &filter)
                    .map_err(|e| e.to_string());
                out(JobResult::Counts { gen, result });
            }
        }
        Job::Import { paths, package } => {
            let opts = ImportOptions {
                package,
                limits: crate::ingest::limits::Limits::from_env(),
                policy: None,
            };
            let mut progress = |p: ImportProgress| out(JobResult::ImportProgress(p));
            let r = workflow::import_paths(store, &paths, &opts, &Actor::from_env(), &mut progress);
            out(JobResult::ImportDone(r.map_err(|e| e.to_string())));
        }
        Job::Judge { set_id } => {
            let r = Judged::compute(store, set_id);
            out(JobResult::Judged {
                set_id,
                result: r.map(Arc::new),
            });
        }
        Job::Verify { set_id } => {
            let who = super::decide::actor();
            let r = crate::workflow::verify::verify_set(store, set_id, &who).map(|o| {
                let mut counts: Vec<(String, usize)> = Vec::new();
                for r in &o.results {
                    let name = r.outcome.as_str().to_string();
                    match counts.iter_mut().find(|(n, _)| *n == name) {
                        Some((_, c)) => *c += 1,
                        None => counts.push((name, 1)),
                    }
                }
                counts
            });
            out(JobResult::Verified {
                set_id,
                result: r.map_err(|e| e.to_string()),
            });
        }
        Job::Export(req) => {
            let who = super::decide::actor();
            let mut progress = |p: crate::workflow::export::ExportProgress| {
                out(JobResult::ExportProgress(format!(
                    "exporting: {} ({}/{})",
                    p.phase, p.done, p.total
                )))
            };
            let r = crate::workflow::export::export(store, &req, &who, &mut progress);
            out(JobResult::ExportDone(r.map_err(|e| e.to_string())));
        }
        Job::JudgementsChanged { set_id } => views.judgements_changed(store, set_id),
        Job::ForgetIndexes => views.forget(),
        Job::IndexBuilt(b) => {
            if let Some(result) = views.install_built(store, b.clone()) {
                out(JobResult::IndexReady {
                    set_id: b.set_id,
                    result,
                });
            }
        }
    }
}

/// The result a job reports when its worker could not even open the store.
fn open_failed(job: &Job, e: String) -> JobResult {
    match job {
        Job::Verify { set_id } => JobResult::Verified {
            set_id: *set_id,
            result: Err(e),
        },
        Job::Export(_) => JobResult::ExportDone(Err(e)),
        Job::IndexBuilt(b) => JobResult::IndexReady {
            set_id: b.set_id,
            result: Err(e),
        },
        _ => JobResult::ImportDone(Err(e)),
    }
}

fn dashboard(store: &Store) -> crate::store::Result<DashboardData> {
    let counts = store.all_severity_counts()?;
    let mut sets = Vec::new();
    for s in store.list_sets()? {
        let files = store.set_files(s.id)?;
        let mut scanners: Vec<String> = Vec::new();
        let mut age: Option<i64> = None;
        for f in &files {
            if let Some(sc) = &f.scanner {
                if !scanners.contains(sc) {
                    scanners.push(sc.clone());
                }
            }
            if let (Some(b), Some(at)) = (&f.db_built, &f.scanned_at) {
                if let (Ok(b), Ok(at)) = (
                    chrono::DateTime::parse_from_rfc3339(b),
                    chrono::DateTime::parse_from_rfc3339(at),
                ) {
                    let d = (at - b).num_days();
                    age = Some(age.map_or(d, |a: i64| a.max(d)));
                }
            }
        }
        sets.push(SetSummary {
            counts: counts
                .iter()
                .find(|(id, _)| *id == s.id)
                .map(|(_, c)| *c)
                .unwrap_or_default(),
            db_age_days: age,
            scanners,
            failed_files: files
                .iter()
                .filter(|f| f.status != "parsed" && f.status != "duplicate")
                .count(),
            files: files.len(),
            set: Some(s),
        });
    }
    Ok(DashboardData {
        sets,
        audit_head: store.audit_head()?,
    })
}

/// Mirrors the store's text filter (ASCII case-insensitive substring over id, aliases as
/// stored, component key, name and purl) to decide whether a row is still in the filtered
/// list; gate and disposition come from the judgement cache.
fn matches(store: &Store, r: &FindingRow, f: &ViewFilter) -> bool {
    if !f.severities.is_empty() && !f.severities.contains(&r.severity) {
        return false;
    }
    if !f.gates.is_empty() || !f.dispositions.is_empty() {
        let Ok(Some(j)) = store.judgement(r.id) else {
            return false;
        };
        if (!f.gates.is_empty() && !f.gates.contains(&j.gate))
            || (!f.dispositions.is_empty() && !f.dispositions.contains(&j.disposition))
        {
            return false;
        }
    }
    let t = f.text.trim().to_ascii_lowercase();
    if t.is_empty() {
        return true;
    }
    let aliases = serde_json::to_string(&r.aliases).unwrap_or_default();
    [
        r.vuln_id.as_str(),
        aliases.as_str(),
        r.component_key.as_str(),
        r.name.as_str(),
        r.purl.as_deref().unwrap_or(""),
    ]
    .iter()
    .any(|s| s.to_ascii_lowercase().contains(&t))
}

fn page(store: &Store, req: &PageRequest) -> crate::store::Result<PageData> {
    let (set, f, sort) = (req.set_id, &req.filter, req.sort);
    match &req.kind {
        PageKind::Reload { around, .. } => {
            let anchor = match around {
                Some(id) => store
                    .finding(*id)
                    .ok()
                    .filter(|r| r.set_id == set && matches(store, r, f)),
                None => None,
            };
            if let Some(row) = anchor {
                let c = Cursor::from(&row);
                let rank = store.findings_rank(set, f, sort, &c)?;
                let before = store.findings_before(set, f, sort, Some(&c), PAGE / 2)?;
                let after = store.findings_after(set, f, sort, Some(&c), PAGE / 2)?;
                let at_end = after.len() < PAGE / 2;
                let offset = rank.saturating_sub(before.len() as u64);
                let mut rows = before;
                rows.push(row);
                rows.extend(after);
                Ok(PageData {
                    rows,
                    offset: Some(offset),
                    selected: Some(rank),
                    at_end,
                    marks: Vec::new(),
                    indexing: false,
                })
            } else {
                let rows = store.findings_after(set, f, sort, None, PAGE)?;
                let at_end = rows.len() < PAGE;
                Ok(PageData {
                    rows,
                    offset: Some(0),
                    selected: Some(0),
                    at_end,
                    marks: Vec::new(),
                    indexing: false,
                })
            }
        }
        PageKind::After(c) => {
            let rows = store.findings_after(set, f, sort, Some(c), PAGE)?;
            let at_end = rows.len() < PAGE;
            Ok(PageData {
                rows,
                offset: None,
                selected: None,
                at_end,
                marks: Vec::new(),
                indexing: false,
            })
        }
        PageKind::Before(c) => {
            let rows = store.findings_before(set, f, sort, Some(c), PAGE)?;
            Ok(PageData {
                rows,
                offset: None,
                selected: None,
                at_end: false,
                marks: Vec::new(),
                indexing: false,
            })
        }
        PageKind::Last => {
            let rows = store.findings_before(set, f, sort, None, PAGE)?;
            Ok(PageData {
                rows,
                offset: None,
                selected: None,
                at_end: true,
                marks: Vec::new(),
                indexing: false,
            })
        }
    }
}

/// The threaded runner: one long-lived query worker (latest page request wins) and one
/// thread per import. Results are sent as `wrap(result)` on `events`.
pub struct Runner {
    query_tx: Sender<Job>,
    /// Judging a big set takes seconds; its own worker keeps paging responsive meanwhile.
    judge_tx: Sender<Job>,
    store_path: PathBuf,
    events: Sender<super::Event>,
}

impl Runner {
    pub fn start(store_path: PathBuf, events: Sender<super::Event>) -> Self {
        let (query_tx, query_rx) = std::sync::mpsc::channel::<Job>();
        let path = store_path.clone();
        let ev = events.clone();
        // Index builds report back into the query worker's own queue.
        let views = Views::threaded(store_path.clone(), query_tx.clone());
        std::thread::spawn(move || query_worker(&path, &query_rx, &ev, views));
        let (judge_tx, judge_rx) = std::sync::mpsc::channel::<Job>();
        let path = store_path.clone();
        let ev = events.clone();
        std::thread::spawn(move || query_worker(&path, &judge_rx, &ev, Views::default()));
        Self {
            query_tx,
            judge_tx,
            store_path,
            events,
        }
    }

    pub fn submit(&self, job: Job) {
        match job {
            Job::Import { .. } | Job::Verify { .. } | Job::Export(_) => {
                let path = self.store_path.clone();
                let ev = self.events.clone();
                std::thread::spawn(move || match Store::open(&path) {
                    Ok(mut st) => execute(&mut st, &mut Views::default(), job, &mut |r| {
                        let _ = ev.send(super::Event::Job(r));
                    }),
                    Err(e) => {
                        let _ = ev.send(super::Event::Job(open_failed(&job, e.to_string())));
                    }
                });
            }
            Job::Judge { .. } => {
                let _ = self.judge_tx.send(job);
            }
            other => {
                let _ = self.query_tx.send(other);
            }
        }
    }
}

fn query_worker(
    path: &std::path::Path,
    rx: &Receiver<Job>,
    ev: &Sender<super::Event>,
    mut views: Views,
) {
    let mut store = match Store::open(path) {
        Ok(s) => s,
        Err(e) => {
            let _ = ev.send(super::Event::Job(JobResult::Dashboard(Err(e.to_string()))));
            return;
        }
    };
    while let Ok(first) = rx.recv() {
        // Drain what queued up meanwhile: stale page generations are skipped.
        let mut batch = vec![first];
        batch.extend(rx.try_iter());
        let newest = batch
            .iter()
            .filter_map(|j| {
                if let Job::Page(p) = j {
                    Some(p.gen)
                } else {
                    None
                }
            })
            .max();
        let mut dashboard_done = false;
        let mut judged: Vec<i64> = Vec::new();
        for job in batch {
            match &job {
                Job::Page(p) if Some(p.gen) != newest => continue,
                Job::Judge { set_id } if judged.contains(set_id) => continue,
                Job::Judge { set_id } => judged.push(*set_id),
                Job::Dashboard if dashboard_done => continue,
                Job::Dashboard => dashboard_done = true,
                _ => {}
            }
            execute(&mut store, &mut views, job, &mut |r| {
                let _ = ev.send(super::Event::Job(r));
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Severity;

    fn row(id: &str, aliases: &[&str], key: &str, sev: Severity) -> FindingRow {
        FindingRow {
            id: 1,
            set_id: 1,
            vuln_id: id.into(),
            aliases: aliases.iter().map(|s| s.to_string()).collect(),
            component_key: key.into(),
            purl: None,
            name: "n".into(),
            version: None,
            severity: sev,
            severity_disagrees: false,
            cvss_v2_vector: None,
            cvss_v3_vector: None,
            cvss_v3_score: None,
            cvss_v4_vector: None,
            epss: None,
            epss_percentile: None,
            epss_date: None,
            kev: None,
            fixed_versions: vec![],
            fix_state: "unknown".into(),
            title: None,
            description: None,
            direct: None,
            scanners: vec![],
            locations: vec![],
        }
    }

    #[test]
    fn local_match_mirrors_the_filter() {
        let r = row(
            "CVE-2024-1",
            &["GHSA-abcd"],
            "pkg:deb/debian/openssl@3",
            Severity::High,
        );
        let f = |t: &str, s: Vec<Severity>| ViewFilter {
            text: t.into(),
            severities: s,
            ..ViewFilter::default()
        };
        let st = Store::open_in_memory().unwrap();
        assert!(matches(&st, &r, &f("ghsa-ABCD", vec![])));
        assert!(matches(&st, &r, &f("OpenSSL", vec![Severity::High])));
        assert!(!matches(&st, &r, &f("openssl", vec![Severity::Low])));
        assert!(!matches(&st, &r, &f("zlib", vec![])));
    }
}
