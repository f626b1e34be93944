//! Offline verification of a set's signatures and attestations (pure: evidence bytes and
//! trust material in, results out). Per signature exactly one outcome (`verified`,
//! `bad-signature`, `untrusted-key`, `digest-mismatch`, `unverifiable`) plus a separate
//! transparency-log state. Nothing is `verified` without a key from the trust store.

mod bundle;
mod cosign;
mod dsse;
mod signer;
mod tlog;

use crate::crypto::cert::Certificate;
use crate::crypto::PublicKey;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// One evidence file of the set, as stored.
#[derive(Debug, Clone)]
pub struct EvidenceFile {
    pub path: String,
    /// Stable format name from `ingest::detect` (`oci-manifest`, `dsse-envelope`, ...).
    pub format: String,
    pub sha256: String,
    pub bytes: Vec<u8>,
}

/// What a trusted entry may vouch for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    PipelineSigner,
    Approver,
    Reviewer,
    Rekor,
    RootCa,
    /// A certificate-transparency log key (trusted_root.json `ctlogs`), for SCTs.
    Ctlog,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::PipelineSigner,
        Role::Approver,
        Role::Reviewer,
        Role::Rekor,
        Role::RootCa,
        Role::Ctlog,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::PipelineSigner => "pipeline-signer",
            Self::Approver => "approver",
            Self::Reviewer => "reviewer",
            Self::Rekor => "rekor",
            Self::RootCa => "root-ca",
            Self::Ctlog => "ctlog",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// A trust entry's validity window (trusted_root.json `validFor`), Unix seconds; a side
/// that is `None` is unbounded. Entries added from plain PEM files have no window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ValidFor {
    pub start: Option<i64>,
    pub end: Option<i64>,
}

impl ValidFor {
    pub fn contains(&self, t: i64) -> bool {
        self.start.is_none_or(|s| t >= s) && self.end.is_none_or(|e| t <= e)
    }

    pub fn is_unbounded(&self) -> bool {
        self.start.is_none() && self.end.is_none()
    }

    pub fn describe(&self) -> String {
        let side = |t: Option<i64>, open: &str| t.map_or_else(|| open.to_string(), when);
        format!(
            "{} .. {}",
            side(self.start, "(any time)"),
            side(self.end, "(open-ended)")
        )
    }
}

pub(crate) fn when(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0).map_or_else(
        || t.to_string(),
        |d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    )
}

/// One entry of the trust store, ready to use.
#[derive(Debug, Clone)]
pub struct TrustedEntry {
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub fingerprint: String,
    pub key: PublicKey,
    /// Set for root-ca entries (and any entry added from a certificate).
    pub cert: Option<Certificate>,
    /// When this entry may vouch for a signature (checked at the signature's time).
    pub valid_for: ValidFor,
}

#[derive(Debug, Clone, Default)]
pub struct Trust {
    pub entries: Vec<TrustedEntry>,
}

impl Trust {
    pub fn by_role(&self, role: Role) -> impl Iterator<Item = &TrustedEntry> {
        self.entries.iter().filter(move |e| e.role == role)
    }
}

/// A certificate signer the policy accepts (`[[signature.identities]]`). `subject` is
/// matched against every SAN (e-mail, URI, DNS; the subject DN when there is no SAN) and
/// `issuer` against the Fulcio OIDC issuer extension (1.3.6.1.4.1.57264.1.8, or .1.1). Both
/// are globs: `*` matches any run of characters (including `/` and `@`), every other
/// character only itself; no regular expressions. `issuer = "*"` also accepts a
/// certificate without an issuer extension (a private CA).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityRule {
    pub subject: String,
    pub issuer: String,
}

impl IdentityRule {
    pub fn matches(&self, c: &Certificate) -> bool {
        let subject_ok = if c.san.is_empty() {
            glob(&self.subject, &c.subject)
        } else {
            c.san.iter().any(|s| glob(&self.subject, s))
        };
        let issuer_ok = match &c.oidc_issuer {
            Some(i) => glob(&self.issuer, i),
            None => self.issuer == "*",
        };
        subject_ok && issuer_ok
    }

    pub fn describe(&self) -> String {
        format!("subject '{}' issuer '{}'", self.subject, self.issuer)
    }
}

/// `*` matches any run of characters; everything else is literal. One backtrack point, so
/// at worst pattern length x name length steps: a hostile pattern or name cannot blow up.
pub fn glob(pattern: &str, s: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = s.chars().collect();
    let (mut i, mut j) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while j < t.len() {
        if i < p.len() && p[i] == '*' {
            star = Some((i, j));
            i += 1;
        } else if i < p.len() && p[i] == t[j] {
            i += 1;
            j += 1;
        } else if let Some((si, sj)) = star {
            i = si + 1;
            j = sj + 1;
            star = Some((si, sj + 1));
        } else {
            return false;
        }
    }
    p[i..].iter().all(|c| *c == '*')
}

