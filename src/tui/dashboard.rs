//! The dashboard: every package and its evidence sets with verdict, signature state, SBOM
//! attestation, scanner DB age and findings by severity. Opening a set drills into it.

use super::action::Action;
use super::app::{App, Screen};
use super::jobs::{DashboardData, SetSummary};
use super::list::Sel;
use super::set_view::SetView;
use super::theme::Theme;
use crate::model::Severity;
use crate::sanitize::line;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};
use ratatui::Frame;

#[derive(Debug, Default)]
pub struct Dashboard {
    pub data: Option<Result<DashboardData, String>>,
    pub sel: Sel,
}

impl Dashboard {
    pub fn sets(&self) -> &[SetSummary] {
        match &self.data {
            Some(Ok(d)) => &d.sets,
            _ => &[],
        }
    }

    pub fn len(&self) -> usize {
        self.sets().len()
    }

    pub fn is_empty(&self) -> bool {
        self.sets().is_empty()
    }

    pub fn selected(&self) -> Option<&SetSummary> {
        self.sets().get(self.sel.sel)
    }

    /// Keeps the same set selected across reloads (a new import may add rows above it).
    pub fn set(&mut self, d: Result<DashboardData, String>, height: u16) {
        let keep = self.selected().and_then(|s| s.set.as_ref()).map(|s| s.id);
        let mut d = d;
        if let Ok(data) = d.as_mut() {
            data.sets.sort_by(|a, b| {
                let k = |s: &SetSummary| s.set.as_ref().map(|r| (r.package.clone(), r.id));
                k(a).cmp(&k(b))
            });
        }
        self.data = Some(d);
        let idx = keep
            .and_then(|id| {
                self.sets()
                    .iter()
                    .position(|s| s.set.as_ref().is_some_and(|r| r.id == id))
            })
            .unwrap_or(self.sel.sel);
        let len = self.len();
        self.sel.select(idx, len, height);
    }

    /// Where the set rows are drawn (below the table header, above the two footer lines).
    pub fn rows_area(body: Rect) -> Rect {
        Rect {
            y: body.y + 1,
            height: body.height.saturating_sub(3),
            ..body
        }
    }

    /// Selects the set with this id, if listed.
    pub fn select_id(&mut self, id: i64, height: u16) {
        if let Some(i) = self
            .sets()
            .iter()
            .position(|s| s.set.as_ref().is_some_and(|r| r.id == id))
        {
            let len = self.len();
            self.sel.select(i, len, height);
        }
    }
}

pub fn update(app: &mut App, a: Action) {
    let h = Dashboard::rows_area(app.body()).height;
    let len = app.dashboard.len();
    if app.dashboard.sel.apply(a, len, h) {
        return;
    }
    match a {
        Action::Open => {
            if let Some(set) = app.dashboard.selected().and_then(|s| s.set.clone()) {
                let gen = app.next_gen();
                let (view, jobs) = SetView::open(&app.store, set, gen);
                app.push_jobs(jobs);
                app.screens.push(Screen::Set(Box::new(view)));
            }
        }
        Action::Diff => super::diff::open(app),
        Action::Export | Action::Verify => {
            if let Some(set) = app.dashboard.selected().and_then(|s| s.set.clone()) {
                if a == Action::Export {
                    let subject = set.image.clone().unwrap_or_else(|| set.source.clone());
                    let form = super::act::ActForm::export(&app.store, set.id, &subject);
                    app.act(form);
                } else {
                    app.push_jobs(vec![super::jobs::Job::Verify { set_id: set.id }]);
                    app.status = format!("re-verifying set {}…", set.id);
                }
            }
        }
        _ => {}
    }
}

