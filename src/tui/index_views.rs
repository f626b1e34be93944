//! The query worker's finding indexes: one per opened set, built off the worker (or inline
//! under test), kept for the two most recently used sets, and the findings list's pages,
//! counts and selection answered from them (only ~200 full rows per page come from SQLite).

use super::jobs::{Built, Job, PageData, PageKind, PageRequest, PAGE};
use crate::analysis::finding_index::{FindingIndex, IndexResult};
use crate::store::{Store, ViewFilter, ViewSort};
use crate::workflow::finding_index as fi;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};

/// Ready indexes kept at once (each is a few tens of MB at a million findings).
const KEEP: usize = 2;

enum Slot {
    Building { epoch: u64, stale_judgements: bool },
    Ready(Box<Indexed>),
    Failed,
}

struct Indexed {
    index: FindingIndex,
    /// The last query's answer: paging after or before a row reuses it.
    last: Option<(ViewFilter, ViewSort, IndexResult)>,
}

#[derive(Default)]
pub struct Views {
    slots: HashMap<i64, Slot>,
    /// Set ids, most recently used last.
    used: Vec<i64>,
    /// Bumped when the indexes are forgotten, so a build started before is dropped.
    epoch: u64,
    /// Threaded runner: where to open a store for a build, and the worker's own queue.
    spawn: Option<(PathBuf, Sender<Job>)>,
}

impl Views {
    pub fn threaded(path: PathBuf, worker: Sender<Job>) -> Self {
        Self {
            spawn: Some((path, worker)),
            ..Self::default()
        }
    }

    /// The page answered from the set's index, or `None` while it builds (or failed).
    pub fn page(
        &mut self,
        store: &Store,
        req: &PageRequest,
    ) -> Option<crate::store::Result<(PageData, [u64; 6])>> {
        self.ensure(store, req.set_id);
        self.touch(req.set_id);
        match self.slots.get_mut(&req.set_id) {
            Some(Slot::Ready(ix)) => Some(index_page(store, ix, req)),
            _ => None,
        }
    }

    /// True when the request must wait for the index: the list is filtered by text, gate
    /// class or disposition (unfiltered pages are cheap keyset queries meanwhile).
    pub fn waits(&self, req: &PageRequest) -> bool {
        let f = &req.filter;
        let building = matches!(self.slots.get(&req.set_id), Some(Slot::Building { .. }));
        building && (!f.text.trim().is_empty() || !f.gates.is_empty() || !f.dispositions.is_empty())
    }

    fn touch(&mut self, set_id: i64) {
        self.used.retain(|s| *s != set_id);
        self.used.push(set_id);
    }

    fn ensure(&mut self, store: &Store, set_id: i64) {
        if self.slots.contains_key(&set_id) {
            return;
        }
        let Some((path, worker)) = self.spawn.clone() else {
            let r = fi::build(store, set_id).map_err(|e| e.to_string());
            self.install(set_id, r);
            return;
        };
        let epoch = self.epoch;
        self.slots.insert(
            set_id,
            Slot::Building {
                epoch,
                stale_judgements: false,
            },
        );
        std::thread::spawn(move || {
            let r = Store::open(&path)
                .and_then(|st| fi::build(&st, set_id))
                .map_err(|e| e.to_string());
            let _ = worker.send(Job::IndexBuilt(Built {
                set_id,
                epoch,
                index: Arc::new(Mutex::new(Some(r))),
            }));
        });
    }

    /// Installs a build from its thread; `Some(outcome)` when the list should hear of it.
    /// A build the indexes were forgotten under is dropped but still reported, so a list
    /// waiting on it reloads (and its page request starts a fresh build).
    pub fn install_built(&mut self, store: &Store, b: Built) -> Option<Result<(), String>> {
        let stale = match self.slots.get(&b.set_id) {
            Some(Slot::Building {
                epoch,
                stale_judgements,
            }) if *epoch == b.epoch => *stale_judgements,
            _ if b.epoch != self.epoch => return Some(Ok(())),
            _ => return None,
        };
        let r = b.index.lock().ok()?.take()?;
        let outcome = r.as_ref().map(|_| ()).map_err(Clone::clone);
        self.install(b.set_id, r);
        if stale {
            self.judgements_changed(store, b.set_id);
        }
        Some(outcome)
    }