/// What the policy says about certificate signatures.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CertPolicy {
    /// Accepted identities; empty accepts no certificate signature at all (cosign, too,
    /// refuses keyless verification without an identity and an issuer).
    pub identities: Vec<IdentityRule>,
    /// A certificate signature without a verified SCT is `untrusted-key`.
    pub sct_required: bool,
    /// Names the policy in result details, e.g. `policy 'program-default' (embedded default)`.
    pub source: String,
}

/// Signatures longer than this are refused before any cryptography (the largest real one,
/// RSA-16384, is 2 KiB). Base64 text of it is `crypto::MAX_SIGNATURE_TEXT` bytes.
pub const MAX_SIGNATURE_BYTES: usize = crate::crypto::MAX_SIGNATURE_BYTES;

pub struct VerifyInput<'a> {
    pub files: &'a [EvidenceFile],
    /// The set's image digest (`sha256:<hex>`), when known.
    pub set_digest: Option<&'a str>,
    pub trust: &'a Trust,
    /// Unix seconds, for certificates when no verified log time exists.
    pub now: i64,
    /// Identity rules and SCT requirement for certificate signatures.
    pub cert_policy: &'a CertPolicy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    Signature,
    Attestation,
    Bundle,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Verified,
    BadSignature,
    UntrustedKey,
    DigestMismatch,
    Unverifiable,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TlogState {
    Verified,
    Absent,
    Invalid,
    NotChecked,
}

macro_rules! str_enum {
    ($t:ty { $($v:ident => $s:literal),* }) => {
        impl $t {
            pub fn as_str(self) -> &'static str { match self { $(Self::$v => $s),* } }
            pub fn parse(s: &str) -> Option<Self> { match s { $($s => Some(Self::$v),)* _ => None } }
        }
    };
}
str_enum!(Kind { Signature => "signature", Attestation => "attestation", Bundle => "bundle" });
str_enum!(Outcome { Verified => "verified", BadSignature => "bad-signature", UntrustedKey => "untrusted-key", DigestMismatch => "digest-mismatch", Unverifiable => "unverifiable" });
str_enum!(TlogState { Verified => "verified", Absent => "absent", Invalid => "invalid", NotChecked => "not-checked" });
str_enum!(SctState { Verified => "verified", Absent => "absent", Invalid => "invalid", NotChecked => "not-checked" });

/// Certificate transparency of a signing certificate: an embedded SCT verified with a
/// trusted ctlog key, none embedded, one that fails, or no trusted ctlog key to check with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SctState {
    Verified,
    Absent,
    Invalid,
    NotChecked,
}

/// One signature's result. The first nine fields are the `dossier verify --json` contract.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerificationResult {
    pub kind: Kind,
    pub file: String,
    pub key_fingerprint: Option<String>,
    pub key_name: Option<String>,
    pub subject_digest: Option<String>,
    pub predicate_type: Option<String>,
    pub outcome: Outcome,
    pub tlog: TlogState,
    pub detail: String,
    /// For SBOM attestations: the set's SBOM file whose JSON equals the predicate.
    pub sbom_file: Option<String>,
    /// Rekor integrated time (Unix seconds) when the log entry verified.
    pub integrated_time: Option<i64>,
    /// Certificate signatures only: the SCT state of the signing certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sct: Option<SctState>,
}

/// A key or certificate found inside the evidence: shown, never trusted because of that.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceKey {
    pub file: String,
    pub kind: String,
    pub fingerprint: Option<String>,
    pub algorithm: Option<String>,
    pub subject: Option<String>,
    /// True when the same key is in the trust store (trusted by `trust add`, not by this file).
    pub in_trust_store: bool,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VerifyReport {
    pub results: Vec<VerificationResult>,
    pub evidence_keys: Vec<EvidenceKey>,
}

/// Evidence context shared by the verifiers.
pub(crate) struct Ctx<'a> {
    pub input: &'a VerifyInput<'a>,
    pub by_sha: BTreeMap<&'a str, &'a EvidenceFile>,
    pub evidence_keys: Vec<(String, PublicKey)>,
    pub evidence_certs: Vec<(String, Certificate)>,
}

impl<'a> Ctx<'a> {
    fn of_format(&self, f: &'a str) -> impl Iterator<Item = &'a EvidenceFile> + 'a {
        self.input.files.iter().filter(move |e| e.format == f)
    }

    pub fn blob(&self, digest: &str) -> Option<&'a EvidenceFile> {
        let hex = digest.strip_prefix("sha256:")?;
        self.by_sha.get(hex).copied()
    }
}

