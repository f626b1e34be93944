//! The one state-owning `App`: a stack of screens, the input mode, queued jobs, and
//! `handle`, the single entry point through which keys, mouse, ticks and job results
//! change state. Drawing lives in `draw.rs` and only reads.

use super::action::Action;
use super::component::ComponentDetail;
use super::dashboard::Dashboard;
use super::detail::FindingDetail;
use super::diff::DiffView;
use super::import::ImportView;
use super::jobs::{Job, JobResult, Judged};
use super::keymap::Keymap;
use super::list::Sel;
use super::set_view::SetView;
use super::theme::{Banner, Theme};
use super::Event;
use crate::store::Store;
use ratatui::crossterm::event::{
    KeyCode, KeyEvent, KeyEventKind, MouseButton, MouseEvent, MouseEventKind,
};
use ratatui::layout::Rect;
use std::collections::HashMap;
use std::sync::Arc;

pub enum Screen {
    Dashboard,
    Set(Box<SetView>),
    Finding(Box<FindingDetail>),
    Component(Box<ComponentDetail>),
    Import(Box<ImportView>),
    Diff(Box<DiffView>),
}

/// Where typed characters go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    Normal,
    /// The findings `/` filter: every keystroke re-queries.
    Filter,
    /// The import screen's path prompt.
    Path,
    /// The decision form (disposition or waiver draft).
    Form,
}

pub struct App {
    pub store: Store,
    pub keymap: Keymap,
    pub theme: Theme,
    pub banner: Banner,
    pub screens: Vec<Screen>,
    pub input: Input,
    /// The help overlay and its scroll position, when open.
    pub help: Option<Sel>,
    pub form: Option<super::decide::Form>,
    /// The waiver sign/reject/revoke or export form, when open.
    pub act: Option<super::act::ActForm>,
    pub status: String,
    pub dashboard: Dashboard,
    /// The gate's judgement per set id, as it arrives from the judge worker.
    pub judged: HashMap<i64, Arc<Judged>>,
    pub area: Rect,
    pub quit: bool,
    /// Set by a screen's update to close itself (Esc).
    pub pop_requested: bool,
    jobs: Vec<Job>,
    gen: u64,
    /// Finding indexes for the inline runner (tests, benchmarks); the threaded runner's
    /// query worker holds its own.
    pub inline_views: super::jobs::Views,
}

impl App {
    pub fn new(store: Store, keymap: Keymap, theme: Theme, banner: Banner, area: Rect) -> Self {
        let mut app = Self {
            store,
            keymap,
            theme,
            banner,
            screens: vec![Screen::Dashboard],
            input: Input::Normal,
            help: None,
            form: None,
            act: None,
            status: String::new(),
            dashboard: Dashboard::default(),
            judged: HashMap::new(),
            area,
            quit: false,
            pop_requested: false,
            jobs: Vec::new(),
            gen: 0,
            inline_views: super::jobs::Views::default(),
        };
        app.jobs.push(Job::Dashboard);
        app
    }

    /// Jobs queued since the last call, for the runner.
    pub fn take_jobs(&mut self) -> Vec<Job> {
        std::mem::take(&mut self.jobs)
    }

    pub fn push_jobs(&mut self, jobs: Vec<Job>) {
        self.jobs.extend(jobs);
    }

    pub fn next_gen(&mut self) -> u64 {
        self.gen += 1;
        self.gen
    }

    pub fn top(&self) -> &Screen {
        self.screens.last().unwrap_or(&Screen::Dashboard)
    }

    /// The area between the banner and the status line.
    pub fn body(&self) -> Rect {
        Rect {
            y: self.area.y + 1,
            height: self.area.height.saturating_sub(2),
            ..self.area
        }
    }

    /// Says plainly that a feature waits for another part of dossier.
    pub fn not_yet(&mut self, what: &str) {
        self.status = format!("{what}: not available yet in this build");
    }

