//! The findings list: a window of at most `MAX_WINDOW` rows paged from SQLite around the
//! selection, so a million-finding set scrolls without holding it in memory. Filters and
//! sort changes reload around the selected finding, so the selection survives them.

use super::jobs::{parse_gate, Job, Judged, PageData, PageKind, PageRequest, MAX_WINDOW};
use super::theme::{sev_label, Theme};
use crate::analysis::gate::GateClass;
use crate::model::Severity;
use crate::sanitize::line;
use crate::store::{Cursor, FindingRow, ViewFilter, ViewSort};
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Table};
use ratatui::Frame;
use std::collections::{HashMap, VecDeque};

/// The effective dispositions the judge gives a finding (`undecided` = none applies), in
/// the order the disposition filter cycles through them.
pub const DISPOSITIONS: &[&str] = &[
    "undecided",
    "not_affected",
    "patched",
    "false_positive",
    "waived",
];

/// Rows from the window edge at which the next page is requested.
const PREFETCH: u64 = 40;

#[derive(Debug, Clone)]
pub struct FindingList {
    pub set_id: i64,
    pub text: String,
    pub hidden: [bool; 6],
    /// Only this gate class (from the set's last judgement); `None` = every class.
    pub gate: Option<GateClass>,
    /// Only this effective disposition; `None` = every disposition.
    pub disposition: Option<&'static str>,
    pub sort: ViewSort,
    pub rows: VecDeque<FindingRow>,
    /// (gate, disposition) from the judgement cache for rows in the window.
    pub marks: HashMap<i64, (GateClass, String)>,
    /// Absolute index of `rows[0]`.
    pub offset: u64,
    pub at_end: bool,
    pub selected: u64,
    pub top: u64,
    /// Per severity under the text filter; `None` while counting.
    pub counts: Option<[u64; 6]>,
    pub gen: u64,
    pub loading: bool,
    /// The filter waits for the set's finding index (built once per opened set).
    pub indexing: bool,
    pending_after: bool,
    pending_before: bool,
    jump_end: bool,
    pub error: Option<String>,
}

impl FindingList {
    pub fn new(set_id: i64) -> Self {
        Self {
            set_id,
            text: String::new(),
            hidden: [false; 6],
            gate: None,
            disposition: None,
            sort: ViewSort::Severity,
            rows: VecDeque::new(),
            marks: HashMap::new(),
            offset: 0,
            at_end: false,
            selected: 0,
            top: 0,
            counts: None,
            gen: 0,
            loading: false,
            indexing: false,
            pending_after: false,
            pending_before: false,
            jump_end: false,
            error: None,
        }
    }

    pub fn filter(&self) -> ViewFilter {
        let severities = if self.hidden.iter().any(|h| *h) {
            Severity::ALL
                .iter()
                .copied()
                .filter(|s| !self.hidden[*s as usize])
                .collect()
        } else {
            Vec::new()
        };
        ViewFilter {
            text: self.text.clone(),
            severities,
            gates: self
                .gate
                .map(|g| vec![g.as_str().to_string()])
                .unwrap_or_default(),
            dispositions: self
                .disposition
                .map(|d| vec![d.to_string()])
                .unwrap_or_default(),
        }
    }

    /// Every class, then BLOCK, WARN, INFO.
    pub fn cycle_gate(&mut self) {
        self.gate = match self.gate {
            None => Some(GateClass::Block),
            Some(GateClass::Block) => Some(GateClass::Warn),
            Some(GateClass::Warn) => Some(GateClass::Info),
            Some(GateClass::Info) => None,
        };
    }

    /// Every disposition, then each of `DISPOSITIONS` in turn.
    pub fn cycle_disposition(&mut self) {
        let i = self
            .disposition
            .and_then(|d| DISPOSITIONS.iter().position(|x| *x == d));
        self.disposition = match i {
            None => DISPOSITIONS.first().copied(),
            Some(i) => DISPOSITIONS.get(i + 1).copied(),
        };
    }

    /// True when any filter hides rows.
    pub fn filtered(&self) -> bool {
        !self.text.is_empty()
            || self.hidden.iter().any(|h| *h)
            || self.gate.is_some()
            || self.disposition.is_some()
    }

    pub fn clear_filters(&mut self) {
        self.text.clear();
        self.hidden = [false; 6];
        self.gate = None;
        self.disposition = None;
    }

