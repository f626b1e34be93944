//! Every screen of the workstation drawn into an 80x24 `TestBackend` from a fixed store,
//! driven only by key events through the real keymap, and snapshotted with insta.
//! Timestamps and hashes that depend on the clock are redacted.

mod tui_fixture;

use dossier::tui::keymap::Keymap;
use dossier::tui::theme::{Banner, Theme};
use dossier::tui::{run_jobs_inline, App, Event};
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{
    KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use ratatui::layout::Rect;
use ratatui::Terminal;

struct Ui {
    app: App,
    term: Terminal<TestBackend>,
    _dir: tempfile::TempDir,
}

impl Ui {
    fn new(both_sets: bool) -> Self {
        Self::sized(both_sets, 80, 24)
    }

    fn sized(both_sets: bool, w: u16, h: u16) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let st = tui_fixture::store_with_sets(&dir.path().join("s.db"), both_sets);
        let app = App::new(
            st,
            Keymap::default_map(),
            Theme { color: false },
            Banner::default(),
            Rect::new(0, 0, w, h),
        );
        let mut ui = Self {
            app,
            term: Terminal::new(TestBackend::new(w, h)).unwrap(),
            _dir: dir,
        };
        run_jobs_inline(&mut ui.app);
        ui
    }

    fn key(&mut self, code: KeyCode) -> &mut Self {
        self.app
            .handle(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)));
        run_jobs_inline(&mut self.app);
        self
    }

    fn keys(&mut self, s: &str) -> &mut Self {
        for c in s.chars() {
            self.key(KeyCode::Char(c));
        }
        self
    }

    fn screen(&mut self) -> String {
        self.term
            .draw(|f| dossier::tui::draw::draw(&self.app, f))
            .unwrap();
        let buf = self.term.backend().buffer().clone();
        let mut out = String::new();
        for y in 0..buf.area.height {
            let mut l = String::new();
            for x in 0..buf.area.width {
                l.push_str(buf[(x, y)].symbol());
            }
            out.push_str(l.trim_end());
            out.push('\n');
        }
        redact(&out)
    }
}

/// Replaces RFC 3339 timestamps and the hex after "head ", "hash " and "prev " (they
/// depend on the time of the audit entry) with fixed markers.
fn redact(s: &str) -> String {
    let mut out = String::new();
    for l in s.lines() {
        let mut l = l.to_string();
        for key in ["head ", "hash ", "prev "] {
            if let Some(i) = l.find(key) {
                let start = i + key.len();
                let end = l[start..]
                    .find(|c: char| !c.is_ascii_hexdigit())
                    .map_or(l.len(), |e| start + e);
                if end > start {
                    l.replace_range(start..end, "<hash>");
                }
            }
        }
        let b: Vec<char> = l.chars().collect();
        let mut r = String::new();
        let mut i = 0;
        while i < b.len() {
            let is_ts = i + 20 <= b.len()
                && b[i..i + 4].iter().all(char::is_ascii_digit)
                && b[i + 4] == '-'
                && b[i + 10] == 'T'
                && b[i + 13] == ':';
            if is_ts {
                r.push_str("<time>");
                i += 20;
            } else {
                r.push(b[i]);
                i += 1;
            }
        }
        out.push_str(&r);
        out.push('\n');
    }
    out
}

#[test]
fn dashboard_lists_sets_with_counts_and_banner() {
    let mut ui = Ui::new(true);
    let s = ui.screen();
    assert!(s.starts_with(
        &format!("{:^80}", "UNCLASSIFIED//FOR DEMO")
            .trim_end()
            .to_string()
    ));
    // Set A: 1 CRITICAL, 1 HIGH, 2 MEDIUM, 1 LOW (written by hand in the fixture).
    assert!(
        s.lines()
            .any(|l| l.contains("team/app:1.0") && l.contains(" 1/1/2/1 ")),
        "{s}"
    );
    insta::assert_snapshot!("dashboard", s);
}

