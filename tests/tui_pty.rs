//! Drives the real `dossier` binary in a pseudo-terminal (portable-pty) and reads the
//! screen back with a terminal emulator (vt100): import a second evidence directory, open
//! a set, filter, open a detail, record a disposition, quit; then check the store.
//! Every wait polls the screen with a timeout; there are no fixed sleeps.

mod tui_fixture;

use portable_pty::{native_pty_system, CommandBuilder, PtySize};
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Term {
    parser: Arc<Mutex<vt100::Parser>>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
}

impl Term {
    fn screen(&self) -> String {
        self.parser.lock().unwrap().screen().contents()
    }

    fn wait_for(&self, what: &str) -> String {
        self.wait_until(what, |s| s.contains(what))
    }

    fn wait_until(&self, label: &str, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let s = self.screen();
            if ok(&s) {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {label:?}; screen:\n{s}"
            );
            std::thread::yield_now();
            std::thread::park_timeout(Duration::from_millis(20));
        }
    }

    /// Sends `q` and waits for a clean exit.
    fn quit(&mut self) {
        self.send("q");
        let deadline = Instant::now() + Duration::from_secs(20);
        let status = loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                break st;
            }
            assert!(
                Instant::now() < deadline,
                "dossier did not exit on q; screen:\n{}",
                self.screen()
            );
            std::thread::park_timeout(Duration::from_millis(20));
        };
        assert!(status.success(), "exit status {status:?}");
    }

    fn send(&mut self, s: &str) {
        self.writer.write_all(s.as_bytes()).unwrap();
        self.writer.flush().unwrap();
    }
}

fn start(store: &std::path::Path, home: &std::path::Path) -> Term {
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_dossier"));
    cmd.arg("--store");
    cmd.arg(store);
    cmd.cwd(env!("CARGO_MANIFEST_DIR"));
    spawn(cmd, home, 30, 100)
}

/// Runs `cmd` in a `rows` x `cols` pseudo-terminal with NO_COLOR and a private HOME.
fn spawn(mut cmd: CommandBuilder, home: &std::path::Path, rows: u16, cols: u16) -> Term {
    let pty = native_pty_system()
        .openpty(PtySize {
            rows,
            cols,
            pixel_width: 0,
            pixel_height: 0,
        })
        .unwrap();
    cmd.env("TERM", "xterm-256color");
    cmd.env("NO_COLOR", "1");
    cmd.env("HOME", home);
    cmd.env("XDG_CONFIG_HOME", home.join("config"));
    cmd.env("XDG_DATA_HOME", home.join("data"));
    cmd.env("DOSSIER_ACTOR", "pty-tester");
    cmd.env_remove("SOURCE_DATE_EPOCH");
    let child = pty.slave.spawn_command(cmd).unwrap();
    drop(pty.slave);
    let mut reader = pty.master.try_clone_reader().unwrap();
    let writer = pty.master.take_writer().unwrap();
    let parser = Arc::new(Mutex::new(vt100::Parser::new(
        std::num::NonZeroU16::new(rows).unwrap(),
        std::num::NonZeroU16::new(cols).unwrap(),
        0,
    )));
    let p = parser.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            p.lock().unwrap().process(&buf[..n]);
        }
    });
    // The master must outlive the session; leak it into the reader's lifetime.
    std::mem::forget(pty.master);
    Term {
        parser,
        writer,
        child,
    }
}

