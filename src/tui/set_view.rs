//! One evidence set, as tabs: Findings (paged), Components, Waivers, Signatures, Checks,
//! Evidence (files with format, sha256 and parse status) and Audit.

use super::action::Action;
use super::app::{App, Input, Screen};
use super::findings::FindingList;
use super::jobs::Job;
use super::list::{clicked_row, Sel};
use crate::model::waiver::WaiverState;
use crate::model::Severity;
use crate::sanitize::line;
use crate::store::audit::AuditEntry;
use crate::store::review::WaiverRow;
use crate::store::verify::VerificationRun;
use crate::store::{ComponentRow, EvidenceFileRow, SetRow, Store};
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Table, Wrap};
use ratatui::Frame;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Findings,
    Components,
    Waivers,
    Signatures,
    Checks,
    Evidence,
    Audit,
}

impl Tab {
    pub const ALL: [Tab; 7] = [
        Tab::Findings,
        Tab::Components,
        Tab::Waivers,
        Tab::Signatures,
        Tab::Checks,
        Tab::Evidence,
        Tab::Audit,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Tab::Findings => "Findings",
            Tab::Components => "Components",
            Tab::Waivers => "Waivers",
            Tab::Signatures => "Signatures",
            Tab::Checks => "Checks",
            Tab::Evidence => "Evidence",
            Tab::Audit => "Audit",
        }
    }

    fn index(self) -> usize {
        Self::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }
}

pub struct SetView {
    pub set: SetRow,
    pub tab: Tab,
    pub findings: FindingList,
    pub components: Vec<ComponentRow>,
    pub comp_sel: Sel,
    pub files: Vec<EvidenceFileRow>,
    pub file_sel: Sel,
    pub audit: Vec<AuditEntry>,
    pub audit_sel: Sel,
    pub waivers: Vec<WaiverRow>,
    pub waiver_sel: Sel,
    /// The latest signature verification run, if the set was ever verified.
    pub verification: Option<VerificationRun>,
    pub sig_sel: Sel,
    pub error: Option<String>,
    jobs: Vec<Job>,
}

/// Formats whose files carry signatures or attestations (shown on the Signatures tab).
fn is_signature_format(f: &str) -> bool {
    [
        "cosign",
        "dsse",
        "sigstore",
        "signature",
        "in-toto",
        "intoto",
        "attestation",
    ]
    .iter()
    .any(|k| f.contains(k))
}

pub fn is_waiver_format(f: &str) -> bool {
    [
        "waiver",
        "trivyignore",
        "grype-ignore",
        "grype-config",
        "harbor",
    ]
    .iter()
    .any(|k| f.contains(k))
}

impl SetView {
    pub fn open(store: &Store, set: SetRow, gen: u64) -> (Self, Vec<Job>) {
        let mut v = Self {
            findings: FindingList::new(set.id),
            set,
            tab: Tab::Findings,
            components: Vec::new(),
            comp_sel: Sel::default(),
            files: Vec::new(),
            file_sel: Sel::default(),
            audit: Vec::new(),
            audit_sel: Sel::default(),
            waivers: Vec::new(),
            waiver_sel: Sel::default(),
            verification: None,
            sig_sel: Sel::default(),
            error: None,
            jobs: Vec::new(),
        };
        v.reload_tables(store);
        let job = v.findings.reload(gen, false);
        (v, vec![job])
    }

    /// Components, files and audit entries are small enough to read on the UI thread.
    pub fn reload_tables(&mut self, store: &Store) {
        let r = (|| -> crate::store::Result<()> {
            self.set = store.set(self.set.id)?;
            self.components = store.components(self.set.id)?;
            self.files = store.set_files(self.set.id)?;
            self.waivers = store.waivers(self.set.id)?;
            self.verification = store.verification_results(self.set.id)?;
            let needle = self
                .set
                .digest
                .clone()
                .unwrap_or_else(|| self.set.source.clone());
            self.audit = store
                .audit_entries()?
                .into_iter()
                .filter(|e| e.target.contains(&needle) || e.details.to_string().contains(&needle))
                .collect();
            Ok(())
        })();
        self.error = r.err().map(|e| e.to_string());
    }

