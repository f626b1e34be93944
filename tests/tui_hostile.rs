//! Terminal-hostile evidence through the TUI's real rendering path: a Trivy report whose
//! image name, target, ids, package name, version, title and description carry OSC 52
//! clipboard writes, title changes, CSI colour, C1 controls, bidi overrides, zero-width
//! characters and a 100,000-character line is imported, then the real binary is driven in a
//! pseudo-terminal through the dashboard, the findings list, the finding detail and the
//! components tab. Every byte the binary writes to the terminal is kept and checked: no OSC
//! sequence at all, no C1 control, no bidi or zero-width character, no payload.

use portable_pty::{native_pty_system, CommandBuilder, PtySize};
use std::io::{Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const OSC52_PAYLOAD: &str = "T1NDNTJQQVlMT0FE";
const TITLE_PAYLOAD: &str = "PWNEDTITLE";

fn hostile() -> String {
    format!(
        "\u{1b}]52;c;{OSC52_PAYLOAD}\u{7}\u{1b}]0;{TITLE_PAYLOAD}\u{1b}\\\u{1b}[31;1mred\u{1b}[0m\
         \u{9b}2J\u{9d}0;{TITLE_PAYLOAD}\u{9c}\u{85}\u{202e}cod\u{200b}e\u{2066}x\u{feff}"
    )
}

fn hostile_trivy() -> String {
    let h = hostile();
    let long = "L".repeat(100_000);
    serde_json::json!({
        "SchemaVersion": 2, "ArtifactName": format!("reg.example/evil{h}:1"), "ArtifactType": "container_image",
        "Metadata": {"RepoDigests": ["reg.example/evil@sha256:cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"]},
        "Results": [{"Target": format!("t{h}"), "Class": "os-pkgs", "Type": "debian", "Vulnerabilities": [
            {"VulnerabilityID": format!("CVE-2024-9{h}"), "PkgName": format!("evilpkg{h}{long}"),
             "InstalledVersion": format!("1.0{h}"), "FixedVersion": format!("1.1{h}"),
             "Severity": "HIGH", "Title": format!("title{h}"), "Description": format!("descr{h}{long}"),
             "References": [format!("https://example.com/{h}")]}]}]
    })
    .to_string()
}

struct Term {
    raw: Arc<Mutex<Vec<u8>>>,
    parser: Arc<Mutex<vt100::Parser>>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
}

impl Term {
    fn start(store: &Path, home: &Path) -> Self {
        let pty = native_pty_system()
            .openpty(PtySize {
                rows: 24,
                cols: 80,
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
        let child = pty.slave.spawn_command(cmd).unwrap();
        drop(pty.slave);
        let mut reader = pty.master.try_clone_reader().unwrap();
        let writer = pty.master.take_writer().unwrap();
        let parser = Arc::new(Mutex::new(vt100::Parser::new(
            std::num::NonZeroU16::new(24).unwrap(),
            std::num::NonZeroU16::new(80).unwrap(),
            0,
        )));
        let raw = Arc::new(Mutex::new(Vec::new()));
        let (p, r) = (parser.clone(), raw.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                r.lock().unwrap().extend_from_slice(&buf[..n]);
                p.lock().unwrap().process(&buf[..n]);
            }
        });
        std::mem::forget(pty.master);
        Term {
            raw,
            parser,
            writer,
            child,
        }
    }

    fn screen(&self) -> String {
        self.parser.lock().unwrap().screen().contents()
    }

    fn wait_for(&self, what: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let s = self.screen();
            if s.contains(what) {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what:?}; screen:\n{s}"
            );
            std::thread::park_timeout(Duration::from_millis(20));
        }
    }

    fn send(&mut self, s: &str) {
        self.writer.write_all(s.as_bytes()).unwrap();
        self.writer.flush().unwrap();
    }
}

/// Finds a forbidden sequence in what the binary wrote to the terminal.
fn forbidden(raw: &[u8]) -> Option<String> {
    // OSC (ESC ]) is never needed to draw the UI: any occurrence came from evidence.
    if let Some(i) = raw.windows(2).position(|w| w == b"\x1b]") {
        return Some(format!("OSC sequence at byte {i}"));
    }
    let text = String::from_utf8_lossy(raw);
    for payload in [OSC52_PAYLOAD, TITLE_PAYLOAD] {
        if text.contains(payload) {
            return Some(format!("payload {payload} reached the terminal"));
        }
    }
    for c in text.chars() {
        let bad = ('\u{80}'..='\u{9f}').contains(&c)
            || ('\u{202a}'..='\u{202e}').contains(&c)
            || ('\u{2066}'..='\u{2069}').contains(&c)
            || ('\u{200b}'..='\u{200f}').contains(&c)
            || c == '\u{feff}';
        if bad {
            return Some(format!("character U+{:04X} reached the terminal", c as u32));
        }
    }
    None
}

#[test]
fn hostile_strings_never_reach_the_terminal_from_the_tui() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store.db");
    let ev = dir.path().join("ev");
    std::fs::create_dir_all(&ev).unwrap();
    std::fs::write(
        ev.join("evil\u{1b}]0;PWNEDTITLE\u{7}\u{202e}.json"),
        hostile_trivy(),
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_dossier"))
        .args([
            "--store",
            store.to_str().unwrap(),
            "import",
            ev.to_str().unwrap(),
        ])
        .env("HOME", dir.path())
        .env("XDG_CONFIG_HOME", dir.path().join("config"))
        .env("XDG_DATA_HOME", dir.path().join("data"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let mut t = Term::start(&store, dir.path());
    // The dashboard shows the (cleaned) image name.
    t.wait_for("@cdcdcdcdcdcd");
    // Open the set: findings list with the cleaned id and package.
    t.send("\r");
    let s = t.wait_for("CVE-2024-9");
    assert!(s.contains("evilpkg"), "{s}");
    // The finding detail: description, fix, references.
    t.send("\r");
    let s = t.wait_for("Description");
    assert!(s.contains("descr"), "{s}");
    // Scroll through the long detail, then back and over every tab of the set.
    t.send("jjjjjjjjjj");
    t.send("\x1b");
    t.wait_for("sort:severity");
    for _ in 0..7 {
        t.send("\t");
        std::thread::park_timeout(Duration::from_millis(100));
    }
    t.send("\x1b");
    t.wait_for("1 set(s)");
    t.send("q");
    let deadline = Instant::now() + Duration::from_secs(20);
    while t.child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "no exit on q:\n{}", t.screen());
        std::thread::park_timeout(Duration::from_millis(20));
    }
    // Give the reader thread a moment to drain the last bytes.
    std::thread::park_timeout(Duration::from_millis(200));

    let raw = t.raw.lock().unwrap().clone();
    assert!(
        raw.len() > 1000,
        "too little output captured: {}",
        raw.len()
    );
    if let Some(what) = forbidden(&raw) {
        panic!("{what}");
    }
}

#[test]
fn the_checker_catches_each_forbidden_sequence() {
    // The check above must be able to fail: feed it each hostile piece on its own.
    assert!(forbidden(b"plain \x1b[1mbold\x1b[0m text").is_none());
    for bad in [
        "\u{1b}]52;c;eA==\u{7}",
        "\u{1b}]0;x\u{1b}\\",
        "\u{9b}2J",
        "\u{85}",
        "a\u{202e}b",
        "a\u{200b}b",
        "a\u{2066}b",
        "a\u{feff}b",
        TITLE_PAYLOAD,
    ] {
        assert!(forbidden(bad.as_bytes()).is_some(), "{bad:?} not caught");
    }
}
