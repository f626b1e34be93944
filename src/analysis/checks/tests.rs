use super::*;

const A: &str = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const B: &str = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

fn scan(path: &str, digests: &[&str], built: Option<&str>, at: Option<&str>) -> FileFacts {
    FileFacts {
        path: path.into(),
        status: "parsed".into(),
        named_digests: digests.iter().map(|s| s.to_string()).collect(),
        doc_kind: Some("scan".into()),
        scanner: Some("grype".into()),
        db_built: built.map(Into::into),
        scanned_at: at.map(Into::into),
        ..Default::default()
    }
}

fn codes(d: &[Diagnostic]) -> Vec<(&'static str, Level)> {
    d.iter().map(|x| (x.code, x.level)).collect()
}

#[test]
fn mixed_images_and_stale_db_fail() {
    let p = Policy::default_policy();
    let f = SetFacts {
        digest: Some(A.into()),
        files: vec![
            scan(
                "a.json",
                &[A],
                Some("2024-01-01T00:00:00Z"),
                Some("2024-01-20T00:00:00Z"),
            ),
            scan(
                "b.json",
                &[B],
                Some("2024-01-19T00:00:00Z"),
                Some("2024-01-20T00:00:00Z"),
            ),
        ],
        ..Default::default()
    };
    let d = run(&f, &p, NaiveDate::from_ymd_opt(2024, 1, 21).unwrap());
    let c = codes(&d);
    assert!(c.contains(&("digest-mismatch", Level::Fail)), "{c:?}");
    assert!(c.contains(&("scanner-db-stale", Level::Fail)), "{c:?}");
    assert!(c.contains(&("scanner-db-fresh", Level::Pass)), "{c:?}");
    assert!(c.contains(&("image-unsigned", Level::Fail)), "{c:?}");
    let mm = d.iter().find(|x| x.code == "digest-mismatch").unwrap();
    assert!(mm.evidence[0].starts_with("b.json"), "{mm:?}");
}

#[test]
fn unknown_db_age_and_users() {
    let p = Policy::default_policy();
    let mut f = SetFacts {
        digest: Some(A.into()),
        files: vec![scan("t.json", &[A], None, None)],
        image_user: Some("0:0".into()),
        ..Default::default()
    };
    let c = codes(&run(&f, &p, NaiveDate::from_ymd_opt(2024, 1, 21).unwrap()));
    assert!(c.contains(&("scanner-db-age-unknown", Level::Warn)));
    assert!(c.contains(&("image-user-root", Level::Warn)));
    f.image_user = Some("1001".into());
    let c = codes(&run(&f, &p, NaiveDate::from_ymd_opt(2024, 1, 21).unwrap()));
    assert!(c.contains(&("image-user-low-uid", Level::Warn)));
    f.image_user = Some("65532".into());
    let c = codes(&run(&f, &p, NaiveDate::from_ymd_opt(2024, 1, 21).unwrap()));
    assert!(c.contains(&("image-user-ok", Level::Pass)));
}

#[test]
fn crypto_policy_words() {
    assert!(non_approved("rsa-1024"));
    assert!(non_approved("signature uses SHA-1"));
    assert!(!non_approved("ecdsa-p256"));
    assert!(!non_approved("rsa-2048 sha256"));
    assert!(!non_approved("rsa-4096"));
}

#[test]
fn problem_top_reads_as_the_whole_list_cut() {
    let p = Policy::default_policy();
    let all: Vec<String> = (0..MAX_EVIDENCE + 7)
        .map(|i| format!("item {i:02}"))
        .collect();
    let whole = Diagnostic::problem(
        &p,
        "vex",
        "vex-statement-unmatched",
        "m".into(),
        all.clone(),
    );
    let top = all[..MAX_EVIDENCE].to_vec();
    let cut = Diagnostic::problem_top(
        &p,
        "vex",
        "vex-statement-unmatched",
        "m".into(),
        top,
        all.len(),
    );
    assert_eq!(cut, whole);
    assert_eq!(
        cut.evidence.last().map(String::as_str),
        Some("... and 7 more")
    );
    // Under the cap nothing is added.
    let few = vec!["a".to_string(), "b".to_string()];
    let d = Diagnostic::problem_top(
        &p,
        "vex",
        "vex-statement-unmatched",
        "m".into(),
        few.clone(),
        2,
    );
    assert_eq!(d.evidence, few);
}