    fn install(&mut self, set_id: i64, r: Result<FindingIndex, String>) {
        let slot = match r {
            Ok(index) => Slot::Ready(Box::new(Indexed { index, last: None })),
            Err(_) => Slot::Failed,
        };
        self.slots.insert(set_id, slot);
        self.touch(set_id);
        // Keep the most recently used ready indexes; builds in flight stay.
        let ready: Vec<i64> = self
            .used
            .iter()
            .copied()
            .filter(|s| matches!(self.slots.get(s), Some(Slot::Ready(_))))
            .collect();
        for old in ready.iter().take(ready.len().saturating_sub(KEEP)) {
            self.slots.remove(old);
            self.used.retain(|s| s != old);
        }
    }

    /// Reloads a set's gate classes and dispositions after a re-judge.
    pub fn judgements_changed(&mut self, store: &Store, set_id: i64) {
        match self.slots.get_mut(&set_id) {
            Some(Slot::Ready(ix)) => {
                ix.last = None;
                if fi::load_judgements(store, set_id, &mut ix.index).is_err() {
                    self.slots.remove(&set_id);
                }
            }
            Some(Slot::Building {
                stale_judgements, ..
            }) => *stale_judgements = true,
            _ => {}
        }
    }

    pub fn forget(&mut self) {
        self.epoch += 1;
        self.slots.clear();
        self.used.clear();
    }
}