#[test]
fn import_filter_detail_decide_quit() {
    let dir = tempfile::tempdir().unwrap();
    let store_path = dir.path().join("store.db");
    drop(tui_fixture::store_with_sets(&store_path, false));
    let second = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tui/second");

    let mut t = start(&store_path, dir.path());
    t.wait_until("dashboard with verdict", |s| {
        s.contains("team/app:1.0") && s.contains("FAIL")
    });
    assert!(t.screen().contains("UNCLASSIFIED//FOR DEMO"));

    // Import a second evidence directory from inside the TUI.
    t.send("i");
    t.wait_for("path:");
    t.send(&second.display().to_string());
    t.send("\r");
    t.wait_for("import finished");
    t.wait_for("trivy.json");
    t.send("\x1b");
    t.wait_until("dashboard with the new set", |s| {
        s.contains("2 set(s)") && s.contains("team/app:1.1")
    });

    // Open set 1 (first row), filter its findings, open a detail.
    t.send("g");
    t.send("\r");
    t.wait_for("CVE-2024-0001");
    t.send("/zlib");
    let s = t.wait_until("filtered list", |s| {
        s.contains("CVE-2024-0003") && !s.contains("CVE-2024-0001")
    });
    assert!(s.contains("/zlib"));
    t.send("\r");
    t.send("\r");
    t.wait_for("Description");
    t.send("\x1b");
    t.wait_for("sort:severity");

    // Clear the filter and mark the CRITICAL not_affected.
    t.send("c");
    t.wait_for("CVE-2024-0001");
    t.send("g");
    t.send("d");
    t.wait_for("state (j/k, Enter)");
    t.send("jj\r");
    t.wait_for("justification");
    t.send("\r");
    t.send("not reachable in this build\r");
    t.wait_for("record this?");
    t.send("y");
    t.wait_for("recorded as not_affected");
    t.wait_until("decision column", |s| {
        s.lines()
            .any(|l| l.contains("CVE-2024-0001") && l.contains("not_affected"))
    });

    // ESC directly followed by a key reads as Alt+key, so wait for the dashboard first.
    t.send("\x1b");
    t.wait_for("2 set(s)");
    t.send("q");
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(st) = t.child.try_wait().unwrap() {
            break st;
        }
        assert!(
            Instant::now() < deadline,
            "dossier did not exit on q; screen:\n{}",
            t.screen()
        );
        std::thread::park_timeout(Duration::from_millis(20));
    };
    assert!(status.success(), "exit status {status:?}");

    // The store holds both sets, the decision, and their audit entries.
    let st = dossier::store::Store::open(&store_path).unwrap();
    let sets = st.list_sets().unwrap();
    assert_eq!(sets.len(), 2);
    assert!(sets
        .iter()
        .any(|s| s.image.as_deref() == Some("registry.example.mil/team/app:1.1")));
    let d = st.dispositions(sets[0].id).unwrap();
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].vuln_id, "CVE-2024-0001");
    assert_eq!(d[0].note.as_deref(), Some("not reachable in this build"));
    let audit = st.audit_entries().unwrap();
    assert!(audit.iter().filter(|e| e.action == "import").count() >= 2);
    assert!(audit
        .iter()
        .any(|e| e.actor.starts_with("pty-tester") && e.action.contains("disposition")));
}

/// Filters the findings list to `id` and leaves the filter prompt with the row selected.
fn filter_to(t: &mut Term, id: &str) {
    t.send("c");
    t.wait_until("the cleared list", |s| s.contains("sort:severity"));
    t.send("/");
    t.send(id);
    t.wait_until("the filtered list", |s| {
        s.contains(id) && s.contains("sort:severity 1/1")
    });
    t.send("\r");
    t.wait_until("the filter kept", |s| s.contains("sort:severity"));
}

/// Records a disposition on the selected finding: `down` presses of j in the state list,
/// then (for not_affected) `just` presses in the justification list, then the note.
fn decide(t: &mut Term, down: usize, just: Option<usize>, note: &str, word: &str) {
    t.send("d");
    t.wait_for("state (j/k, Enter)");
    t.send(&"j".repeat(down));
    t.send("\r");
    if let Some(j) = just {
        t.wait_for("justification (j/k, Enter)");
        t.send(&"j".repeat(j));
        t.send("\r");
    }
    t.wait_for("note (type, Enter)");
    t.send(note);
    t.send("\r");
    t.wait_for("record this?");
    t.send("y");
    t.wait_for(&format!("recorded as {word}"));
}

