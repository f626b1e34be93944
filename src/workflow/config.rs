//! The user's config file (`config.toml` in the platform config dir, or `DOSSIER_CONFIG`):
//! the reviewer's name, role and signing key. Identity is not cosmetic, so a broken file
//! is an error naming its line; a missing file is simply an empty config.

use super::Actor;
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct UserConfig {
    #[serde(default)]
    pub reviewer: ReviewerConfig,
    /// Other areas' tables (tui theme, banner, ...) are theirs to read.
    #[serde(flatten)]
    pub other: std::collections::BTreeMap<String, toml::Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewerConfig {
    pub name: Option<String>,
    pub role: Option<String>,
    /// Private key file (cosign format or PKCS#8 PEM); `<key>.pub` or `<stem>.pub` beside it
    /// gives the fingerprint without needing the passphrase.
    pub key: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config {path}: {message}")]
    Invalid { path: String, message: String },
    #[error("config {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

/// `DOSSIER_CONFIG`, else `<platform config dir>/config.toml`.
pub fn config_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("DOSSIER_CONFIG").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    directories::ProjectDirs::from("mil", "dossier", "dossier")
        .map(|d| d.config_dir().join("config.toml"))
}

/// Where `keys import` copies keys: `<config dir>/keys`.
pub fn key_dir() -> Option<PathBuf> {
    config_path().and_then(|p| p.parent().map(|d| d.join("keys")))
}

pub fn load() -> Result<UserConfig, ConfigError> {
    match config_path() {
        Some(p) => load_from(&p),
        None => Ok(UserConfig::default()),
    }
}

pub fn load_from(path: &Path) -> Result<UserConfig, ConfigError> {
    let shown = path.display().to_string();
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(UserConfig::default()),
        Err(source) => {
            return Err(ConfigError::Io {
                path: shown,
                source,
            })
        }
    };
    parse(&shown, &text)
}

pub fn parse(shown: &str, text: &str) -> Result<UserConfig, ConfigError> {
    toml::from_str(text).map_err(|e| {
        let line = e.span().map(|s| {
            text.as_bytes()[..s.start.min(text.len())]
                .iter()
                .filter(|b| **b == b'\n')
                .count()
                + 1
        });
        let message = match line {
            Some(l) => format!("line {l}: {}", e.message()),
            None => e.message().to_string(),
        };
        ConfigError::Invalid {
            path: shown.to_string(),
            message,
        }
    })
}

/// Command-line values that win over the config file.
#[derive(Debug, Clone, Default)]
pub struct IdentityOverrides {
    pub name: Option<String>,
    pub role: Option<String>,
}

/// The acting reviewer: flags, then config, then `DOSSIER_ACTOR` / the login name.
pub fn actor(cfg: &UserConfig, o: &IdentityOverrides) -> Actor {
    let base = Actor::from_env();
    let pick = |flag: &Option<String>, conf: &Option<String>| {
        flag.clone()
            .or_else(|| conf.clone())
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    };
    Actor {
        name: pick(&o.name, &cfg.reviewer.name).unwrap_or(base.name),
        role: pick(&o.role, &cfg.reviewer.role),
        key_fingerprint: cfg
            .reviewer
            .key
            .as_deref()
            .and_then(public_fingerprint_beside),
    }
}

/// Fingerprint from the public key next to a private key (`x.key` -> `x.pub` or `x.key.pub`).
pub fn public_fingerprint_beside(key: &Path) -> Option<String> {
    let candidates = [
        key.with_extension("pub"),
        PathBuf::from(format!("{}.pub", key.display())),
    ];
    candidates.iter().find_map(|p| {
        let text = std::fs::read_to_string(p).ok()?;
        crate::crypto::PublicKey::from_pem(&text)
            .ok()
            .map(|k| k.fingerprint())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_reviewer_and_keeps_other_tables() {
        let c = parse(
            "c.toml",
            "[reviewer]\nname = \"R. Roe\"\nrole = \"ISSM\"\n\n[tui]\nbanner = \"CUI\"\n",
        )
        .unwrap();
        assert_eq!(c.reviewer.name.as_deref(), Some("R. Roe"));
        assert_eq!(c.reviewer.role.as_deref(), Some("ISSM"));
        assert!(c.other.contains_key("tui"));
        let a = actor(
            &c,
            &IdentityOverrides {
                name: None,
                role: Some("AO".into()),
            },
        );
        assert_eq!(a.name, "R. Roe");
        assert_eq!(a.role.as_deref(), Some("AO"));
    }

    #[test]
    fn broken_config_names_line_and_key() {
        let e = parse("c.toml", "[reviewer]\nname = \"x\"\nrloe = \"typo\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("c.toml") && e.contains("line 3") && e.contains("rloe"),
            "{e}"
        );
    }

    #[test]
    fn missing_file_is_empty_config() {
        let d = tempfile::tempdir().unwrap();
        assert_eq!(
            load_from(&d.path().join("none.toml")).unwrap(),
            UserConfig::default()
        );
    }
}
