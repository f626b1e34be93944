//! The help overlay, generated from the keymap so it always shows the keys in force.

use super::action::Action;
use super::app::App;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

pub fn lines(app: &App) -> Vec<Line<'static>> {
    let t = app.theme;
    let mut out = Vec::new();
    for (group, title) in [
        ("move", "Moving"),
        ("list", "Working the list"),
        ("work", "Evidence and decisions"),
    ] {
        out.push(Line::from(Span::styled(title, t.title())));
        for a in Action::ALL.iter().filter(|a| a.group() == group) {
            out.push(Line::from(vec![
                Span::styled(format!("  {:<20}", app.keymap.keys_of(*a)), t.key()),
                Span::raw(a.describe()),
            ]));
        }
    }
    out.push(Line::from(Span::styled(
        "Mouse: wheel scrolls, click selects, click again opens.",
        t.dim(),
    )));
    out
}

pub fn draw(app: &App, f: &mut Frame<'_>, area: Rect, top: usize) {
    let w = area.width.saturating_sub(4).min(72);
    let h = area.height.saturating_sub(2);
    let r = Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + 1,
        width: w,
        height: h,
    };
    f.render_widget(Clear, r);
    let block = Block::default()
        .borders(Borders::ALL)
        .title(" help (Esc closes, j/k scroll) ");
    let lines: Vec<Line> = lines(app).into_iter().skip(top).collect();
    f.render_widget(Paragraph::new(lines).block(block), r);
}
