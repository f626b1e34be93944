//! Keys are data: the embedded `assets/keymap.toml` plus an optional user file that
//! replaces the keys of the actions it lists. A broken user file is cosmetic config, so it
//! falls back to the defaults and the problem is shown in the status line.

use super::action::Action;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::collections::{BTreeMap, HashMap};

const DEFAULT: &str = include_str!("../../assets/keymap.toml");

/// A key with its modifiers, normalised so `G` and `shift-g` are the same key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    code: KeyCode,
    ctrl: bool,
    alt: bool,
}

impl Key {
    pub fn from_event(e: &KeyEvent) -> Self {
        Self {
            code: e.code,
            ctrl: e.modifiers.contains(KeyModifiers::CONTROL),
            alt: e.modifiers.contains(KeyModifiers::ALT),
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        let mut ctrl = false;
        let mut alt = false;
        let mut rest = s;
        loop {
            if let Some(r) = rest.strip_prefix("ctrl-") {
                ctrl = true;
                rest = r;
            } else if let Some(r) = rest.strip_prefix("alt-") {
                alt = true;
                rest = r;
            } else {
                break;
            }
        }
        let code = match rest {
            "enter" => KeyCode::Enter,
            "esc" => KeyCode::Esc,
            "tab" => KeyCode::Tab,
            "backtab" => KeyCode::BackTab,
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "pgup" => KeyCode::PageUp,
            "pgdn" => KeyCode::PageDown,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "space" => KeyCode::Char(' '),
            "backspace" => KeyCode::Backspace,
            "delete" => KeyCode::Delete,
            f if f.len() > 1 && f.starts_with('f') => KeyCode::F(f[1..].parse().ok()?),
            c => {
                let mut it = c.chars();
                let ch = it.next()?;
                if it.next().is_some() {
                    return None;
                }
                KeyCode::Char(ch)
            }
        };
        Some(Self { code, ctrl, alt })
    }
}

#[derive(Debug, Clone)]
pub struct Keymap {
    by_key: HashMap<Key, Action>,
    /// The key names per action, as written in the files, for help and hints.
    names: BTreeMap<Action, Vec<String>>,
}

#[derive(Debug, serde::Deserialize)]
struct File {
    #[serde(default)]
    keys: BTreeMap<String, Vec<String>>,
}

impl Keymap {
    /// The embedded defaults.
    pub fn default_map() -> Self {
        let mut km = Self {
            by_key: HashMap::new(),
            names: BTreeMap::new(),
        };
        // The embedded file is ours and tested; a parse failure leaves an empty map that the
        // unit test below catches.
        if let Ok(f) = toml::from_str::<File>(DEFAULT) {
            let _ = km.apply(&f);
        }
        km
    }

    /// Defaults patched by the user's file text. Errors name the file and the bad entry.
    pub fn with_user(text: &str, origin: &str) -> Result<Self, String> {
        let mut km = Self::default_map();
        let f: File = toml::from_str(text).map_err(|e| format!("{origin}: {e}"))?;
        km.apply(&f).map_err(|e| format!("{origin}: {e}"))?;
        Ok(km)
    }

    /// Loads `DOSSIER_KEYMAP` or `<config dir>/keymap.toml` when present. Returns the map and
    /// a warning to show when the user file could not be used.
    pub fn load() -> (Self, Option<String>) {
        let path = std::env::var_os("DOSSIER_KEYMAP")
            .map(std::path::PathBuf::from)
            .or_else(|| {
                directories::ProjectDirs::from("mil", "dossier", "dossier")
                    .map(|d| d.config_dir().join("keymap.toml"))
            });
        let Some(path) = path.filter(|p| p.is_file()) else {
            return (Self::default_map(), None);
        };
        match std::fs::read_to_string(&path) {
            Ok(t) => match Self::with_user(&t, &path.display().to_string()) {
                Ok(km) => (km, None),
                Err(e) => (Self::default_map(), Some(format!("keymap ignored: {e}"))),
            },
            Err(e) => (
                Self::default_map(),
                Some(format!("keymap ignored: {}: {e}", path.display())),
            ),
        }
    }

    fn apply(&mut self, f: &File) -> Result<(), String> {
        for (name, keys) in &f.keys {
            let action = Action::from_name(name)
                .ok_or_else(|| format!("unknown action '{name}' in [keys]"))?;
            let mut parsed = Vec::new();
            for k in keys {
                parsed.push(
                    Key::parse(k)
                        .ok_or_else(|| format!("action '{name}': cannot read key '{k}'"))?,
                );
            }
            self.by_key.retain(|_, a| *a != action);
            for k in parsed {
                self.by_key.insert(k, action);
            }
            self.names.insert(action, keys.clone());
        }
        Ok(())
    }

    pub fn action(&self, e: &KeyEvent) -> Option<Action> {
        // Shift is not part of the key: terminals disagree on reporting it with capitals.
        self.by_key.get(&Key::from_event(e)).copied()
    }

    /// The keys bound to `a`, as "k/up".
    pub fn keys_of(&self, a: Action) -> String {
        self.names.get(&a).map(|v| v.join("/")).unwrap_or_default()
    }

    /// The first key bound to `a`, for compact hints.
    pub fn first_key(&self, a: Action) -> String {
        self.names
            .get(&a)
            .and_then(|v| v.first().cloned())
            .unwrap_or_else(|| "-".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_has_a_default_key_and_the_user_file_patches() {
        let km = Keymap::default_map();
        for a in Action::ALL {
            assert!(
                !km.keys_of(*a).is_empty(),
                "{} has no default key",
                a.name()
            );
        }
        let q = KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE);
        assert_eq!(km.action(&q), Some(Action::Quit));
        let user = Keymap::with_user("[keys]\nquit = [\"ctrl-q\"]\n", "test.toml").unwrap();
        assert_eq!(user.action(&q), None);
        let cq = KeyEvent::new(KeyCode::Char('q'), KeyModifiers::CONTROL);
        assert_eq!(user.action(&cq), Some(Action::Quit));
        assert_eq!(
            user.action(&KeyEvent::new(KeyCode::Char('j'), KeyModifiers::NONE)),
            Some(Action::Down)
        );
        let bad = Keymap::with_user("[keys]\nfly = [\"x\"]\n", "k.toml").unwrap_err();
        assert!(bad.contains("k.toml") && bad.contains("fly"), "{bad}");
        let big_g = KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT);
        assert_eq!(km.action(&big_g), Some(Action::Bottom));
    }
}
