//! Judge conformance over real fixtures: XCCDF/ARF result counts against an independent
//! text count of their rule-result elements; Grype DB staleness in both `descriptor.db`
//! shapes (a real report, and the same report with its DB date moved back); EPSS and KEV
//! imports (or their precise refusal); VEX statement counts against the raw JSON.

use super::common::{fixtures, shared};
use assert_cmd::Command;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

fn dossier(store: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::cargo_bin("dossier")
        .unwrap()
        .env("DOSSIER_STORE", store)
        .env("DOSSIER_ACTOR", "conformance")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Counts `<[prefix:]rule-result>` elements by the text of their `<[prefix:]result>` child,
/// by scanning tags as text (no XML library), so it shares nothing with the parser.
fn count_rule_results(text: &str) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    let mut in_rr = false;
    for chunk in text.split('<').skip(1) {
        let (tag, after) = chunk.split_once('>').unwrap_or((chunk, ""));
        let name = tag.split_whitespace().next().unwrap_or("");
        let local = name.rsplit(':').next().unwrap_or(name);
        let closing = name.starts_with('/');
        match (local, closing) {
            ("rule-result", false) if !tag.ends_with('/') => in_rr = true,
            ("rule-result", true) => in_rr = false,
            ("result", false) if in_rr => {
                *out.entry(after.trim().to_string()).or_insert(0) += 1;
            }
            _ => {}
        }
    }
    out
}

#[test]
#[ignore = "needs ../shared/fixtures"]
fn xccdf_counts_match_an_independent_count() {
    let files = fixtures("xccdf");
    assert!(!files.is_empty());
    for f in files {
        let bytes = std::fs::read(&f).unwrap();
        let want = count_rule_results(&String::from_utf8_lossy(&bytes));
        assert!(!want.is_empty(), "{}: no rule-results counted", f.display());
        let got = dossier::analysis::xccdf::parse(&f.display().to_string(), &bytes).unwrap();
        for r in ["pass", "fail", "notapplicable"] {
            assert_eq!(
                got.count(r),
                want.get(r).copied().unwrap_or(0),
                "{} result {r}",
                f.display()
            );
        }
        assert_eq!(got.results, want, "{}", f.display());
    }
}

#[test]
#[ignore = "needs ../shared/fixtures"]
fn xccdf_results_reach_the_stig_check_after_import() {
    let f = shared().join("fixtures/xccdf/xccdf-heimdall_scc-5.4_rhel7-stig.xml");
    let want = count_rule_results(&std::fs::read_to_string(&f).unwrap());
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.db");
    let (code, out, err) = dossier(&store, &["import", f.to_str().unwrap(), "--json"]);
    assert!(code == 0 || code == 1, "{err}{out}");
    let (_, out, err) = dossier(&store, &["checks", "1", "--json"]);
    let d: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    let stig = d
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["check"] == "stig" && x["code"] != "stig-unreadable")
        .unwrap_or_else(|| panic!("no stig diagnostic: {d}"));
    let msg = stig["message"].as_str().unwrap();
    let fail = want.get("fail").copied().unwrap_or(0);
    let pass = want.get("pass").copied().unwrap_or(0);
    assert!(
        msg.contains(&format!("pass {pass}, fail {fail}")),
        "{msg} vs {want:?}"
    );
}

fn staleness_code(report: &Value, dir: &Path, name: &str) -> (String, String) {
    let p = dir.join(name);
    std::fs::write(&p, serde_json::to_vec(report).unwrap()).unwrap();
    let store = dir.join(format!("{name}.db"));
    let (code, out, err) = dossier(&store, &["import", p.to_str().unwrap()]);
    assert!(code == 0 || code == 1, "{err}{out}");
    let (_, out, _) = dossier(&store, &["checks", "1", "--json"]);
    let d: Value = serde_json::from_str(&out).unwrap();
    let hit = d
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["check"] == "scanner-db-age" || x["code"] == "scanner-db-age-unknown")
        .unwrap_or_else(|| panic!("no DB age diagnostic: {d}"))
        .clone();
    (
        hit["code"].as_str().unwrap().to_string(),
        hit["level"].as_str().unwrap().to_string(),
    )
}

fn days_between(built: &str, scanned: &str) -> f64 {
    let b = chrono::DateTime::parse_from_rfc3339(built).unwrap();
    let s = chrono::DateTime::parse_from_rfc3339(scanned).unwrap();
    (s - b).num_seconds() as f64 / 86400.0
}

