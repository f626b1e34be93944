use super::*;

struct Row {
    id: i64,
    sev: usize,
    vuln: String,
    aliases: String,
    key: String,
    name: String,
    purl: Option<String>,
    judged: Option<(String, String)>,
}

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const NAMES: &[&str] = &[
    "OpenSSL",
    "libxml2",
    "zlib",
    "Jackson-Databind",
    "log4j_core",
    "100%-pure",
    "curl",
    "libcurl3-gnutls",
    "Éclair",
    "a",
];
const GATES: &[&str] = &["BLOCK", "WARN", "INFO"];
const DISPS: &[&str] = &[
    "undecided",
    "not_affected",
    "patched",
    "false_positive",
    "waived",
];

/// 600 findings over 14 components (two keys have no component row), ids ascending with
/// gaps, a third unjudged.
fn rows() -> Vec<Row> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let comps: Vec<(String, String, Option<String>)> = (0..14)
        .map(|i| {
            let n = NAMES[i % NAMES.len()];
            if i % 3 == 2 {
                (format!("{n}@{i}.0"), n.to_string(), None)
            } else {
                let k = format!("pkg:deb/debian/{}@{i}.0", n.to_lowercase());
                (k.clone(), n.to_string(), Some(k))
            }
        })
        .collect();
    let mut id = 100;
    (0..600)
        .map(|i| {
            id += 1 + rng.below(3) as i64;
            let c = &comps[rng.below(comps.len())];
            let vuln = if i % 4 == 0 {
                format!("GHSA-{:04x}-Ab{}", rng.below(5000), i % 10)
            } else {
                format!("CVE-20{:02}-{}", 10 + rng.below(15), 1000 + rng.below(300))
            };
            let aliases = if i % 5 == 0 {
                format!("[\"CVE-2099-{i}\",\"OSV-Ünï\"]")
            } else {
                "[]".to_string()
            };
            let judged = (i % 3 != 0).then(|| {
                (
                    GATES[rng.below(3)].to_string(),
                    DISPS[rng.below(DISPS.len())].to_string(),
                )
            });
            Row {
                id,
                sev: rng.below(6),
                vuln,
                aliases,
                key: c.0.clone(),
                name: c.1.clone(),
                purl: c.2.clone(),
                judged,
            }
        })
        .collect()
}

fn build(rows: &[Row], with_orders: bool) -> FindingIndex {
    let mut ix = FindingIndex::new();
    // Two component keys are left out of the component rows: their findings show the key.
    for r in rows.iter().filter(|r| !orphan(&r.key)) {
        ix.add_component(&r.key, &r.name, r.purl.as_deref());
    }
    for r in rows {
        ix.add_finding(r.id, r.sev as u8, &r.vuln, &r.aliases, &r.key);
    }
    for r in rows {
        if let Some((g, d)) = &r.judged {
            ix.set_judgement(r.id, g, d);
        }
    }
    if with_orders {
        for slot in 0..ORDERS {
            let mut v: Vec<&Row> = rows.iter().collect();
            v.sort_by(|a, b| order_cmp(slot, a, b));
            ix.set_order(slot, v.iter().map(|r| r.id));
        }
    }
    ix.finish();
    ix
}

/// Findings on these keys have no component row (the store's LEFT JOIN misses).
fn orphan(key: &str) -> bool {
    key.ends_with("@13.0") || key.ends_with("@2.0")
}

fn order_cmp(slot: usize, a: &Row, b: &Row) -> std::cmp::Ordering {
    match slot {
        0 => b
            .sev
            .cmp(&a.sev)
            .then(a.vuln.cmp(&b.vuln))
            .then(a.id.cmp(&b.id)),
        1 => a
            .vuln
            .cmp(&b.vuln)
            .then(a.key.cmp(&b.key))
            .then(a.id.cmp(&b.id)),
        _ => a
            .key
            .cmp(&b.key)
            .then(a.vuln.cmp(&b.vuln))
            .then(a.id.cmp(&b.id)),
    }
}

/// The filter by brute force over the generated rows: the list's documented semantics.
fn brute(rows: &[Row], f: &IndexFilter, slot: Option<usize>) -> (Vec<i64>, [u64; 6]) {
    let t = f.text.trim().to_ascii_lowercase();
    let mut v: Vec<&Row> = rows
        .iter()
        .filter(|r| {
            let (name, purl) = if orphan(&r.key) {
                (r.key.as_str(), None)
            } else {
                (r.name.as_str(), r.purl.as_deref())
            };
            t.is_empty()
                || [
                    r.vuln.as_str(),
                    r.aliases.as_str(),
                    r.key.as_str(),
                    name,
                    purl.unwrap_or(""),
                ]
                .iter()
                .any(|s| s.to_ascii_lowercase().contains(&t))
        })
        .filter(|r| {
            f.gates.is_empty() || r.judged.as_ref().is_some_and(|(g, _)| f.gates.contains(g))
        })
        .filter(|r| {
            f.dispositions.is_empty()
                || r.judged
                    .as_ref()
                    .is_some_and(|(_, d)| f.dispositions.contains(d))
        })
        .collect();
    let mut counts = [0u64; 6];
    for r in &v {
        counts[r.sev] += 1;
    }
    v.retain(|r| f.severities.is_empty() || f.severities.iter().any(|s| *s as usize == r.sev));
    if let Some(slot) = slot {
        v.sort_by(|a, b| order_cmp(slot, a, b));
    }
    (v.iter().map(|r| r.id).collect(), counts)
}

