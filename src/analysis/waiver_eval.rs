//! Waiver evaluation: whether each waiver stands (signed by a trusted approver, not expired,
//! not self-approved) and which findings it covers. A waiver never hides a finding; it only
//! tags it. Problems with waivers are diagnostics of their own.

use crate::crypto::pubkey::PublicKey;
use crate::model::normalize_purl;
use crate::model::waiver::Waiver;
use base64::Engine;
use chrono::NaiveDate;
use serde::Serialize;

/// A key from the trust store, as the judge needs it.
#[derive(Debug, Clone)]
pub struct TrustedKey {
    pub name: String,
    pub role: String,
    pub fingerprint: String,
    pub key: PublicKey,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "state", content = "detail", rename_all = "kebab-case")]
pub enum Signing {
    /// Verified by a trusted key with role `approver` (its name).
    Trusted(String),
    Unsigned,
    /// Signed, but the key is not in the trust store, or not as an approver.
    Untrusted(String),
    BadSignature(String),
}

/// One waiver, whatever file or table it came from, in the shape evaluation needs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    pub id: String,
    pub source: String,
    pub vulnerability: String,
    pub scope_digest: Option<String>,
    pub scope_repository: Option<String>,
    /// Found inside this set's evidence (ignore files): scoped to this set.
    pub set_local: bool,
    /// Normalized purls; empty = any component. A purl without `@version` matches any version.
    pub purls: Vec<String>,
    pub expires: Option<NaiveDate>,
    pub signing: Signing,
    pub justification: String,
    pub approver: Option<String>,
    pub requester: Option<String>,
}

/// Why a waiver does or does not apply at the evaluation date.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Standing {
    Valid,
    Unsigned,
    Untrusted,
    BadSignature,
    SelfApproved,
    Expired,
}

impl Standing {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Valid => "valid",
            Self::Unsigned => "unsigned",
            Self::Untrusted => "untrusted",
            Self::BadSignature => "bad-signature",
            Self::SelfApproved => "self-approved",
            Self::Expired => "expired",
        }
    }
}

/// Builds a candidate from a dossier waiver document, verifying its signature.
pub fn from_document(w: &Waiver, source: &str, trusted: &[TrustedKey]) -> Candidate {
    let signing = match &w.signature {
        None => Signing::Unsigned,
        Some(sig) => match trusted
            .iter()
            .find(|k| k.fingerprint.eq_ignore_ascii_case(&sig.keyid))
        {
            None => Signing::Untrusted(format!(
                "key {} is not in the trust store",
                short(&sig.keyid)
            )),
            Some(k) if k.role != "approver" => Signing::Untrusted(format!(
                "key '{}' is trusted as {}, not approver",
                k.name, k.role
            )),
            Some(k) => {
                let value = base64::engine::general_purpose::STANDARD.decode(sig.value.trim());
                match (value, w.signing_bytes()) {
                    (Ok(sigb), Ok(msg)) => match k.key.verify(&msg, &sigb) {
                        Ok(()) => Signing::Trusted(k.name.clone()),
                        Err(e) => Signing::BadSignature(e.to_string()),
                    },
                    (Err(e), _) => {
                        Signing::BadSignature(format!("signature value is not base64: {e}"))
                    }
                    (_, Err(e)) => Signing::BadSignature(e.to_string()),
                }
            }
        },
    };
    Candidate {
        id: w.id.clone(),
        source: source.to_string(),
        vulnerability: w.vulnerability.trim().to_string(),
        scope_digest: w.scope_digest(),
        scope_repository: w.scope.repository.as_ref().map(|r| r.trim().to_string()),
        set_local: false,
        purls: w
            .scope
            .purl
            .as_deref()
            .and_then(normalize_purl)
            .into_iter()
            .collect(),
        expires: w.expiry_date(),
        signing,
        justification: format!("{}: {}", w.justification.kind, w.justification.text),
        approver: w.approved_by.as_ref().map(|p| p.name.clone()),
        requester: Some(w.requested_by.name.clone()),
    }
}

fn short(s: &str) -> &str {
    s.get(..16).unwrap_or(s)
}

