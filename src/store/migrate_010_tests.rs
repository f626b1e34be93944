//! Upgrade test for migration 010 (finding text moved to `finding_text`, `finding` rebuilt):
//! a store written at schema 9 reads back the same findings, text, scanner views and cached
//! judgements after the upgrade, and the rebuilt table keeps its indexes and trigger.

use super::{Store, MIGRATIONS};
use rusqlite::params;

const DESC: &str = "A flaw in the parser lets a remote attacker cause a denial of service.";

/// A store at schema 9 with one set: a finding with title and description seen by two
/// scanners that name different fixed versions, and one with neither text nor disagreement.
fn store_at_9(path: &std::path::Path) {
    let mut c = rusqlite::Connection::open(path).unwrap();
    let tx = c.transaction().unwrap();
    for sql in &MIGRATIONS[..9] {
        tx.execute_batch(sql).unwrap();
    }
    tx.pragma_update(None, "user_version", 9).unwrap();
    tx.execute_batch(
        "INSERT INTO evidence_set(id, image, source, imported_at) VALUES (1, 'app:1', 'x', '2026-11-01T00:00:00Z');
         INSERT INTO evidence_file(id, set_id, path, sha256, size, stored, status, imported_at)
             VALUES (1, 1, 'trivy.json', 'aa', 1, 0, 'parsed', 'now'), (2, 1, 'grype.json', 'bb', 1, 0, 'parsed', 'now');
         INSERT INTO component(set_id, key, purl, type, name, version)
             VALUES (1, 'pkg:deb/debian/zlib@1.2', 'pkg:deb/debian/zlib@1.2', 'deb', 'zlib', '1.2');",
    )
    .unwrap();
    tx.execute(
        "INSERT INTO finding(id, set_id, vuln_id, component_key, severity, severity_rank, fixed_versions,
             fix_state, title, description, scanners)
         VALUES (7, 1, 'CVE-2024-1', 'pkg:deb/debian/zlib@1.2', 'HIGH', 4, '[\"1.3\",\"1.4\"]', 'fixed',
             'zlib overflow', ?1, '[\"trivy\",\"grype\"]'),
                (8, 1, 'CVE-2024-2', 'pkg:deb/debian/zlib@1.2', 'LOW', 2, '[]', 'not-fixed', NULL, NULL, '[\"trivy\"]')",
        [DESC],
    )
    .unwrap();
    tx.execute_batch(
        r#"INSERT INTO finding_source(finding_id, file_id, scanner, view) VALUES
             (7, 1, 'trivy', '{"scanner":"trivy","fixed_versions":["1.3"]}'),
             (7, 2, 'grype', '{"scanner":"grype","fixed_versions":["1.4"]}'),
             (8, 1, 'trivy', '{"scanner":"trivy","fixed_versions":[]}');
           INSERT INTO finding_judgement(finding_id, set_id, gate, disposition, reason) VALUES
             (7, 1, 'WARN', 'undecided', 'r7'), (8, 1, 'INFO', 'undecided', 'r8');
           INSERT INTO finding_fts(rowid, vuln_id, aliases, component_key, name, purl)
             VALUES (7, 'CVE-2024-1', '[]', 'pkg:deb/debian/zlib@1.2', 'zlib', NULL),
                    (8, 'CVE-2024-2', '[]', 'pkg:deb/debian/zlib@1.2', 'zlib', NULL);"#,
    )
    .unwrap();
    tx.commit().unwrap();
}

