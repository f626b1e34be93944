//! The diff screen: two sets of the same repository side by side. The comparison engine
//! (new / fixed / unchanged findings, changed components, waivers to re-review) belongs to
//! the gate work; until it is built in, this screen names the pair and says so.

use super::action::Action;
use super::app::{App, Screen};
use crate::sanitize::line;
use crate::store::SetRow;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

pub struct DiffView {
    pub old: SetRow,
    pub new: SetRow,
}

/// From the dashboard: the selected set against another set of its repository.
pub fn open(app: &mut App) {
    match app.dashboard.selected().and_then(|s| s.set.clone()) {
        Some(set) => open_for(app, set),
        None => app.status = "select a set first".into(),
    }
}

pub fn open_for(app: &mut App, set: SetRow) {
    let Some(repo) = set.repository.clone() else {
        app.status = "this set names no repository, so there is nothing to compare it with".into();
        return;
    };
    let others: Vec<SetRow> = app
        .dashboard
        .sets()
        .iter()
        .filter_map(|s| s.set.clone())
        .filter(|s| s.id != set.id && s.repository.as_deref() == Some(repo.as_str()))
        .collect();
    // The nearest other import of the same repository; older first.
    let Some(other) = others.iter().min_by_key(|o| (o.id - set.id).abs()).cloned() else {
        app.status = format!("no other set of {} to compare with", line(&repo, 60));
        return;
    };
    let (old, new) = if other.id < set.id {
        (other, set)
    } else {
        (set, other)
    };
    app.screens
        .push(Screen::Diff(Box::new(DiffView { old, new })));
}

impl DiffView {
    pub fn update(&mut self, app: &mut App, a: Action) {
        if a == Action::Back {
            app.pop_requested = true;
        }
    }

    pub fn draw(&self, app: &App, f: &mut Frame<'_>, body: Rect) {
        let t = app.theme;
        let desc = |s: &SetRow| {
            format!(
                "set {} {} {} · {} components · {} findings",
                s.id,
                line(s.image.as_deref().unwrap_or(&s.source), 50),
                s.digest
                    .as_deref()
                    .map(|d| d.chars().take(19).collect::<String>())
                    .unwrap_or_default(),
                s.components,
                s.findings
            )
        };
        let lines = vec![
            Line::from(Span::styled("Compare two versions", t.title())),
            Line::from(format!("old: {}", desc(&self.old))),
            Line::from(format!("new: {}", desc(&self.new))),
            Line::from(""),
            Line::from(Span::styled(
                "The comparison (new / fixed / unchanged findings, component changes, waivers to re-review) is not available yet in this build.",
                t.warn(),
            )),
        ];
        f.render_widget(
            Paragraph::new(lines).wrap(ratatui::widgets::Wrap { trim: true }),
            body,
        );
    }
}
