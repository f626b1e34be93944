//! Who signed, and is that signer trusted: tries the trust store's pipeline-signer keys
//! (or a certificate chained to a trusted root-ca at the log time), then keys found in the
//! evidence, and turns the answer plus the log state into one outcome.

use super::tlog::{self, Binding, Entry};
use super::{Ctx, Outcome, Role, TlogState};
use crate::crypto::cert::{verify_chain, Certificate};
use crate::crypto::{KeyError, PublicKey};

/// What is signed: the bytes themselves, or only their SHA-256 (bundle message signatures).
#[derive(Clone, Copy)]
pub(crate) enum Msg<'a> {
    Bytes(&'a [u8]),
    Sha256(&'a [u8]),
}

impl Msg<'_> {
    fn verify(&self, k: &PublicKey, sig: &[u8]) -> Result<(), KeyError> {
        match self {
            Msg::Bytes(b) => k.verify(b, sig),
            Msg::Sha256(d) => k.verify_sha256_prehash(d, sig),
        }
    }
}

/// Everything a signature comes with.
#[derive(Default)]
pub(crate) struct Material {
    pub sig: Vec<u8>,
    pub leaf: Option<Certificate>,
    pub chain: Vec<Certificate>,
    /// A key fingerprint (hex) the evidence names as the signer, tried first.
    pub hint: Option<String>,
    pub tlog: Vec<Entry>,
}

pub(crate) struct Checked {
    pub outcome: Outcome,
    pub tlog: TlogState,
    pub key_fingerprint: Option<String>,
    pub key_name: Option<String>,
    pub integrated_time: Option<i64>,
    pub detail: Vec<String>,
}

fn when(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0).map_or_else(
        || t.to_string(),
        |d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    )
}

/// Verifies the signature; `Verified` here means "by a trusted signer" (the caller then
/// checks the subject digest).
pub(crate) fn check(ctx: &Ctx<'_>, msg: Msg<'_>, m: &Material, binding: &Binding) -> Checked {
    let mut c = Checked {
        outcome: Outcome::Unverifiable,
        tlog: TlogState::Absent,
        key_fingerprint: None,
        key_name: None,
        integrated_time: None,
        detail: Vec::new(),
    };
    if m.sig.is_empty() {
        c.detail.push("empty signature".into());
        return c;
    }
    if let Some(leaf) = &m.leaf {
        return check_cert(ctx, msg, m, leaf, binding, c);
    }
    let signers: Vec<_> = ctx.input.trust.by_role(Role::PipelineSigner).collect();
    let mut ordered: Vec<_> = signers
        .iter()
        .filter(|t| Some(&t.fingerprint) == m.hint.as_ref())
        .collect();
    ordered.extend(
        signers
            .iter()
            .filter(|t| Some(&t.fingerprint) != m.hint.as_ref()),
    );
    let mut policy = Vec::new();
    for t in ordered {
        match msg.verify(&t.key, &m.sig) {
            Ok(()) => {
                c.outcome = Outcome::Verified;
                c.key_fingerprint = Some(t.fingerprint.clone());
                c.key_name = Some(t.name.clone());
                c.detail.push(format!(
                    "signature verifies with trusted pipeline-signer '{}' ({})",
                    t.name,
                    t.key.algorithm()
                ));
                let tl = tlog::check(ctx, &m.tlog, binding, Some(&t.key), &m.sig);
                return with_tlog(c, tl);
            }
            Err(KeyError::Policy(p)) => policy.push(format!(
                "trusted key '{}' not used: crypto policy: {p}",
                t.name
            )),
            Err(_) => {}
        }
    }
    c.detail.extend(policy);
    // Not trusted: find out whether a key that came with the evidence made it.
    let mut others: Vec<(String, PublicKey)> = Vec::new();
    others.extend(
        ctx.evidence_keys
            .iter()
            .map(|(f, k)| (format!("found in the evidence at {f}"), k.clone())),
    );
    others.extend(ctx.evidence_certs.iter().filter_map(|(f, cert)| {
        cert.public_key()
            .ok()
            .map(|k| (format!("certificate {} at {f}", cert.identity()), k))
    }));
    others.extend(
        tlog::body_keys(&m.tlog)
            .into_iter()
            .map(|k| ("named in the transparency-log entry".to_string(), k)),
    );
    for (whence, k) in others {
        if msg.verify(&k, &m.sig).is_ok() {
            c.outcome = Outcome::UntrustedKey;
            c.key_fingerprint = Some(k.fingerprint());
            c.detail.push(format!(
                "signed by key {} ({whence}), which is not a trusted pipeline-signer",
                &k.fingerprint()[..16]
            ));
            let tl = tlog::check(ctx, &m.tlog, binding, Some(&k), &m.sig);
            return with_tlog(c, tl);
        }
    }
    if signers.is_empty() {
        c.outcome = Outcome::UntrustedKey;
        c.detail.push("no trusted pipeline-signer key to check it with, and no key in the evidence verifies it".into());
    } else {
        c.outcome = Outcome::BadSignature;
        c.detail.push(format!(
            "does not verify with any of the {} trusted pipeline-signer key(s) nor with any key in the evidence: the signed bytes were changed, or an unknown key made it",
            signers.len()
        ));
    }
    let tl = tlog::check(ctx, &m.tlog, binding, None, &m.sig);
    with_tlog(c, tl)
}

