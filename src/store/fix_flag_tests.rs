//! `finding.fix_disagrees`: the import sets it from the views it stores (one per file) by
//! the gate's fix rule, and migration 014 clears flags an older import set from views the
//! store never kept.

use super::Store;
use crate::model::{ComponentKey, ScannerView, SetComponent, SetFinding};

fn view(scanner: &str, fixed: &[&str]) -> ScannerView {
    ScannerView {
        scanner: scanner.into(),
        fixed_versions: fixed.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
}

fn finding(vuln: &str, views: Vec<(usize, ScannerView)>) -> SetFinding {
    SetFinding {
        vuln_id: vuln.into(),
        aliases: vec![],
        component_key: ComponentKey("pkg:npm/a@1".into()),
        views,
    }
}

/// Views 0 are the trivy file's, views 1 the grype file's (`write_test_set_scanned`).
fn scanned() -> (Store, i64) {
    let comps = vec![SetComponent {
        key: ComponentKey("pkg:npm/a@1".into()),
        kind: "npm".into(),
        name: "a".into(),
        ..Default::default()
    }];
    let findings = vec![
        // Different fixes: flagged.
        finding(
            "CVE-1",
            vec![(0, view("trivy", &["1.1"])), (1, view("grype", &["1.2"]))],
        ),
        // The same fix: not flagged.
        finding(
            "CVE-2",
            vec![(0, view("trivy", &["1.1"])), (1, view("grype", &["1.1"]))],
        ),
        // Two views from the trivy file: the store keeps the last (1.2), which grype
        // agrees with, so nothing the store holds disagrees.
        finding(
            "CVE-3",
            vec![
                (0, view("trivy", &["1.1"])),
                (0, view("trivy", &["1.2"])),
                (1, view("grype", &["1.2"])),
            ],
        ),
        // The lists as given: the same versions in another order differ.
        finding(
            "CVE-4",
            vec![
                (0, view("trivy", &["1.1", "1.2"])),
                (1, view("grype", &["1.2", "1.1"])),
            ],
        ),
        // One scanner only: nothing to disagree with.
        finding("CVE-5", vec![(0, view("trivy", &["9"]))]),
    ];
    let mut st = Store::open_in_memory().unwrap();
    let id = st.write_test_set_scanned("sha256:ff", &comps, &findings);
    (st, id)
}

fn flagged(st: &Store) -> Vec<String> {
    st.conn()
        .prepare("SELECT vuln_id FROM finding WHERE fix_disagrees ORDER BY vuln_id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

#[test]
fn the_import_flags_what_the_stored_views_disagree_on() {
    let (st, id) = scanned();
    assert_eq!(flagged(&st), ["CVE-1", "CVE-4"]);
    let whole: Vec<String> = st
        .fix_disagreements(id)
        .unwrap()
        .into_iter()
        .map(|(v, _, _)| v)
        .collect();
    assert_eq!(whole, ["CVE-1", "CVE-4"]);
}

#[test]
fn migration_014_clears_flags_the_stored_views_do_not_bear_out() {
    let (st, _) = scanned();
    st.conn()
        .execute("UPDATE finding SET fix_disagrees = 1", [])
        .unwrap();
    // 014 ran on stores whose views were inline (chunks came with 015).
    crate::store::view_chunks::inline_all_for_test(st.conn());
    st.conn()
        .execute_batch(include_str!("migrations/014_exact_fix_flag.sql"))
        .unwrap();
    assert_eq!(flagged(&st), ["CVE-1", "CVE-4"]);
}