    pub fn handle(&mut self, ev: Event) {
        match ev {
            Event::Key(k) => self.key(k),
            Event::Mouse(m) => self.mouse(m),
            Event::Resize(w, h) => {
                self.area = Rect::new(0, 0, w, h);
                self.refit();
            }
            Event::Tick => {}
            Event::Job(r) => self.job(r),
        }
    }

    fn key(&mut self, k: KeyEvent) {
        if k.kind != KeyEventKind::Press {
            return;
        }
        // Messages live until the next key; then the context hint shows again.
        self.status.clear();
        match self.input {
            Input::Filter => return self.filter_key(k),
            Input::Form => return self.form_key(k),
            Input::Path => {
                if let Some(Screen::Import(v)) = self.screens.last_mut() {
                    if v.key(k) {
                        let jobs = v.take_jobs();
                        self.jobs.extend(jobs);
                    }
                    if !v.prompting() {
                        self.input = Input::Normal;
                        if v.cancelled {
                            self.screens.pop();
                        }
                    }
                } else {
                    self.input = Input::Normal;
                }
                return;
            }
            Input::Normal => {}
        }
        if let Some(a) = self.keymap.action(&k) {
            self.update(a);
        }
    }

    fn form_key(&mut self, k: KeyEvent) {
        use super::decide::Outcome;
        let outcome = if let Some(act) = self.act.as_mut() {
            act.key(k, &mut self.store)
        } else if let Some(form) = self.form.as_mut() {
            form.key(k, &mut self.store)
        } else {
            self.input = Input::Normal;
            return;
        };
        match outcome {
            Outcome::Open => {}
            Outcome::Cancelled => {
                self.form = None;
                self.act = None;
                self.input = Input::Normal;
            }
            Outcome::Done(msg, jobs) => {
                self.form = None;
                self.act = None;
                self.input = Input::Normal;
                self.status = msg;
                self.jobs.extend(jobs);
                for s in self.screens.iter_mut() {
                    match s {
                        Screen::Finding(v) => v.reload(&self.store),
                        Screen::Set(v) => v.reload_tables(&self.store),
                        _ => {}
                    }
                }
            }
        }
    }

    /// Opens the decision form on a finding.
    pub fn decide(&mut self, kind: super::decide::Kind, row: crate::store::FindingRow) {
        self.form = Some(super::decide::Form::new(kind, row));
        self.input = Input::Form;
    }

    /// Opens a waiver or export form.
    pub fn act(&mut self, form: super::act::ActForm) {
        self.act = Some(form);
        self.input = Input::Form;
    }

    /// Re-reads every open set's tables (after a verification or a waiver change).
    fn reload_sets(&mut self) {
        for s in self.screens.iter_mut() {
            if let Screen::Set(v) = s {
                v.reload_tables(&self.store);
            }
        }
    }

    fn filter_key(&mut self, k: KeyEvent) {
        let gen = self.next_gen();
        let Some(Screen::Set(v)) = self.screens.last_mut() else {
            self.input = Input::Normal;
            return;
        };
        let list = &mut v.findings;
        let changed = match k.code {
            KeyCode::Enter => {
                self.input = Input::Normal;
                false
            }
            KeyCode::Esc => {
                self.input = Input::Normal;
                !std::mem::take(&mut list.text).is_empty()
            }
            KeyCode::Backspace => list.text.pop().is_some(),
            KeyCode::Char(c) if !c.is_control() => {
                list.text.push(c);
                true
            }
            _ => false,
        };
        if changed {
            let job = list.reload(gen, true);
            self.jobs.push(job);
        }
    }

