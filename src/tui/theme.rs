//! Semantic styles (critical, waived, verified, focused, ...) and the classification
//! banner. With NO_COLOR every role falls back to bold/reverse/plain, which is why every
//! severity and state is also written as text.

use crate::model::Severity;
use ratatui::style::{Color, Modifier, Style};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Unclassified,
    Cui,
    Confidential,
    Secret,
    TopSecret,
    TopSecretSci,
}

impl Level {
    pub fn parse(s: &str) -> Option<Self> {
        match s
            .trim()
            .to_ascii_lowercase()
            .replace(['_', ' '], "-")
            .as_str()
        {
            "unclassified" | "u" => Some(Self::Unclassified),
            "cui" | "controlled" => Some(Self::Cui),
            "confidential" | "c" => Some(Self::Confidential),
            "secret" | "s" => Some(Self::Secret),
            "top-secret" | "ts" => Some(Self::TopSecret),
            "top-secret-sci" | "ts-sci" | "ts//sci" => Some(Self::TopSecretSci),
            _ => None,
        }
    }

    /// The level a banner text implies when the config gives only the text.
    pub fn from_text(text: &str) -> Self {
        let t = text.to_ascii_uppercase();
        if t.contains("SCI") {
            Self::TopSecretSci
        } else if t.starts_with("TOP SECRET") {
            Self::TopSecret
        } else if t.starts_with("SECRET") {
            Self::Secret
        } else if t.starts_with("CONFIDENTIAL") {
            Self::Confidential
        } else if t.starts_with("CUI") || t.starts_with("CONTROLLED") {
            Self::Cui
        } else {
            Self::Unclassified
        }
    }

    /// The customary banner colours (background, foreground).
    fn colors(self) -> (Color, Color) {
        match self {
            Self::Unclassified => (Color::Rgb(0, 122, 51), Color::White),
            Self::Cui => (Color::Rgb(80, 43, 133), Color::White),
            Self::Confidential => (Color::Rgb(0, 51, 160), Color::White),
            Self::Secret => (Color::Rgb(200, 16, 46), Color::White),
            Self::TopSecret => (Color::Rgb(255, 140, 0), Color::Black),
            Self::TopSecretSci => (Color::Rgb(252, 232, 58), Color::Black),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Banner {
    pub text: String,
    pub level: Level,
}

impl Default for Banner {
    fn default() -> Self {
        Self {
            text: "UNCLASSIFIED//FOR DEMO".into(),
            level: Level::Unclassified,
        }
    }
}

impl Banner {
    /// Reads `[banner] text = "...", level = "cui"` from the user config file text.
    pub fn from_config(text: &str) -> Result<Self, String> {
        let v: toml::Table = toml::from_str(text).map_err(|e| e.to_string())?;
        let Some(b) = v.get("banner").and_then(|b| b.as_table()) else {
            return Ok(Self::default());
        };
        let text = b.get("text").and_then(|t| t.as_str()).map(str::to_string);
        let level = match b.get("level").and_then(|l| l.as_str()) {
            Some(l) => Some(
                Level::parse(l).ok_or_else(|| format!("[banner] level: unknown level '{l}'"))?,
            ),
            None => None,
        };
        Ok(match (text, level) {
            (Some(t), Some(l)) => Self { text: t, level: l },
            (Some(t), None) => Self {
                level: Level::from_text(&t),
                text: t,
            },
            (None, Some(l)) => Self {
                text: format!("{l:?}").to_ascii_uppercase(),
                level: l,
            },
            (None, None) => Self::default(),
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    /// Colour unless NO_COLOR is set to anything non-empty (https://no-color.org).
    pub fn from_env() -> Self {
        Self {
            color: std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        }
    }

    fn fg(self, c: Color) -> Style {
        if self.color {
            Style::new().fg(c)
        } else {
            Style::new()
        }
    }

    pub fn banner(self, b: &Banner) -> Style {
        let (bg, fg) = b.level.colors();
        if self.color {
            Style::new().bg(bg).fg(fg).add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED)
        }
    }

    pub fn severity(self, s: Severity) -> Style {
        match s {
            Severity::Critical => self.fg(Color::LightRed).add_modifier(Modifier::BOLD),
            Severity::High => self.fg(Color::Red),
            Severity::Medium => self.fg(Color::Yellow),
            Severity::Low => self.fg(Color::Blue),
            Severity::Negligible | Severity::Unknown => self.fg(Color::Gray),
        }
    }

    pub fn verdict(self, v: &str) -> Style {
        match v {
            "PASS" => self.fg(Color::Green).add_modifier(Modifier::BOLD),
            "CONDITIONAL" => self.fg(Color::Yellow).add_modifier(Modifier::BOLD),
            "FAIL" => self.fg(Color::Red).add_modifier(Modifier::BOLD),
            _ => self.dim(),
        }
    }

    pub fn good(self) -> Style {
        self.fg(Color::Green)
    }

    pub fn bad(self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }

    pub fn warn(self) -> Style {
        self.fg(Color::Yellow)
    }

    pub fn dim(self) -> Style {
        if self.color {
            Style::new().fg(Color::DarkGray)
        } else {
            Style::new()
        }
    }

    pub fn title(self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    pub fn header(self) -> Style {
        Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
    }

    /// The selected row: reverse video reads without colour too.
    pub fn selected(self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }

    pub fn key(self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }
}

/// Four-letter severity labels, so a column of them lines up and reads without colour.
pub fn sev_label(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "CRIT",
        Severity::High => "HIGH",
        Severity::Medium => "MED",
        Severity::Low => "LOW",
        Severity::Negligible => "NEGL",
        Severity::Unknown => "UNKN",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn banner_config_reads_text_and_level() {
        let b = Banner::from_config("[banner]\ntext = \"CUI//SP-PRVCY\"\n").unwrap();
        assert_eq!(b.level, Level::Cui);
        let b = Banner::from_config("[banner]\ntext = \"X\"\nlevel = \"secret\"\n").unwrap();
        assert_eq!((b.text.as_str(), b.level), ("X", Level::Secret));
        assert_eq!(Banner::from_config("").unwrap(), Banner::default());
        assert!(Banner::from_config("[banner]\nlevel = \"pink\"\n")
            .unwrap_err()
            .contains("pink"));
        let plain = Theme { color: false };
        assert_eq!(plain.severity(Severity::Critical).fg, None);
    }
}
