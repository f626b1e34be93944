//! The `tui` section of the scale bench, run in its own process: the real workstation
//! `App` over a million-finding store, drawn into ratatui's `TestBackend`. Each figure is
//! key -> update -> page/count queries (run inline) -> rendered frame.

use dossier::store::Store;
use dossier::tui::keymap::Keymap;
use dossier::tui::theme::{Banner, Theme};
use dossier::tui::{run_jobs_inline, App, Event};
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;
use ratatui::Terminal;
use std::path::Path;
use std::time::{Duration, Instant};

fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

struct Ui {
    app: App,
    term: Terminal<TestBackend>,
}

impl Ui {
    fn frame(&mut self) {
        let app = &self.app;
        self.term
            .draw(|f| dossier::tui::draw::draw(app, f))
            .expect("draw");
    }

    /// One key through the real keymap, its queries inline, and the next frame.
    fn key(&mut self, code: KeyCode) -> Duration {
        let t = Instant::now();
        self.app
            .handle(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)));
        run_jobs_inline(&mut self.app);
        self.frame();
        t.elapsed()
    }

    fn shown(&self) -> String {
        let buf = self.term.backend().buffer();
        (0..buf.area.height)
            .map(|y| {
                (0..buf.area.width)
                    .map(|x| buf[(x, y)].symbol())
                    .collect::<String>()
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

fn pct(mut v: Vec<Duration>) -> (f64, f64) {
    v.sort();
    if v.is_empty() {
        return (0.0, 0.0);
    }
    let at = |p: f64| v[((v.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1000.0;
    (at(0.5), at(0.95))
}

pub fn child(db: &Path, w: u16, h: u16) {
    let t = Instant::now();
    let st = Store::open(db).expect("open store");
    let app = App::new(
        st,
        Keymap::default_map(),
        Theme { color: false },
        Banner::default(),
        Rect::new(0, 0, w, h),
    );
    let mut ui = Ui {
        app,
        term: Terminal::new(TestBackend::new(w, h)).expect("terminal"),
    };
    // Dashboard, then the gate over every set (the judge worker's job, inline here).
    run_jobs_inline(&mut ui.app);
    ui.frame();
    let dash = t.elapsed();
    let open = ui.key(KeyCode::Enter);
    let (rss, hwm) = (status_kib("VmRSS:"), status_kib("VmHWM:"));
    let findings = match ui.app.top() {
        dossier::tui::app::Screen::Set(v) => v.findings.total().unwrap_or(0),
        _ => 0,
    };
    println!(
        "\n## TUI at {w}x{h}: the real App over {findings} findings (TestBackend, queries inline)"
    );
    println!(
        "dashboard + gate of the set: {:.2} s; open the set (builds the finding index inline here, \
         then first page + counts + frame): {:.1} ms; RSS after opening {} MiB (peak {} MiB, the gate's pass included)\n",
        dash.as_secs_f64(),
        open.as_secs_f64() * 1000.0,
        rss / 1024,
        hwm / 1024
    );
    println!("| key -> rendered frame | n | p50 ms | p95 ms |");
    println!("|---|---|---|---|");
    let row = |label: &str, v: Vec<Duration>| {
        let (a, b) = pct(v.clone());
        println!("| {label} | {} | {a:.2} | {b:.2} |", v.len());
    };
    let v: Vec<Duration> = (0..300).map(|_| ui.key(KeyCode::Char('j'))).collect();
    row("scroll: j (one row)", v);
    let v: Vec<Duration> = (0..100).map(|_| ui.key(KeyCode::PageDown)).collect();
    row("scroll: PgDn", v);
    let v: Vec<Duration> = (0..12).map(|_| ui.key(KeyCode::Char('s'))).collect();
    row("re-sort: s (selection kept: rank + page around it)", v);
    let v: Vec<Duration> = (0..8).map(|_| ui.key(KeyCode::Char('b'))).collect();
    row("gate class filter: b (cycles BLOCK/WARN/INFO/all)", v);
    let v: Vec<Duration> = (0..6).map(|_| ui.key(KeyCode::Char('o'))).collect();
    row("disposition filter: o (cycles 5 states + all)", v);
    ui.key(KeyCode::Char('c'));
    for term in ["openssl-1", "CVE-2019-5", "libjson"] {
        ui.key(KeyCode::Char('/'));
        let mut short = Vec::new();
        let mut long = Vec::new();
        for (i, ch) in term.chars().enumerate() {
            let d = ui.key(KeyCode::Char(ch));
            if i < 2 {
                short.push(d);
            } else {
                long.push(d);
            }
        }
        let total = match ui.app.top() {
            dossier::tui::app::Screen::Set(v) => v.findings.total().unwrap_or(0),
            _ => 0,
        };
        row(
            &format!(
                "filter typing {term:?}: keystrokes 3.. (finding index; {total} match at the end)"
            ),
            long,
        );
        row(
            &format!("filter typing {term:?}: keystrokes 1-2 (finding index)"),
            short,
        );
        ui.key(KeyCode::Enter);
        ui.key(KeyCode::Char('c'));
    }
    let v: Vec<Duration> = (0..50)
        .map(|_| {
            let t = Instant::now();
            ui.frame();
            t.elapsed()
        })
        .collect();
    row("baseline: redraw only (no key, no query)", v);
    let (rss2, hwm2) = (status_kib("VmRSS:"), status_kib("VmHWM:"));
    println!(
        "\nRSS at the end: {} MiB (peak {} MiB). Screen check: {}",
        rss2 / 1024,
        hwm2 / 1024,
        if ui.shown().contains("sort:") {
            "findings list drawn"
        } else {
            "NOT the findings list"
        }
    );
}