    /// Where a tab's rows are drawn: below title, tabs and (findings) the filter bar and
    /// header; other tabs keep two detail lines at the bottom.
    pub fn rows_area(body: Rect, tab: Tab) -> Rect {
        match tab {
            Tab::Findings => Rect {
                y: body.y + 4,
                height: body.height.saturating_sub(4),
                ..body
            },
            _ => Rect {
                y: body.y + 3,
                height: body.height.saturating_sub(5),
                ..body
            },
        }
    }

    pub fn findings_jobs(&mut self) -> Vec<Job> {
        std::mem::take(&mut self.jobs)
    }

    fn table_sel(&mut self) -> Option<(&mut Sel, usize)> {
        match self.tab {
            Tab::Components => Some((&mut self.comp_sel, self.components.len())),
            Tab::Evidence => Some((&mut self.file_sel, self.files.len())),
            Tab::Audit => Some((&mut self.audit_sel, self.audit.len())),
            Tab::Waivers => Some((&mut self.waiver_sel, self.waivers.len())),
            Tab::Signatures => Some((
                &mut self.sig_sel,
                self.verification.as_ref().map_or(0, |r| r.results.len()),
            )),
            _ => None,
        }
    }

    pub fn update(&mut self, app: &mut App, a: Action) {
        let body = app.body();
        let h = Self::rows_area(body, self.tab).height;
        match a {
            Action::Back => {
                app.pop_requested = true;
                let dh = super::dashboard::Dashboard::rows_area(body).height;
                app.dashboard.select_id(self.set.id, dh);
                return;
            }
            Action::NextTab => {
                self.tab = Tab::ALL[(self.tab.index() + 1) % Tab::ALL.len()];
                return;
            }
            Action::PrevTab => {
                self.tab = Tab::ALL[(self.tab.index() + Tab::ALL.len() - 1) % Tab::ALL.len()];
                return;
            }
            Action::Verify => {
                app.push_jobs(vec![Job::Verify {
                    set_id: self.set.id,
                }]);
                app.status = format!("re-verifying set {}…", self.set.id);
                return;
            }
            Action::Export => {
                let subject = self
                    .set
                    .image
                    .clone()
                    .unwrap_or_else(|| self.set.source.clone());
                let form = super::act::ActForm::export(&app.store, self.set.id, &subject);
                return app.act(form);
            }
            Action::Diff => return super::diff::open_for(app, self.set.clone()),
            _ => {}
        }
        if self.tab == Tab::Findings {
            return self.findings_update(app, a, h);
        }
        if let Some((sel, len)) = self.table_sel() {
            if sel.apply(a, len, h) {
                return;
            }
        }
        match (self.tab, a) {
            (Tab::Components, Action::Open) => {
                if let Some(c) = self.components.get(self.comp_sel.sel).cloned() {
                    let v = super::component::ComponentDetail::open(&app.store, &self.set, c);
                    app.screens.push(Screen::Component(Box::new(v)));
                }
            }
            (
                Tab::Waivers,
                Action::ApproveWaiver
                | Action::RejectWaiver
                | Action::SignWaiver
                | Action::RevokeWaiver,
            ) => self.waiver_action(app, a),
            _ => {}
        }
    }

    /// Opens the sign / reject / revoke form on the selected waiver when its state allows.
    fn waiver_action(&mut self, app: &mut App, a: Action) {
        use super::act::{ActForm, ActKind};
        let Some(w) = self.waivers.get(self.waiver_sel.sel) else {
            app.status = "no waiver selected (press w on a finding to draft one)".into();
            return;
        };
        let (kind, needs) = match a {
            Action::RejectWaiver => (ActKind::Reject, WaiverState::Pending),
            Action::RevokeWaiver => (ActKind::Revoke, WaiverState::Signed),
            _ => (ActKind::Sign, WaiverState::Pending),
        };
        if w.state != needs {
            app.status = format!(
                "waiver {} is {}; only a {} waiver can be {}",
                line(&w.waiver_id, 30),
                w.state,
                needs,
                match kind {
                    ActKind::Reject => "rejected",
                    ActKind::Revoke => "revoked",
                    _ => "signed",
                }
            );
            return;
        }
        let subject = w.document.vulnerability.clone();
        let form = ActForm::waiver(kind, &app.store, self.set.id, &w.waiver_id, &subject);
        app.act(form);
    }

