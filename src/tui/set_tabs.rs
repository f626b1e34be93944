//! The simple tabs of a set (Components, Evidence, Audit, and the file lists behind
//! Waivers and Signatures): a table plus two detail lines about the selected row.

use super::list::Sel;
use super::set_view::{table, SetView};
use super::theme::Theme;
use crate::sanitize::line;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Wrap};
use ratatui::Frame;

fn split(area: Rect) -> (Rect, Rect) {
    let [a, b] = Layout::vertical([Constraint::Min(1), Constraint::Length(2)]).areas(area);
    (a, b)
}

fn window<'a, T>(items: &'a [T], sel: &Sel, height: u16) -> impl Iterator<Item = (usize, &'a T)> {
    items
        .iter()
        .enumerate()
        .skip(sel.top)
        .take(usize::from(height))
}

fn mark<'a>(row: Row<'a>, i: usize, sel: &Sel, t: Theme) -> Row<'a> {
    if i == sel.sel {
        row.style(t.selected())
    } else {
        row
    }
}

fn tri(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "direct",
        Some(false) => "trans.",
        None => "?",
    }
}

pub fn components(v: &SetView, f: &mut Frame<'_>, area: Rect, t: Theme) {
    let (top, foot) = split(area);
    if v.components.is_empty() {
        f.render_widget(
            Paragraph::new("no components in this set").style(t.dim()),
            area,
        );
        return;
    }
    let h = top.height.saturating_sub(1);
    let rows: Vec<Row> = window(&v.components, &v.comp_sel, h)
        .map(|(i, c)| {
            let r = Row::new(vec![
                line(&c.name, 40),
                line(c.version.as_deref().unwrap_or("-"), 30),
                line(&c.kind, 10),
                tri(c.direct).to_string(),
                c.findings.to_string(),
                line(&c.licenses.join(","), 30),
            ]);
            mark(r, i, &v.comp_sel, t)
        })
        .collect();
    let w = [
        Constraint::Fill(2),
        Constraint::Fill(1),
        Constraint::Length(6),
        Constraint::Length(6),
        Constraint::Length(5),
        Constraint::Fill(1),
    ];
    f.render_widget(
        table(
            rows,
            &["NAME", "VERSION", "TYPE", "DEP", "VULNS", "LICENSES"],
            &w,
            t,
        ),
        top,
    );
    if let Some(c) = v.components.get(v.comp_sel.sel) {
        let src = match (c.in_sbom, c.in_scan) {
            (true, true) => "in SBOM and scan",
            (true, false) => "in SBOM only",
            (false, true) => "in scan only",
            (false, false) => "",
        };
        let lines = vec![
            Line::from(line(c.purl.as_deref().unwrap_or(&c.key), 200)),
            Line::from(Span::styled(
                format!("{src}; {} location(s); Enter for detail", c.locations.len()),
                t.dim(),
            )),
        ];
        f.render_widget(Paragraph::new(lines), foot);
    }
}

pub fn evidence(v: &SetView, f: &mut Frame<'_>, area: Rect, t: Theme) {
    let (top, foot) = split(area);
    if v.files.is_empty() {
        f.render_widget(
            Paragraph::new("no evidence files recorded for this set").style(t.dim()),
            area,
        );
        return;
    }
    let h = top.height.saturating_sub(1);
    let rows: Vec<Row> = window(&v.files, &v.file_sel, h)
        .map(|(i, e)| {
            let st = match e.status.as_str() {
                "parsed" => t.good(),
                "duplicate" => t.dim(),
                _ => t.bad(),
            };
            let r = Row::new(vec![
                Span::styled(line(&e.status, 14), st),
                Span::raw(line(e.format.as_deref().unwrap_or("-"), 24)),
                Span::raw(e.sha256.chars().take(12).collect::<String>()),
                Span::raw(line(&e.path, 80)),
            ]);
            mark(r, i, &v.file_sel, t)
        })
        .collect();
    let w = [
        Constraint::Length(12),
        Constraint::Length(16),
        Constraint::Length(12),
        Constraint::Fill(1),
    ];
    f.render_widget(
        table(rows, &["STATUS", "FORMAT", "SHA256", "FILE"], &w, t),
        top,
    );
    if let Some(e) = v.files.get(v.file_sel.sel) {
        let lines = vec![
            Line::from(Span::styled(
                format!("sha256:{}  {} bytes", line(&e.sha256, 72), e.size),
                t.dim(),
            )),
            Line::from(line(e.message.as_deref().unwrap_or("no message"), 300)),
        ];
        f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), foot);
    }
}

