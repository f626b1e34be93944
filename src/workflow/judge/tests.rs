//! The judging pass three ways (collected, streamed owned, lent as views) on one two-scanner
//! store with findings of every gate class, against expectations from DESIGN.md's rules.

use super::*;
use crate::analysis::gate::GateInput;
use crate::model::waiver::DispositionState;
use crate::model::{
    ComponentKey, Cvss, CvssVersion, Epss, ScannerView, SetComponent, SetFinding, Severity,
};
use crate::store::review::{insert_disposition, DispositionWrite};

const DIRECT: &str = "pkg:npm/direct@1.0.0";
const TRANSITIVE: &str = "pkg:npm/transitive@1.0.0";
const NET: &str = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H";
const PHYS: &str = "CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:H/I:H/A:H";

struct Case {
    id: &'static str,
    comp: &'static str,
    trivy: Option<(Severity, &'static [&'static str])>,
    grype: Option<(Severity, &'static [&'static str])>,
    vector: Option<&'static str>,
    epss: Option<f64>,
    kev: bool,
    /// What DESIGN.md section 6 gives.
    class: GateClass,
}

fn case(id: &'static str, sev: Severity, class: GateClass) -> Case {
    Case {
        id,
        comp: DIRECT,
        trivy: Some((sev, &["9.9"])),
        grype: Some((sev, &["9.9"])),
        vector: None,
        epss: None,
        kev: false,
        class,
    }
}

fn cases() -> Vec<Case> {
    use GateClass::*;
    use Severity::*;
    let mut v = vec![
        case("CVE-2024-0001", Critical, Block),
        Case {
            vector: Some(NET),
            ..case("CVE-2024-0002", High, Block)
        },
        Case {
            vector: Some(PHYS),
            ..case("CVE-2024-0003", High, Warn)
        },
        Case {
            vector: Some(PHYS),
            epss: Some(0.5),
            ..case("CVE-2024-0004", High, Block)
        },
        Case {
            comp: TRANSITIVE,
            vector: Some(NET),
            ..case("CVE-2024-0005", High, Warn)
        },
        Case {
            trivy: Some((High, &[])),
            grype: Some((High, &[])),
            vector: Some(NET),
            ..case("CVE-2024-0006", High, Warn)
        },
        case("CVE-2024-0007", Medium, Warn),
        Case {
            kev: true,
            ..case("CVE-2024-0008", Medium, Block)
        },
        case("CVE-2024-0009", Unknown, Warn),
        case("CVE-2024-0010", Low, Info),
        case("CVE-2024-0011", Negligible, Info),
        // Scanners disagree on the severity (the highest counts) and on the fix.
        Case {
            trivy: Some((Medium, &["1.1"])),
            grype: Some((Low, &["1.2"])),
            ..case("CVE-2024-0012", Medium, Warn)
        },
        Case {
            trivy: Some((Low, &["1.1"])),
            grype: Some((Low, &["2.0"])),
            ..case("GHSA-aaaa-bbbb-cccc", Low, Info)
        },
        // Recorded as waived by the reviewer, with no waiver behind it.
        case("CVE-2024-0014", Medium, Warn),
        // Recorded not_affected: disposed.
        case("CVE-2024-0015", Critical, Block),
    ];
    // More single-scanner findings than a diagnostic lists.
    for (i, id) in [
        "CVE-2023-0100",
        "CVE-2023-0101",
        "CVE-2023-0102",
        "CVE-2023-0103",
        "CVE-2023-0104",
        "CVE-2023-0105",
        "CVE-2023-0106",
        "CVE-2023-0107",
        "CVE-2023-0108",
        "CVE-2023-0109",
        "CVE-2023-0110",
        "CVE-2023-0111",
        "CVE-2023-0112",
        "CVE-2023-0113",
        "CVE-2023-0114",
        "CVE-2023-0115",
        "CVE-2023-0116",
        "CVE-2023-0117",
        "CVE-2023-0118",
        "CVE-2023-0119",
        "CVE-2023-0120",
        "CVE-2023-0121",
        "CVE-2023-0122",
        "CVE-2023-0123",
        "CVE-2023-0124",
    ]
    .into_iter()
    .enumerate()
    {
        let (sev, class) = if i % 2 == 0 {
            (Low, Info)
        } else {
            (Medium, Warn)
        };
        v.push(Case {
            grype: None,
            ..case(id, sev, class)
        });
    }
    v
}