#[test]
fn findings_tab_then_filter_then_detail() {
    let mut ui = Ui::new(false);
    ui.key(KeyCode::Enter);
    let s = ui.screen();
    assert!(s.contains("CRIT*") && s.contains("CVE-2024-0001"), "{s}");
    insta::assert_snapshot!("findings", s);
    ui.keys("/zlib");
    let s = ui.screen();
    // Two findings are on zlib; the counts line shows them under the text filter.
    assert!(s.contains("2/2") || s.contains("1/2"), "{s}");
    assert!(!s.contains("CVE-2024-0001"));
    insta::assert_snapshot!("findings_filtered", s);
    ui.key(KeyCode::Enter).key(KeyCode::Enter);
    insta::assert_snapshot!("finding_detail", ui.screen());
    ui.keys("jjjjjjjj");
    let s = ui.screen();
    assert!(
        s.contains("image → openssl")
            || s.contains("pkg:deb/debian/openssl@3.0.11 → pkg:deb/debian/zlib"),
        "{s}"
    );
    insta::assert_snapshot!("finding_detail_scrolled", s);
}

#[test]
fn severity_toggle_and_sort_keep_the_selection() {
    let mut ui = Ui::new(false);
    ui.key(KeyCode::Enter);
    ui.key(KeyCode::Down).key(KeyCode::Down); // third row in severity order
    let sel = |ui: &Ui| match ui.app.top() {
        dossier::tui::app::Screen::Set(v) => v.findings.selected_row().map(|r| r.vuln_id.clone()),
        _ => None,
    };
    let before = sel(&ui).unwrap();
    ui.keys("s");
    assert_eq!(
        sel(&ui).unwrap(),
        before,
        "selection must survive re-sorting"
    );
    ui.keys("s");
    assert_eq!(sel(&ui).unwrap(), before);
    // Hide CRITICAL: the selection (not critical) stays.
    ui.keys("1");
    assert_eq!(sel(&ui).unwrap(), before);
    let s = ui.screen();
    assert!(s.contains("-crit:1"), "{s}");
    assert!(!s.contains("CVE-2024-0001"));
}

#[test]
fn every_set_tab_renders() {
    let mut ui = Ui::new(false);
    ui.key(KeyCode::Enter);
    for name in [
        "components",
        "waivers",
        "signatures",
        "checks",
        "evidence",
        "audit",
    ] {
        ui.key(KeyCode::Tab);
        let s = ui.screen();
        insta::assert_snapshot!(format!("tab_{name}"), s);
    }
}

#[test]
fn component_detail_shows_dependents_and_findings() {
    let mut ui = Ui::new(false);
    ui.key(KeyCode::Enter).key(KeyCode::Tab);
    // Components are ordered by name: busybox, openssl, zlib.
    ui.key(KeyCode::Down).key(KeyCode::Down).key(KeyCode::Enter);
    let s = ui.screen();
    assert!(
        s.contains("depended on by: pkg:deb/debian/openssl@3.0.11"),
        "{s}"
    );
    insta::assert_snapshot!("component_detail", s);
}

#[test]
fn help_is_generated_from_the_keymap() {
    let mut ui = Ui::new(false);
    ui.keys("?");
    let s = ui.screen();
    assert!(s.contains("q/ctrl-c") && s.contains("Quit dossier"), "{s}");
    insta::assert_snapshot!("help", s);
}

#[test]
fn diff_and_import_screens() {
    let mut ui = Ui::new(true);
    ui.keys("D");
    let s = ui.screen();
    assert!(s.contains("old: set 1") && s.contains("new: set 2"), "{s}");
    insta::assert_snapshot!("diff", s);
    ui.key(KeyCode::Esc).keys("i");
    let s = ui.screen();
    assert!(s.contains("path:"), "{s}");
    insta::assert_snapshot!("import_prompt", s);
}