pub fn draw(app: &App, f: &mut Frame<'_>, body: Rect) {
    let t = app.theme;
    let d = &app.dashboard;
    let [table_area, foot] =
        Layout::vertical([Constraint::Min(1), Constraint::Length(2)]).areas(body);
    match &d.data {
        None => {
            f.render_widget(Paragraph::new("loading the store…").style(t.dim()), body);
            return;
        }
        Some(Err(e)) => {
            f.render_widget(
                Paragraph::new(format!("cannot read the store: {}", line(e, 300))).style(t.bad()),
                body,
            );
            return;
        }
        Some(Ok(_)) if d.is_empty() => {
            let k = app.keymap.first_key(Action::Import);
            let msg = vec![
                Line::from("No evidence in this store yet."),
                Line::from(vec![
                    Span::raw("Press "),
                    Span::styled(k, t.key()),
                    Span::raw(" to import a directory, a .tar(.gz) archive or an OCI layout."),
                ]),
            ];
            f.render_widget(Paragraph::new(msg), body);
            return;
        }
        Some(Ok(_)) => {}
    }
    let header = Row::new([
        "ID",
        "PACKAGE",
        "IMAGE",
        "VERDICT",
        "SIG",
        "ATT",
        "DB",
        "CRIT/HIGH/MED/LOW",
        "FILES",
    ])
    .style(t.header());
    let h = usize::from(Dashboard::rows_area(body).height);
    // What the IMAGE column gets: the width less the fixed columns and their spacing.
    let image_w = usize::from(body.width).saturating_sub(3 + 12 + 11 + 3 + 3 + 4 + 17 + 5 + 8);
    let rows: Vec<Row> = d
        .sets()
        .iter()
        .enumerate()
        .skip(d.sel.top)
        .take(h)
        .map(|(i, s)| {
            let j = s
                .set
                .as_ref()
                .and_then(|r| app.judged.get(&r.id))
                .map(|j| &**j);
            let row = set_row(s, t, j, image_w);
            if i == d.sel.sel {
                row.style(t.selected())
            } else {
                row
            }
        })
        .collect();
    let widths = [
        Constraint::Length(3),
        Constraint::Max(12),
        Constraint::Fill(1),
        Constraint::Length(11),
        Constraint::Length(3),
        Constraint::Length(3),
        Constraint::Length(4),
        Constraint::Length(17),
        Constraint::Length(5),
    ];
    f.render_widget(
        Table::new(rows, widths).header(header).column_spacing(1),
        table_area,
    );
    let head = match &d.data {
        Some(Ok(data)) => data.audit_head.chars().take(16).collect::<String>(),
        _ => String::new(),
    };
    let sel_j = d
        .selected()
        .and_then(|s| s.set.as_ref())
        .and_then(|r| app.judged.get(&r.id));
    let first = match sel_j {
        Some(j) => {
            let c = |g: crate::analysis::gate::GateClass| {
                j.report
                    .counts
                    .by_gate
                    .get(g.as_str())
                    .copied()
                    .unwrap_or(0)
            };
            use crate::analysis::gate::GateClass as G;
            let reason = j
                .report
                .reasons
                .first()
                .map(|r| line(r, 200))
                .unwrap_or_default();
            Line::from(vec![
                Span::styled(format!("BLOCK {} ", c(G::Block)), t.bad()),
                Span::styled(format!("WARN {} ", c(G::Warn)), t.warn()),
                Span::raw(format!("INFO {}  {reason}", c(G::Info))),
            ])
        }
        None => Line::from(Span::styled("judging…", t.dim())),
    };
    let foot_lines = vec![
        first,
        Line::from(vec![
            Span::raw(format!("{} set(s)  audit head ", d.len())),
            Span::styled(format!("{head}…"), t.dim()),
        ]),
    ];
    f.render_widget(Paragraph::new(foot_lines), foot);
}

/// Keeps the end of an over-long image reference: the repository name and tag tell two
/// versions apart, the leading path does not.
fn keep_tail(s: &str, width: usize) -> String {
    let n = s.chars().count();
    if n <= width || width < 2 {
        return s.to_string();
    }
    let tail: String = s.chars().skip(n - (width - 1)).collect();
    format!("…{tail}")
}