/// The issue's "Done when" walk, at 80x24 with NO_COLOR, on `dossier demo`: import a second
/// evidence directory, open the FAIL set, filter, read a detail, dispose of every BLOCK
/// finding (one `not_affected` with a justification) and watch FAIL become CONDITIONAL,
/// draft a waiver for a WARN finding and sign it with the demo approver key (the demo keys
/// are unencrypted TEST-ONLY keys: the passphrase field is left empty), compare the two
/// versions, export, quit; then check the demo store and the exported files.
#[test]
fn demo_walkthrough_at_80x24() {
    let dir = tempfile::tempdir().unwrap();
    let second = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tui/second");
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_dossier"));
    cmd.arg("demo");
    // The demo store goes under TMPDIR (dossier-demo-<pid>); exports into ./dossier-export.
    cmd.env("TMPDIR", dir.path());
    cmd.cwd(dir.path());
    let mut t = spawn(cmd, dir.path(), 24, 80);
    let pid = t.child.process_id().unwrap();

    t.wait_until("demo dashboard", |s| {
        s.contains("1.4.0") && s.contains("FAIL")
    });
    // Load another evidence directory from the TUI.
    t.send("i");
    t.wait_for("path:");
    t.send(&second.display().to_string());
    t.send("\r");
    t.wait_for("import finished");
    t.wait_for("parsed       trivy-json");
    t.send("\x1b");
    t.wait_until("dashboard with the new set", |s| {
        s.contains("3 set(s)") && s.contains("app:1.1")
    });

    // The set that fails, and why: the footer names the selected set's reason.
    // Sets are listed by id: the top row is 1.4.0, and the footer shows its counts and why.
    t.send("g");
    t.wait_for("BLOCK 3 WARN 8 INFO 2  3 BLOCK finding(s) without patched / not_affected");
    t.send("\r");
    // The verdict stays on screen at 80 columns (the image name gives way to it).
    t.wait_until("the set with its verdict", |s| {
        s.contains("CVE-2023-38545")
            && s.lines()
                .any(|l| l.starts_with("set 1 ") && l.ends_with("FAIL"))
    });

    // Filter, read a blocking finding's detail and its reason.
    filter_to(&mut t, "CVE-2023-38545");
    t.send("\r");
    t.wait_for("Description");
    t.send("\x1b");
    t.wait_for("sort:severity");

    // Dispose of the three BLOCK findings; the first as not_affected with a justification.
    decide(&mut t, 2, Some(2), "curl is never called", "not_affected");
    filter_to(&mut t, "CVE-2022-24999");
    decide(&mut t, 1, None, "", "patched");
    filter_to(&mut t, "CVE-2023-44487");
    decide(&mut t, 2, Some(4), "h2 is off", "not_affected");
    let s = t.wait_until("the verdict to change", |s| {
        s.lines()
            .any(|l| l.starts_with("set 1 ") && l.ends_with("CONDITIONAL"))
    });
    assert!(s.contains("recorded as not_affected"), "{s}");

    // A waiver for a WARN finding, drafted from the list, then signed in the Waivers tab.
    filter_to(&mut t, "CVE-2023-45857");
    assert!(t
        .screen()
        .lines()
        .any(|l| l.contains("CVE-2023-45857") && l.contains("WARN")));
    t.send("w");
    t.wait_for("justification (j/k, Enter)");
    t.send("j\r");
    t.wait_for("note (type, Enter)");
    t.send("WAF strips the proxy header\r");
    t.wait_for("record this?");
    t.send("y");
    let s = t.wait_for("drafted");
    let words: Vec<&str> = s
        .lines()
        .find(|l| l.contains("drafted"))
        .unwrap()
        .split_whitespace()
        .collect();
    let at = words.iter().position(|w| *w == "drafted").unwrap();
    let wid = words[at - 1].to_string();
    assert!(wid.starts_with("W-"), "{wid}");
    t.send("\t\t");
    t.wait_for(&wid);
    t.send("g");
    t.send("S");
    let s = t.wait_for("key file");
    assert!(
        s.contains(&wid),
        "the sign form names the drafted waiver:\n{s}"
    );
    t.send("\r");
    t.send("\r");
    t.wait_for("sign this waiver?");
    t.send("y");
    t.wait_for(&format!("{wid} signed by R. Roe"));

    // Compare the two versions of the image.
    t.send("\x1b");
    t.wait_until("the dashboard", |s| s.contains("3 set(s)"));
    t.send("g");
    t.wait_for("BLOCK 3 WARN 8");
    t.send("D");
    t.wait_until("the diff", |s| s.contains("old:") && s.contains("new:"));
    t.send("\x1b");
    t.wait_until("the dashboard", |s| s.contains("3 set(s)"));

    // Export the set (all formats, signed with the demo reviewer key).
    t.send("g");
    t.wait_for("BLOCK 3 WARN 8");
    t.send("e");
    t.wait_for("format (j/k): all");
    t.send("\r\r\r\r");
    t.wait_for("export?");
    t.send("y");
    t.wait_for("exported CONDITIONAL (signed)");
    t.quit();

    // The store: the decisions, the signed waiver, the export with its package hash.
    let store = dir.path().join(format!("dossier-demo-{pid}/demo.db"));
    let st = dossier::store::Store::open(&store).unwrap();
    let d = st.dispositions(1).unwrap();
    assert_eq!(d.len(), 3);
    let curl = d.iter().find(|x| x.vuln_id == "CVE-2023-38545").unwrap();
    assert_eq!(curl.state.as_str(), "not_affected");
    assert_eq!(
        curl.justification.map(|j| j.as_str()),
        Some("vulnerable_code_not_in_execute_path")
    );
    assert_eq!(curl.note.as_deref(), Some("curl is never called"));
    let w = st.waivers(1).unwrap();
    let w = w.iter().find(|x| x.waiver_id == wid).unwrap();
    assert_eq!(w.state.as_str(), "signed");
    assert!(w.document.signature.is_some());
    let out = dir.path().join("dossier-export");
    let json = std::fs::read(out.join("package.json")).unwrap();
    use sha2::Digest;
    let sha = hex::encode(sha2::Sha256::digest(&json));
    let audit = st.audit_entries().unwrap();
    assert!(audit
        .iter()
        .any(|e| e.action == "export" && e.details["package_sha256"] == sha.as_str()));
    for f in [
        "package.json.sig",
        "package.pdf",
        "package.openvex.json",
        "package.cdx-vex.json",
        "package.poam.csv",
        "package.poam.xlsx",
    ] {
        assert!(out.join(f).is_file(), "{f} was not written");
    }
}