pub fn audit(v: &SetView, f: &mut Frame<'_>, area: Rect, t: Theme) {
    let (top, foot) = split(area);
    if v.audit.is_empty() {
        f.render_widget(
            Paragraph::new("no audit entries name this set").style(t.dim()),
            area,
        );
        return;
    }
    let h = top.height.saturating_sub(1);
    let rows: Vec<Row> = window(&v.audit, &v.audit_sel, h)
        .map(|(i, e)| {
            let r = Row::new(vec![
                e.seq.to_string(),
                line(&e.at, 20),
                line(&e.actor, 30),
                line(&e.action, 20),
                line(&e.target, 80),
            ]);
            mark(r, i, &v.audit_sel, t)
        })
        .collect();
    let w = [
        Constraint::Length(4),
        Constraint::Length(20),
        Constraint::Length(12),
        Constraint::Length(10),
        Constraint::Fill(1),
    ];
    f.render_widget(
        table(rows, &["SEQ", "AT", "ACTOR", "ACTION", "TARGET"], &w, t),
        top,
    );
    if let Some(e) = v.audit.get(v.audit_sel.sel) {
        let lines = vec![
            Line::from(Span::styled(
                format!(
                    "hash {}  prev {}",
                    &e.hash.chars().take(16).collect::<String>(),
                    &e.prev_hash.chars().take(16).collect::<String>()
                ),
                t.dim(),
            )),
            Line::from(line(&e.details.to_string(), 300)),
        ];
        f.render_widget(Paragraph::new(lines), foot);
    }
}

/// Files of one kind (waiver or signature material) with a plain statement of what this
/// build can and cannot say about them yet.
pub fn files_of_kind(
    v: &SetView,
    f: &mut Frame<'_>,
    area: Rect,
    t: Theme,
    pick: fn(&str) -> bool,
    note: &str,
) {
    let mut lines = vec![Line::from(Span::styled(note.to_string(), t.warn()))];
    let found: Vec<_> = v
        .files
        .iter()
        .filter(|e| e.format.as_deref().is_some_and(pick))
        .collect();
    if found.is_empty() {
        lines.push(Line::from(Span::styled(
            "(no such files in this set's evidence)",
            t.dim(),
        )));
    }
    for e in found {
        lines.push(Line::from(format!(
            "{:<10} {:<20} {}",
            line(&e.status, 10),
            line(e.format.as_deref().unwrap_or("-"), 20),
            line(&e.path, 100)
        )));
    }
    f.render_widget(Paragraph::new(lines), area);
}

/// The gate's verdict, its reasons, and every cross-check diagnostic with its level.
pub fn checks(j: Option<&super::jobs::Judged>, f: &mut Frame<'_>, area: Rect, t: Theme) {
    use crate::analysis::checks::Level;
    let Some(j) = j else { return };
    let r = &j.report;
    let mut lines = vec![Line::from(vec![
        Span::styled(r.verdict.as_str(), t.verdict(r.verdict.as_str())),
        Span::styled(
            format!(
                "  policy {} sha256 {}…",
                line(&r.policy_name, 30),
                &r.policy_sha256.chars().take(12).collect::<String>()
            ),
            t.dim(),
        ),
    ])];
    for reason in &r.reasons {
        lines.push(Line::from(format!("• {}", line(reason, 300))));
    }
    let mut diags: Vec<_> = r.diagnostics.iter().collect();
    diags.sort_by_key(|d| std::cmp::Reverse(d.level));
    for d in diags {
        let (label, style) = match d.level {
            Level::Fail => ("FAIL", t.bad()),
            Level::Warn => ("WARN", t.warn()),
            Level::Info => ("info", t.dim()),
            Level::Pass => ("pass", t.good()),
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{label:<5}"), style),
            Span::raw(format!("{:<28} ", line(d.code, 28))),
            Span::raw(line(&d.message, 300)),
        ]));
    }
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), area);
}