fn ids(ix: &FindingIndex, r: &IndexResult) -> Vec<i64> {
    r.entries.iter().map(|e| ix.id(*e).unwrap()).collect()
}

#[test]
fn every_filter_sort_class_and_disposition_equals_brute_force() {
    let rows = rows();
    let ix = build(&rows, true);
    let terms = [
        "",
        "openssl",
        "OPENSSL",
        "ssl",
        "lib",
        "LIBCURL3",
        "cve-2011",
        "CVE-20",
        "ghsa",
        "-ab",
        "100%",
        "%",
        "_",
        "j_c",
        "éclair",
        "Éclair",
        "ünï",
        "osv",
        "@1.0",
        "\"",
        "[]",
        "pkg:deb",
        "jackson-databind@",
        "zlib@2",
        "a",
        "o",
        "  curl  ",
        "2099-1",
        "\0",
        "nothing-matches-this",
    ];
    let sev_sets: Vec<Vec<Severity>> = vec![
        vec![],
        vec![Severity::Critical],
        vec![Severity::High, Severity::Unknown],
    ];
    let gate_sets: Vec<Vec<String>> = vec![
        vec![],
        vec!["BLOCK".into()],
        vec!["WARN".into(), "INFO".into()],
        vec!["NOPE".into()],
    ];
    let disp_sets: Vec<Vec<String>> = vec![
        vec![],
        vec!["undecided".into()],
        vec!["waived".into(), "patched".into()],
    ];
    let mut checked = 0;
    let mut nonempty = 0;
    for t in terms {
        for sv in &sev_sets {
            for g in &gate_sets {
                for d in &disp_sets {
                    let f = IndexFilter {
                        text: t.to_string(),
                        severities: sv.clone(),
                        gates: g.clone(),
                        dispositions: d.clone(),
                    };
                    for slot in 0..ORDERS {
                        let got = ix.query(&f, slot);
                        let (want, counts) = brute(&rows, &f, Some(slot));
                        assert_eq!(ids(&ix, &got), want, "{f:?} order {slot}");
                        assert_eq!(got.counts, counts, "{f:?} counts");
                        checked += 1;
                        nonempty += usize::from(!want.is_empty());
                    }
                }
            }
        }
    }
    assert!(
        nonempty > checked / 4,
        "too few non-empty cases: {nonempty}/{checked}"
    );
}

#[test]
fn without_an_order_the_entries_come_in_insertion_order() {
    let rows = rows();
    let ix = build(&rows, false);
    let f = IndexFilter {
        text: "lib".into(),
        ..IndexFilter::default()
    };
    let (want, counts) = brute(&rows, &f, None);
    let got = ix.query(&f, 1);
    assert!(!want.is_empty());
    assert_eq!(ids(&ix, &got), want);
    assert_eq!(got.counts, counts);
    assert!(!ix.has_order(0));
}

#[test]
fn judgements_update_in_place_and_lookups_round_trip() {
    let rows = rows();
    let mut ix = build(&rows, true);
    let block = IndexFilter {
        gates: vec!["BLOCK".into()],
        ..IndexFilter::default()
    };
    let before = ix.query(&block, 0).entries.len();
    assert_eq!(before, brute(&rows, &block, None).0.len());
    ix.clear_judgements();
    assert!(ix.query(&block, 0).entries.is_empty());
    let first = rows[0].id;
    ix.set_judgement(first, "BLOCK", "waived");
    assert_eq!(ids(&ix, &ix.query(&block, 2)), vec![first]);
    let e = ix.entry_of(first).unwrap();
    assert_eq!(ix.judgement(e), Some(("BLOCK", "waived")));
    assert_eq!(ix.entry_of(first + 1_000_000), None);
    assert_eq!(ix.len(), 600);
    for r in &rows {
        assert_eq!(ix.id(ix.entry_of(r.id).unwrap()), Some(r.id));
    }
}

#[test]
fn an_order_missing_ids_still_holds_every_entry_once() {
    let rows = rows();
    let mut ix = build(&rows, false);
    // Only the last 10 ids, reversed, and an unknown one: the rest follow in entry order.
    let tail: Vec<i64> = rows
        .iter()
        .rev()
        .take(10)
        .map(|r| r.id)
        .chain([-5])
        .collect();
    ix.set_order(0, tail.clone());
    let got = ids(&ix, &ix.query(&IndexFilter::default(), 0));
    assert_eq!(got.len(), rows.len());
    assert_eq!(&got[..10], &tail[..10]);
    let rest: Vec<i64> = rows.iter().take(rows.len() - 10).map(|r| r.id).collect();
    assert_eq!(&got[10..], &rest[..]);
}