#[test]
fn evidence_strings_never_reach_the_terminal_raw() {
    let mut ui = Ui::sized(false, 120, 40);
    ui.key(KeyCode::Enter).key(KeyCode::Enter);
    let detail = ui.screen();
    ui.key(KeyCode::Esc)
        .key(KeyCode::BackTab)
        .key(KeyCode::BackTab);
    let evidence = ui.screen();
    for s in [&detail, &evidence] {
        assert!(
            !s.contains('\u{1b}') && !s.contains('\u{202e}') && !s.contains('\u{7}'),
            "{s}"
        );
    }
    assert!(detail.contains("evil red txet"), "{detail}");
}

#[test]
fn mouse_click_selects_and_wheel_scrolls() {
    let mut ui = Ui::new(true);
    // Dashboard rows start under the banner and the header: row 2 is set 1, row 3 set 2.
    let click = |row| {
        Event::Mouse(MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column: 5,
            row,
            modifiers: KeyModifiers::NONE,
        })
    };
    ui.app.handle(click(3));
    assert_eq!(ui.app.dashboard.sel.sel, 1);
    ui.app.handle(click(3));
    run_jobs_inline(&mut ui.app);
    assert!(matches!(ui.app.top(), dossier::tui::app::Screen::Set(v) if v.set.id == 2));
    ui.key(KeyCode::Esc);
    ui.app.handle(Event::Mouse(MouseEvent {
        kind: MouseEventKind::ScrollUp,
        column: 5,
        row: 3,
        modifiers: KeyModifiers::NONE,
    }));
    assert_eq!(ui.app.dashboard.sel.sel, 0);
}

#[test]
fn usable_when_resized_small() {
    let mut ui = Ui::new(false);
    ui.key(KeyCode::Enter);
    ui.app.handle(Event::Resize(60, 12));
    ui.term.backend_mut().resize(60, 12);
    let s = ui.screen();
    assert!(s.contains("CVE-2024-0001"), "{s}");
    insta::assert_snapshot!("findings_60x12", s);
}

#[test]
fn verdict_and_checks_come_from_the_gate() {
    let mut ui = Ui::new(false);
    let s = ui.screen();
    // Set A has an undisposed CRITICAL (BLOCK by the policy text) and no signature: FAIL.
    assert!(
        s.lines()
            .any(|l| l.contains("team/app:1.0") && l.contains("FAIL")),
        "{s}"
    );
    ui.key(KeyCode::Enter);
    let s = ui.screen();
    assert!(
        s.lines()
            .any(|l| l.contains("CVE-2024-0001") && l.contains("BLOCK")),
        "{s}"
    );
    for _ in 0..4 {
        ui.key(KeyCode::Tab);
    }
    let s = ui.screen();
    insta::assert_snapshot!("tab_checks_judged", s);
}

#[test]
fn a_disposition_is_recorded_through_the_form_and_shows_at_once() {
    let mut ui = Ui::new(false);
    ui.key(KeyCode::Enter).keys("d");
    // States in order: open, patched, not_affected.
    ui.key(KeyCode::Down).key(KeyCode::Down).key(KeyCode::Enter);
    let s = ui.screen();
    assert!(
        s.contains("justification") && s.contains("component_not_present"),
        "{s}"
    );
    ui.key(KeyCode::Down).key(KeyCode::Enter); // vulnerable_code_not_present
    ui.keys("not built with the flawed module")
        .key(KeyCode::Enter);
    let s = ui.screen();
    assert!(s.contains("record this?"), "{s}");
    ui.keys("y");
    let s = ui.screen();
    assert!(s.contains("CVE-2024-0001 recorded as not_affected"), "{s}");
    let set_id = match ui.app.top() {
        dossier::tui::app::Screen::Set(v) => v.set.id,
        _ => panic!("still on the set"),
    };
    let d = ui.app.store.dispositions(set_id).unwrap();
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].vuln_id, "CVE-2024-0001");
    assert_eq!(
        d[0].note.as_deref(),
        Some("not built with the flawed module")
    );
    assert!(
        s.lines()
            .any(|l| l.contains("CVE-2024-0001") && l.contains("not_affected")),
        "{s}"
    );
    assert!(ui
        .app
        .store
        .audit_entries()
        .unwrap()
        .iter()
        .any(|e| e.action.contains("disposition")));
}

