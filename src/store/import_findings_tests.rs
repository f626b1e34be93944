//! The two-thread findings write: an error on either side ends the import with that error
//! (no hang, nothing written), and component ids come from the set's own component rows,
//! also when an existing set is written again.

use crate::model::{ComponentKey, ScannerView, SetComponent, SetFinding, Severity};
use crate::store::{FindingStream, Result, SetWrite, Store, StoreError};
use std::collections::BTreeSet;

fn comp(key: &str) -> SetComponent {
    SetComponent {
        key: ComponentKey(key.into()),
        name: key.into(),
        kind: "library".into(),
        ..SetComponent::default()
    }
}

fn finding(vuln: &str, key: &str) -> SetFinding {
    SetFinding {
        vuln_id: vuln.into(),
        aliases: vec![],
        component_key: ComponentKey(key.into()),
        views: vec![(
            0,
            ScannerView {
                scanner: "trivy".into(),
                severity: Severity::High,
                title: Some(format!("{vuln} in {key}")),
                ..ScannerView::default()
            },
        )],
    }
}

/// Yields `ok` findings, then fails (when `fail`) or ends; counts what was pulled.
struct Stream {
    ok: usize,
    fail: bool,
    pulled: usize,
}

impl FindingStream for Stream {
    fn next_finding(&mut self) -> Result<Option<SetFinding>> {
        if self.pulled == self.ok {
            return match self.fail {
                true => Err(StoreError::Invalid("spool read failed at record 7".into())),
                false => Ok(None),
            };
        }
        self.pulled += 1;
        Ok(Some(finding(
            &format!("CVE-2024-{:05}", self.pulled),
            "pkg:a",
        )))
    }
}

fn file_shas() -> Vec<String> {
    vec!["aa".into()]
}

fn files() -> Vec<crate::store::FileRow> {
    vec![crate::store::imports::test_support::scan_file_row(
        "aa", "trivy",
    )]
}

fn write(
    st: &mut Store,
    existing: Option<i64>,
    components: &[SetComponent],
    findings: &[SetFinding],
    stream: &mut dyn FindingStream,
) -> Result<i64> {
    let deps = BTreeSet::new();
    let (rows, shas) = (files(), file_shas());
    let w = SetWrite {
        existing,
        package: None,
        digest: Some("sha256:1111"),
        image: None,
        repository: None,
        source: "t",
        image_user: None,
        new_files: &rows,
        file_shas: &shas,
        components,
        dependencies: &deps,
        findings,
    };
    st.write_import_streamed(&w, &[], stream, None, &|_, _| Ok(()))
        .map(|w| w.set_id)
}