    /// The one place actions change state.
    pub fn update(&mut self, a: Action) {
        if let Some(sel) = self.help.as_mut() {
            match a {
                Action::Help | Action::Back | Action::Quit => self.help = None,
                _ => {
                    sel.apply(a, Action::ALL.len() + 4, 1);
                    sel.top = sel.sel;
                }
            }
            return;
        }
        match a {
            Action::Quit => {
                self.quit = true;
                return;
            }
            Action::Help => {
                self.help = Some(Sel::default());
                return;
            }
            Action::Import if !matches!(self.top(), Screen::Import(_)) => {
                let pkg = self
                    .dashboard
                    .selected()
                    .and_then(|s| s.set.as_ref())
                    .and_then(|r| r.package.clone());
                self.screens
                    .push(Screen::Import(Box::new(ImportView::new(pkg))));
                self.input = Input::Path;
                return;
            }
            Action::Refresh => {
                self.jobs.push(Job::Dashboard);
                self.refresh_top();
                self.status = "reloaded from the store".into();
                return;
            }
            _ => {}
        }
        let top = self.screens.len() - 1;
        let screen = std::mem::replace(&mut self.screens[top], Screen::Dashboard);
        let screen = match screen {
            Screen::Dashboard => {
                super::dashboard::update(self, a);
                Screen::Dashboard
            }
            Screen::Set(mut v) => {
                v.update(self, a);
                Screen::Set(v)
            }
            Screen::Finding(mut v) => {
                v.update(self, a);
                Screen::Finding(v)
            }
            Screen::Component(mut v) => {
                v.update(self, a);
                Screen::Component(v)
            }
            Screen::Import(mut v) => {
                v.update(self, a);
                Screen::Import(v)
            }
            Screen::Diff(mut v) => {
                v.update(self, a);
                Screen::Diff(v)
            }
        };
        // The screen may have pushed a new one (drill in) or asked to close itself.
        self.screens[top] = screen;
        if self.pop_requested {
            self.pop_requested = false;
            if self.screens.len() > 1 {
                self.screens.remove(top);
            }
        }
    }

    fn refresh_top(&mut self) {
        let gen = self.next_gen();
        if let Some(Screen::Set(v)) = self.screens.last_mut() {
            let job = v.findings.reload(gen, true);
            v.reload_tables(&self.store);
            self.jobs.push(job);
        }
    }

    /// After a resize, keep every selection on screen.
    fn refit(&mut self) {
        let body = self.body();
        let h = Dashboard::rows_area(body).height;
        let len = self.dashboard.len();
        let sel = self.dashboard.sel.sel;
        self.dashboard.sel.select(sel, len, h);
        if let Some(Screen::Set(v)) = self.screens.last_mut() {
            let h = SetView::rows_area(body, v.tab).height;
            v.findings.scroll_into_view(h);
        }
    }

    fn mouse(&mut self, m: MouseEvent) {
        match m.kind {
            MouseEventKind::ScrollDown => (0..3).for_each(|_| self.update(Action::Down)),
            MouseEventKind::ScrollUp => (0..3).for_each(|_| self.update(Action::Up)),
            MouseEventKind::Down(MouseButton::Left) if self.help.is_none() => {
                self.click(m.column, m.row)
            }
            _ => {}
        }
    }

    fn click(&mut self, x: u16, y: u16) {
        let body = self.body();
        match self.screens.last_mut() {
            Some(Screen::Dashboard) => {
                let area = Dashboard::rows_area(body);
                if let Some(i) =
                    super::list::clicked_row(y, area.y, area.height, self.dashboard.sel.top)
                {
                    if i < self.dashboard.len() {
                        let again = i == self.dashboard.sel.sel;
                        self.dashboard
                            .sel
                            .select(i, self.dashboard.len(), area.height);
                        if again {
                            self.update(Action::Open);
                        }
                    }
                }
            }
            Some(Screen::Set(v)) => {
                if let Some(open) = v.click(x, y, body) {
                    let jobs = v.findings_jobs();
                    self.jobs.extend(jobs);
                    if open {
                        self.update(Action::Open);
                    }
                }
            }
            _ => {}
        }
    }