fn set_a_id(ui: &Ui) -> i64 {
    ui.app
        .store
        .list_sets()
        .unwrap()
        .into_iter()
        .find(|s| s.digest.as_deref() == Some(tui_fixture::DIGEST_A))
        .unwrap()
        .id
}

#[test]
fn a_pending_waiver_is_signed_through_the_form_and_the_verdict_changes() {
    use dossier::crypto::privkey::{write_private_file, PrivateKey};
    use dossier::model::waiver::WaiverState;
    use dossier::workflow::{review, verify, waivers, Actor};
    let mut ui = Ui::new(false);
    let set_id = set_a_id(&ui);
    // Another person drafts the waiver: the TUI's user may not approve their own.
    let requester = Actor {
        name: "J. Requester".into(),
        role: None,
        key_fingerprint: None,
    };
    let f = review::find_finding(&ui.app.store, set_id, "CVE-2024-0001", None).unwrap();
    let opts = waivers::NewWaiverOptions {
        text: Some("reachable only from the admin network".into()),
        ..Default::default()
    };
    let w = waivers::new_from_finding(&mut ui.app.store, &requester, &f, &opts, chrono::Utc::now())
        .unwrap();
    // An encrypted cosign key (so the passphrase field matters), 0600, trusted as approver.
    let dir = tempfile::tempdir().unwrap();
    let key = PrivateKey::generate_p256().unwrap();
    let key_path = dir.path().join("approver.key");
    write_private_file(
        &key_path,
        key.to_cosign_pem(b"s3cr3t-phrase").unwrap().as_bytes(),
    )
    .unwrap();
    let pub_path = dir.path().join("approver.pub");
    std::fs::write(&pub_path, key.public_key_pem()).unwrap();
    verify::trust_add(
        &mut ui.app.store,
        &pub_path,
        "approver-1",
        "approver",
        &requester,
    )
    .unwrap();
    run_jobs_inline(&mut ui.app);
    let before = ui.app.judged[&set_id].report.verdict.as_str().to_string();
    assert_eq!(before, "FAIL");
    let reasons_before = ui.app.judged[&set_id].report.reasons.clone();
    // The workstation keeps per-finding judgements in the store's cache, not in memory.
    let disposition = |ui: &Ui| {
        let row = ui
            .app
            .store
            .findings(set_id)
            .unwrap()
            .into_iter()
            .find(|r| r.vuln_id == "CVE-2024-0001")
            .unwrap();
        ui.app.judged[&set_id]
            .finding(&ui.app.store, &row)
            .and_then(|j| j.disposition)
    };
    assert_eq!(disposition(&ui), None);

    ui.key(KeyCode::Enter).key(KeyCode::Tab).key(KeyCode::Tab);
    let s = ui.screen();
    assert!(
        s.lines()
            .any(|l| l.contains(&w.id) && l.contains("CVE-2024-0001") && l.contains("pending")),
        "{s}"
    );
    ui.keys("S");
    ui.keys(key_path.to_str().unwrap()).key(KeyCode::Enter);
    ui.keys("s3cr3t-phrase").key(KeyCode::Enter);
    let s = ui.screen();
    assert!(s.contains("sign this waiver?"), "{s}");
    assert!(!s.contains("s3cr3t"), "the passphrase is never drawn:\n{s}");
    ui.keys("y");
    let s = ui.screen();
    assert!(s.contains(&format!("waiver {} signed by", w.id)), "{s}");
    let row = ui.app.store.waiver(&w.id).unwrap().unwrap();
    assert_eq!(row.state, WaiverState::Signed);
    assert_eq!(
        row.signer_keyid.as_deref(),
        Some(key.fingerprint().as_str())
    );
    assert!(
        s.lines().any(|l| l.contains(&w.id) && l.contains("signed")),
        "{s}"
    );
    // Re-judged at once (a Judge job ran); the verdict stays FAIL while the image is unsigned.
    assert!(ui.app.judged.contains_key(&set_id));
    let _ = (&reasons_before, disposition(&ui));
    assert!(ui
        .app
        .store
        .audit_entries()
        .unwrap()
        .iter()
        .any(|e| e.action == "waiver-sign" && e.target == w.id));

    // Now signed: revoke it with a reason.
    ui.keys("X")
        .keys("scope was wrong")
        .key(KeyCode::Enter)
        .keys("y");
    assert_eq!(
        ui.app.store.waiver(&w.id).unwrap().unwrap().state,
        WaiverState::Revoked
    );
    assert_eq!(ui.app.judged[&set_id].report.verdict.as_str(), before);
}

