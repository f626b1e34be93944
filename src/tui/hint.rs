//! The status line's text: the latest message, else the keys that matter on the screen on
//! top, named from the keymap so a remapped key shows as remapped.

use super::action::Action;
use super::app::{App, Input, Screen};

impl App {
    /// The status line when no message is showing: the keys that matter on this screen,
    /// taken from the keymap.
    pub fn hint(&self) -> String {
        let k = |a| self.keymap.first_key(a);
        let pairs: Vec<(Action, &str)> = match (self.input, self.top()) {
            (Input::Filter, _) => {
                return "type to filter by id, alias or package; enter keeps it, esc clears".into()
            }
            (Input::Path, _) => {
                return "type a path; tab completes, enter imports, esc cancels".into()
            }
            (Input::Form, _) if self.act.is_some() => {
                return "type; enter/tab next field, shift-tab back, esc cancel".into()
            }
            (Input::Form, _) => return "j/k choose, enter next, esc cancel".into(),
            (_, Screen::Dashboard) => vec![
                (Action::Help, "help"),
                (Action::Open, "open"),
                (Action::Import, "import"),
                (Action::Diff, "diff"),
                (Action::Export, "export"),
                (Action::Quit, "quit"),
            ],
            (_, Screen::Set(v)) if v.tab == super::set_view::Tab::Findings => vec![
                (Action::Filter, "filter"),
                (Action::CycleSort, "sort"),
                (Action::ToggleCritical, "..6 severity"),
                (Action::Open, "detail"),
                (Action::Disposition, "decide"),
                (Action::NextTab, "tab"),
                (Action::Back, "back"),
            ],
            (_, Screen::Set(v)) if v.tab == super::set_view::Tab::Waivers => vec![
                (Action::SignWaiver, "sign"),
                (Action::RejectWaiver, "reject"),
                (Action::RevokeWaiver, "revoke"),
                (Action::NextTab, "tab"),
                (Action::Back, "back"),
            ],
            (_, Screen::Set(_)) => vec![
                (Action::Help, "help"),
                (Action::Verify, "verify"),
                (Action::Export, "export"),
                (Action::Open, "open"),
                (Action::NextTab, "tab"),
                (Action::Back, "back"),
            ],
            (_, Screen::Finding(_)) => vec![
                (Action::Down, "scroll"),
                (Action::Disposition, "disposition"),
                (Action::NewWaiver, "waiver"),
                (Action::Back, "back"),
            ],
            (_, Screen::Import(_)) => vec![
                (Action::Down, "scroll"),
                (Action::Back, "back to the dashboard"),
            ],
            (_, _) => vec![
                (Action::Help, "help"),
                (Action::Open, "open"),
                (Action::Back, "back"),
            ],
        };
        pairs
            .iter()
            .map(|(a, l)| {
                if l.starts_with("..") {
                    format!("{}{l}", k(*a))
                } else {
                    format!("{} {l}", k(*a))
                }
            })
            .collect::<Vec<_>>()
            .join("  ")
    }

    /// What the status line shows: the latest message, else the hint.
    pub fn status_line(&self) -> String {
        if self.status.is_empty() {
            self.hint()
        } else {
            self.status.clone()
        }
    }
}
