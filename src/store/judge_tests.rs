//! The judgement cache: replacing a set's rows writes what changed and drops what was not
//! given.

use super::judge::JudgementRow;
use super::Store;
use crate::model::{ComponentKey, ScannerView, SetComponent, SetFinding};

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