    fn job(&mut self, r: JobResult) {
        match r {
            JobResult::Dashboard(d) => {
                self.dashboard
                    .set(d, Dashboard::rows_area(self.body()).height);
                let ids: Vec<i64> = self
                    .dashboard
                    .sets()
                    .iter()
                    .filter_map(|s| s.set.as_ref().map(|r| r.id))
                    .collect();
                self.jobs
                    .extend(ids.into_iter().map(|set_id| Job::Judge { set_id }));
            }
            JobResult::Judged { set_id, result } => match result {
                Ok(j) => {
                    self.judged.insert(set_id, j);
                    // The list's GATE / DECISION columns and filters read the fresh cache.
                    self.jobs.push(Job::JudgementsChanged { set_id });
                    let gen = self.next_gen();
                    for s in self.screens.iter_mut() {
                        if let Screen::Set(v) = s {
                            if v.findings.set_id == set_id {
                                let job = v.findings.reload(gen, true);
                                self.jobs.push(job);
                            }
                        }
                    }
                }
                Err(e) => {
                    self.status =
                        format!("gate for set {set_id}: {}", crate::sanitize::line(&e, 200))
                }
            },
            JobResult::Page { req, result } => {
                let body = self.body();
                for s in self.screens.iter_mut() {
                    if let Screen::Set(v) = s {
                        let h = SetView::rows_area(body, super::set_view::Tab::Findings).height;
                        let jobs = v.findings.on_page(&req, result.clone(), h);
                        self.jobs.extend(jobs);
                    }
                }
            }
            JobResult::Counts { gen, result } => {
                for s in self.screens.iter_mut() {
                    if let Screen::Set(v) = s {
                        v.findings.on_counts(gen, result.clone());
                    }
                }
            }
            JobResult::ImportProgress(p) => {
                for s in self.screens.iter_mut() {
                    if let Screen::Import(v) = s {
                        v.progress(p.clone());
                    }
                }
            }
            JobResult::ImportDone(r) => {
                self.status = match &r {
                    Ok(rep) => format!(
                        "import finished: {} set(s); Esc returns to the dashboard",
                        rep.sets.len()
                    ),
                    Err(e) => format!("import failed: {}", crate::sanitize::line(e, 200)),
                };
                for s in self.screens.iter_mut() {
                    if let Screen::Import(v) = s {
                        v.done(r.clone());
                    }
                }
                // A re-import may rewrite a set's findings: indexes are rebuilt on demand.
                self.jobs.push(Job::ForgetIndexes);
                self.jobs.push(Job::Dashboard);
            }
            JobResult::Verified { set_id, result } => {
                self.status = match result {
                    Ok(counts) if counts.is_empty() => {
                        format!("set {set_id} re-verified: no signatures or attestations found")
                    }
                    Ok(counts) => format!(
                        "set {set_id} re-verified: {}",
                        counts
                            .iter()
                            .map(|(o, n)| format!("{n} {o}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    Err(e) => format!("re-verify failed: {}", crate::sanitize::line(&e, 200)),
                };
                self.reload_sets();
                self.jobs.push(Job::Judge { set_id });
            }
            JobResult::IndexReady { set_id, result } => {
                if let Err(e) = result {
                    self.status = format!(
                        "finding index for set {set_id}: {} (filters fall back to SQL)",
                        crate::sanitize::line(&e, 200)
                    );
                }
                let gen = self.next_gen();
                for s in self.screens.iter_mut() {
                    if let Screen::Set(v) = s {
                        if v.findings.set_id == set_id && v.findings.indexing {
                            let job = v.findings.reload(gen, true);
                            self.jobs.push(job);
                        }
                    }
                }
            }
            JobResult::ExportProgress(p) => self.status = crate::sanitize::line(&p, 200),
            JobResult::ExportDone(r) => {
                self.status = match r {
                    Ok(rep) => format!(
                        "exported {} ({}): {} (package sha256 {})",
                        rep.verdict,
                        if rep.signed { "signed" } else { "unsigned" },
                        rep.files
                            .iter()
                            .map(|f| f.path.display().to_string())
                            .collect::<Vec<_>>()
                            .join(", "),
                        rep.package_sha256.chars().take(16).collect::<String>()
                    ),
                    Err(e) => format!("export failed: {}", crate::sanitize::line(&e, 200)),
                };
                self.status = crate::sanitize::line(&self.status, 400);
                self.reload_sets();
            }
        }
    }
}