fn view(scanner: &str, c: &Case, sev: Severity, fixed: &[&str]) -> ScannerView {
    ScannerView {
        scanner: scanner.into(),
        severity: sev,
        fixed_versions: fixed.iter().map(|s| s.to_string()).collect(),
        fix_state: if fixed.is_empty() {
            "not-fixed"
        } else {
            "fixed"
        }
        .into(),
        cvss: c
            .vector
            .map(|v| Cvss {
                source: "nvd".into(),
                version: CvssVersion::V3_1,
                vector: Some(v.into()),
                base_score: None,
            })
            .into_iter()
            .collect(),
        epss: (scanner == "grype")
            .then_some(c.epss)
            .flatten()
            .map(|score| Epss {
                score,
                percentile: None,
                date: Some("2026-11-01".into()),
            }),
        kev: c.kev.then_some(true),
        ..Default::default()
    }
}

fn store_with_every_class() -> (Store, i64) {
    let comp = |key: &str, direct: bool| SetComponent {
        key: ComponentKey(key.into()),
        kind: "npm".into(),
        name: key.into(),
        direct: Some(direct),
        in_sbom: true,
        in_scan: true,
        ..Default::default()
    };
    let comps = vec![comp(DIRECT, true), comp(TRANSITIVE, false)];
    let findings: Vec<SetFinding> = cases()
        .iter()
        .map(|c| {
            let mut views = Vec::new();
            if let Some((s, f)) = c.trivy {
                views.push((0, view("trivy", c, s, f)));
            }
            if let Some((s, f)) = c.grype {
                views.push((1, view("grype", c, s, f)));
            }
            SetFinding {
                vuln_id: c.id.into(),
                aliases: if c.id.starts_with("GHSA") {
                    vec!["CVE-2024-0013".into()]
                } else {
                    vec![]
                },
                component_key: ComponentKey(c.comp.into()),
                views,
            }
        })
        .collect();
    let mut st = Store::open_in_memory().unwrap();
    let id = st.write_test_set_scanned("sha256:cd", &comps, &findings);
    for (vuln, state) in [
        ("CVE-2024-0014", DispositionState::Waived),
        ("CVE-2024-0015", DispositionState::NotAffected),
    ] {
        // Through the store's audited write, as the review workflow records one.
        let d = DispositionWrite {
            set_id: id,
            vuln_id: vuln,
            component_key: DIRECT,
            state,
            justification: None,
            note: None,
            waiver_id: None,
            actor: "t",
            actor_role: None,
            key_fingerprint: None,
        };
        st.audited("t", "disposition", vuln, |tx| {
            Ok((insert_disposition(tx, &d)?, serde_json::Value::Null))
        })
        .unwrap();
    }
    (st, id)
}

fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 27).unwrap()
}

