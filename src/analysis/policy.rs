//! The scan-gate policy: the raw TOML shape, its validation into a `Policy`, and the
//! embedded default. A broken file is an error naming the file, line and key; there is
//! never a silent fallback to the default. The sha256 of the exact bytes identifies it.

use super::verify::{CertPolicy, IdentityRule};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

pub const DEFAULT_POLICY: &str = include_str!("../../assets/policy.default.toml");

/// Every check a policy can grade. The names are the `[checks]` keys.
pub const CHECK_IDS: &[&str] = &[
    "digest-consistency",
    "image-signature",
    "scanner-db-age",
    "scanner-db-age-unknown",
    "scan-age",
    "sbom-attested",
    "tag-only-reference",
    "image-user",
    "coverage",
    "scanner-disagreement",
    "waivers",
    "vex",
    "stig",
    "crypto",
    "evidence-files",
];

/// What a failing check does to the verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckGrade {
    /// Shown, and not passing makes the set FAIL.
    Fail,
    /// Shown, never silent, does not change the verdict.
    Warn,
    /// Shown as information only.
    Info,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    version: u32,
    name: Option<String>,
    exploitability: RawExploitability,
    gate: RawGate,
    scanner: RawScanner,
    signature: RawSignature,
    #[serde(default)]
    checks: BTreeMap<String, CheckGrade>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExploitability {
    scale: String,
    threshold: f64,
    epss_threshold: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGate {
    kev_blocks: bool,
    high_without_fix: String,
    block_waivable: bool,
    self_approval: bool,
    expiry_warning_days: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScanner {
    max_db_age_days: u32,
    max_scan_age_days: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSignature {
    unsigned_image_fails: bool,
    tlog_absence_acceptable: bool,
    /// Older policy files have neither key: no SCT requirement, no accepted identity.
    #[serde(default)]
    sct_required: bool,
    #[serde(default)]
    identities: Vec<RawIdentity>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIdentity {
    subject: String,
    issuer: String,
}

/// A validated policy. Built only by `Policy::parse`, so every value in it was checked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Policy {
    pub name: String,
    /// Where it came from: a path, or `(embedded default)`.
    pub source: String,
    pub sha256: String,
    /// The scale the exploitability threshold is on; always the 0-10 scale (v2 native,
    /// v3.x sub-scores multiplied by 10/3.9).
    pub scale: String,
    pub exploitability_threshold: f64,
    pub epss_threshold: f64,
    pub kev_blocks: bool,
    /// A HIGH with no fix available is WARN (true, default) or may still BLOCK (false).
    pub high_without_fix_warns: bool,
    pub block_waivable: bool,
    pub self_approval: bool,
    pub expiry_warning_days: u32,
    pub max_db_age_days: u32,
    pub max_scan_age_days: u32,
    pub unsigned_image_fails: bool,
    pub tlog_absence_acceptable: bool,
    /// A certificate signature needs a verified SCT (default false: DESIGN.md is silent).
    pub sct_required: bool,
    /// Accepted certificate signers; empty accepts none (`[[signature.identities]]`).
    pub identities: Vec<IdentityRule>,
    pub checks: BTreeMap<String, CheckGrade>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("policy {source_name}{}: {message}", position(*.line, *.column, .key.as_deref()))]
pub struct PolicyError {
    pub source_name: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub key: Option<String>,
    pub message: String,
}

fn position(line: Option<usize>, column: Option<usize>, key: Option<&str>) -> String {
    let mut s = String::new();
    if let Some(l) = line {
        s.push_str(&format!(" line {l}"));
        if let Some(c) = column {
            s.push_str(&format!(" column {c}"));
        }
    }
    if let Some(k) = key {
        s.push_str(&format!(" key '{k}'"));
    }
    s
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let off = offset.min(text.len());
    let before = &text.as_bytes()[..off];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let col = off
        - before
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |p| p + 1)
        + 1;
    (line, col)
}

/// The line of `key = ...` inside the `nth` `[[array]]` table (0-based), else of its header.
fn locate_in_array(text: &str, array: &str, nth: usize, key: &str) -> Option<usize> {
    let mut seen = 0usize;
    let mut inside = false;
    let mut header = None;
    for (i, raw) in text.lines().enumerate() {
        let l = raw.trim();
        if l.starts_with('[') {
            inside = false;
            if l.starts_with("[[") && l.trim_matches(|c| c == '[' || c == ']').trim() == array {
                if seen == nth {
                    inside = true;
                    header = Some(i + 1);
                }
                seen += 1;
            }
            continue;
        }
        if inside {
            if let Some((k, _)) = l.split_once('=') {
                if k.trim().trim_matches('"') == key {
                    return Some(i + 1);
                }
            }
        }
    }
    header
}

/// Checks one identity rule; the message says what is wrong and what would be right.
fn validate_identity(r: &RawIdentity) -> Result<IdentityRule, (&'static str, String)> {
    for (key, v) in [("subject", &r.subject), ("issuer", &r.issuer)] {
        if v.trim().is_empty() {
            return Err((
                key,
                format!("{key} is empty: name the certificate {key}, or \"*\" for any"),
            ));
        }
        if v.trim() != v || v.chars().any(char::is_control) {
            return Err((
                key,
                format!("{key} {v:?} has surrounding spaces or control characters"),
            ));
        }
    }
    let i = &r.issuer;
    if !(i.contains('*') || i.starts_with("https://") || i.starts_with("http://")) {
        return Err((
            "issuer",
            format!("issuer '{i}' is not an OIDC issuer URL (like \"https://token.actions.githubusercontent.com\") nor a glob with *"),
        ));
    }
    Ok(IdentityRule {
        subject: r.subject.clone(),
        issuer: r.issuer.clone(),
    })
}

/// Finds the line of `key = ...` inside `[table]` so validation errors can point at it.
fn locate(text: &str, table: &str, key: &str) -> Option<usize> {
    let mut current = String::new();
    for (i, raw) in text.lines().enumerate() {
        let l = raw.trim();
        if l.starts_with('[') && l.ends_with(']') {
            current = l.trim_matches(|c| c == '[' || c == ']').trim().to_string();
            continue;
        }
        if current == table {
            if let Some((k, _)) = l.split_once('=') {
                if k.trim().trim_matches('"') == key {
                    return Some(i + 1);
                }
            }
        }
    }
    None
}

impl Policy {
    /// The embedded default.
    pub fn default_policy() -> Self {
        // The embedded file is tested below; failing to parse it is a build defect.
        match Self::parse(DEFAULT_POLICY.as_bytes(), "(embedded default)") {
            Ok(p) => p,
            Err(e) => panic!("embedded default policy is invalid: {e}"),
        }
    }

    /// Reads and validates a policy file.
    pub fn load(path: &std::path::Path) -> Result<Self, PolicyError> {
        let bytes = std::fs::read(path).map_err(|e| PolicyError {
            source_name: path.display().to_string(),
            line: None,
            column: None,
            key: None,
            message: format!("cannot read: {e}"),
        })?;
        Self::parse(&bytes, &path.display().to_string())
    }

    pub fn parse(bytes: &[u8], source_name: &str) -> Result<Self, PolicyError> {
        let err = |line: Option<usize>,
                   column: Option<usize>,
                   key: Option<String>,
                   message: String| PolicyError {
            source_name: source_name.to_string(),
            line,
            column,
            key,
            message,
        };
        let text = std::str::from_utf8(bytes).map_err(|e| {
            let (l, c) = line_col(&String::from_utf8_lossy(bytes), e.valid_up_to());
            err(Some(l), Some(c), None, "not UTF-8 text".into())
        })?;
        let raw: RawPolicy = toml::from_str(text).map_err(|e| {
            let (line, column) = match e.span() {
                Some(s) => {
                    let (l, c) = line_col(text, s.start);
                    (Some(l), Some(c))
                }
                None => (None, None),
            };
            let msg = e.message().trim().to_string();
            let key = msg
                .split('`')
                .nth(1)
                .map(str::to_string)
                .filter(|k| !k.is_empty() && !k.contains(' '));
            err(line, column, key, msg)
        })?;
        let bad = |table: &str, key: &str, message: String| {
            err(
                locate(text, table, key),
                None,
                Some(format!("{table}.{key}")),
                message,
            )
        };
        if raw.version != 1 {
            return Err(err(
                locate(text, "", "version"),
                None,
                Some("version".into()),
                format!(
                    "policy version {} is not supported (this dossier reads version 1)",
                    raw.version
                ),
            ));
        }
        let ex = &raw.exploitability;
        if ex.scale != "cvss-0-10" {
            return Err(bad(
                "exploitability",
                "scale",
                format!(
                    "scale '{}' is not supported: the threshold must be on the 0-10 scale (\"cvss-0-10\"; CVSS v2 sub-scores as published, v3.x sub-scores x 10/3.9)",
                    ex.scale
                ),
            ));
        }
        if !(0.0..=10.0).contains(&ex.threshold) || ex.threshold.is_nan() {
            return Err(bad(
                "exploitability",
                "threshold",
                format!("{} is outside 0-10", ex.threshold),
            ));
        }
        if !(0.0..=1.0).contains(&ex.epss_threshold) || ex.epss_threshold.is_nan() {
            return Err(bad(
                "exploitability",
                "epss_threshold",
                format!(
                    "{} is outside 0-1 (EPSS is a probability, not a percentage)",
                    ex.epss_threshold
                ),
            ));
        }
        let high_without_fix_warns = match raw.gate.high_without_fix.as_str() {
            "warn" => true,
            "block" => false,
            other => {
                return Err(bad(
                    "gate",
                    "high_without_fix",
                    format!("'{other}' must be \"warn\" or \"block\""),
                ))
            }
        };
        let mut checks: BTreeMap<String, CheckGrade> = BTreeMap::new();
        for (k, v) in raw.checks {
            if !CHECK_IDS.contains(&k.as_str()) {
                return Err(bad(
                    "checks",
                    &k,
                    format!(
                        "unknown check '{k}'; known checks: {}",
                        CHECK_IDS.join(", ")
                    ),
                ));
            }
            checks.insert(k, v);
        }
        for id in CHECK_IDS {
            if !checks.contains_key(*id) {
                return Err(err(
                    locate(text, "checks", id).or_else(|| {
                        text.lines()
                            .position(|l| l.trim() == "[checks]")
                            .map(|i| i + 1)
                    }),
                    None,
                    Some(format!("checks.{id}")),
                    format!("check '{id}' has no grade: set it to \"fail\", \"warn\" or \"info\""),
                ));
            }
        }
        let mut identities = Vec::new();
        for (n, r) in raw.signature.identities.iter().enumerate() {
            let rule = validate_identity(r).map_err(|(key, message)| {
                err(
                    locate_in_array(text, "signature.identities", n, key),
                    None,
                    Some(format!("signature.identities[{n}].{key}")),
                    message,
                )
            })?;
            identities.push(rule);
        }
        Ok(Self {
            name: raw.name.unwrap_or_else(|| "unnamed".into()),
            source: source_name.to_string(),
            sha256: hex::encode(Sha256::digest(bytes)),
            scale: ex.scale.clone(),
            exploitability_threshold: ex.threshold,
            epss_threshold: ex.epss_threshold,
            kev_blocks: raw.gate.kev_blocks,
            high_without_fix_warns,
            block_waivable: raw.gate.block_waivable,
            self_approval: raw.gate.self_approval,
            expiry_warning_days: raw.gate.expiry_warning_days,
            max_db_age_days: raw.scanner.max_db_age_days,
            max_scan_age_days: raw.scanner.max_scan_age_days,
            unsigned_image_fails: raw.signature.unsigned_image_fails,
            tlog_absence_acceptable: raw.signature.tlog_absence_acceptable,
            sct_required: raw.signature.sct_required,
            identities,
            checks,
        })
    }

    /// What verification needs from this policy about certificate signatures.
    pub fn cert_policy(&self) -> CertPolicy {
        CertPolicy {
            identities: self.identities.clone(),
            sct_required: self.sct_required,
            source: format!("policy '{}' ({})", self.name, self.source),
        }
    }

    /// The grade of a check; unknown ids are warnings (never silently dropped).
    pub fn grade(&self, check: &str) -> CheckGrade {
        self.checks.get(check).copied().unwrap_or(CheckGrade::Warn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_policy_encodes_the_program_gate() {
        let p = Policy::default_policy();
        // Values from DESIGN.md section 6 and issue 4.
        assert_eq!(p.exploitability_threshold, 7.0);
        assert_eq!(p.epss_threshold, 0.05);
        assert!(p.kev_blocks);
        assert_eq!(p.max_db_age_days, 14);
        assert!(p.unsigned_image_fails);
        assert!(!p.block_waivable);
        assert_eq!(p.expiry_warning_days, 30);
        assert!(!p.self_approval);
        assert_eq!(p.grade("image-signature"), CheckGrade::Fail);
        assert_eq!(p.grade("digest-consistency"), CheckGrade::Fail);
        assert_eq!(p.grade("scanner-db-age"), CheckGrade::Fail);
        assert_eq!(p.grade("sbom-attested"), CheckGrade::Warn);
        assert_eq!(
            p.sha256,
            hex::encode(Sha256::digest(DEFAULT_POLICY.as_bytes()))
        );
    }

    #[test]
    fn template_is_a_valid_policy() {
        let t = include_str!("../../templates/policy.toml");
        let p = Policy::parse(t.as_bytes(), "templates/policy.toml").unwrap();
        assert_eq!(p.exploitability_threshold, 7.0);
    }

    #[test]
    fn syntax_error_names_line_and_key() {
        let text = DEFAULT_POLICY.replace("threshold = 7.0", "threshold = \"high\"");
        let e = Policy::parse(text.as_bytes(), "p.toml").unwrap_err();
        let want_line = DEFAULT_POLICY
            .lines()
            .position(|l| l.starts_with("threshold = 7.0"))
            .unwrap()
            + 1;
        assert_eq!(e.line, Some(want_line), "{e}");
        assert!(e.to_string().starts_with("policy p.toml line "), "{e}");
    }

    #[test]
    fn unknown_key_is_refused_with_its_name() {
        let text =
            DEFAULT_POLICY.replace("kev_blocks = true", "kev_blocks = true\nkev_block = false");
        let e = Policy::parse(text.as_bytes(), "p.toml").unwrap_err();
        assert_eq!(e.key.as_deref(), Some("kev_block"), "{e}");
        assert!(e.line.is_some());
    }

    #[test]
    fn validation_errors_point_at_the_key() {
        let text = DEFAULT_POLICY.replace("epss_threshold = 0.05", "epss_threshold = 5");
        let e = Policy::parse(text.as_bytes(), "p.toml").unwrap_err();
        assert_eq!(e.key.as_deref(), Some("exploitability.epss_threshold"));
        let want = DEFAULT_POLICY
            .lines()
            .position(|l| l.starts_with("epss_threshold"))
            .unwrap()
            + 1;
        assert_eq!(e.line, Some(want));
        let text = DEFAULT_POLICY.replace("scale = \"cvss-0-10\"", "scale = \"cvss-v3\"");
        let e = Policy::parse(text.as_bytes(), "p.toml").unwrap_err();
        assert_eq!(e.key.as_deref(), Some("exploitability.scale"));
        let text = DEFAULT_POLICY.replace("crypto = \"fail\"\n", "");
        let e = Policy::parse(text.as_bytes(), "p.toml").unwrap_err();
        assert_eq!(e.key.as_deref(), Some("checks.crypto"));
    }

    fn with_signature(extra: &str) -> String {
        DEFAULT_POLICY.replace(
            "sct_required = false\n",
            &format!("sct_required = false\n{extra}"),
        )
    }

    #[test]
    fn default_accepts_no_certificate_identity_and_needs_no_sct() {
        let p = Policy::default_policy();
        assert!(p.identities.is_empty());
        assert!(!p.sct_required);
        let c = p.cert_policy();
        assert!(c.source.contains("program-default"), "{}", c.source);
    }

    #[test]
    fn identity_rules_are_read_in_order() {
        let text = with_signature(
            "[[signature.identities]]\nsubject = \"a@example.mil\"\nissuer = \"https://idp.example.mil\"\n\
             [[signature.identities]]\nsubject = \"*@ci.example.mil\"\nissuer = \"*\"\n",
        );
        let p = Policy::parse(text.as_bytes(), "p.toml").unwrap();
        assert_eq!(
            p.identities,
            vec![
                IdentityRule {
                    subject: "a@example.mil".into(),
                    issuer: "https://idp.example.mil".into()
                },
                IdentityRule {
                    subject: "*@ci.example.mil".into(),
                    issuer: "*".into()
                },
            ]
        );
    }

    #[test]
    fn bad_identity_rules_name_the_file_the_rule_and_the_line() {
        let text = with_signature(
            "[[signature.identities]]\nsubject = \"a@example.mil\"\nissuer = \"https://idp.example.mil\"\n\
             [[signature.identities]]\nsubject = \"b@example.mil\"\nissuer = \"github\"\n",
        );
        let e = Policy::parse(text.as_bytes(), "p.toml").unwrap_err();
        assert_eq!(
            e.key.as_deref(),
            Some("signature.identities[1].issuer"),
            "{e}"
        );
        let want = text
            .lines()
            .position(|l| l == "issuer = \"github\"")
            .unwrap()
            + 1;
        assert_eq!(e.line, Some(want), "{e}");
        assert!(e.to_string().starts_with("policy p.toml line "), "{e}");
        assert!(e.message.contains("OIDC issuer URL"), "{e}");

        let text = with_signature("[[signature.identities]]\nsubject = \"\"\nissuer = \"*\"\n");
        let e = Policy::parse(text.as_bytes(), "p.toml").unwrap_err();
        assert_eq!(
            e.key.as_deref(),
            Some("signature.identities[0].subject"),
            "{e}"
        );

        // A rule without an issuer is refused by the TOML reader, naming the missing field.
        let text = with_signature("[[signature.identities]]\nsubject = \"a@example.mil\"\n");
        let e = Policy::parse(text.as_bytes(), "p.toml").unwrap_err();
        assert!(e.message.contains("issuer"), "{e}");

        let text = with_signature(
            "[[signature.identities]]\nsubject = \"a\"\nissuer = \"*\"\nsan = \"x\"\n",
        );
        let e = Policy::parse(text.as_bytes(), "p.toml").unwrap_err();
        assert_eq!(e.key.as_deref(), Some("san"), "{e}");
    }

    #[test]
    fn older_policies_without_the_new_keys_still_parse() {
        let text = DEFAULT_POLICY.replace("sct_required = false\n", "");
        let p = Policy::parse(text.as_bytes(), "old.toml").unwrap();
        assert!(!p.sct_required && p.identities.is_empty());
    }
}