#[test]
#[ignore = "needs ../shared/fixtures"]
fn grype_db_older_than_14_days_at_scan_time_fails_staleness() {
    let dir = tempfile::tempdir().unwrap();
    // v0.79 (DB schema v5: descriptor.db.built) and v0.94 (v6: descriptor.db.status.built).
    for (file, pointer) in [
        (
            "grype-heimdall_v0.79.3_golang-1.12-alpine.json",
            "/descriptor/db/built",
        ),
        (
            "grype-dd_v0.94.0_busybox_epss.json",
            "/descriptor/db/status/built",
        ),
    ] {
        let path = shared().join("fixtures/grype").join(file);
        let mut v: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let scanned = v["descriptor"]["timestamp"].as_str().unwrap().to_string();
        let built = v
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap()
            .to_string();
        // The real report: its DB was built hours before the scan.
        assert!(days_between(&built, &scanned) < 14.0);
        assert_eq!(
            staleness_code(&v, dir.path(), &format!("fresh-{file}")),
            ("scanner-db-fresh".into(), "pass".into())
        );
        // The same report with the DB date moved 30 days back.
        let old = (chrono::DateTime::parse_from_rfc3339(&built).unwrap()
            - chrono::Duration::days(30))
        .to_rfc3339();
        *v.pointer_mut(pointer).unwrap() = Value::String(old.clone());
        assert!(days_between(&old, &scanned) > 14.0);
        assert_eq!(
            staleness_code(&v, dir.path(), &format!("stale-{file}")),
            ("scanner-db-stale".into(), "fail".into())
        );
    }
    // A report without descriptor.db says the age is unknown, plainly.
    let old = shared().join("fixtures/grype/grype-dd_v0.7.0_busybox_no_vuln.json");
    let v: Value = serde_json::from_slice(&std::fs::read(old).unwrap()).unwrap();
    assert_eq!(
        staleness_code(&v, dir.path(), "old.json").0,
        "scanner-db-age-unknown"
    );
}

#[test]
#[ignore = "needs ../shared/fixtures"]
fn epss_and_kev_fixtures_import_or_are_refused_precisely() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.db");
    let ek = shared().join("fixtures/epss-kev");
    let csv = ek.join("epss-vunnel_example-1.csv");
    let rows = std::fs::read_to_string(&csv)
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("CVE-"))
        .count();
    let (code, out, err) = dossier(&store, &["threat", "import", csv.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(&format!("imported {rows} epss rows")) && out.contains("v2023.03.01"),
        "{out}"
    );
    let (code, _, err) = dossier(
        &store,
        &[
            "threat",
            "import",
            ek.join("epss-vunnel_invalid-header.csv").to_str().unwrap(),
        ],
    );
    assert_eq!(code, 2);
    assert!(
        err.contains("line 2") && err.contains("invalid,header,format"),
        "{err}"
    );
    let (code, _, err) = dossier(
        &store,
        &[
            "threat",
            "import",
            ek.join("epss-vunnel_missing-date.csv").to_str().unwrap(),
        ],
    );
    assert_eq!(code, 2);
    assert!(err.contains("score_date"), "{err}");
    for kev in [
        "kev-cisa_known_exploited_vulnerabilities.json",
        "kev-vunnel_valid-catalog-1.json",
    ] {
        let p = ek.join(kev);
        let v: Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
        let n = v["vulnerabilities"].as_array().unwrap().len();
        let (code, out, err) = dossier(&store, &["threat", "import", p.to_str().unwrap()]);
        assert_eq!(code, 0, "{kev}: {err}");
        assert!(out.contains(&format!("imported {n} kev rows")), "{out}");
        assert!(out.contains(v["catalogVersion"].as_str().unwrap()), "{out}");
    }
}

#[test]
#[ignore = "needs ../shared/fixtures"]
fn vex_fixtures_give_every_statement() {
    for f in fixtures("vex") {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        let bytes = std::fs::read(&f).unwrap();
        if name.starts_with("openvex-") {
            let v: Value = serde_json::from_slice(&bytes).unwrap();
            let want = v["statements"].as_array().map_or(0, Vec::len);
            let got = dossier::analysis::vex::parse_openvex(&name, &bytes).unwrap();
            assert_eq!(got.len(), want, "{name}");
            assert!(
                got.iter()
                    .all(|s| !s.vulnerability.is_empty() && !s.status.is_empty()),
                "{name}"
            );
        } else if name.starts_with("cdxvex-") && name.ends_with(".json") {
            let v: Value = serde_json::from_slice(&bytes).unwrap();
            let want = v["vulnerabilities"].as_array().map_or(0, |a| {
                a.iter()
                    .filter(|x| x["analysis"]["state"].is_string())
                    .count()
            });
            let got = dossier::analysis::vex::parse_cyclonedx_json(&name, &bytes).unwrap();
            assert_eq!(got.len(), want, "{name}");
        } else if name.ends_with(".xml") {
            let text = String::from_utf8_lossy(&bytes);
            let want = text.matches("<state>").count();
            let got = dossier::analysis::vex::parse_cyclonedx_xml(&name, &bytes).unwrap();
            assert_eq!(got.len(), want, "{name}");
        }
    }
}
