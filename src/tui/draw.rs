//! The frame: classification banner on top, the current screen, the status line, and the
//! help overlay. A read-only function of `App`.

use super::app::{App, Screen};
use crate::sanitize::line;
use ratatui::layout::{Alignment, Rect};
use ratatui::text::Span;
use ratatui::widgets::Paragraph;
use ratatui::Frame;

pub fn draw(app: &App, f: &mut Frame<'_>) {
    let area = f.area();
    if area.height < 3 || area.width < 20 {
        f.render_widget(Paragraph::new("window too small"), area);
        return;
    }
    let banner = Rect { height: 1, ..area };
    f.render_widget(
        Paragraph::new(line(&app.banner.text, usize::from(area.width)))
            .alignment(Alignment::Center)
            .style(app.theme.banner(&app.banner)),
        banner,
    );
    let body = Rect {
        y: area.y + 1,
        height: area.height - 2,
        ..area
    };
    match app.top() {
        Screen::Dashboard => super::dashboard::draw(app, f, body),
        Screen::Set(v) => v.draw(app, f, body),
        Screen::Finding(v) => v.draw(app, f, body),
        Screen::Component(v) => v.draw(app, f, body),
        Screen::Import(v) => v.draw(app, f, body),
        Screen::Diff(v) => v.draw(app, f, body),
    }
    let status = Rect {
        y: area.y + area.height - 1,
        height: 1,
        ..area
    };
    f.render_widget(
        Paragraph::new(Span::styled(
            line(&app.status_line(), usize::from(area.width)),
            app.theme.dim(),
        )),
        status,
    );
    if let Some(form) = &app.form {
        form.draw(f, area, app.theme);
    }
    if let Some(act) = &app.act {
        act.draw(f, area, app.theme);
    }
    if let Some(sel) = &app.help {
        super::help::draw(app, f, area, sel.top);
    }
}
