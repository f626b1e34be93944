//! Who is acting: the reviewer's name and role (from the user config or flags) and, when a
//! key is used, its fingerprint. Recorded in every audit entry.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub name: String,
    pub role: Option<String>,
    pub key_fingerprint: Option<String>,
}

impl Actor {
    /// `DOSSIER_ACTOR`, else the login name; the review work adds the config file.
    pub fn from_env() -> Self {
        let name = std::env::var("DOSSIER_ACTOR")
            .or_else(|_| std::env::var("USER"))
            .or_else(|_| std::env::var("USERNAME"))
            .unwrap_or_else(|_| "unknown".into());
        Self {
            name,
            role: None,
            key_fingerprint: None,
        }
    }

    /// The reviewer from the user config file (`[reviewer]`), falling back to `from_env`
    /// for what it does not say. A broken config file is an error, not a silent fallback.
    pub fn reviewer() -> Result<Self, super::config::ConfigError> {
        let cfg = super::config::load()?;
        Ok(super::config::actor(
            &cfg,
            &super::config::IdentityOverrides::default(),
        ))
    }

    /// The audit log's actor string: `name (role) [key fingerprint]`.
    pub fn label(&self) -> String {
        let mut s = self.name.clone();
        if let Some(r) = &self.role {
            s.push_str(&format!(" ({r})"));
        }
        if let Some(k) = &self.key_fingerprint {
            s.push_str(&format!(" [{}]", &k[..k.len().min(16)]));
        }
        s
    }
}