#[test]
fn streamed_views_and_collected_agree_on_every_class() {
    let (st, id) = store_with_every_class();
    let p = Policy::default_policy();
    let collected = evaluate_set_with(&st, id, &p, as_of(), &[]).unwrap();
    let mut owned = Vec::new();
    let streamed =
        evaluate_set_streaming(&st, id, &p, as_of(), &[], &mut |f| owned.push(f)).unwrap();
    let mut lent = Vec::new();
    let viewed = evaluate_set_views(&st, id, &p, as_of(), &[], &mut |f| {
        lent.push(f.to_judgement())
    })
    .unwrap();

    for r in [&streamed, &viewed] {
        assert_eq!(r.verdict, collected.verdict);
        assert_eq!(r.counts, collected.counts);
        assert_eq!(r.reasons, collected.reasons);
        assert_eq!(r.diagnostics, collected.diagnostics);
        assert!(r.findings.is_empty());
    }
    let by_row = |mut v: Vec<FindingJudgement>| {
        v.sort_by_key(|f| f.finding_id);
        v
    };
    let all = by_row(collected.findings.clone());
    assert_eq!(by_row(owned), all);
    assert_eq!(by_row(lent), all);

    // Every class as DESIGN.md gives it.
    let want = cases();
    assert_eq!(all.len(), want.len());
    for c in &want {
        let f = all.iter().find(|f| f.id == c.id).unwrap();
        assert_eq!(f.gate, c.class, "{}: {}", c.id, f.reason);
    }
    let n = |c: GateClass| want.iter().filter(|w| w.class == c).count();
    assert_eq!(
        class_count(&collected, GateClass::Block),
        n(GateClass::Block)
    );
    assert_eq!(class_count(&collected, GateClass::Warn), n(GateClass::Warn));
    assert_eq!(class_count(&collected, GateClass::Info), n(GateClass::Info));
    // Every WARN is undisposed (the recorded waiver has nothing behind it); one BLOCK is
    // recorded not_affected.
    assert_eq!(collected.counts.undisposed_warn, n(GateClass::Warn));
    assert_eq!(collected.counts.undisposed_block, n(GateClass::Block) - 1);
    assert_eq!(collected.counts.not_affected, 1);
    assert_eq!(collected.verdict, Verdict::Fail);
}

#[test]
fn lazily_written_reasons_are_the_classify_text() {
    let (st, id) = store_with_every_class();
    let p = Policy::default_policy();
    let r = evaluate_set_with(&st, id, &p, as_of(), &[]).unwrap();
    // The reasons through `gate::classify` from each finding's owned row, the path that
    // formats eagerly.
    let mut rows = Vec::new();
    st.for_each_gate_row_ref(id, &mut |row| {
        rows.push(row.to_owned_row());
        Ok(())
    })
    .unwrap();
    for row in rows {
        let vectors: Vec<&str> = [
            &row.cvss_v2_vector,
            &row.cvss_v3_vector,
            &row.cvss_v4_vector,
        ]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect();
        let input = GateInput {
            severity: row.severity,
            severity_disagrees: row.severity_disagrees,
            direct: row.direct,
            fix_available: !row.fixed_versions.is_empty() || row.fix_state == "fixed",
            vectors,
            epss: row.epss.map(|e| {
                let date = row.epss_date.as_deref().map(|d| format!(" {d}"));
                (e, format!("grype{}", date.unwrap_or_default()))
            }),
            kev: (row.kev == Some(true)).then(|| "reported by the scanner".to_string()),
            vex_not_affected: None,
        };
        let mut want = gate::classify(&input, &p).reason;
        if row.vuln_id == "CVE-2024-0014" {
            want.push_str("; recorded as waived, but no valid waiver applies at this date");
        }
        let got = r.findings.iter().find(|f| f.finding_id == row.id).unwrap();
        assert_eq!(got.reason, want);
    }
    let epss = r.findings.iter().find(|f| f.id == "CVE-2024-0004").unwrap();
    assert!(
        epss.reason.contains("EPSS 0.5 (grype 2026-11-01) > 0.05"),
        "{}",
        epss.reason
    );
}

#[test]
fn cross_checks_from_the_one_pass() {
    let (st, id) = store_with_every_class();
    let p = Policy::default_policy();
    let r = evaluate_set_views(&st, id, &p, as_of(), &[], &mut |_| {}).unwrap();
    let diag = |code: &str| r.diagnostics.iter().find(|d| d.code == code).unwrap();
    // 25 findings from trivy alone: 20 listed (severity order: the MEDIUMs first), the rest counted.
    let one = diag("scanner-only-one");
    assert!(one.message.starts_with("25 finding(s)"), "{}", one.message);
    assert_eq!(one.evidence.len(), 21);
    assert_eq!(
        one.evidence[0],
        format!("CVE-2023-0101 on {DIRECT}: only trivy")
    );
    assert_eq!(one.evidence[20], "... and 5 more");
    let sev = diag("scanner-severity-differs");
    assert_eq!(
        sev.evidence,
        vec![format!("CVE-2024-0012 on {DIRECT} (MEDIUM, highest used)")]
    );
    // The same findings as the whole-set query, in its order.
    let fix = diag("scanner-fix-differs");
    let whole: Vec<String> = st
        .fix_disagreements(id)
        .unwrap()
        .into_iter()
        .map(|(v, c, s)| format!("{v} on {c}: {s}"))
        .collect();
    assert_eq!(fix.evidence, whole);
    assert_eq!(
        fix.evidence,
        vec![
            format!("CVE-2024-0012 on {DIRECT}: trivy=[\"1.1\"]; grype=[\"1.2\"]"),
            format!("GHSA-aaaa-bbbb-cccc on {DIRECT}: trivy=[\"1.1\"]; grype=[\"2.0\"]"),
        ]
    );
}

