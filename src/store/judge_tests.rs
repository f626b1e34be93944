//! The judgement cache: replacing a set's rows writes what changed and drops what was not
//! given. The gate's row read: components found by id (or by key where no id was
//! recorded) give what the SQL join by key gave, and migration 012 fills the ids in.

use super::judge::JudgementRow;
use super::Store;
use crate::model::{
    ComponentKey, Cvss, CvssVersion, ScannerView, SetComponent, SetFinding, Severity,
};

fn store(n: usize) -> (Store, i64) {
    let key = ComponentKey("pkg:npm/a@1".into());
    let comps = vec![SetComponent {
        key: key.clone(),
        kind: "npm".into(),
        name: "a".into(),
        ..Default::default()
    }];
    let findings: Vec<SetFinding> = (0..n)
        .map(|i| SetFinding {
            vuln_id: format!("CVE-2024-{i:04}"),
            aliases: vec![],
            component_key: key.clone(),
            views: vec![(0, ScannerView::default())],
        })
        .collect();
    let mut st = Store::open_in_memory().unwrap();
    let id = st.write_test_set("sha256:ab", &comps, &findings);
    (st, id)
}

fn row(id: i64, reason: &str) -> JudgementRow {
    JudgementRow {
        finding_id: id,
        gate: "WARN".into(),
        disposition: "undecided".into(),
        reason: reason.into(),
        epss: None,
        kev: false,
    }
}

fn cached(st: &Store, ids: &[i64]) -> Vec<Option<String>> {
    ids.iter()
        .map(|i| st.judgement(*i).unwrap().map(|j| j.reason))
        .collect()
}

#[test]
fn replace_writes_changes_and_drops_rows_not_given() {
    let (mut st, id) = store(3);
    let ids: Vec<i64> = st.findings(id).unwrap().iter().map(|f| f.id).collect();
    assert_eq!(ids.len(), 3);
    st.replace_judgements(id, ids.iter().map(|i| row(*i, "first")))
        .unwrap();
    assert_eq!(cached(&st, &ids), vec![Some("first".to_string()); 3]);
    // One changed, one unchanged, one not given; an id outside the set is ignored.
    st.replace_judgements(
        id,
        vec![
            row(ids[0], "second"),
            row(ids[1], "first"),
            row(999_999, "x"),
        ],
    )
    .unwrap();
    assert_eq!(
        cached(&st, &ids),
        vec![Some("second".to_string()), Some("first".to_string()), None]
    );
    assert_eq!(st.judgement(999_999).unwrap(), None);
    let j = st.judgement(ids[1]).unwrap().unwrap();
    assert_eq!(
        (j.gate.as_str(), j.disposition.as_str()),
        ("WARN", "undecided")
    );
    st.replace_judgements(id, Vec::new()).unwrap();
    assert_eq!(cached(&st, &ids), vec![None, None, None]);
}

fn comp(key: &str, name: &str, direct: Option<bool>) -> SetComponent {
    SetComponent {
        key: ComponentKey(key.into()),
        purl: Some(key.into()),
        kind: "npm".into(),
        name: name.into(),
        version: Some("1".into()),
        direct,
        ..Default::default()
    }
}

fn finding(vuln: &str, key: &str, sev: Severity) -> SetFinding {
    SetFinding {
        vuln_id: vuln.into(),
        aliases: vec![],
        component_key: ComponentKey(key.into()),
        views: vec![(
            0,
            ScannerView {
                scanner: "trivy".into(),
                severity: sev,
                cvss: vec![Cvss {
                    version: CvssVersion::V3_1,
                    base_score: Some(9.8),
                    vector: Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H".into()),
                    source: "nvd".into(),
                }],
                ..Default::default()
            },
        )],
    }
}

/// Two sets sharing the key `pkg:npm/a@1` with different names and `direct`, one finding
/// whose component is not in the set.
fn two_sets() -> (Store, i64, i64) {
    let mut st = Store::open_in_memory().unwrap();
    let a = st.write_test_set(
        "sha256:01",
        &[
            comp("pkg:npm/a@1", "a-in-one", Some(true)),
            comp("pkg:npm/b@1", "b", None),
        ],
        &[
            finding("CVE-2024-0001", "pkg:npm/a@1", Severity::High),
            finding("CVE-2024-0002", "pkg:npm/b@1", Severity::Medium),
            finding("CVE-2024-0003", "pkg:npm/gone@1", Severity::Low),
        ],
    );
    let b = st.write_test_set(
        "sha256:02",
        &[
            comp("pkg:npm/c@1", "c", Some(false)),
            comp("pkg:npm/a@1", "a-in-two", Some(false)),
        ],
        &[
            finding("CVE-2024-0001", "pkg:npm/a@1", Severity::Critical),
            finding("CVE-2024-0004", "pkg:npm/c@1", Severity::High),
        ],
    );
    (st, a, b)
}

type Joined = (i64, Option<String>, String, Option<String>, Option<bool>);

/// The gate row's component and threat fields, from the pass under test.
fn pass(st: &Store, set: i64) -> Vec<(Joined, Option<f64>, Option<String>)> {
    let mut out = Vec::new();
    st.for_each_gate_row_ref(set, &mut |r| {
        out.push((
            (
                r.id,
                r.purl.map(str::to_string),
                r.name.to_string(),
                r.version.map(str::to_string),
                r.direct,
            ),
            r.threat_epss,
            r.threat_kev_added.map(str::to_string),
        ));
        Ok(())
    })
    .unwrap();
    out
}

