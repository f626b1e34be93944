//! Finding detail: description, CVSS vectors, EPSS, KEV, fix, the dependency path from the
//! image, and each scanner's view side by side. Gate, VEX, waiver and history sections say
//! plainly when their engines are not in this build.

use super::action::Action;
use super::app::App;
use super::theme::{sev_label, Theme};
use crate::sanitize::{clean, line};
use crate::store::{FindingRow, SetRow, SourceRow, Store};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;
use std::collections::{HashMap, VecDeque};

/// Reads one field of a scanner's view for the side-by-side table.
type Getter = Box<dyn Fn(&SourceRow) -> String>;

pub struct FindingDetail {
    pub set: SetRow,
    pub row: FindingRow,
    pub sources: Vec<SourceRow>,
    /// Component keys from the image (`@subject`) to this finding's component.
    pub path: Option<Vec<String>>,
    pub scroll: u16,
    pub history: Vec<crate::store::review::DispositionRow>,
    pub error: Option<String>,
    /// This finding's judgement, read once per set judgement (keyed by the `Judged`
    /// it came from) instead of a store read on every redraw.
    judgement: JudgementCache,
}

type JudgementCache = std::cell::RefCell<
    Option<(
        std::sync::Arc<super::jobs::Judged>,
        Option<crate::workflow::judge::FindingJudgement>,
    )>,
>;

/// Shortest path from `@subject` to `target` over `from -> to` edges.
pub fn dependency_path(edges: &[(String, String)], target: &str) -> Option<Vec<String>> {
    let mut adj: HashMap<&str, Vec<&str>> = HashMap::new();
    for (a, b) in edges {
        adj.entry(a.as_str()).or_default().push(b.as_str());
    }
    let mut prev: HashMap<&str, &str> = HashMap::new();
    let mut queue: VecDeque<&str> = VecDeque::from(["@subject"]);
    while let Some(n) = queue.pop_front() {
        if n == target {
            let mut path = vec![n.to_string()];
            let mut cur = n;
            while let Some(p) = prev.get(cur) {
                path.push((*p).to_string());
                cur = p;
            }
            path.reverse();
            return Some(path);
        }
        for m in adj.get(n).map(Vec::as_slice).unwrap_or_default() {
            if *m != "@subject" && !prev.contains_key(m) {
                prev.insert(m, n);
                queue.push_back(m);
            }
        }
    }
    None
}

impl FindingDetail {
    pub fn open(store: &Store, set: &SetRow, row: FindingRow) -> Self {
        let mut error = None;
        let sources = store.finding_sources(row.id).unwrap_or_else(|e| {
            error = Some(e.to_string());
            Vec::new()
        });
        let path = match store.dependencies(set.id) {
            Ok(edges) => dependency_path(&edges, &row.component_key),
            Err(e) => {
                error = Some(e.to_string());
                None
            }
        };
        let mut d = Self {
            set: set.clone(),
            row,
            sources,
            path,
            scroll: 0,
            history: Vec::new(),
            error,
            judgement: std::cell::RefCell::new(None),
        };
        d.reload(store);
        d
    }

    /// Re-reads the decision history (after a disposition is recorded).
    pub fn reload(&mut self, store: &Store) {
        match store.disposition_history(self.set.id, &self.row.vuln_id, &self.row.component_key) {
            Ok(h) => self.history = h,
            Err(e) => self.error = Some(e.to_string()),
        }
    }

    pub fn update(&mut self, app: &mut App, a: Action) {
        let page = app.body().height.saturating_sub(2);
        match a {
            Action::Back => app.pop_requested = true,
            Action::Up => self.scroll = self.scroll.saturating_sub(1),
            Action::Down => self.scroll = self.scroll.saturating_add(1),
            Action::PageUp => self.scroll = self.scroll.saturating_sub(page),
            Action::PageDown => self.scroll = self.scroll.saturating_add(page),
            Action::Top => self.scroll = 0,
            Action::Bottom => self.scroll = u16::MAX,
            Action::Disposition => app.decide(super::decide::Kind::Disposition, self.row.clone()),
            Action::NewWaiver => app.decide(super::decide::Kind::Waiver, self.row.clone()),
            _ => {}
        }
    }

