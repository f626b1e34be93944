//! Import from inside the workstation: a path prompt with Tab completion, the import on a
//! worker thread with a progress bar, then every file's result (parsed, failed with its
//! reason, unrecognised). The dashboard reloads when it finishes.

use super::action::Action;
use super::app::App;
use super::jobs::Job;
use super::list::Sel;
use crate::sanitize::line;
use crate::workflow::{ImportProgress, ImportReport};
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Gauge, Paragraph};
use ratatui::Frame;
use std::path::{Path, PathBuf};

pub enum Phase {
    Prompt,
    Running,
    Done(Result<ImportReport, String>),
}

pub struct ImportView {
    pub input: String,
    pub candidates: Vec<String>,
    pub phase: Phase,
    pub progress: Option<ImportProgress>,
    pub package: Option<String>,
    pub cancelled: bool,
    pub sel: Sel,
    jobs: Vec<Job>,
}

/// Completes the last path component: the longest common prefix of the matching entries
/// (a directory gets its `/`), plus the candidate names when several match.
pub fn complete(input: &str) -> (String, Vec<String>) {
    let expanded = expand_home(input);
    let (dir, prefix) = match expanded.rfind('/') {
        Some(i) => (expanded[..=i].to_string(), expanded[i + 1..].to_string()),
        None => (String::new(), expanded.clone()),
    };
    let read_dir = if dir.is_empty() {
        PathBuf::from(".")
    } else {
        PathBuf::from(&dir)
    };
    let Ok(entries) = std::fs::read_dir(&read_dir) else {
        return (input.to_string(), Vec::new());
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let is_dir = e.file_type().map(|t| t.is_dir()).unwrap_or(false)
                || (e.file_type().map(|t| t.is_symlink()).unwrap_or(false) && e.path().is_dir());
            (name.starts_with(&prefix) && (prefix.starts_with('.') || !name.starts_with('.')))
                .then(|| if is_dir { format!("{name}/") } else { name })
        })
        .collect();
    names.sort();
    match names.len() {
        0 => (input.to_string(), Vec::new()),
        1 => (format!("{dir}{}", names[0]), Vec::new()),
        _ => {
            let mut common = names[0].clone();
            for n in &names[1..] {
                let len = common
                    .chars()
                    .zip(n.chars())
                    .take_while(|(a, b)| a == b)
                    .count();
                common = common.chars().take(len).collect();
            }
            (format!("{dir}{common}"), names)
        }
    }
}

fn expand_home(s: &str) -> String {
    match (s.strip_prefix("~/"), std::env::var("HOME")) {
        (Some(rest), Ok(h)) => format!("{}/{rest}", h.trim_end_matches('/')),
        _ => s.to_string(),
    }
}

impl ImportView {
    pub fn new(package: Option<String>) -> Self {
        Self {
            input: String::new(),
            candidates: Vec::new(),
            phase: Phase::Prompt,
            progress: None,
            package,
            cancelled: false,
            sel: Sel::default(),
            jobs: Vec::new(),
        }
    }

    pub fn prompting(&self) -> bool {
        matches!(self.phase, Phase::Prompt) && !self.cancelled
    }

    pub fn take_jobs(&mut self) -> Vec<Job> {
        std::mem::take(&mut self.jobs)
    }

    /// A key typed into the prompt; true when it queued the import.
    pub fn key(&mut self, k: KeyEvent) -> bool {
        match k.code {
            KeyCode::Esc => self.cancelled = true,
            KeyCode::Tab => {
                let (s, c) = complete(&self.input);
                self.input = s;
                self.candidates = c;
            }
            KeyCode::Backspace => {
                self.input.pop();
                self.candidates.clear();
            }
            KeyCode::Enter => {
                let p = expand_home(self.input.trim());
                if p.is_empty() {
                    return false;
                }
                if !Path::new(&p).exists() {
                    self.candidates = vec![format!("no such file or directory: {p}")];
                    return false;
                }
                self.phase = Phase::Running;
                self.jobs.push(Job::Import {
                    paths: vec![PathBuf::from(p)],
                    package: self.package.clone(),
                });
                return true;
            }
            KeyCode::Char(c) if !c.is_control() => {
                self.input.push(c);
                self.candidates.clear();
            }
            _ => {}
        }
        false
    }

    pub fn progress(&mut self, p: ImportProgress) {
        self.progress = Some(p);
    }

    pub fn done(&mut self, r: Result<ImportReport, String>) {
        self.phase = Phase::Done(r);
    }

    pub fn update(&mut self, app: &mut App, a: Action) {
        let h = app.body().height.saturating_sub(3);
        let n = self.result_lines().len();
        if self.sel.apply(a, n, h) {
            return;
        }
        if a == Action::Back {
            // A running import carries on and still reloads the dashboard when it ends.
            app.pop_requested = true;
        }
    }