    /// Rows matching every filter, once counted.
    pub fn total(&self) -> Option<u64> {
        self.counts.map(|c| {
            Severity::ALL
                .iter()
                .filter(|s| !self.hidden[**s as usize])
                .map(|s| c[*s as usize])
                .sum()
        })
    }

    pub fn selected_row(&self) -> Option<&FindingRow> {
        self.selected
            .checked_sub(self.offset)
            .and_then(|i| self.rows.get(usize::try_from(i).ok()?))
    }

    fn request(&self, kind: PageKind) -> Job {
        Job::Page(PageRequest {
            gen: self.gen,
            set_id: self.set_id,
            filter: self.filter(),
            sort: self.sort,
            kind,
        })
    }

    /// Starts a new generation: earlier page answers are ignored from here on.
    pub fn reload(&mut self, gen: u64, keep_selection: bool) -> Job {
        self.reload_with(gen, keep_selection, true)
    }

    /// A new order over the same selection: the severity counts stay (recounting a
    /// million rows is most of a re-sort's cost).
    pub fn resort(&mut self, gen: u64) -> Job {
        self.reload_with(gen, true, false)
    }

    fn reload_with(&mut self, gen: u64, keep_selection: bool, recount: bool) -> Job {
        let around = if keep_selection {
            self.selected_row().map(|r| r.id)
        } else {
            None
        };
        self.gen = gen;
        self.loading = true;
        if recount {
            self.counts = None;
        }
        self.pending_after = false;
        self.pending_before = false;
        self.jump_end = false;
        self.request(PageKind::Reload { around, recount })
    }

    fn last_loaded(&self) -> u64 {
        (self.offset + self.rows.len() as u64).saturating_sub(1)
    }

    /// Moves the selection by `delta` rows, returning a page request when the window edge
    /// comes near. `height` is the visible row count.
    pub fn move_by(&mut self, delta: i64, height: u16) -> Vec<Job> {
        if self.rows.is_empty() {
            return Vec::new();
        }
        let want = if delta < 0 {
            self.selected.saturating_sub(delta.unsigned_abs())
        } else {
            self.selected.saturating_add(delta.unsigned_abs())
        };
        self.selected = want.clamp(self.offset, self.last_loaded());
        self.scroll_into_view(height);
        self.prefetch()
    }

    fn prefetch(&mut self) -> Vec<Job> {
        let mut jobs = Vec::new();
        if !self.at_end && !self.pending_after && self.selected + PREFETCH >= self.last_loaded() {
            if let Some(last) = self.rows.back() {
                self.pending_after = true;
                jobs.push(self.request(PageKind::After(Cursor::from(last))));
            }
        }
        if self.offset > 0 && !self.pending_before && self.selected < self.offset + PREFETCH {
            if let Some(first) = self.rows.front() {
                self.pending_before = true;
                jobs.push(self.request(PageKind::Before(Cursor::from(first))));
            }
        }
        jobs
    }

    pub fn home(&mut self, gen: u64, height: u16) -> Vec<Job> {
        if self.offset == 0 {
            self.selected = 0;
            self.scroll_into_view(height);
            return self.prefetch();
        }
        vec![self.reload(gen, false)]
    }

    pub fn end(&mut self, height: u16) -> Vec<Job> {
        if self.at_end {
            self.selected = self.last_loaded();
            self.scroll_into_view(height);
            return self.prefetch();
        }
        self.jump_end = true;
        self.loading = true;
        vec![self.request(PageKind::Last)]
    }

    pub fn scroll_into_view(&mut self, height: u16) {
        let h = u64::from(height.max(1));
        if self.selected < self.top {
            self.top = self.selected;
        } else if self.selected >= self.top + h {
            self.top = self.selected + 1 - h;
        }
    }