fn with_tlog(mut c: Checked, tl: tlog::TlogResult) -> Checked {
    c.tlog = tl.state;
    c.integrated_time = tl.integrated_time;
    if !tl.detail.is_empty() {
        c.detail.push(tl.detail);
    }
    c
}

fn check_cert(
    ctx: &Ctx<'_>,
    msg: Msg<'_>,
    m: &Material,
    leaf: &Certificate,
    binding: &Binding,
    mut c: Checked,
) -> Checked {
    let key = match leaf.public_key() {
        Ok(k) => k,
        Err(e) => {
            c.detail.push(format!("certificate key: {e}"));
            return c;
        }
    };
    c.key_fingerprint = Some(key.fingerprint());
    let ident = match &leaf.oidc_issuer {
        Some(i) => format!("{} (issuer {i})", leaf.identity()),
        None => leaf.identity(),
    };
    c.key_name = Some(ident.clone());
    if let Err(e) = msg.verify(&key, &m.sig) {
        c.outcome = if matches!(e, KeyError::Policy(_)) {
            Outcome::Unverifiable
        } else {
            Outcome::BadSignature
        };
        c.detail.push(format!(
            "signature does not verify with the certificate's key: {e}"
        ));
        let tl = tlog::check(ctx, &m.tlog, binding, None, &m.sig);
        return with_tlog(c, tl);
    }
    c.detail.push(format!(
        "signature verifies with the certificate of {ident}"
    ));
    let tl = tlog::check(ctx, &m.tlog, binding, Some(&key), &m.sig);
    let at = tl.integrated_time;
    c = with_tlog(c, tl);
    // A trusted signer key inside a certificate is trusted as a key.
    if let Some(t) = ctx
        .input
        .trust
        .by_role(Role::PipelineSigner)
        .find(|t| t.key == key)
    {
        c.outcome = Outcome::Verified;
        c.key_name = Some(format!("{} ({ident})", t.name));
        return c;
    }
    let roots: Vec<Certificate> = ctx
        .input
        .trust
        .by_role(Role::RootCa)
        .filter_map(|t| t.cert.clone())
        .collect();
    if roots.is_empty() {
        c.outcome = Outcome::UntrustedKey;
        c.detail
            .push("no trusted root-ca to chain the certificate to".into());
        return c;
    }
    let (time, whence) = match at {
        Some(t) => (t, format!("the verified Rekor time {}", when(t))),
        None => (
            ctx.input.now,
            format!(
                "the current time {} (no verified log time)",
                when(ctx.input.now)
            ),
        ),
    };
    match verify_chain(leaf, &m.chain, &roots, time) {
        Ok(()) => {
            c.detail.push(format!(
                "certificate chains to a trusted root-ca at {whence}"
            ));
            let rules = ctx.input.identities;
            if rules.is_empty() || rules.iter().any(|r| r.matches(leaf)) {
                c.outcome = Outcome::Verified;
            } else {
                c.outcome = Outcome::UntrustedKey;
                c.detail.push(format!(
                    "certificate identity {ident} is not an accepted identity"
                ));
            }
        }
        Err(e) => {
            c.outcome = Outcome::UntrustedKey;
            c.detail.push(format!(
                "certificate does not chain to a trusted root-ca at {whence}: {e}"
            ));
        }
    }
    c
}