fn count(s: &Store, sql: &str) -> i64 {
    s.conn().query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn store_at_9_upgrades_and_reads_back_the_same_findings() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("s.db");
    store_at_9(&p);
    let mut s = Store::open(&p).unwrap();
    s.integrity_check().unwrap();

    let f = s.finding(7).unwrap();
    assert_eq!(f.title.as_deref(), Some("zlib overflow"));
    assert_eq!(f.description.as_deref(), Some(DESC));
    assert_eq!(f.fixed_versions, vec!["1.3".to_string(), "1.4".to_string()]);
    assert_eq!(f.scanners, vec!["trivy".to_string(), "grype".to_string()]);
    assert_eq!(f.name, "zlib");
    let g = s.finding(8).unwrap();
    assert_eq!((g.title, g.description), (None, None));
    // The listing queries (severity order: HIGH first) carry the text too.
    let all = s.findings(1).unwrap();
    assert_eq!(
        all.iter().map(|f| f.id).collect::<Vec<_>>(),
        vec![7, 8],
        "both findings, HIGH first"
    );
    assert_eq!(all[0].description.as_deref(), Some(DESC));

    // The rebuild kept the children (foreign keys were off: no cascade on the old table).
    assert_eq!(count(&s, "SELECT COUNT(*) FROM finding_source"), 3);
    assert_eq!(count(&s, "SELECT COUNT(*) FROM finding_judgement"), 2);
    assert_eq!(count(&s, "SELECT COUNT(*) FROM finding_text"), 1);
    // No long text left in the scanned table.
    let cols: Vec<String> = s
        .conn()
        .prepare("SELECT name FROM pragma_table_info('finding')")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert!(
        !cols.iter().any(|c| c == "title" || c == "description"),
        "{cols:?}"
    );
    for ix in ["finding_set_sev", "finding_set_component"] {
        let n = count(
            &s,
            &format!("SELECT COUNT(*) FROM sqlite_schema WHERE type = 'index' AND name = '{ix}'"),
        );
        assert_eq!(n, 1, "index {ix} rebuilt");
    }

    // Backfilled flag: trivy says 1.3, grype 1.4 on finding 7 only.
    let fix = s.fix_disagreements(1).unwrap();
    assert_eq!(fix.len(), 1);
    assert_eq!(fix[0].0, "CVE-2024-1");
    assert!(fix[0].2.contains("trivy=[\"1.3\"]") && fix[0].2.contains("grype=[\"1.4\"]"));

    // Foreign keys are back on after the migration: deleting the set cascades everywhere.
    s.conn_mut()
        .execute("DELETE FROM evidence_set WHERE id = ?1", params![1])
        .unwrap();
    for t in [
        "finding",
        "finding_text",
        "finding_source",
        "finding_judgement",
    ] {
        assert_eq!(count(&s, &format!("SELECT COUNT(*) FROM {t}")), 0, "{t}");
    }
    // Migration 011 then drops the text index and its trigger (the list filters in memory).
    assert_eq!(
        count(
            &s,
            "SELECT COUNT(*) FROM sqlite_master WHERE name IN ('finding_fts', 'finding_fts_delete')"
        ),
        0
    );
}

/// A fresh import writes the text apart and flags the findings whose scanners name
/// different fixed versions; the fix cross-check reports exactly those.
#[test]
fn import_writes_text_apart_and_flags_fix_disagreements() {
    use crate::model::{ComponentKey, ScannerView, SetComponent, SetFinding};
    let key = ComponentKey("pkg:npm/left-pad@1.0.0".into());
    let comps = vec![SetComponent {
        key: key.clone(),
        kind: "npm".into(),
        name: "left-pad".into(),
        ..Default::default()
    }];
    let view = |scanner: &str, fixed: &[&str], title: Option<&str>| ScannerView {
        scanner: scanner.into(),
        fixed_versions: fixed.iter().map(|s| s.to_string()).collect(),
        title: title.map(str::to_string),
        description: title.map(|t| format!("{t}: {DESC}")),
        ..Default::default()
    };
    // (vuln, trivy's fix, grype's fix or no grype view)
    type Case<'a> = (&'a str, &'a [&'a str], Option<&'a [&'a str]>);
    let cases: [Case; 4] = [
        ("CVE-1", &["1.1"], Some(&["1.2"])),
        ("CVE-2", &["1.1"], Some(&["1.1"])),
        ("CVE-3", &[], Some(&["2.0"])),
        ("CVE-4", &["1.1"], None),
    ];
    let findings: Vec<SetFinding> = cases
        .iter()
        .map(|(id, t, g)| {
            let mut views = vec![(0, view("trivy", t, Some(id)))];
            if let Some(g) = g {
                views.push((1, view("grype", g, None)));
            }
            SetFinding {
                vuln_id: id.to_string(),
                aliases: vec![],
                component_key: key.clone(),
                views,
            }
        })
        .collect();
    let mut st = Store::open_in_memory().unwrap();
    let id = st.write_test_set_scanned("sha256:cd", &comps, &findings);

    let fix: Vec<String> = st
        .fix_disagreements(id)
        .unwrap()
        .into_iter()
        .map(|f| f.0)
        .collect();
    assert_eq!(fix, vec!["CVE-1".to_string(), "CVE-3".to_string()]);
    let rows = st.findings(id).unwrap();
    assert_eq!(rows.len(), 4);
    for r in rows {
        assert_eq!(r.title.as_deref(), Some(r.vuln_id.as_str()));
        assert_eq!(
            r.description.as_deref(),
            Some(format!("{}: {DESC}", r.vuln_id).as_str())
        );
    }
    assert_eq!(count(&st, "SELECT COUNT(*) FROM finding_text"), 4);
}
