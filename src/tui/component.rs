//! Component detail: identity, licenses, locations, who depends on it, what it pulls in,
//! and its findings (Enter opens one).

use super::action::Action;
use super::app::{App, Screen};
use super::detail::FindingDetail;
use super::list::Sel;
use super::theme::sev_label;
use crate::sanitize::line;
use crate::store::{ComponentRow, FindingRow, SetRow, Store};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Table};
use ratatui::Frame;

/// Findings shown per component; the Findings tab filter reaches the rest.
const MAX_FINDINGS: usize = 500;

pub struct ComponentDetail {
    pub set: SetRow,
    pub comp: ComponentRow,
    pub findings: Vec<FindingRow>,
    pub dependents: Vec<String>,
    pub dependencies: Vec<String>,
    pub sel: Sel,
    pub error: Option<String>,
}

impl ComponentDetail {
    pub fn open(store: &Store, set: &SetRow, comp: ComponentRow) -> Self {
        let mut error = None;
        let findings = store
            .component_findings(set.id, &comp.key, MAX_FINDINGS)
            .unwrap_or_else(|e| {
                error = Some(e.to_string());
                Vec::new()
            });
        let edges = store.dependencies(set.id).unwrap_or_default();
        let dependents = edges
            .iter()
            .filter(|(_, b)| *b == comp.key)
            .map(|(a, _)| a.clone())
            .collect();
        let dependencies = edges
            .iter()
            .filter(|(a, _)| *a == comp.key)
            .map(|(_, b)| b.clone())
            .collect();
        Self {
            set: set.clone(),
            comp,
            findings,
            dependents,
            dependencies,
            sel: Sel::default(),
            error,
        }
    }

    fn split(body: Rect) -> (Rect, Rect) {
        let [info, list] =
            Layout::vertical([Constraint::Length(8), Constraint::Min(1)]).areas(body);
        (info, list)
    }

    pub fn update(&mut self, app: &mut App, a: Action) {
        let (_, list) = Self::split(app.body());
        if self
            .sel
            .apply(a, self.findings.len(), list.height.saturating_sub(1))
        {
            return;
        }
        match a {
            Action::Back => app.pop_requested = true,
            Action::Open => {
                if let Some(r) = self.findings.get(self.sel.sel).cloned() {
                    let v = FindingDetail::open(&app.store, &self.set, r);
                    app.screens.push(Screen::Finding(Box::new(v)));
                }
            }
            _ => {}
        }
    }

    pub fn draw(&self, app: &App, f: &mut Frame<'_>, body: Rect) {
        let t = app.theme;
        let c = &self.comp;
        let (info, list) = Self::split(body);
        let name = |k: &String| {
            if k == "@subject" {
                "the image".to_string()
            } else {
                line(k, 60)
            }
        };
        let join = |v: &[String]| {
            if v.is_empty() {
                "-".to_string()
            } else {
                v.iter().map(name).collect::<Vec<_>>().join(", ")
            }
        };
        let dep = match c.direct {
            Some(true) => "direct",
            Some(false) => "transitive",
            None => "direct/transitive unknown",
        };
        let locs: Vec<String> = c
            .locations
            .iter()
            .map(|l| l.path.clone().unwrap_or_else(|| l.file.clone()))
            .collect();
        let lines = vec![
            Line::from(vec![
                Span::styled(line(&c.name, 60), t.title()),
                Span::raw(format!(
                    " {}  ({}, {dep})",
                    line(c.version.as_deref().unwrap_or("-"), 40),
                    line(&c.kind, 20)
                )),
            ]),
            Line::from(line(c.purl.as_deref().unwrap_or(&c.key), 300)),
            Line::from(format!("licenses: {}", line(&join_plain(&c.licenses), 200))),
            Line::from(format!("cpes: {}", line(&join_plain(&c.cpes), 200))),
            Line::from(format!("locations: {}", line(&join_plain(&locs), 300))),
            Line::from(format!(
                "depended on by: {}",
                line(&join(&self.dependents), 300)
            )),
            Line::from(format!(
                "depends on: {}",
                line(&join(&self.dependencies), 300)
            )),
            Line::from(Span::styled(
                format!(
                    "{} finding(s){}",
                    self.findings.len(),
                    self.error
                        .as_deref()
                        .map(|e| format!("; error: {e}"))
                        .unwrap_or_default()
                ),
                t.dim(),
            )),
        ];
        f.render_widget(Paragraph::new(lines), info);
        let h = usize::from(list.height.saturating_sub(1));
        let rows: Vec<Row> = self
            .findings
            .iter()
            .enumerate()
            .skip(self.sel.top)
            .take(h)
            .map(|(i, r)| {
                let row = Row::new(vec![
                    Span::styled(sev_label(r.severity), t.severity(r.severity)),
                    Span::raw(line(&r.vuln_id, 30)),
                    Span::raw(line(&r.fixed_versions.join(","), 30)),
                    Span::raw(line(r.title.as_deref().unwrap_or(""), 100)),
                ]);
                if i == self.sel.sel {
                    row.style(t.selected())
                } else {
                    row
                }
            })
            .collect();
        let w = [
            Constraint::Length(5),
            Constraint::Length(20),
            Constraint::Length(14),
            Constraint::Fill(1),
        ];
        let header = Row::new(["SEV", "ID", "FIXED", "TITLE"]).style(t.header());
        f.render_widget(Table::new(rows, w).header(header).column_spacing(1), list);
    }
}

fn join_plain(v: &[String]) -> String {
    if v.is_empty() {
        "-".into()
    } else {
        v.join(", ")
    }
}
