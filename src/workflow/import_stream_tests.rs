//! The spool must hand back each view whole (the store write serialises it for
//! `finding_source.view`), with a late scanner version applied only where it had none.

use super::*;
use crate::model::{Cvss, CvssVersion, Epss, Severity};
use crate::store::FindingStream;

fn view(scanner: &str, version: Option<&str>) -> ScannerView {
    ScannerView {
        scanner: scanner.to_string(),
        scanner_version: version.map(str::to_string),
        severity: Severity::High,
        cvss: vec![Cvss {
            source: "nvd".into(),
            version: CvssVersion::V3_1,
            vector: Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H".into()),
            base_score: Some(9.8),
        }],
        fixed_versions: vec!["1.2.3".into()],
        fix_state: "fixed".into(),
        title: Some("a \"quoted\" title \u{1b}[31m with \u{e9} and \\ backslash".into()),
        description: Some("line one\nline two\u{202e}".into()),
        epss: Some(Epss {
            score: 0.125,
            percentile: Some(0.5),
            date: None,
        }),
        kev: Some(true),
        // Fields the write does not summarise, but stores.
        urls: vec!["https://example.test/advisory".into()],
        namespace: Some("debian:12".into()),
        match_details: Some("[{\"type\":\"exact-direct-match\"}]".into()),
        published: Some("2024-01-02".into()),
        ..ScannerView::default()
    }
}

fn record(id: &str, component: usize, v: ScannerView) -> FindingRecord {
    FindingRecord {
        vuln_id: id.to_string(),
        aliases: Vec::new(),
        component,
        view: v,
    }
}

/// Spools `records` as one file's findings (with `late` as its late scanner version) and
/// returns every merged finding. Also spools them with the keys in the scratch file and
/// sorted in runs of 1 and 2 items on disk, which must give the same findings.
fn round_trip(records: Vec<FindingRecord>, late: Option<&str>) -> Vec<SetFinding> {
    let mut outs = [(KEY_MEMORY, CHUNK), (0, 1), (0, 2)].map(|(key_memory, chunk)| {
        let mut spool = Spool::with_memory(SPOOL_MEMORY, key_memory);
        let mut staged = Staged::default();
        let mut sink = SpoolSink::new(&mut spool, &mut staged);
        for r in records.clone() {
            sink.finding(r).unwrap();
        }
        assert_eq!(staged.len(), records.len());
        staged.late_scanner_version = late.map(str::to_string);
        let comps = vec![
            ComponentKey("pkg:deb/a@1".into()),
            ComponentKey("pkg:deb/b@2".into()),
        ];
        let mut m = merge_keys_in(vec![(0, comps, staged)], spool, chunk).unwrap();
        let runs = m.items.runs();
        let mut out = Vec::new();
        while let Some(f) = m.next_finding().unwrap() {
            out.push(f);
        }
        let views: usize = out.iter().map(|f| f.views.len()).sum();
        if chunk < views {
            assert_eq!(
                runs,
                views.div_ceil(chunk),
                "{views} views in runs of {chunk}"
            );
        }
        out
    });
    for other in &outs[1..] {
        assert_eq!(*other, outs[0]);
    }
    std::mem::take(&mut outs[0])
}

#[test]
fn the_spool_returns_each_view_whole() {
    let a = view("trivy", Some("0.58.1"));
    let b = view("trivy", None);
    let got = round_trip(
        vec![record("CVE-2", 0, a.clone()), record("CVE-1", 1, b.clone())],
        None,
    );
    assert_eq!(got.len(), 2);
    // Merge order: by vulnerability id.
    assert_eq!(
        (got[0].vuln_id.as_str(), &got[0].views),
        ("CVE-1", &vec![(0, b)])
    );
    assert_eq!(
        (got[1].vuln_id.as_str(), &got[1].views),
        ("CVE-2", &vec![(0, a)])
    );
}

#[test]
fn a_late_scanner_version_goes_only_to_views_without_their_own() {
    let scanner = "gr\"ype\u{7}";
    let own = view(scanner, Some("own"));
    let got = round_trip(
        vec![
            record("CVE-1", 0, view(scanner, None)),
            record("CVE-1", 1, own.clone()),
        ],
        Some("0.80.\"0"),
    );
    assert_eq!(got[0].views, vec![(0, view(scanner, Some("0.80.\"0")))]);
    assert_eq!(got[1].views, vec![(0, own)]);
}

#[test]
fn views_of_one_finding_keep_their_own_fields_in_file_order() {
    let t = view("trivy", Some("1"));
    let mut g = view("grype", None);
    g.fixed_versions = vec!["9".into()];
    g.match_details = None;
    let got = round_trip(
        vec![record("CVE-7", 0, t.clone()), record("CVE-7", 0, g.clone())],
        Some("0.9"),
    );
    assert_eq!(got.len(), 1);
    g.scanner_version = Some("0.9".into());
    assert_eq!(got[0].views, vec![(0, t), (0, g)]);
}

