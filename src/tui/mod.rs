//! The terminal UI, a function of state: key -> `Action` -> `App::update` -> `draw`.
//! One thread owns the `App`; input, ticks and worker results arrive as one `Event`
//! stream. The terminal is restored on every exit path, panics included.

pub mod act;
pub mod action;
pub mod app;
mod component;
pub mod dashboard;
pub mod decide;
mod detail;
mod diff;
pub mod draw;
mod findings;
mod help;
mod hint;
mod import;
mod index_views;
pub mod jobs;
mod judged;
pub mod keymap;
mod list;
mod set_tabs;
pub mod set_view;
pub mod theme;

pub use app::App;

use ratatui::crossterm::event::{
    self as ct, DisableMouseCapture, EnableMouseCapture, KeyEvent, MouseEvent,
};
use ratatui::crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use ratatui::crossterm::{cursor, execute};
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

/// Everything that can change the app's state.
#[derive(Debug, Clone)]
pub enum Event {
    Key(KeyEvent),
    Mouse(MouseEvent),
    Resize(u16, u16),
    Tick,
    Job(jobs::JobResult),
}

/// The user's cosmetic config: `DOSSIER_CONFIG` or `<config dir>/config.toml`, `[banner]`.
/// Returns the banner and a warning when the file could not be used.
pub fn load_banner() -> (theme::Banner, Option<String>) {
    let path = std::env::var_os("DOSSIER_CONFIG")
        .map(std::path::PathBuf::from)
        .or_else(|| {
            directories::ProjectDirs::from("mil", "dossier", "dossier")
                .map(|d| d.config_dir().join("config.toml"))
        });
    let Some(path) = path.filter(|p| p.is_file()) else {
        return (theme::Banner::default(), None);
    };
    match std::fs::read_to_string(&path)
        .map_err(|e| e.to_string())
        .and_then(|t| theme::Banner::from_config(&t))
    {
        Ok(b) => (b, None),
        Err(e) => (
            theme::Banner::default(),
            Some(format!("config ignored: {}: {e}", path.display())),
        ),
    }
}

fn restore_terminal() {
    let _ = disable_raw_mode();
    let _ = execute!(
        std::io::stdout(),
        DisableMouseCapture,
        LeaveAlternateScreen,
        cursor::Show
    );
}

/// Restores the terminal when dropped, so `?` and early returns restore it too.
struct Guard;

impl Drop for Guard {
    fn drop(&mut self) {
        restore_terminal();
    }
}

/// Opens the TUI on `store_path`.
pub fn run(store_path: &Path) -> anyhow::Result<()> {
    let store = crate::store::Store::open(store_path)?;
    let (keymap, km_warn) = keymap::Keymap::load();
    let (banner, cfg_warn) = load_banner();

    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore_terminal();
        hook(info);
    }));
    enable_raw_mode()?;
    let _guard = Guard;
    execute!(std::io::stdout(), EnterAlternateScreen, EnableMouseCapture)?;
    let mut terminal =
        ratatui::Terminal::new(ratatui::backend::CrosstermBackend::new(std::io::stdout()))?;
    let size = terminal.size()?;

    let (tx, rx) = mpsc::channel::<Event>();
    spawn_input(tx.clone());
    let runner = jobs::Runner::start(store_path.to_path_buf(), tx);
    let mut app = App::new(
        store,
        keymap,
        theme::Theme::from_env(),
        banner,
        ratatui::layout::Rect::new(0, 0, size.width, size.height),
    );
    if let Some(w) = km_warn.or(cfg_warn) {
        app.status = w;
    }
    loop {
        for j in app.take_jobs() {
            runner.submit(j);
        }
        terminal.draw(|f| draw::draw(&app, f))?;
        let Ok(ev) = rx.recv() else { break };
        app.handle(ev);
        // Apply everything already queued before drawing again, so a burst of job results
        // or key repeats costs one frame.
        while let Ok(ev) = rx.try_recv() {
            app.handle(ev);
            if app.quit {
                break;
            }
        }
        if app.quit {
            break;
        }
    }
    Ok(())
}

/// Reads terminal input on its own thread; a tick every second keeps time-based text fresh.
fn spawn_input(tx: mpsc::Sender<Event>) {
    std::thread::spawn(move || loop {
        let ev = match ct::poll(Duration::from_millis(1000)) {
            Ok(true) => match ct::read() {
                Ok(ct::Event::Key(k)) => Event::Key(k),
                Ok(ct::Event::Mouse(m)) => Event::Mouse(m),
                Ok(ct::Event::Resize(w, h)) => Event::Resize(w, h),
                Ok(_) => continue,
                Err(_) => break,
            },
            Ok(false) => Event::Tick,
            Err(_) => break,
        };
        if tx.send(ev).is_err() {
            break;
        }
    });
}

/// Runs queued jobs inline until none remain (tests and benchmarks: deterministic, no
/// threads). Uses the app's own store connection.
pub fn run_jobs_inline(app: &mut App) {
    for _ in 0..1000 {
        let jobs = app.take_jobs();
        if jobs.is_empty() {
            return;
        }
        for j in jobs {
            let mut results = Vec::new();
            jobs::execute(&mut app.store, &mut app.inline_views, j, &mut |r| {
                results.push(r)
            });
            for r in results {
                app.handle(Event::Job(r));
            }
        }
    }
}