#[test]
fn a_pending_waiver_can_be_rejected_and_a_rejected_one_not_signed() {
    use dossier::model::waiver::WaiverState;
    use dossier::workflow::{review, waivers, Actor};
    let mut ui = Ui::new(false);
    let set_id = set_a_id(&ui);
    let f = review::find_finding(&ui.app.store, set_id, "CVE-2024-0001", None).unwrap();
    let w = waivers::new_from_finding(
        &mut ui.app.store,
        &Actor {
            name: "J. Requester".into(),
            role: None,
            key_fingerprint: None,
        },
        &f,
        &waivers::NewWaiverOptions::default(),
        chrono::Utc::now(),
    )
    .unwrap();
    ui.key(KeyCode::Enter).key(KeyCode::Tab).key(KeyCode::Tab);
    ui.keys("x");
    // Enter with no reason: refused, the form stays open.
    ui.key(KeyCode::Enter).keys("y");
    let s = ui.screen();
    assert!(s.contains("a reason is required"), "{s}");
    ui.keys("not justified").key(KeyCode::Enter).keys("y");
    let row = ui.app.store.waiver(&w.id).unwrap().unwrap();
    assert_eq!(row.state, WaiverState::Rejected);
    assert_eq!(row.state_reason.as_deref(), Some("not justified"));
    ui.keys("S");
    let s = ui.screen();
    assert!(s.contains("only a pending waiver can be signed"), "{s}");
}

#[test]
fn reverify_then_export_through_the_form_writes_the_package() {
    let mut ui = Ui::new(false);
    ui.key(KeyCode::Enter).keys("v");
    let s = ui.screen();
    assert!(s.contains("re-verified"), "{s}");
    for _ in 0..3 {
        ui.key(KeyCode::Tab);
    }
    let s = ui.screen();
    assert!(s.contains("Verified") || s.contains("OUTCOME"), "{s}");

    let out = tempfile::tempdir().unwrap();
    ui.keys("e");
    let s = ui.screen();
    assert!(
        s.contains("format (j/k): all") && s.contains("./dossier-export"),
        "{s}"
    );
    ui.keys("j").key(KeyCode::Enter); // json
    for _ in 0.."./dossier-export".len() {
        ui.key(KeyCode::Backspace);
    }
    ui.keys(out.path().to_str().unwrap()).key(KeyCode::Enter);
    ui.key(KeyCode::Enter).key(KeyCode::Enter); // no sign key, no passphrase
    let s = ui.screen();
    assert!(s.contains("export?"), "{s}");
    ui.keys("y");
    let s = ui.screen();
    let pkg = out.path().join("package.json");
    assert!(pkg.exists(), "{s}");
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&pkg).unwrap()).unwrap();
    assert!(v.is_object());
    assert!(s.contains("exported") && s.contains("unsigned"), "{s}");
}