fn index_page(
    store: &Store,
    ix: &mut Indexed,
    req: &PageRequest,
) -> crate::store::Result<(PageData, [u64; 6])> {
    let fresh = !matches!(&ix.last, Some((f, s, _)) if *f == req.filter && *s == req.sort);
    if fresh {
        let r = ix
            .index
            .query(&fi::index_filter(&req.filter), fi::slot(req.sort));
        ix.last = Some((req.filter.clone(), req.sort, r));
    }
    let (index, res) = match &ix.last {
        Some((_, _, r)) => (&ix.index, r),
        None => {
            let empty = PageData {
                rows: Vec::new(),
                offset: Some(0),
                selected: Some(0),
                at_end: true,
                marks: Vec::new(),
                indexing: false,
            };
            return Ok((empty, [0; 6]));
        }
    };
    let list = &res.entries;
    let n = list.len();
    let pos_of = |id: i64| {
        let e = index.entry_of(id)?;
        list.iter().position(|&x| x == e)
    };
    let (start, end, offset, selected, at_end) = match &req.kind {
        PageKind::Reload { around, .. } => match around.and_then(pos_of) {
            Some(p) => {
                let (s, e) = (p.saturating_sub(PAGE / 2), (p + 1 + PAGE / 2).min(n));
                (s, e, Some(s), Some(p), e == n)
            }
            None => {
                let e = PAGE.min(n);
                (0, e, Some(0), Some(0), e == n)
            }
        },
        PageKind::After(c) => match pos_of(c.id) {
            Some(p) => {
                let e = (p + 1 + PAGE).min(n);
                (p + 1, e, None, None, e == n)
            }
            None => (0, 0, None, None, true),
        },
        PageKind::Before(c) => match pos_of(c.id) {
            Some(p) => (p.saturating_sub(PAGE), p, None, None, false),
            None => (0, 0, None, None, false),
        },
        PageKind::Last => {
            let s = n.saturating_sub(PAGE);
            (s, n, Some(s), None, true)
        }
    };
    let window = list.get(start..end).unwrap_or(&[]);
    let ids: Vec<i64> = window.iter().filter_map(|e| index.id(*e)).collect();
    let rows = store.findings_by_ids(&ids)?;
    let marks = window
        .iter()
        .filter_map(|e| {
            let (g, d) = index.judgement(*e)?;
            Some((index.id(*e)?, g.to_string(), d.to_string()))
        })
        .collect();
    let data = PageData {
        rows,
        offset: offset.map(|o| o as u64),
        selected: selected.map(|p| p as u64),
        at_end,
        marks,
        indexing: false,
    };
    Ok((data, res.counts))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ComponentKey, ScannerView, SetComponent, SetFinding, Severity};
    use crate::store::{Cursor, FindingRow};

    /// 50 findings over 5 components; severity cycles, ids are CVE-00..49.
    fn store(path: &std::path::Path) -> (Store, i64) {
        let mut st = Store::open(path).unwrap();
        let comps: Vec<SetComponent> = (0..5)
            .map(|i| SetComponent {
                key: ComponentKey(format!("pkg:deb/x/lib{i}@1")),
                purl: Some(format!("pkg:deb/x/lib{i}@1")),
                kind: "deb".into(),
                name: format!("lib{i}"),
                version: Some("1".into()),
                ..Default::default()
            })
            .collect();
        let findings: Vec<SetFinding> = (0..50)
            .map(|i| SetFinding {
                vuln_id: format!("CVE-{i:02}"),
                aliases: vec![],
                component_key: ComponentKey(format!("pkg:deb/x/lib{}@1", (i * 3) % 5)),
                views: vec![(
                    0,
                    ScannerView {
                        scanner: "t".into(),
                        severity: Severity::ALL[i % 6],
                        ..Default::default()
                    },
                )],
            })
            .collect();
        let id = st.write_test_set("sha256:cc", &comps, &findings);
        (st, id)
    }

    fn req(set_id: i64, text: &str, sort: ViewSort, kind: PageKind) -> PageRequest {
        PageRequest {
            gen: 1,
            set_id,
            filter: ViewFilter {
                text: text.into(),
                ..ViewFilter::default()
            },
            sort,
            kind,
        }
    }

    /// Every row by SQL keyset paging, the reference order.
    fn sql_walk(st: &Store, id: i64, f: &ViewFilter, sort: ViewSort) -> Vec<i64> {
        let mut out: Vec<FindingRow> = Vec::new();
        loop {
            let c = out.last().map(Cursor::from);
            let next = st.findings_after(id, f, sort, c.as_ref(), 7).unwrap();
            if next.is_empty() {
                return out.into_iter().map(|r| r.id).collect();
            }
            out.extend(next);
        }
    }

    #[test]
    fn index_pages_follow_the_sql_order_forward_backward_and_around_a_selection() {
        let dir = tempfile::tempdir().unwrap();
        let (st, id) = store(&dir.path().join("s.db"));
        let mut v = Views::default();
        for text in ["", "lib3", "cve-1"] {
            for sort in [ViewSort::Severity, ViewSort::Id, ViewSort::Component] {
                let f = ViewFilter {
                    text: text.into(),
                    ..ViewFilter::default()
                };
                let want = sql_walk(&st, id, &f, sort);
                assert!(!want.is_empty());
                // Reload around the 3rd matching row: selection is its position.
                let r = req(
                    id,
                    text,
                    sort,
                    PageKind::Reload {
                        around: Some(want[2]),
                        recount: true,
                    },
                );
                let (d, counts) = v.page(&st, &r).unwrap().unwrap();
                assert_eq!(d.selected, Some(2));
                assert_eq!(counts.iter().sum::<u64>(), want.len() as u64);
                let got: Vec<i64> = d.rows.iter().map(|r| r.id).collect();
                assert_eq!(got, want, "{text:?} {sort:?}");
                assert!(d.at_end);
                // After and Before a row, and the last page.
                let mid = d.rows[1].clone();
                let after = v
                    .page(
                        &st,
                        &req(id, text, sort, PageKind::After(Cursor::from(&mid))),
                    )
                    .unwrap()
                    .unwrap()
                    .0;
                assert_eq!(after.rows.first().map(|r| r.id), want.get(2).copied());
                let before = v
                    .page(
                        &st,
                        &req(id, text, sort, PageKind::Before(Cursor::from(&mid))),
                    )
                    .unwrap()
                    .unwrap()
                    .0;
                assert_eq!(
                    before.rows.iter().map(|r| r.id).collect::<Vec<_>>(),
                    want[..1].to_vec()
                );
                let last = v
                    .page(&st, &req(id, text, sort, PageKind::Last))
                    .unwrap()
                    .unwrap()
                    .0;
                assert_eq!(last.offset, Some(0));
                assert_eq!(last.rows.len(), want.len());
            }
        }
    }

    #[test]
    fn threaded_build_answers_indexing_then_installs_and_follows_judgements() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let (mut st, id) = store(&path);
        let (tx, rx) = std::sync::mpsc::channel();
        let mut v = Views::threaded(path.clone(), tx);
        let filtered = req(
            id,
            "lib2",
            ViewSort::Severity,
            PageKind::Reload {
                around: None,
                recount: true,
            },
        );
        // First request starts the build: no answer from the index yet, and a filtered
        // list waits while an unfiltered one would be served by SQL.
        assert!(v.page(&st, &filtered).is_none());
        assert!(v.waits(&filtered));
        let plain = req(id, "", ViewSort::Id, PageKind::Last);
        assert!(!v.waits(&plain));
        let built = match rx.recv_timeout(std::time::Duration::from_secs(30)).unwrap() {
            Job::IndexBuilt(b) => b,
            other => panic!("unexpected {other:?}"),
        };
        // The set is judged while the index was building: the classes are re-read.
        let rows = sql_walk(&st, id, &ViewFilter::default(), ViewSort::Id);
        let marks = rows
            .iter()
            .enumerate()
            .map(|(i, fid)| crate::store::judge::JudgementRow {
                finding_id: *fid,
                gate: if i % 2 == 0 { "BLOCK" } else { "INFO" }.into(),
                disposition: "undecided".into(),
                reason: "r".into(),
                epss: None,
                kev: false,
            });
        st.replace_judgements(id, marks).unwrap();
        v.judgements_changed(&st, id);
        assert_eq!(v.install_built(&st, built), Some(Ok(())));
        let block = PageRequest {
            filter: ViewFilter {
                gates: vec!["BLOCK".into()],
                ..ViewFilter::default()
            },
            ..filtered.clone()
        };
        let (d, counts) = v.page(&st, &block).unwrap().unwrap();
        assert_eq!(counts.iter().sum::<u64>(), 25);
        assert!(d.marks.iter().all(|(_, g, _)| g == "BLOCK"));
        let (d, _) = v.page(&st, &filtered).unwrap().unwrap();
        // (i * 3) % 5 == 2 for i % 5 == 4: 10 findings on lib2.
        assert_eq!(d.rows.len(), 10);
        assert!(d.rows.iter().all(|r| r.component_key.contains("lib2")));
        // Forgetting drops the index; a build from before is ignored.
        v.forget();
        assert!(v.page(&st, &filtered).is_none());
        let again = match rx.recv_timeout(std::time::Duration::from_secs(30)).unwrap() {
            Job::IndexBuilt(b) => b,
            other => panic!("unexpected {other:?}"),
        };
        let stale = Built {
            epoch: again.epoch.wrapping_sub(1),
            ..again.clone()
        };
        // Reported (a waiting list reloads) but not installed: the list still waits.
        assert_eq!(v.install_built(&st, stale), Some(Ok(())));
        assert!(v.waits(&filtered));
        assert_eq!(v.install_built(&st, again), Some(Ok(())));
        assert!(!v.waits(&filtered));
        assert!(v.page(&st, &filtered).is_some());
    }
}
