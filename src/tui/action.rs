//! Every user intent the workstation understands. Each action has a snake_case name (the
//! keymap file's vocabulary) and a one-line description (the help screen's text), so
//! keys are data and help can never drift from what the keys do.

macro_rules! actions {
    ($( $(#[doc = $doc:literal])+ $variant:ident = $name:literal, $group:literal; )+) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Action {
            $( $(#[doc = $doc])+ $variant, )+
        }

        impl Action {
            pub const ALL: &'static [Action] = &[$(Action::$variant),+];

            /// The keymap file's name for this action.
            pub fn name(self) -> &'static str {
                match self { $(Action::$variant => $name),+ }
            }

            /// One line for the help screen.
            pub fn describe(self) -> &'static str {
                match self { $(Action::$variant => concat!($($doc),+).trim_ascii()),+ }
            }

            /// Help screen section.
            pub fn group(self) -> &'static str {
                match self { $(Action::$variant => $group),+ }
            }

            pub fn from_name(s: &str) -> Option<Action> {
                match s { $($name => Some(Action::$variant),)+ _ => None }
            }
        }
    };
}

actions! {
    /// Quit dossier
    Quit = "quit", "move";
    /// Show or hide this help
    Help = "help", "move";
    /// Go back / close
    Back = "back", "move";
    /// Open the selected item
    Open = "open", "move";
    /// Move up
    Up = "up", "move";
    /// Move down
    Down = "down", "move";
    /// Page up
    PageUp = "page_up", "move";
    /// Page down
    PageDown = "page_down", "move";
    /// Jump to the first row
    Top = "top", "move";
    /// Jump to the last row
    Bottom = "bottom", "move";
    /// Next tab
    NextTab = "next_tab", "move";
    /// Previous tab
    PrevTab = "prev_tab", "move";
    /// Filter the list by text (incremental)
    Filter = "filter", "list";
    /// Cycle the sort column
    CycleSort = "cycle_sort", "list";
    /// Show or hide CRITICAL findings
    ToggleCritical = "toggle_critical", "list";
    /// Show or hide HIGH findings
    ToggleHigh = "toggle_high", "list";
    /// Show or hide MEDIUM findings
    ToggleMedium = "toggle_medium", "list";
    /// Show or hide LOW findings
    ToggleLow = "toggle_low", "list";
    /// Show or hide NEGLIGIBLE findings
    ToggleNegligible = "toggle_negligible", "list";
    /// Show or hide UNKNOWN-severity findings
    ToggleUnknown = "toggle_unknown", "list";
    /// Cycle the gate class filter (BLOCK / WARN / INFO)
    CycleGateFilter = "cycle_gate_filter", "list";
    /// Cycle the disposition filter
    CycleDispositionFilter = "cycle_disposition_filter", "list";
    /// Clear every filter
    ClearFilters = "clear_filters", "list";
    /// Import evidence (path prompt, Tab completes)
    Import = "import", "work";
    /// Set the selected finding's disposition
    Disposition = "disposition", "work";
    /// Create a waiver from the selected finding
    NewWaiver = "new_waiver", "work";
    /// Sign the selected waiver
    SignWaiver = "sign_waiver", "work";
    /// Approve the selected pending waiver
    ApproveWaiver = "approve_waiver", "work";
    /// Reject the selected pending waiver
    RejectWaiver = "reject_waiver", "work";
    /// Revoke the selected signed waiver
    RevokeWaiver = "revoke_waiver", "work";
    /// Re-verify the set's signatures
    Verify = "verify_set", "work";
    /// Export the package
    Export = "export", "work";
    /// Compare with another set of the same repository
    Diff = "diff", "work";
    /// Reload everything from the store
    Refresh = "refresh", "work";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_snake_case() {
        for a in Action::ALL {
            assert_eq!(Action::from_name(a.name()), Some(*a));
            assert!(a
                .name()
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '_' || c.is_ascii_digit()));
            assert!(!a.describe().is_empty());
        }
        assert_eq!(Action::Quit.describe(), "Quit dossier");
    }
}