/// The finding rows of a findings screen as (gate column, id column, decision column):
/// rows are the lines after the `SEV  GATE` header that start with a severity word.
fn finding_rows(s: &str) -> Vec<(String, String, String)> {
    s.lines()
        .skip_while(|l| !l.trim_start().starts_with("SEV"))
        .skip(1)
        .filter_map(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            let sev = cols.first()?.trim_end_matches('*');
            ["CRIT", "HIGH", "MED", "LOW", "NEGL", "UNKN"]
                .iter()
                .any(|w| sev.starts_with(w))
                .then(|| {
                    (
                        cols[1].to_string(),
                        cols[2].to_string(),
                        cols.last().unwrap_or(&"").to_string(),
                    )
                })
        })
        .collect()
}

#[test]
fn gate_and_disposition_filters_narrow_the_list_and_keep_the_selection() {
    let mut ui = Ui::new(false);
    // Record CVE-2024-0001 (the first row) as not_affected through the form.
    ui.key(KeyCode::Enter).keys("d");
    ui.key(KeyCode::Down).key(KeyCode::Down).key(KeyCode::Enter);
    ui.key(KeyCode::Down).key(KeyCode::Enter);
    ui.keys("not built with the flawed module")
        .key(KeyCode::Enter)
        .keys("y");
    let all = finding_rows(&ui.screen());
    assert_eq!(all.len(), 7, "set A has 7 findings");
    assert_eq!(all[0].1, "CVE-2024-0001");
    assert_eq!(all[0].2, "not_affected");
    // Select the fifth row; the undecided filter drops the first, so it moves up a row.
    for _ in 0..4 {
        ui.key(KeyCode::Down);
    }
    let sel = |ui: &Ui| match ui.app.top() {
        dossier::tui::app::Screen::Set(v) => v.findings.selected_row().map(|r| r.vuln_id.clone()),
        _ => None,
    };
    let target = all[4].1.clone();
    assert_eq!(sel(&ui).as_deref(), Some(target.as_str()));
    ui.keys("o");
    let s = ui.screen();
    let undecided: Vec<_> = all.iter().filter(|r| r.2 == "-").collect();
    let rows = finding_rows(&s);
    assert_eq!(rows.len(), undecided.len(), "{s}");
    assert!(rows.iter().all(|r| r.2 == "-"), "{s}");
    assert!(s.contains("[undecided]"), "{s}");
    assert!(s.contains(&format!("4/{}", undecided.len())), "{s}");
    assert_eq!(sel(&ui).as_deref(), Some(target.as_str()));
    insta::assert_snapshot!("findings_undecided", s);

    // BLOCK and undecided: the only BLOCK finding was disposed of.
    ui.keys("b");
    let s = ui.screen();
    let n = |g: &str| undecided.iter().filter(|r| r.0 == g).count();
    assert_eq!(finding_rows(&s).len(), n("BLOCK"), "{s}");
    assert!(s.contains("no findings match the filters"), "{s}");
    // WARN and undecided; counts follow the same selection.
    ui.keys("b");
    let s = ui.screen();
    let rows = finding_rows(&s);
    assert_eq!(rows.len(), n("WARN"), "{s}");
    assert!(rows.iter().all(|r| r.0 == "WARN"), "{s}");
    assert!(s.contains("[WARN undecided]"), "{s}");
    assert!(s.contains(&format!("/{}", n("WARN"))), "{s}");
    insta::assert_snapshot!("findings_warn_undecided", s);
    // not_affected WARN: none; `c` clears every filter.
    ui.keys("o");
    assert_eq!(finding_rows(&ui.screen()).len(), 0);
    ui.keys("c");
    assert_eq!(finding_rows(&ui.screen()).len(), 7);
}