/// The gate's `scanner-fix-differs` diagnostic for the set, under the default policy.
fn fix_diagnostic(st: &Store, id: i64) -> crate::analysis::checks::Diagnostic {
    let r =
        evaluate_set_views(st, id, &Policy::default_policy(), as_of(), &[], &mut |_| {}).unwrap();
    r.diagnostics
        .into_iter()
        .find(|d| d.code == "scanner-fix-differs")
        .unwrap()
}

/// 30 findings on which trivy and grype name different fixes, 5 on which they agree: the
/// cross-check counts the 30 from the import's flag, lists the first 20 in (id, component)
/// order as the whole-set query does, and says how many more.
#[test]
fn fix_cross_check_counts_the_flags_and_lists_the_first_twenty() {
    let fixed = |scanner: &str, v: &str| ScannerView {
        scanner: scanner.into(),
        severity: Severity::Low,
        fixed_versions: vec![v.into()],
        fix_state: "fixed".into(),
        ..Default::default()
    };
    let findings: Vec<SetFinding> = (0..35)
        .map(|i| SetFinding {
            vuln_id: format!("CVE-2024-{:04}", 100 - i),
            aliases: vec![],
            component_key: ComponentKey(DIRECT.into()),
            views: vec![
                (0, fixed("trivy", "1.1")),
                (1, fixed("grype", if i < 30 { "1.2" } else { "1.1" })),
            ],
        })
        .collect();
    let comps = vec![SetComponent {
        key: ComponentKey(DIRECT.into()),
        kind: "npm".into(),
        name: "direct".into(),
        in_sbom: true,
        in_scan: true,
        ..Default::default()
    }];
    let mut st = Store::open_in_memory().unwrap();
    let id = st.write_test_set_scanned("sha256:f1", &comps, &findings);
    let fix = fix_diagnostic(&st, id);
    assert!(fix.message.starts_with("30 finding(s)"), "{}", fix.message);
    // The ids count down as the findings go up, so the first listed is the last written
    // of the 30 that disagree: CVE-2024-0071.
    let first: Vec<String> = (71..91)
        .map(|n| format!("CVE-2024-{n:04} on {DIRECT}: trivy=[\"1.1\"]; grype=[\"1.2\"]"))
        .collect();
    assert_eq!(fix.evidence[..20], first[..]);
    assert_eq!(fix.evidence[20], "... and 10 more");
    assert_eq!(fix.evidence.len(), 21);
}

/// A store whose flags claim more than its views bear out (every finding flagged): the
/// cross-check finds a listed one that does not disagree and checks every flagged finding,
/// giving what the whole-set query gave before the flags were set.
#[test]
fn fix_cross_check_reads_every_flagged_view_when_a_flag_is_wrong() {
    let (st, id) = store_with_every_class();
    let whole: Vec<String> = st
        .fix_disagreements(id)
        .unwrap()
        .into_iter()
        .map(|(v, c, s)| format!("{v} on {c}: {s}"))
        .collect();
    assert_eq!(whole.len(), 2);
    st.flag_every_fix_for_test(id);
    let fix = fix_diagnostic(&st, id);
    assert!(fix.message.starts_with("2 finding(s)"), "{}", fix.message);
    assert_eq!(fix.evidence, whole);
}