    fn findings_update(&mut self, app: &mut App, a: Action, h: u16) {
        let list = &mut self.findings;
        let jobs = match a {
            Action::Up => list.move_by(-1, h),
            Action::Down => list.move_by(1, h),
            Action::PageUp => list.move_by(-i64::from(h), h),
            Action::PageDown => list.move_by(i64::from(h), h),
            Action::Top => list.home(app.next_gen(), h),
            Action::Bottom => list.end(h),
            Action::Filter => {
                app.input = Input::Filter;
                Vec::new()
            }
            Action::CycleSort => {
                list.sort = list.sort.next();
                vec![list.resort(app.next_gen())]
            }
            Action::ToggleCritical
            | Action::ToggleHigh
            | Action::ToggleMedium
            | Action::ToggleLow
            | Action::ToggleNegligible
            | Action::ToggleUnknown => {
                let s = match a {
                    Action::ToggleCritical => Severity::Critical,
                    Action::ToggleHigh => Severity::High,
                    Action::ToggleMedium => Severity::Medium,
                    Action::ToggleLow => Severity::Low,
                    Action::ToggleNegligible => Severity::Negligible,
                    _ => Severity::Unknown,
                };
                list.toggle(s);
                vec![list.reload(app.next_gen(), true)]
            }
            Action::ClearFilters => {
                list.clear_filters();
                vec![list.reload(app.next_gen(), true)]
            }
            Action::CycleGateFilter => {
                list.cycle_gate();
                vec![list.reload(app.next_gen(), true)]
            }
            Action::CycleDispositionFilter => {
                list.cycle_disposition();
                vec![list.reload(app.next_gen(), true)]
            }
            Action::Open => {
                if let Some(r) = list.selected_row().cloned() {
                    let v = super::detail::FindingDetail::open(&app.store, &self.set, r);
                    app.screens.push(Screen::Finding(Box::new(v)));
                }
                Vec::new()
            }
            Action::Disposition | Action::NewWaiver => {
                if let Some(r) = list.selected_row().cloned() {
                    let kind = if a == Action::Disposition {
                        super::decide::Kind::Disposition
                    } else {
                        super::decide::Kind::Waiver
                    };
                    app.decide(kind, r);
                }
                Vec::new()
            }
            _ => Vec::new(),
        };
        app.push_jobs(jobs);
    }

    /// A click: on the tab line switches tab; on a row selects it. Returns `Some(open)` when
    /// handled, `open` when the row was already selected (click again to open).
    pub fn click(&mut self, x: u16, y: u16, body: Rect) -> Option<bool> {
        if y == body.y + 1 {
            let mut cx = body.x;
            for t in Tab::ALL {
                let w = tab_label(t).chars().count() as u16;
                if x >= cx && x < cx + w {
                    self.tab = t;
                    return Some(false);
                }
                cx += w + 1;
            }
            return None;
        }
        let area = Self::rows_area(body, self.tab);
        if self.tab == Tab::Findings {
            let top = usize::try_from(self.findings.top).unwrap_or(0);
            let i = clicked_row(y, area.y, area.height, top)? as u64;
            let again = i == self.findings.selected;
            let delta = i as i64 - self.findings.selected as i64;
            self.jobs = self.findings.move_by(delta, area.height);
            return Some(again && self.findings.selected == i);
        }
        let (sel, len) = self.table_sel()?;
        let i = clicked_row(y, area.y, area.height, sel.top)?;
        if i >= len {
            return None;
        }
        let again = i == sel.sel;
        sel.select(i, len, area.height);
        Some(again)
    }