/// Verifies everything the set holds.
pub fn verify(input: &VerifyInput<'_>) -> VerifyReport {
    let mut ctx = Ctx {
        input,
        by_sha: BTreeMap::new(),
        evidence_keys: Vec::new(),
        evidence_certs: Vec::new(),
    };
    for f in input.files {
        ctx.by_sha.insert(f.sha256.as_str(), f);
    }
    let mut report = VerifyReport::default();
    collect_evidence_keys(&mut ctx, &mut report.evidence_keys);
    let mut consumed: BTreeSet<String> = BTreeSet::new();
    for f in ctx.of_format("oci-manifest") {
        report
            .results
            .extend(cosign::manifest(&ctx, f, &mut consumed));
    }
    for f in ctx.of_format("containers-sigstore-signature") {
        report.results.push(cosign::sigstore_json(&ctx, f));
    }
    for f in ctx.of_format("signature-base64") {
        report
            .results
            .push(cosign::detached(&ctx, f, &mut consumed));
    }
    for f in ctx.of_format("dsse-envelope") {
        if !consumed.contains(&f.sha256) {
            report.results.push(dsse::loose(&ctx, f));
        }
    }
    for f in ctx.of_format("sigstore-bundle") {
        if !consumed.contains(&f.sha256) {
            report.results.push(bundle::verify_file(&ctx, f));
        }
    }
    for f in ctx.of_format("cosign-simple-signing") {
        if !consumed.contains(&f.sha256) {
            report.results.push(result(
                Kind::Signature,
                &f.path,
                Outcome::Unverifiable,
                TlogState::Absent,
                "simple-signing payload with no signature for it in the evidence (no .sig manifest layer, sigstore-json file or base64 signature file names it)".into(),
            ));
        }
    }
    report
}

fn collect_evidence_keys(ctx: &mut Ctx<'_>, out: &mut Vec<EvidenceKey>) {
    let trusted: BTreeSet<&str> = ctx
        .input
        .trust
        .entries
        .iter()
        .map(|e| e.fingerprint.as_str())
        .collect();
    for f in ctx.input.files {
        let text = String::from_utf8_lossy(&f.bytes);
        match f.format.as_str() {
            "public-key" => match PublicKey::from_pem(&text) {
                Ok(k) => {
                    out.push(EvidenceKey {
                        file: f.path.clone(),
                        kind: "public-key".into(),
                        fingerprint: Some(k.fingerprint()),
                        algorithm: Some(k.algorithm()),
                        subject: None,
                        in_trust_store: trusted.contains(k.fingerprint().as_str()),
                        note: k.policy_failure().map(|p| format!("crypto policy: {p}")),
                    });
                    ctx.evidence_keys.push((f.path.clone(), k));
                }
                Err(e) => out.push(EvidenceKey {
                    file: f.path.clone(),
                    kind: "public-key".into(),
                    fingerprint: None,
                    algorithm: None,
                    subject: None,
                    in_trust_store: false,
                    note: Some(e.to_string()),
                }),
            },
            "certificate" => match Certificate::from_pem_chain(&text) {
                Ok(certs) => {
                    for c in certs {
                        let k = c.public_key().ok();
                        let fp = k.as_ref().map(PublicKey::fingerprint);
                        out.push(EvidenceKey {
                            file: f.path.clone(),
                            kind: "certificate".into(),
                            in_trust_store: fp.as_deref().is_some_and(|x| trusted.contains(x)),
                            fingerprint: fp,
                            algorithm: k.as_ref().map(PublicKey::algorithm),
                            subject: Some(c.identity()),
                            note: c
                                .weak_signature
                                .clone()
                                .map(|w| format!("crypto policy: {w}")),
                        });
                        ctx.evidence_certs.push((f.path.clone(), c));
                    }
                }
                Err(e) => out.push(EvidenceKey {
                    file: f.path.clone(),
                    kind: "certificate".into(),
                    fingerprint: None,
                    algorithm: None,
                    subject: None,
                    in_trust_store: false,
                    note: Some(e.to_string()),
                }),
            },
            _ => {}
        }
    }
}

pub(crate) fn result(
    kind: Kind,
    file: &str,
    outcome: Outcome,
    tlog: TlogState,
    detail: String,
) -> VerificationResult {
    VerificationResult {
        kind,
        file: file.to_string(),
        key_fingerprint: None,
        key_name: None,
        subject_digest: None,
        predicate_type: None,
        outcome,
        tlog,
        detail,
        sbom_file: None,
        integrated_time: None,
        sct: None,
    }
}

pub(crate) fn b64(s: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    let t: String = s.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(&t)
        .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(&t))
        .or_else(|_| {
            base64::engine::general_purpose::STANDARD_NO_PAD.decode(t.trim_end_matches('='))
        })
        .or_else(|_| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(t.trim_end_matches('='))
        })
        .ok()
}

pub(crate) fn sha256(b: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(b).into()
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_cert;