/// The set's waivers from the store: id, vulnerability, state, expiry, signer.
pub fn waivers(v: &SetView, f: &mut Frame<'_>, area: Rect, t: Theme) {
    if v.waivers.is_empty() {
        return files_of_kind(
            v,
            f,
            area,
            t,
            super::set_view::is_waiver_format,
            "No waivers recorded for this set (w on a finding drafts one). Waiver files in the evidence:",
        );
    }
    let (top, foot) = split(area);
    let h = top.height.saturating_sub(1);
    let rows: Vec<Row> = window(&v.waivers, &v.waiver_sel, h)
        .map(|(i, w)| {
            let d = &w.document;
            let signer = d
                .approved_by
                .as_ref()
                .map(|p| p.name.clone())
                .or_else(|| {
                    w.signer_keyid
                        .as_ref()
                        .map(|k| k.chars().take(16).collect())
                })
                .unwrap_or_else(|| "-".into());
            let r = Row::new(vec![
                line(&w.waiver_id, 14),
                line(&d.vulnerability, 24),
                w.state.to_string(),
                line(&d.expires, 10),
                line(&signer, 30),
            ]);
            mark(r, i, &v.waiver_sel, t)
        })
        .collect();
    let wd = [
        Constraint::Length(12),
        Constraint::Fill(2),
        Constraint::Length(8),
        Constraint::Length(10),
        Constraint::Fill(1),
    ];
    f.render_widget(
        table(
            rows,
            &["ID", "VULNERABILITY", "STATE", "EXPIRES", "SIGNER"],
            &wd,
            t,
        ),
        top,
    );
    if let Some(w) = v.waivers.get(v.waiver_sel.sel) {
        let d = &w.document;
        let scope = d
            .scope
            .purl
            .as_deref()
            .or(d.scope.image.as_deref())
            .or(d.scope.repository.as_deref())
            .unwrap_or("-");
        let mut second = format!(
            "{}: {}",
            d.justification.kind.as_str(),
            line(&d.justification.text, 200)
        );
        if let Some(r) = &w.state_reason {
            second = format!("reason: {}", line(r, 200));
        }
        let lines = vec![
            Line::from(format!("scope {}", line(scope, 200))),
            Line::from(Span::styled(second, t.dim())),
        ];
        f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), foot);
    }
}

/// The latest verification run's results: kind, outcome, tlog, key name, file.
pub fn signatures(v: &SetView, f: &mut Frame<'_>, area: Rect, t: Theme) {
    let Some(run) = &v.verification else { return };
    if run.results.is_empty() {
        let text = vec![
            Line::from(format!(
                "Verified {} by {}: no signatures or attestations in this set's evidence.",
                line(&run.run_at, 30),
                line(&run.actor, 40)
            )),
            Line::from(Span::styled("v verifies again", t.dim())),
        ];
        f.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), area);
        return;
    }
    let (top, foot) = split(area);
    let h = top.height.saturating_sub(1);
    let rows: Vec<Row> = window(&run.results, &v.sig_sel, h)
        .map(|(i, r)| {
            let row = Row::new(vec![
                line(&r.kind, 20),
                line(&r.outcome, 20),
                line(&r.tlog, 12),
                line(r.key_name.as_deref().unwrap_or("-"), 20),
                line(&r.file, 60),
            ]);
            mark(row, i, &v.sig_sel, t)
        })
        .collect();
    let wd = [
        Constraint::Fill(1),
        Constraint::Fill(1),
        Constraint::Length(10),
        Constraint::Fill(1),
        Constraint::Fill(2),
    ];
    f.render_widget(
        table(rows, &["KIND", "OUTCOME", "TLOG", "KEY", "FILE"], &wd, t),
        top,
    );
    if let Some(r) = run.results.get(v.sig_sel.sel) {
        let lines = vec![
            Line::from(line(&r.detail, 200)),
            Line::from(Span::styled(
                format!(
                    "verified {} by {}; v verifies again",
                    line(&run.run_at, 30),
                    line(&run.actor, 40)
                ),
                t.dim(),
            )),
        ];
        f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), foot);
    }
}
