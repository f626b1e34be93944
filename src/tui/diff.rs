//! The diff screen: two sets of the same repository, compared by the gate's diff
//! (`workflow::judge::diff::diff_sets`): new / fixed / unchanged findings, components
//! added / removed / changed, and waivers that still apply or need re-review.

use super::action::Action;
use super::app::{App, Screen};
use crate::analysis::diff::{DiffFinding, DiffReport};
use crate::sanitize::line;
use crate::store::SetRow;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

pub struct DiffView {
    pub old: SetRow,
    pub new: SetRow,
    pub report: Result<DiffReport, String>,
    pub scroll: u16,
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
    let policy = crate::analysis::policy::Policy::default_policy();
    let report = crate::workflow::judge::diff::diff_sets(
        &app.store,
        old.id,
        new.id,
        &policy,
        crate::workflow::judge::today(),
    )
    .map_err(|e| e.to_string());
    app.screens.push(Screen::Diff(Box::new(DiffView {
        old,
        new,
        report,
        scroll: 0,
    })));
}

impl DiffView {
    pub fn update(&mut self, app: &mut App, a: Action) {
        match a {
            Action::Back => app.pop_requested = true,
            Action::Up => self.scroll = self.scroll.saturating_sub(1),
            Action::Down => self.scroll = self.scroll.saturating_add(1),
            Action::PageUp => self.scroll = self.scroll.saturating_sub(10),
            Action::PageDown => self.scroll = self.scroll.saturating_add(10),
            Action::Top => self.scroll = 0,
            _ => {}
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
        let mut lines = vec![
            Line::from(Span::styled("Compare two versions", t.title())),
            Line::from(format!("old: {}", desc(&self.old))),
            Line::from(format!("new: {}", desc(&self.new))),
        ];
        match &self.report {
            Err(e) => lines.push(Line::from(Span::styled(
                format!("cannot compare: {}", line(e, 300)),
                t.bad(),
            ))),
            Ok(r) => {
                lines.push(Line::from(format!(
                    "findings: {} new, {} fixed, {} unchanged · components: +{} -{} ~{}",
                    r.new_findings.len(),
                    r.fixed_findings.len(),
                    r.unchanged_findings,
                    r.added_components.len(),
                    r.removed_components.len(),
                    r.changed_components.len()
                )));
                let finding = |tag: &'static str, f: &DiffFinding| {
                    Line::from(vec![
                        Span::raw(format!("{tag} ")),
                        Span::styled(
                            format!("{:<5}", super::theme::sev_label(f.severity)),
                            t.severity(f.severity),
                        ),
                        Span::raw(format!("{} {}", line(&f.id, 30), line(&f.component, 80))),
                    ])
                };
                lines.push(Line::from(Span::styled("New findings", t.title())));
                lines.extend(r.new_findings.iter().map(|f| finding("+", f)));
                lines.push(Line::from(Span::styled("Fixed findings", t.title())));
                lines.extend(r.fixed_findings.iter().map(|f| finding("-", f)));
                lines.push(Line::from(Span::styled("Components", t.title())));
                for c in &r.changed_components {
                    lines.push(Line::from(format!(
                        "~ {} {} -> {}",
                        line(&c.name, 40),
                        line(c.old_version.as_deref().unwrap_or("-"), 30),
                        line(c.new_version.as_deref().unwrap_or("-"), 30)
                    )));
                }
                for (tag, list) in [("+", &r.added_components), ("-", &r.removed_components)] {
                    for c in list {
                        lines.push(Line::from(format!(
                            "{tag} {} {}",
                            line(&c.name, 40),
                            line(c.version.as_deref().unwrap_or("-"), 30)
                        )));
                    }
                }
                lines.push(Line::from(Span::styled("Waivers", t.title())));
                if r.waivers.is_empty() {
                    lines.push(Line::from(Span::styled(
                        "no waivers cover either set",
                        t.dim(),
                    )));
                }
                for w in &r.waivers {
                    lines.push(Line::from(format!(
                        "{} {}: {}",
                        line(&w.id, 30),
                        line(&w.status, 20),
                        line(&w.findings.join(", "), 200)
                    )));
                }
            }
        }
        f.render_widget(Paragraph::new(lines).scroll((self.scroll, 0)), body);
    }
}