    /// Applies a page answer; stale generations and answers to an edge that moved are dropped.
    pub fn on_page(
        &mut self,
        req: &PageRequest,
        result: Result<PageData, String>,
        height: u16,
    ) -> Vec<Job> {
        if req.gen != self.gen || req.set_id != self.set_id {
            return Vec::new();
        }
        let data = match result {
            Ok(d) => d,
            Err(e) => {
                self.error = Some(e);
                self.loading = false;
                return Vec::new();
            }
        };
        self.error = None;
        if matches!(req.kind, PageKind::Reload { .. } | PageKind::Last) {
            self.marks.clear();
        } else if self.marks.len() > 2 * MAX_WINDOW {
            let ids: std::collections::HashSet<i64> = self.rows.iter().map(|r| r.id).collect();
            self.marks.retain(|id, _| ids.contains(id));
        }
        self.marks.extend(
            data.marks
                .iter()
                .filter_map(|(id, g, d)| Some((*id, (parse_gate(g)?, d.clone())))),
        );
        match &req.kind {
            PageKind::Reload { .. } => {
                self.loading = false;
                self.indexing = data.indexing;
                self.rows = data.rows.into();
                self.offset = data.offset.unwrap_or(0);
                self.at_end = data.at_end;
                self.selected = data.selected.unwrap_or(self.offset);
                self.top = self
                    .selected
                    .saturating_sub(u64::from(height) / 2)
                    .max(self.offset);
            }
            PageKind::After(c) => {
                self.pending_after = false;
                if self.rows.back().map(Cursor::from).as_ref() != Some(c) {
                    return Vec::new();
                }
                self.at_end = data.at_end;
                self.rows.extend(data.rows);
                while self.rows.len() > MAX_WINDOW
                    && self.offset + 1 < self.selected.saturating_sub(PREFETCH)
                {
                    self.rows.pop_front();
                    self.offset += 1;
                }
            }
            PageKind::Before(c) => {
                self.pending_before = false;
                if self.rows.front().map(Cursor::from).as_ref() != Some(c) {
                    return Vec::new();
                }
                let n = data.rows.len() as u64;
                for r in data.rows.into_iter().rev() {
                    self.rows.push_front(r);
                }
                self.offset = self.offset.saturating_sub(n);
                while self.rows.len() > MAX_WINDOW
                    && self.last_loaded() > self.selected + PREFETCH + 1
                {
                    self.rows.pop_back();
                    self.at_end = false;
                }
            }
            PageKind::Last => {
                self.loading = false;
                let n = data.rows.len() as u64;
                self.rows = data.rows.into();
                self.at_end = true;
                self.pending_after = false;
                self.pending_before = false;
                // The index knows the position; without it (SQL paging) the count does,
                // and without a count yet the position is unknown until counting finishes.
                self.offset = data
                    .offset
                    .unwrap_or_else(|| self.total().map_or(0, |t| t.saturating_sub(n)));
                if self.jump_end {
                    self.selected = self.last_loaded();
                    self.jump_end = false;
                }
            }
        }
        self.selected = self
            .selected
            .clamp(self.offset, self.last_loaded().max(self.offset));
        self.scroll_into_view(height);
        self.prefetch()
    }

    pub fn on_counts(&mut self, gen: u64, result: Result<[u64; 6], String>) {
        if gen != self.gen {
            return;
        }
        match result {
            Ok(c) => self.counts = Some(c),
            Err(e) => self.error = Some(e),
        }
    }

    pub fn toggle(&mut self, s: Severity) {
        self.hidden[s as usize] = !self.hidden[s as usize];
    }