    pub fn draw(&self, app: &App, f: &mut Frame<'_>, body: Rect) {
        let t = app.theme;
        let s = &self.set;
        let verdict = app.judged.get(&s.id).map(|j| j.report.verdict.as_str());
        // The verdict must stay on screen at 80 columns: the image gives way to it.
        let fixed = format!("set {} ", s.id).len() + 2 + 19 + 2 + verdict.map_or(8, str::len);
        let room = usize::from(body.width).saturating_sub(fixed).clamp(8, 50);
        let title = Line::from(vec![
            Span::styled(format!("set {} ", s.id), t.title()),
            Span::raw(line(s.image.as_deref().unwrap_or(&s.source), room)),
            Span::raw("  "),
            Span::styled(
                s.digest
                    .as_deref()
                    .map(|d| d.chars().take(19).collect::<String>())
                    .unwrap_or_default(),
                t.dim(),
            ),
            Span::raw("  "),
            match app.judged.get(&s.id) {
                Some(j) => Span::styled(
                    j.report.verdict.as_str(),
                    t.verdict(j.report.verdict.as_str()),
                ),
                None => Span::styled("judging…", t.dim()),
            },
        ]);
        f.render_widget(Paragraph::new(title), Rect { height: 1, ..body });
        let mut tabs: Vec<Span> = Vec::new();
        for tab in Tab::ALL {
            let style = if tab == self.tab {
                t.selected()
            } else {
                ratatui::style::Style::new()
            };
            tabs.push(Span::styled(tab_label(tab), style));
            tabs.push(Span::raw(" "));
        }
        f.render_widget(
            Paragraph::new(Line::from(tabs)),
            Rect {
                y: body.y + 1,
                height: 1,
                ..body
            },
        );
        let content = Rect {
            y: body.y + 2,
            height: body.height.saturating_sub(2),
            ..body
        };
        if let Some(e) = &self.error {
            f.render_widget(
                Paragraph::new(format!("error: {}", line(e, 300))).style(t.bad()),
                content,
            );
            return;
        }
        match self.tab {
            Tab::Findings => self.findings.draw(
                f,
                content,
                t,
                app.input == Input::Filter,
                app.judged.get(&s.id).map(|j| &**j),
            ),
            Tab::Components => super::set_tabs::components(self, f, content, t),
            Tab::Evidence => super::set_tabs::evidence(self, f, content, t),
            Tab::Audit => super::set_tabs::audit(self, f, content, t),
            Tab::Waivers => super::set_tabs::waivers(self, f, content, t),
            Tab::Signatures if self.verification.is_some() => {
                super::set_tabs::signatures(self, f, content, t)
            }
            Tab::Signatures => super::set_tabs::files_of_kind(
                self,
                f,
                content,
                t,
                is_signature_format,
                "Not verified yet: press v to verify the signatures; files found:",
            ),
            Tab::Checks if app.judged.contains_key(&s.id) => {
                super::set_tabs::checks(app.judged.get(&s.id).map(|j| &**j), f, content, t)
            }
            Tab::Checks => {
                let failed = self
                    .files
                    .iter()
                    .filter(|f| f.status != "parsed" && f.status != "duplicate")
                    .count();
                let text = vec![
                    Line::from("The gate is judging this set…"),
                    Line::from(format!(
                        "Evidence files: {} ({} not parsed; see the Evidence tab).",
                        self.files.len(),
                        failed
                    )),
                ];
                f.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), content);
            }
        }
    }
}

pub fn tab_label(t: Tab) -> String {
    format!("{}:{}", t.index() + 1, t.title())
}

/// Table helper shared by the simple tabs.
pub fn table<'a>(
    rows: Vec<Row<'a>>,
    header: &'a [&'a str],
    widths: &[Constraint],
    t: super::theme::Theme,
) -> Table<'a> {
    Table::new(rows, widths.to_vec())
        .header(Row::new(header.to_vec()).style(t.header()))
        .column_spacing(1)
}