/// The same fields by the plain SQL join on (set, key) and CVE, written independently.
fn joined(st: &Store, set: i64) -> Vec<(Joined, Option<f64>, Option<String>)> {
    st.conn()
        .prepare(
            "SELECT f.id, c.purl, COALESCE(c.name, f.component_key), c.version, c.direct, e.epss, k.date_added
             FROM finding f
             LEFT JOIN component c ON c.set_id = f.set_id AND c.key = f.component_key
             LEFT JOIN threat_epss e ON e.cve = f.vuln_id
             LEFT JOIN threat_kev k ON k.cve = f.vuln_id
             WHERE f.set_id = ?1 ORDER BY f.id",
        )
        .unwrap()
        .query_map([set], |r| {
            Ok((
                (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?),
                r.get(5)?,
                r.get(6)?,
            ))
        })
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

#[test]
fn gate_rows_find_components_as_the_sql_join_does() {
    let (st, a, b) = two_sets();
    for set in [a, b] {
        let got = pass(&st, set);
        assert_eq!(got, joined(&st, set));
        assert!(got.iter().all(|g| g.1.is_none() && g.2.is_none()));
    }
    // The shared key resolves to each set's own component; the missing one to its key.
    let one = pass(&st, a);
    assert_eq!(one[0].0 .2, "a-in-one");
    assert_eq!(one[0].0 .4, Some(true));
    assert_eq!(one[2].0 .2, "pkg:npm/gone@1");
    assert_eq!(one[2].0 .1, None);
    assert_eq!(pass(&st, b)[0].0 .2, "a-in-two");
    // The import recorded the ids: every finding with a component has one.
    let nulls: i64 = st
        .conn()
        .query_row(
            "SELECT COUNT(*) FROM finding WHERE component_id IS NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(nulls, 1, "only the finding whose component is missing");

    // Rows without an id (older writers) are found by key: same answer.
    st.conn()
        .execute("UPDATE finding SET component_id = NULL", [])
        .unwrap();
    for set in [a, b] {
        assert_eq!(pass(&st, set), joined(&st, set));
    }

    // With threat data the catalog joins by CVE.
    st.conn()
        .execute_batch(
            "INSERT INTO threat_epss(cve, epss, percentile) VALUES ('CVE-2024-0001', 0.25, 0.9);
             INSERT INTO threat_kev(cve, vendor_project, product, date_added)
                 VALUES ('CVE-2024-0004', 'v', 'p', '2024-05-01');",
        )
        .unwrap();
    for set in [a, b] {
        assert_eq!(pass(&st, set), joined(&st, set));
    }
    let two = pass(&st, b);
    assert_eq!(two[0].1, Some(0.25));
    assert_eq!(two[1].2.as_deref(), Some("2024-05-01"));
}

#[test]
fn gate_rows_carry_vectors_for_high_findings_only() {
    let (st, a, _) = two_sets();
    let mut v3 = Vec::new();
    st.for_each_gate_row_ref(a, &mut |r| {
        v3.push((r.severity, r.cvss_v3_vector.map(str::to_string)));
        Ok(())
    })
    .unwrap();
    let vector = Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H".to_string());
    assert_eq!(
        v3,
        vec![
            (Severity::High, vector),
            (Severity::Medium, None),
            (Severity::Low, None)
        ]
    );
}

#[test]
fn migration_012_fills_component_ids_of_an_existing_store() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("s.db");
    {
        let mut c = rusqlite::Connection::open(&p).unwrap();
        let tx = c.transaction().unwrap();
        for sql in &super::MIGRATIONS[..11] {
            tx.execute_batch(sql).unwrap();
        }
        tx.pragma_update(None, "user_version", 11).unwrap();
        // The same key in two sets (component ids 10 and 20), and a finding whose
        // component is not in its set.
        tx.execute_batch(
            "INSERT INTO evidence_set(id, source, imported_at) VALUES (1, 'x', 't'), (2, 'x', 't');
             INSERT INTO component(id, set_id, key, type, name) VALUES
                 (10, 1, 'pkg:npm/a@1', 'npm', 'a'), (11, 1, 'pkg:npm/b@1', 'npm', 'b'),
                 (20, 2, 'pkg:npm/a@1', 'npm', 'a');
             INSERT INTO finding(id, set_id, vuln_id, component_key, severity, severity_rank, fix_state) VALUES
                 (1, 1, 'CVE-1', 'pkg:npm/a@1', 'HIGH', 4, 'fixed'),
                 (2, 1, 'CVE-2', 'pkg:npm/b@1', 'LOW', 2, 'fixed'),
                 (3, 1, 'CVE-3', 'pkg:npm/gone@1', 'LOW', 2, 'fixed'),
                 (4, 2, 'CVE-1', 'pkg:npm/a@1', 'HIGH', 4, 'fixed');",
        )
        .unwrap();
        tx.commit().unwrap();
    }
    let s = Store::open(&p).unwrap();
    let ids: Vec<(i64, Option<i64>)> = s
        .conn()
        .prepare("SELECT id, component_id FROM finding ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(
        ids,
        vec![(1, Some(10)), (2, Some(11)), (3, None), (4, Some(20))]
    );
    let index: i64 = s
        .conn()
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'finding_set'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(index, 1);
    // The gate reads the migrated rows: each finding's own set's component.
    let mut names = Vec::new();
    for set in [1, 2] {
        s.for_each_gate_row_ref(set, &mut |r| {
            names.push((r.id, r.name.to_string()));
            Ok(())
        })
        .unwrap();
    }
    assert_eq!(
        names,
        vec![
            (1, "a".to_string()),
            (2, "b".to_string()),
            (3, "pkg:npm/gone@1".to_string()),
            (4, "a".to_string())
        ]
    );
}