    pub fn lines(
        &self,
        t: Theme,
        width: u16,
        j: Option<&crate::workflow::judge::FindingJudgement>,
    ) -> Vec<Line<'static>> {
        let r = &self.row;
        let mut out: Vec<Line<'static>> = Vec::new();
        let head = |s: &str| Line::from(Span::styled(s.to_string(), t.title()));
        let mut first = vec![
            Span::styled(
                format!("{} ", sev_label(r.severity)),
                t.severity(r.severity),
            ),
            Span::styled(line(&r.vuln_id, 40), t.title()),
            Span::raw(format!(
                " on {} {}",
                line(&r.name, 40),
                line(r.version.as_deref().unwrap_or(""), 30)
            )),
        ];
        if r.severity_disagrees {
            first.push(Span::styled(" (scanners disagree on severity)", t.warn()));
        }
        out.push(Line::from(first));
        if !r.aliases.is_empty() {
            out.push(Line::from(format!(
                "aliases: {}",
                line(&r.aliases.join(", "), 200)
            )));
        }
        if let Some(title) = &r.title {
            out.push(Line::from(line(title, 300)));
        }
        match j {
            Some(j) => {
                out.push(Line::from(vec![
                    Span::raw("gate "),
                    super::findings::gate_span(j.gate, t),
                    Span::raw(format!(": {}", line(&j.reason, 300))),
                ]));
                if let Some(d) = &j.disposition {
                    out.push(Line::from(format!("decision: {}", line(d, 40))));
                }
            }
            None => out.push(Line::from(Span::styled("gate: judging…", t.dim()))),
        }
        out.push(Line::from(""));
        out.push(head("Description"));
        out.push(Line::from(clean(
            r.description
                .as_deref()
                .unwrap_or("(no description in the evidence)"),
            false,
        )));
        out.push(Line::from(""));
        out.push(head("Scores"));
        let v = |o: &Option<String>| {
            o.as_deref()
                .map(|s| line(s, 120))
                .unwrap_or_else(|| "-".into())
        };
        out.push(Line::from(format!("CVSS v2  {}", v(&r.cvss_v2_vector))));
        let v3score = r
            .cvss_v3_score
            .map(|s| format!("  base {s:.1}"))
            .unwrap_or_default();
        out.push(Line::from(format!(
            "CVSS v3  {}{v3score}",
            v(&r.cvss_v3_vector)
        )));
        out.push(Line::from(format!("CVSS v4  {}", v(&r.cvss_v4_vector))));
        for (label, vec) in [
            ("v2", &r.cvss_v2_vector),
            ("v3", &r.cvss_v3_vector),
            ("v4", &r.cvss_v4_vector),
        ] {
            let Some(v) = vec.as_deref() else { continue };
            let text = match crate::analysis::cvss::exploitability(v) {
                Ok(e) => match (e.native, e.scaled) {
                    (Some(n), Some(s)) if label == "v3" => format!("{n:.1} (on 0-10: {s:.1})"),
                    (Some(n), _) => format!("{n:.1}"),
                    _ => "not computable".into(),
                },
                Err(e) => format!("unreadable: {}", line(&e.message, 80)),
            };
            out.push(Line::from(format!(
                "  {label} exploitability sub-score {text}"
            )));
        }
        let epss = match (r.epss, &r.epss_date) {
            (Some(e), d) => format!(
                "EPSS     {e:.4}{}{}",
                r.epss_percentile
                    .map(|p| format!(" (percentile {p:.2})"))
                    .unwrap_or_default(),
                d.as_deref()
                    .map(|d| format!(" as of {}", line(d, 20)))
                    .unwrap_or_else(|| " (no date)".into())
            ),
            (None, _) => "EPSS     no EPSS data".into(),
        };
        out.push(Line::from(epss));
        out.push(Line::from(match r.kev {
            Some(true) => Span::styled("KEV      YES: listed in CISA KEV", t.bad()),
            Some(false) => Span::raw("KEV      not listed"),
            None => Span::raw("KEV      no KEV data"),
        }));
        let fix = if r.fixed_versions.is_empty() {
            format!("none known ({})", line(&r.fix_state, 30))
        } else {
            line(&r.fixed_versions.join(", "), 200)
        };
        out.push(Line::from(format!("Fixed in {fix}")));
        out.push(Line::from(""));
        out.push(head("Component"));
        out.push(Line::from(line(
            r.purl.as_deref().unwrap_or(&r.component_key),
            300,
        )));
        out.push(Line::from(match r.direct {
            Some(true) => "direct dependency of the image",
            Some(false) => "transitive dependency",
            None => "direct or transitive: unknown (the SBOM graph does not say)",
        }));
        for l in r.locations.iter().take(5) {
            out.push(Line::from(format!(
                "  {} ({})",
                line(l.path.as_deref().unwrap_or("-"), 100),
                line(&l.file, 60)
            )));
        }
        out.push(Line::from("Dependency path from the image:"));
        match &self.path {
            Some(p) => {
                let names: Vec<String> = p
                    .iter()
                    .map(|k| {
                        if k == "@subject" {
                            "image".into()
                        } else {
                            line(k, 80)
                        }
                    })
                    .collect();
                out.push(Line::from(format!("  {}", names.join(" → "))));
            }
            None => out.push(Line::from(Span::styled(
                "  no path in the evidence's dependency graph",
                t.dim(),
            ))),
        }
        out.push(Line::from(""));
        out.push(head("What each scanner said"));
        out.extend(self.side_by_side(t, width));
        out.push(Line::from(""));
        out.push(head("VEX and waiver"));
        match j.and_then(|j| j.vex.as_ref()) {
            Some(v) => out.push(Line::from(format!(
                "VEX {}{} ({}){}",
                line(&v.status, 30),
                v.justification
                    .as_deref()
                    .map(|x| format!(" / {}", line(x, 60)))
                    .unwrap_or_default(),
                line(&v.file, 60),
                if v.counts {
                    ""
                } else {
                    " - does not count (no justification)"
                }
            ))),
            None => out.push(Line::from(Span::styled(
                "no VEX statement applies",
                t.dim(),
            ))),
        }
        match j.and_then(|j| j.waiver.as_ref()) {
            Some(w) => out.push(Line::from(format!(
                "waiver {} {}{} {}: {}",
                line(&w.id, 30),
                line(&w.standing, 20),
                w.expires
                    .as_deref()
                    .map(|e| format!(" until {}", line(e, 20)))
                    .unwrap_or_default(),
                if w.applies {
                    "applies"
                } else {
                    "does not apply"
                },
                line(&w.detail, 200)
            ))),
            None => out.push(Line::from(Span::styled(
                "no waiver covers this finding",
                t.dim(),
            ))),
        }
        out.push(Line::from(""));
        out.push(head("Decision history"));
        if self.history.is_empty() {
            out.push(Line::from(Span::styled("no decisions recorded", t.dim())));
        }
        for h in &self.history {
            out.push(Line::from(format!(
                "{} {} {}{} by {}{}",
                line(&h.at, 25),
                h.state,
                h.justification.map(|j| format!("/{j}")).unwrap_or_default(),
                h.note
                    .as_deref()
                    .map(|n| format!(" \"{}\"", line(n, 100)))
                    .unwrap_or_default(),
                line(&h.actor, 40),
                h.key_fingerprint
                    .as_deref()
                    .map(|k| format!(" [{}]", line(&k.chars().take(16).collect::<String>(), 16)))
                    .unwrap_or_default()
            )));
        }
        if let Some(e) = &self.error {
            out.push(Line::from(Span::styled(
                format!("error: {}", line(e, 200)),
                t.bad(),
            )));
        }
        out
    }

    fn side_by_side(&self, t: Theme, width: u16) -> Vec<Line<'static>> {
        if self.sources.is_empty() {
            return vec![Line::from(Span::styled(
                "no scanner views recorded",
                t.dim(),
            ))];
        }
        let label_w = 10usize;
        let n = self.sources.len().min(3);
        let col = (usize::from(width).saturating_sub(label_w) / n).max(12) - 1;
        let cell = |s: String| format!("{:<col$} ", line(&s, col));
        let rows: Vec<(&str, Getter)> = vec![
            (
                "scanner",
                Box::new(|s: &SourceRow| {
                    format!(
                        "{} {}",
                        s.scanner,
                        s.view.scanner_version.clone().unwrap_or_default()
                    )
                }),
            ),
            ("file", Box::new(|s: &SourceRow| s.file.clone())),
            (
                "severity",
                Box::new(|s: &SourceRow| {
                    let src = s
                        .view
                        .severity_source
                        .clone()
                        .map(|x| format!(" ({x})"))
                        .unwrap_or_default();
                    format!("{}{src}", s.view.severity)
                }),
            ),
            (
                "cvss",
                Box::new(|s: &SourceRow| {
                    s.view
                        .cvss
                        .iter()
                        .map(|c| {
                            format!(
                                "{} {}",
                                c.source,
                                c.base_score.map(|b| format!("{b:.1}")).unwrap_or_default()
                            )
                        })
                        .collect::<Vec<_>>()
                        .join(", ")
                }),
            ),
            (
                "fixed",
                Box::new(|s: &SourceRow| {
                    if s.view.fixed_versions.is_empty() {
                        s.view.fix_state.clone()
                    } else {
                        s.view.fixed_versions.join(",")
                    }
                }),
            ),
            (
                "status",
                Box::new(|s: &SourceRow| s.view.status.clone().unwrap_or_else(|| "-".into())),
            ),
            (
                "source",
                Box::new(|s: &SourceRow| {
                    s.view
                        .data_source
                        .clone()
                        .or(s.view.namespace.clone())
                        .unwrap_or_else(|| "-".into())
                }),
            ),
            (
                "epss",
                Box::new(|s: &SourceRow| {
                    s.view
                        .epss
                        .as_ref()
                        .map(|e| format!("{:.4}", e.score))
                        .unwrap_or_else(|| "no EPSS data".into())
                }),
            ),
            (
                "ignored",
                Box::new(|s: &SourceRow| s.view.ignored_by.clone().unwrap_or_else(|| "-".into())),
            ),
        ];
        rows.iter()
            .map(|(label, get)| {
                let mut spans = vec![Span::styled(format!("{label:<label_w$}"), t.dim())];
                for s in self.sources.iter().take(n) {
                    spans.push(Span::raw(cell(get(s))));
                }
                Line::from(spans)
            })
            .collect()
    }

    pub fn draw(&self, app: &App, f: &mut Frame<'_>, body: Rect) {
        let j = app.judged.get(&self.set.id).and_then(|judged| {
            let mut cache = self.judgement.borrow_mut();
            match &*cache {
                Some((k, j)) if std::sync::Arc::ptr_eq(k, judged) => j.clone(),
                _ => {
                    let j = judged.finding(&app.store, &self.row);
                    *cache = Some((judged.clone(), j.clone()));
                    j
                }
            }
        });
        let lines = self.lines(app.theme, body.width, j.as_ref());
        // Wrapped height, estimated per line (word wrapping may add a few rows more).
        let w = usize::from(body.width.max(1));
        let total: usize = lines.iter().map(|l| l.width().div_ceil(w).max(1)).sum();
        let total = u16::try_from(total).unwrap_or(u16::MAX);
        let p = Paragraph::new(lines).wrap(Wrap { trim: false });
        let scroll = self.scroll.min(total.saturating_sub(body.height));
        f.render_widget(p.scroll((scroll, 0)), body);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_is_the_shortest_route_from_the_image() {
        let e = |a: &str, b: &str| (a.to_string(), b.to_string());
        let edges = vec![
            e("@subject", "a"),
            e("a", "b"),
            e("b", "c"),
            e("@subject", "b"),
            e("c", "a"),
        ];
        assert_eq!(
            dependency_path(&edges, "c"),
            Some(vec!["@subject".into(), "b".into(), "c".into()])
        );
        assert_eq!(dependency_path(&edges, "zz"), None);
    }
}