fn set_row(
    s: &SetSummary,
    t: Theme,
    j: Option<&super::jobs::Judged>,
    image_w: usize,
) -> Row<'static> {
    let Some(r) = &s.set else {
        return Row::new(Vec::<String>::new());
    };
    let image = r
        .image
        .as_deref()
        .map(short_image)
        .unwrap_or_else(|| r.source.clone());
    let age = match s.db_age_days {
        Some(d) => format!("{d}d"),
        None if s.scanners.is_empty() => "-".into(),
        None => "?".into(),
    };
    let files = if s.failed_files > 0 {
        format!("{}!{}", s.files, s.failed_files)
    } else {
        s.files.to_string()
    };
    let c = |sev: Severity| Span::styled(s.counts[sev as usize].to_string(), t.severity(sev));
    let slash = || Span::styled("/", t.dim());
    let counts = Line::from(vec![
        c(Severity::Critical),
        slash(),
        c(Severity::High),
        slash(),
        c(Severity::Medium),
        slash(),
        c(Severity::Low),
    ]);
    Row::new(vec![
        Cell::from(r.id.to_string()),
        Cell::from(line(r.package.as_deref().unwrap_or("-"), 12)),
        Cell::from(keep_tail(&line(&image, 80), image_w)),
        Cell::from(match j {
            Some(j) => Span::styled(
                j.report.verdict.as_str(),
                t.verdict(j.report.verdict.as_str()),
            ),
            None => Span::styled("…", t.dim()),
        }),
        Cell::from(check_word(
            j,
            "image-signature",
            &[
                ("image-signature-verified", "yes"),
                ("image-unsigned", "no"),
                ("image-signature-invalid", "BAD"),
            ],
            t,
        )),
        Cell::from(check_word(
            j,
            "sbom-attested",
            &[("sbom-attested", "yes"), ("sbom-not-attested", "no")],
            t,
        )),
        Cell::from(age),
        Cell::from(counts),
        Cell::from(files),
    ])
}

/// The reference without its registry host, which is the same for every row and costs the
/// columns that tell versions apart.
pub fn short_image(image: &str) -> String {
    let image = match image.split_once('/') {
        Some((host, rest)) if host.contains('.') || host.contains(':') || host == "localhost" => {
            rest
        }
        _ => image,
    };
    // A by-digest reference keeps its name and 12 hex digits, as `docker images` shows it:
    // cutting from the left would leave only hex, and the name is what tells rows apart.
    match image.split_once("@sha256:") {
        Some((name, hex)) if hex.chars().count() > 12 => {
            let short: String = hex.chars().take(12).collect();
            format!("{name}@{short}")
        }
        _ => image.to_string(),
    }
}

/// A check's outcome as a short word (SIG, ATT columns); "-" before judging, "?" for any
/// other outcome of that check.
fn check_word(
    j: Option<&super::jobs::Judged>,
    check: &str,
    words: &[(&str, &'static str)],
    t: Theme,
) -> Span<'static> {
    let Some(j) = j else {
        return Span::styled("…", t.dim());
    };
    match j.check_code(check) {
        Some(code) => {
            let w = words
                .iter()
                .find(|(c, _)| *c == code)
                .map(|(_, w)| *w)
                .unwrap_or("?");
            let style = match w {
                "yes" => t.good(),
                "no" | "BAD" => t.bad(),
                _ => t.dim(),
            };
            Span::styled(w, style)
        }
        None => Span::styled("-", t.dim()),
    }
}

#[cfg(test)]
mod tests {
    use super::short_image;

    #[test]
    fn short_image_drops_the_host_and_shortens_digests() {
        assert_eq!(
            short_image("registry.example.mil/team/app:1.0"),
            "team/app:1.0"
        );
        assert_eq!(short_image("team/app:1.0"), "team/app:1.0");
        let digest = format!("reg.example/evil@sha256:{}", "ab".repeat(32));
        assert_eq!(short_image(&digest), "evil@abababababab");
        assert_eq!(short_image("localhost/x@sha256:abc"), "x@sha256:abc");
    }
}