impl Candidate {
    /// Standing at `as_of` (the waiver stops applying at 00:00 UTC on `expires`).
    pub fn standing(&self, as_of: NaiveDate, self_approval_allowed: bool) -> Standing {
        match &self.signing {
            Signing::Unsigned => return Standing::Unsigned,
            Signing::Untrusted(_) => return Standing::Untrusted,
            Signing::BadSignature(_) => return Standing::BadSignature,
            Signing::Trusted(_) => {}
        }
        if self.expires.is_some_and(|e| as_of >= e) {
            return Standing::Expired;
        }
        let same = match (&self.approver, &self.requester) {
            (Some(a), Some(r)) => a.trim().eq_ignore_ascii_case(r.trim()),
            _ => false,
        };
        if same && !self_approval_allowed {
            return Standing::SelfApproved;
        }
        Standing::Valid
    }

    /// Does the waiver's scope name this set at all?
    pub fn scoped_to(&self, set_digest: Option<&str>, set_repository: Option<&str>) -> bool {
        self.set_local
            || (self.scope_digest.is_some() && self.scope_digest.as_deref() == set_digest)
            || (self.scope_repository.is_some()
                && self.scope_repository.as_deref() == set_repository)
    }

    /// Does it name this finding (vulnerability or alias, and component)?
    pub fn covers(&self, vuln_id: &str, aliases: &[String], component_key: &str) -> bool {
        let v = &self.vulnerability;
        let id_hit = v == "*"
            || v.eq_ignore_ascii_case(vuln_id)
            || aliases.iter().any(|a| a.eq_ignore_ascii_case(v));
        if !id_hit {
            return false;
        }
        self.purls.is_empty()
            || self.purls.iter().any(|p| {
                if p.contains('@') {
                    p == component_key
                } else {
                    component_key.split('@').next() == Some(p.as_str())
                }
            })
    }

    pub fn describe(&self) -> String {
        let by = match &self.signing {
            Signing::Trusted(k) => format!("signed by trusted approver key '{k}'"),
            Signing::Unsigned => "unsigned".into(),
            Signing::Untrusted(why) => format!("untrusted signature ({why})"),
            Signing::BadSignature(why) => format!("signature does not verify ({why})"),
        };
        let exp = self
            .expires
            .map(|e| format!(", expires {e}"))
            .unwrap_or_else(|| ", no expiry".into());
        format!("waiver {} from {} ({by}{exp})", self.id, self.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(signing: Signing, expires: &str) -> Candidate {
        Candidate {
            id: "W-1".into(),
            source: "w.yaml".into(),
            vulnerability: "CVE-1".into(),
            scope_digest: Some("sha256:aa".into()),
            scope_repository: None,
            set_local: false,
            purls: vec!["pkg:deb/debian/zlib".into()],
            expires: NaiveDate::parse_from_str(expires, "%Y-%m-%d").ok(),
            signing,
            justification: "x".into(),
            approver: Some("R. Roe".into()),
            requester: Some("J. Doe".into()),
        }
    }

    #[test]
    fn expiry_is_exclusive_of_the_expiry_day() {
        let c = cand(Signing::Trusted("k".into()), "2027-02-01");
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(c.standing(d("2027-01-31"), false), Standing::Valid);
        assert_eq!(c.standing(d("2027-02-01"), false), Standing::Expired);
        assert_eq!(
            cand(Signing::Unsigned, "2099-01-01").standing(d("2027-01-01"), false),
            Standing::Unsigned
        );
        let mut s = cand(Signing::Trusted("k".into()), "2099-01-01");
        s.requester = Some("r. roe".into());
        assert_eq!(s.standing(d("2027-01-01"), false), Standing::SelfApproved);
        assert_eq!(s.standing(d("2027-01-01"), true), Standing::Valid);
    }

    #[test]
    fn scope_and_cover() {
        let c = cand(Signing::Unsigned, "2099-01-01");
        assert!(c.scoped_to(Some("sha256:aa"), None));
        assert!(!c.scoped_to(Some("sha256:bb"), Some("r")));
        assert!(c.covers("GHSA-1", &["CVE-1".into()], "pkg:deb/debian/zlib@1.2"));
        assert!(!c.covers("CVE-1", &[], "pkg:deb/debian/zlib2@1.2"));
    }
}
