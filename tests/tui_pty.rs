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

    fn send(&mut self, s: &str) {
        self.writer.write_all(s.as_bytes()).unwrap();
        self.writer.flush().unwrap();
    }
}

fn start(store: &std::path::Path, home: &std::path::Path) -> Term {
    let pty = native_pty_system()
        .openpty(PtySize {
            rows: 30,
            cols: 100,
            pixel_width: 0,
            pixel_height: 0,
        })
        .unwrap();
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_dossier"));
    cmd.arg("--store");
    cmd.arg(store);
    cmd.env("TERM", "xterm-256color");
    cmd.env("NO_COLOR", "1");
    cmd.env("HOME", home);
    cmd.env("XDG_CONFIG_HOME", home.join("config"));
    cmd.env("XDG_DATA_HOME", home.join("data"));
    cmd.env("DOSSIER_ACTOR", "pty-tester");
    cmd.cwd(env!("CARGO_MANIFEST_DIR"));
    let child = pty.slave.spawn_command(cmd).unwrap();
    drop(pty.slave);
    let mut reader = pty.master.try_clone_reader().unwrap();
    let writer = pty.master.take_writer().unwrap();
    let parser = Arc::new(Mutex::new(vt100::Parser::new(
        std::num::NonZeroU16::new(30).unwrap(),
        std::num::NonZeroU16::new(100).unwrap(),
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