    pub fn draw(
        &self,
        f: &mut Frame<'_>,
        area: Rect,
        theme: Theme,
        editing: bool,
        judged: Option<&Judged>,
    ) {
        let [bar, table] =
            ratatui::layout::Layout::vertical([Constraint::Length(1), Constraint::Min(1)])
                .areas(area);
        f.render_widget(Paragraph::new(self.bar_line(theme, editing)), bar);
        let header = Row::new([
            "SEV",
            "GATE",
            "ID",
            "COMPONENT",
            "VERSION",
            "FIXED",
            "DECISION",
        ])
        .style(theme.header());
        let height = table.height.saturating_sub(1);
        let start = self.top.max(self.offset);
        let skip = usize::try_from(start - self.offset).unwrap_or(usize::MAX);
        let rows: Vec<Row> = self
            .rows
            .iter()
            .enumerate()
            .skip(skip)
            .take(usize::from(height))
            .map(|(i, r)| {
                let abs = self.offset + i as u64;
                let sev = if r.severity_disagrees {
                    format!("{}*", sev_label(r.severity))
                } else {
                    sev_label(r.severity).into()
                };
                let j = self.marks.get(&r.id).filter(|_| judged.is_some());
                let gate = match (judged, j) {
                    (None, _) => Span::styled("…", theme.dim()),
                    (Some(_), None) => Span::styled("-", theme.dim()),
                    (Some(_), Some((g, _))) => gate_span(*g, theme),
                };
                let decision = match j {
                    Some((_, d)) if d != "undecided" => d.clone(),
                    _ => "-".into(),
                };
                let row = Row::new(vec![
                    Span::styled(sev, theme.severity(r.severity)),
                    gate,
                    Span::raw(line(&r.vuln_id, 24)),
                    Span::raw(line(&r.name, 40)),
                    Span::raw(line(r.version.as_deref().unwrap_or("-"), 24)),
                    Span::raw(line(&fixed(r), 24)),
                    Span::raw(line(&decision, 14)),
                ]);
                if abs == self.selected {
                    row.style(theme.selected())
                } else {
                    row
                }
            })
            .collect();
        let empty = rows.is_empty();
        let widths = [
            Constraint::Length(5),
            Constraint::Length(5),
            Constraint::Length(18),
            Constraint::Fill(2),
            Constraint::Fill(1),
            Constraint::Fill(1),
            Constraint::Length(12),
        ];
        f.render_widget(
            Table::new(rows, widths).header(header).column_spacing(1),
            table,
        );
        if empty {
            let msg = if self.indexing {
                "indexing… (the filter applies when the set's index is ready)".to_string()
            } else if self.loading {
                "loading…".to_string()
            } else if let Some(e) = &self.error {
                format!("error: {}", line(e, 200))
            } else if !self.filtered() {
                "no findings in this set".to_string()
            } else {
                "no findings match the filters (c clears them)".to_string()
            };
            let r = Rect {
                y: table.y + 1,
                height: 1,
                ..table
            };
            f.render_widget(Paragraph::new(msg).style(theme.dim()), r);
        }
    }

    fn bar_line(&self, theme: Theme, editing: bool) -> Line<'static> {
        let mut spans: Vec<Span<'static>> = Vec::new();
        if editing || !self.text.is_empty() {
            spans.push(Span::styled("/", theme.key()));
            spans.push(Span::raw(line(&self.text, 30)));
            if editing {
                spans.push(Span::styled("▏", theme.key()));
            }
            spans.push(Span::raw(" "));
        }
        for s in [
            Severity::Critical,
            Severity::High,
            Severity::Medium,
            Severity::Low,
            Severity::Negligible,
            Severity::Unknown,
        ] {
            let n = self
                .counts
                .map(|c| c[s as usize].to_string())
                .unwrap_or_else(|| "…".into());
            if self.hidden[s as usize] {
                spans.push(Span::styled(
                    format!("-{}:{n} ", sev_label(s).to_ascii_lowercase()),
                    theme.dim(),
                ));
            } else {
                spans.push(Span::styled(
                    format!("{}:{n} ", sev_label(s)),
                    theme.severity(s),
                ));
            }
        }
        if self.gate.is_some() || self.disposition.is_some() {
            spans.push(Span::raw("["));
            if let Some(g) = self.gate {
                spans.push(gate_span(g, theme));
            }
            if let Some(d) = self.disposition {
                let sep = if self.gate.is_some() { " " } else { "" };
                spans.push(Span::styled(format!("{sep}{d}"), theme.key()));
            }
            spans.push(Span::raw("] "));
        }
        if self.indexing {
            spans.push(Span::styled("indexing… ", theme.dim()));
        }
        let pos = match self.total() {
            Some(0) => "0/0".to_string(),
            Some(t) => format!("{}/{}", self.selected + 1, t),
            None => format!("{}/…", self.selected + 1),
        };
        spans.push(Span::raw(format!("sort:{} {pos}", self.sort.label())));
        Line::from(spans)
    }
}

/// BLOCK / WARN / INFO as words, so the class reads without colour.
pub fn gate_span(g: GateClass, t: Theme) -> Span<'static> {
    match g {
        GateClass::Block => Span::styled("BLOCK", t.bad()),
        GateClass::Warn => Span::styled("WARN", t.warn()),
        GateClass::Info => Span::styled("INFO", t.dim()),
    }
}

fn fixed(r: &FindingRow) -> String {
    if r.fixed_versions.is_empty() {
        if r.fix_state == "unknown" || r.fix_state.is_empty() {
            "-".into()
        } else {
            // Short words: the column is eight wide at 80 columns and "not-fixed" was cut.
            match r.fix_state.as_str() {
                "not-fixed" => "no fix".into(),
                "wont-fix" => "wontfix".into(),
                other => other.to_string(),
            }
        }
    } else {
        r.fixed_versions.join(",")
    }
}