fn count(st: &Store, table: &str) -> i64 {
    st.conn()
        .query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

#[test]
fn a_failing_stream_ends_the_import_with_its_error_and_writes_nothing() {
    let mut st = Store::open_in_memory().unwrap();
    // Far more than the channel holds, so the producer has blocked on a full channel
    // before it fails; and a failure before anything was sent.
    for ok in [5000, 0] {
        let mut s = Stream {
            ok,
            fail: true,
            pulled: 0,
        };
        let e = write(&mut st, None, &[comp("pkg:a")], &[], &mut s).unwrap_err();
        assert!(
            e.to_string().contains("spool read failed at record 7"),
            "{e}"
        );
        assert_eq!(s.pulled, ok);
        for t in ["evidence_set", "finding", "finding_source", "view_chunk"] {
            assert_eq!(count(&st, t), 0, "{t} after a failed import");
        }
    }
}

#[test]
fn a_failing_insert_stops_the_producer_and_ends_the_import_with_the_sql_error() {
    let mut st = Store::open_in_memory().unwrap();
    // The same (vuln, component) twice: the UNIQUE constraint fails on the SQLite side
    // while the producer still has thousands of findings to read.
    let slice = [finding("CVE-1", "pkg:a"), finding("CVE-1", "pkg:a")];
    let mut s = Stream {
        ok: 100_000,
        fail: false,
        pulled: 0,
    };
    let e = write(&mut st, None, &[comp("pkg:a")], &slice, &mut s).unwrap_err();
    assert!(e.to_string().contains("UNIQUE"), "{e}");
    assert!(
        s.pulled < 100_000,
        "the producer stopped once the write failed ({} pulled)",
        s.pulled
    );
    assert_eq!(count(&st, "finding"), 0);
    assert_eq!(count(&st, "evidence_set"), 0);
}

/// (vuln, component key, component_id, the id of that key's component row in the set).
fn component_ids(st: &Store, set: i64) -> Vec<(String, String, Option<i64>, Option<i64>)> {
    let mut q = st
        .conn()
        .prepare(
            "SELECT f.vuln_id, f.component_key, f.component_id,
                    (SELECT c.id FROM component c WHERE c.set_id = f.set_id AND c.key = f.component_key)
             FROM finding f WHERE f.set_id = ?1 ORDER BY f.id",
        )
        .unwrap();
    let rows = q
        .query_map([set], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap();
    rows.collect::<rusqlite::Result<_>>().unwrap()
}

#[test]
fn findings_name_their_components_ids_also_when_a_set_is_written_again() {
    // With the ids the component write keeps, with none kept (every id looked up in SQL),
    // and with the map given up after the first component (the rest looked up).
    for cap in [None, Some(0), Some(1)] {
        crate::store::component_write::ID_MAP_MAX_FOR_TEST.with(|c| c.set(cap));
        findings_name_their_components_ids(cap);
    }
    crate::store::component_write::ID_MAP_MAX_FOR_TEST.with(|c| c.set(None));
}

fn findings_name_their_components_ids(cap: Option<usize>) {
    let mut st = Store::open_in_memory().unwrap();
    // Another set first, with the same keys, so ids differ from key order and from set 1's.
    let other = write(
        &mut st,
        None,
        &[comp("pkg:b"), comp("pkg:a")],
        &[finding("CVE-9", "pkg:a")],
        &mut Stream {
            ok: 0,
            fail: false,
            pulled: 0,
        },
    )
    .unwrap();
    st.conn()
        .execute(
            "UPDATE evidence_set SET digest = 'sha256:other' WHERE id = ?1",
            [other],
        )
        .unwrap();
    let comps = [comp("pkg:a"), comp("pkg:b")];
    let first = [
        finding("CVE-1", "pkg:a"),
        finding("CVE-2", "pkg:b"),
        finding("CVE-3", "pkg:gone"),
    ];
    let set = write(
        &mut st,
        None,
        &comps,
        &first,
        &mut Stream {
            ok: 3,
            fail: false,
            pulled: 0,
        },
    )
    .unwrap();
    let before = component_ids(&st, set);
    assert_eq!(before.len(), 6);
    for (v, k, id, expected) in &before {
        assert_eq!(id, expected, "{v} on {k}, map cap {cap:?}");
    }
    // A finding whose component the set does not hold has none.
    assert_eq!(before[2].2, None);
    assert!(before[0].2.is_some());
    // Written again over the same set: new component rows, new ids, and the findings follow.
    let comps = [comp("pkg:gone"), comp("pkg:b"), comp("pkg:a")];
    let again = write(
        &mut st,
        Some(set),
        &comps,
        &first,
        &mut Stream {
            ok: 0,
            fail: false,
            pulled: 0,
        },
    )
    .unwrap();
    assert_eq!(again, set);
    let after = component_ids(&st, set);
    assert_eq!(after.len(), 3);
    for (v, k, id, expected) in &after {
        assert!(id.is_some(), "{v} on {k}, map cap {cap:?}");
        assert_eq!(id, expected, "{v} on {k}, map cap {cap:?}");
    }
    assert_ne!(after[0].2, before[0].2, "pkg:a has a new row");
    // The other set's findings still name its own rows.
    for (v, k, id, expected) in component_ids(&st, other) {
        assert_eq!(id, expected, "{v} on {k}, map cap {cap:?}");
    }
}

#[test]
fn every_row_of_many_batches_is_written_once_with_its_own_values() {
    // 3,000 findings are ~12 batches: the producer refills batches the SQLite thread has
    // handed back, so a row left over from a reused batch would show as a duplicate or a
    // wrong title here.
    let mut st = Store::open_in_memory().unwrap();
    let n = 3000;
    let set = write(
        &mut st,
        None,
        &[comp("pkg:a")],
        &[],
        &mut Stream {
            ok: n,
            fail: false,
            pulled: 0,
        },
    )
    .unwrap();
    let mut q = st
        .conn()
        .prepare(
            "SELECT f.vuln_id, t.title, s.scanner FROM finding f
             JOIN finding_text t ON t.finding_id = f.id
             JOIN finding_source s ON s.finding_id = f.id
             WHERE f.set_id = ?1 ORDER BY f.id",
        )
        .unwrap();
    let rows: Vec<(String, String, String)> = q
        .query_map([set], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(rows.len(), n);
    for (i, (vuln, title, scanner)) in rows.iter().enumerate() {
        let want = format!("CVE-2024-{:05}", i + 1);
        assert_eq!(vuln, &want);
        assert_eq!(title, &format!("{want} in pkg:a"));
        assert_eq!(scanner, "trivy");
    }
    assert_eq!(count(&st, "finding_source"), n as i64);
}

#[test]
fn two_views_of_one_finding_from_one_file_store_one_source_row_the_last_one() {
    // The same CVE on the same package in two targets of one report: one finding, two
    // views from file 0. The source rows are plain INSERTs, so a second row for the file
    // would fail on the (finding, file) key; the last view is the one kept.
    let mut st = Store::open_in_memory().unwrap();
    let mut f = finding("CVE-2024-00001", "pkg:a");
    let mut second = f.views[0].1.clone();
    second.severity = Severity::Critical;
    second.status = Some("second target's status".into());
    f.views.push((0, second));
    let set = write(
        &mut st,
        None,
        &[comp("pkg:a")],
        &[f],
        &mut Stream {
            ok: 0,
            fail: false,
            pulled: 0,
        },
    )
    .unwrap();
    assert_eq!(count(&st, "finding"), 1);
    assert_eq!(count(&st, "finding_source"), 1);
    let found = st.findings(set).unwrap();
    let views = st.finding_sources(found[0].id).unwrap();
    assert_eq!(views.len(), 1);
    assert_eq!(
        views[0].view.status.as_deref(),
        Some("second target's status")
    );
    assert_eq!(views[0].view.severity, Severity::Critical);
}