#[test]
fn every_record_reads_back_whether_in_memory_across_blocks_or_in_the_file() {
    // ~2,500 records of ~1 KB: with a 1.5 MiB budget the first ones cross the 1 MiB block
    // boundary in memory and the rest go to the file; 0 puts all in the file, 1 GiB none.
    let views: Vec<ScannerView> = (0..2500)
        .map(|i| {
            let mut v = view("trivy", Some("1"));
            v.description = Some(format!("{i} {}", "x".repeat(300 + i % 700)));
            v
        })
        .collect();
    for budget in [0, 3 << 19, 1 << 30] {
        let mut spool = Spool::with_memory(budget, 0);
        let placed: Vec<(u64, u32)> = views.iter().map(|v| spool.put(v).unwrap()).collect();
        let in_memory = placed
            .iter()
            .filter(|(at, _)| *at < spool.views.mem_len)
            .count();
        match budget {
            0 => assert_eq!(in_memory, 0),
            b if b > 1 << 29 => assert_eq!(in_memory, views.len()),
            _ => assert!(in_memory > 1000 && in_memory < views.len(), "{in_memory}"),
        }
        // Read back out of order, each against its own encoding.
        let mut out = Vec::new();
        for i in (0..views.len()).rev().step_by(3).chain(0..views.len()) {
            let mut want = Vec::new();
            crate::workflow::import_spool::encode(&views[i], &mut want);
            spool.read(placed[i].0, placed[i].1, &mut out).unwrap();
            assert_eq!(out, want, "record {i} with a budget of {budget}");
        }
        // A record the spool never wrote is an error, not a panic.
        assert!(spool.read(spool.views.len, 10, &mut out).is_err());
    }
}

#[test]
fn alias_groups_join_through_every_finding_whatever_the_order() {
    let rec = |id: &str, aliases: &[&str], component: usize, scanner: &str| FindingRecord {
        vuln_id: id.to_string(),
        aliases: aliases.iter().map(|a| a.to_string()).collect(),
        component,
        view: view(scanner, Some("1")),
    };
    let records = [
        rec("GHSA-b", &["GHSA-a", ""], 0, "s1"),
        rec("GHSA-a", &["CVE-9", "GHSA-a"], 1, "s2"),
        // Its component is not in the document: no row, but it still links OSV-2 in.
        rec("OSV-1", &["GHSA-b"], 5, "s3"),
        rec("GHSA-z", &[], 0, "s4"),
        rec("OSV-2", &["OSV-1"], 0, "s5"),
    ];
    // Worked out by hand: one group rooted at the CVE (CVE ids are preferred), and GHSA-z
    // alone; (CVE-9, a) holds the views of GHSA-b and OSV-2, in document order.
    let group = vec!["GHSA-a", "GHSA-b", "OSV-1", "OSV-2"];
    for rotation in 0..records.len() {
        let mut rs = records.to_vec();
        rs.rotate_left(rotation);
        let got = round_trip(rs.clone(), None);
        let summary: Vec<(&str, Vec<&str>, &str, Vec<&str>)> = got
            .iter()
            .map(|f| {
                (
                    f.vuln_id.as_str(),
                    f.aliases.iter().map(String::as_str).collect(),
                    f.component_key.0.as_str(),
                    f.views.iter().map(|(_, v)| v.scanner.as_str()).collect(),
                )
            })
            .collect();
        let order: Vec<&str> = rs
            .iter()
            .map(|r| r.view.scanner.as_str())
            .filter(|s| *s == "s1" || *s == "s5")
            .collect();
        assert_eq!(
            summary,
            vec![
                ("CVE-9", group.clone(), "pkg:deb/a@1", order),
                ("CVE-9", group.clone(), "pkg:deb/b@2", vec!["s2"]),
                ("GHSA-z", vec![], "pkg:deb/a@1", vec!["s4"]),
            ],
            "rotation {rotation}"
        );
    }
}

#[test]
fn a_discarded_parse_leaves_no_finding_and_no_alias_link_behind() {
    // The first parse of the file is given up after two findings (its aliases would have
    // joined CVE-1 and CVE-2); the second parse sends one finding of its own.
    let with_alias = |id: &str, alias: &str, scanner: &str| FindingRecord {
        aliases: vec![alias.to_string()],
        ..record(id, 0, view(scanner, Some("1")))
    };
    for key_memory in [KEY_MEMORY, 0] {
        let mut spool = Spool::with_memory(SPOOL_MEMORY, key_memory);
        let mut staged = Staged::default();
        let mut sink = SpoolSink::new(&mut spool, &mut staged);
        sink.finding(with_alias("CVE-1", "CVE-2", "first")).unwrap();
        sink.finding(record("CVE-9", 1, view("first", None)))
            .unwrap();
        sink.discard();
        sink.finding(record("CVE-2", 0, view("second", None)))
            .unwrap();
        assert_eq!(staged.len(), 1);
        let comps = vec![
            ComponentKey("pkg:deb/a@1".into()),
            ComponentKey("pkg:deb/b@2".into()),
        ];
        let mut m = merge_keys_in(vec![(0, comps, staged)], spool, 1).unwrap();
        let f = m.next_finding().unwrap().unwrap();
        assert_eq!(f.vuln_id, "CVE-2");
        assert!(f.aliases.is_empty(), "{:?}", f.aliases);
        assert_eq!(f.views.len(), 1);
        assert_eq!(f.views[0].1.scanner, "second");
        assert!(m.next_finding().unwrap().is_none());
    }
}
