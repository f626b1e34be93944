//! Deciding from the keyboard: a small step-by-step form (pick a state, pick a
//! justification, type a note, confirm) that records a disposition or drafts a waiver
//! through the review workflow, then asks the gate to re-judge the set.

use super::jobs::Job;
use super::theme::Theme;
use crate::model::waiver::{DispositionState, VexJustification, WaiverJustification};
use crate::sanitize::line;
use crate::store::{FindingRow, Store};
use crate::workflow::{config, review, waivers, Actor};
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Disposition,
    Waiver,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    State,
    Justification,
    Note,
    Confirm,
}

pub struct Form {
    pub kind: Kind,
    pub finding: FindingRow,
    step: Step,
    state: usize,
    just: usize,
    pub note: String,
    pub error: Option<String>,
}

/// What a key did to the form.
pub enum Outcome {
    Open,
    Cancelled,
    /// Recorded: a message for the status line and jobs to run (re-judge).
    Done(String, Vec<Job>),
}

/// The acting reviewer from the user config (name, role), else the environment.
pub fn actor() -> Actor {
    config::load()
        .map(|c| config::actor(&c, &config::IdentityOverrides::default()))
        .unwrap_or_else(|_| Actor::from_env())
}

impl Form {
    pub fn new(kind: Kind, finding: FindingRow) -> Self {
        let step = if kind == Kind::Disposition {
            Step::State
        } else {
            Step::Justification
        };
        Self {
            kind,
            finding,
            step,
            state: 0,
            just: 0,
            note: String::new(),
            error: None,
        }
    }

    fn states() -> &'static [DispositionState] {
        DispositionState::ALL
    }

    fn chosen_state(&self) -> DispositionState {
        Self::states()
            .get(self.state)
            .copied()
            .unwrap_or(DispositionState::Open)
    }

    /// A justification is asked for when it means something: not_affected needs one.
    fn needs_justification(&self) -> bool {
        self.kind == Kind::Waiver || self.chosen_state() == DispositionState::NotAffected
    }

    fn options(&self) -> Vec<&'static str> {
        match (self.step, self.kind) {
            (Step::State, _) => Self::states().iter().map(|s| s.as_str()).collect(),
            (Step::Justification, Kind::Disposition) => {
                VexJustification::ALL.iter().map(|s| s.as_str()).collect()
            }
            (Step::Justification, Kind::Waiver) => WaiverJustification::ALL
                .iter()
                .map(|s| s.as_str())
                .collect(),
            _ => Vec::new(),
        }
    }

    pub fn key(&mut self, k: KeyEvent, store: &mut Store) -> Outcome {
        self.error = None;
        let n = self.options().len();
        let cur = match self.step {
            Step::State => &mut self.state,
            _ => &mut self.just,
        };
        match (self.step, k.code) {
            (_, KeyCode::Esc) => return Outcome::Cancelled,
            (Step::State | Step::Justification, KeyCode::Up | KeyCode::Char('k')) => {
                *cur = cur.saturating_sub(1)
            }
            (Step::State | Step::Justification, KeyCode::Down | KeyCode::Char('j')) => {
                *cur = (*cur + 1).min(n.saturating_sub(1))
            }
            (Step::State, KeyCode::Enter) => {
                self.step = if self.needs_justification() {
                    Step::Justification
                } else {
                    Step::Note
                };
            }
            (Step::Justification, KeyCode::Enter) => self.step = Step::Note,
            (Step::Note, KeyCode::Enter) => self.step = Step::Confirm,
            (Step::Note, KeyCode::Backspace) => {
                self.note.pop();
            }
            (Step::Note, KeyCode::Char(c)) if !c.is_control() => self.note.push(c),
            (Step::Confirm, KeyCode::Char('y') | KeyCode::Enter) => return self.submit(store),
            (Step::Confirm, KeyCode::Char('n')) => self.step = Step::Note,
            _ => {}
        }
        Outcome::Open
    }

    fn submit(&mut self, store: &mut Store) -> Outcome {
        let who = actor();
        let set_id = self.finding.set_id;
        let note = Some(self.note.trim().to_string()).filter(|n| !n.is_empty());
        let r = match self.kind {
            Kind::Disposition => {
                let input = review::DispositionInput {
                    state: Some(self.chosen_state()),
                    justification: self
                        .needs_justification()
                        .then(|| VexJustification::ALL.get(self.just).copied())
                        .flatten(),
                    note,
                    waiver_id: None,
                };
                review::set_disposition(store, &who, &self.finding, &input)
                    .map(|_| {
                        format!(
                            "{} recorded as {} by {}",
                            self.finding.vuln_id,
                            self.chosen_state(),
                            who.name
                        )
                    })
                    .map_err(|e| e.to_string())
            }
            Kind::Waiver => {
                let opts = waivers::NewWaiverOptions {
                    expires: None,
                    kind: WaiverJustification::ALL.get(self.just).copied(),
                    text: note,
                    out: None,
                };
                waivers::new_from_finding(store, &who, &self.finding, &opts, chrono::Utc::now())
                    .map(|w| {
                        format!(
                            "waiver {} drafted (pending until an approver signs it)",
                            w.id
                        )
                    })
                    .map_err(|e| e.to_string())
            }
        };
        match r {
            Ok(msg) => Outcome::Done(
                crate::sanitize::line(&msg, 200),
                vec![Job::Judge { set_id }],
            ),
            Err(e) => {
                self.error = Some(e);
                self.step = Step::Note;
                Outcome::Open
            }
        }
    }

    pub fn draw(&self, f: &mut Frame<'_>, area: Rect, t: Theme) {
        let w = area.width.saturating_sub(4).min(70);
        let h = area.height.saturating_sub(4).min(16);
        let r = Rect {
            x: area.x + (area.width - w) / 2,
            y: area.y + 2,
            width: w,
            height: h,
        };
        f.render_widget(Clear, r);
        let title = match self.kind {
            Kind::Disposition => " disposition ",
            Kind::Waiver => " new waiver ",
        };
        let mut lines = vec![Line::from(vec![
            Span::styled(line(&self.finding.vuln_id, 30), t.title()),
            Span::raw(format!(" on {}", line(&self.finding.name, 30))),
        ])];
        let (label, sel) = match self.step {
            Step::State => ("state (j/k, Enter):", self.state),
            Step::Justification => ("justification (j/k, Enter):", self.just),
            Step::Note => ("note (type, Enter):", 0),
            Step::Confirm => ("record this? y / Enter = yes, n = edit, Esc = cancel", 0),
        };
        if self.kind == Kind::Disposition && self.step != Step::State {
            lines.push(Line::from(format!("state: {}", self.chosen_state())));
        }
        lines.push(Line::from(Span::styled(label, t.key())));
        for (i, o) in self.options().iter().enumerate() {
            let style = if i == sel {
                t.selected()
            } else {
                ratatui::style::Style::new()
            };
            lines.push(Line::from(Span::styled(format!("  {o}"), style)));
        }
        if matches!(self.step, Step::Note | Step::Confirm) {
            lines.push(Line::from(format!(
                "note: {}{}",
                line(&self.note, 200),
                if self.step == Step::Note { "▏" } else { "" }
            )));
        }
        if let Some(e) = &self.error {
            lines.push(Line::from(Span::styled(line(e, 300), t.bad())));
        }
        let block = Block::default().borders(Borders::ALL).title(title);
        f.render_widget(
            Paragraph::new(lines).block(block).wrap(Wrap { trim: true }),
            r,
        );
    }
}