    fn result_lines(&self) -> Vec<(String, String, String, String)> {
        let Phase::Done(Ok(rep)) = &self.phase else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for s in &rep.sets {
            let head = format!(
                "set {} {} · {} components · {} findings{}",
                s.id,
                s.image
                    .as_deref()
                    .or(s.digest.as_deref())
                    .unwrap_or(&s.source),
                s.components,
                s.findings,
                if s.unchanged {
                    " · unchanged (already imported)"
                } else {
                    ""
                }
            );
            out.push(("SET".into(), String::new(), head, String::new()));
            for f in &s.files {
                out.push((
                    f.status.clone(),
                    f.format.clone().unwrap_or_else(|| "-".into()),
                    f.path.clone(),
                    f.message.clone().unwrap_or_default(),
                ));
            }
        }
        out
    }

    pub fn draw(&self, app: &App, f: &mut Frame<'_>, body: Rect) {
        let t = app.theme;
        let [title, prompt, rest] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Min(1),
        ])
        .areas(body);
        let pkg = self
            .package
            .as_deref()
            .map(|p| format!(" into package {}", line(p, 40)))
            .unwrap_or_default();
        f.render_widget(
            Paragraph::new(Span::styled(format!("Import evidence{pkg}"), t.title())),
            title,
        );
        let cursor = if self.prompting() { "▏" } else { "" };
        f.render_widget(
            Paragraph::new(Line::from(vec![
                Span::styled("path: ", t.key()),
                Span::raw(line(&self.input, 200)),
                Span::styled(cursor, t.key()),
            ])),
            prompt,
        );
        match &self.phase {
            Phase::Prompt => {
                let mut lines: Vec<Line> = vec![Line::from(Span::styled(
                    "a directory, a .tar/.tar.gz archive, an OCI layout or a single file",
                    t.dim(),
                ))];
                lines.extend(
                    self.candidates
                        .iter()
                        .take(usize::from(rest.height))
                        .map(|c| Line::from(line(c, 200))),
                );
                f.render_widget(Paragraph::new(lines), rest);
            }
            Phase::Running => {
                let (ratio, label) = match &self.progress {
                    Some(p) if p.total > 0 => (
                        (p.done as f64 / p.total as f64).clamp(0.0, 1.0),
                        format!("{}/{} {}", p.done, p.total, line(&p.path, 50)),
                    ),
                    _ => (0.0, "discovering files…".to_string()),
                };
                let g = Gauge::default()
                    .ratio(ratio)
                    .label(label)
                    .gauge_style(t.good());
                f.render_widget(g, Rect { height: 1, ..rest });
            }
            Phase::Done(Err(e)) => {
                f.render_widget(
                    Paragraph::new(format!("import failed: {}", line(e, 400))).style(t.bad()),
                    rest,
                );
            }
            Phase::Done(Ok(_)) => {
                let lines: Vec<Line> = self
                    .result_lines()
                    .into_iter()
                    .enumerate()
                    .skip(self.sel.top)
                    .take(usize::from(rest.height))
                    .map(|(i, (st, fmt, path, msg))| {
                        let style = match st.as_str() {
                            "SET" => t.title(),
                            "parsed" => t.good(),
                            "duplicate" => t.dim(),
                            _ => t.bad(),
                        };
                        let mut l = if st == "SET" {
                            Line::from(Span::styled(line(&path, 200), style))
                        } else {
                            Line::from(vec![
                                Span::styled(format!("{:<13}", line(&st, 13)), style),
                                Span::raw(format!("{:<16} ", line(&fmt, 16))),
                                Span::raw(line(&path, 60)),
                                Span::styled(
                                    if msg.is_empty() {
                                        String::new()
                                    } else {
                                        format!("  {}", line(&msg, 200))
                                    },
                                    t.dim(),
                                ),
                            ])
                        };
                        if i == self.sel.sel {
                            l = l.style(t.selected());
                        }
                        l
                    })
                    .collect();
                f.render_widget(Paragraph::new(lines), rest);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tab_completes_unique_and_common_prefixes() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("evidence-a")).unwrap();
        std::fs::create_dir(d.path().join("evidence-b")).unwrap();
        std::fs::write(d.path().join("notes.txt"), "x").unwrap();
        let base = format!("{}/", d.path().display());
        let (s, c) = complete(&format!("{base}ev"));
        assert_eq!(s, format!("{base}evidence-"));
        assert_eq!(
            c,
            vec!["evidence-a/".to_string(), "evidence-b/".to_string()]
        );
        let (s, c) = complete(&format!("{base}n"));
        assert_eq!(s, format!("{base}notes.txt"));
        assert!(c.is_empty());
        let (s, _) = complete(&format!("{base}zzz"));
        assert_eq!(s, format!("{base}zzz"));
    }
}
