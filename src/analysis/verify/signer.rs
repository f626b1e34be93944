//! Who signed, and is that signer trusted: tries the trust store's pipeline-signer keys
//! (or a certificate chained to a trusted root-ca at the log time), then keys found in the
//! evidence, and turns the answer plus the log state into one outcome.

use super::tlog::{self, Binding, Entry};
use super::{when, Ctx, Outcome, Role, SctState, TlogState, MAX_SIGNATURE_BYTES};
use crate::crypto::cert::{verify_chain, Certificate};
use crate::crypto::{sct, KeyError, PublicKey};

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
    pub sct: Option<SctState>,
    pub detail: Vec<String>,
}

/// Refuses signature bytes no algorithm could have produced, before any key is tried:
/// that is malformed material (`unverifiable`), not a signature that failed to verify.
fn shape(sig: &[u8]) -> Result<(), String> {
    if sig.len() > MAX_SIGNATURE_BYTES {
        return Err(format!(
            "signature of {} bytes exceeds the max-signature-bytes limit ({MAX_SIGNATURE_BYTES})",
            sig.len()
        ));
    }
    // RSA signatures are as long as the modulus (2048 bits and up) and may start with any byte.
    if sig.len() >= 256 || matches!(sig.len(), 64 | 96 | 132) {
        return Ok(());
    }
    if sig.first() != Some(&0x30) {
        return Err(format!(
            "signature of {} bytes is neither a DER ECDSA-Sig-Value nor a raw Ed25519/ECDSA/RSA signature",
            sig.len()
        ));
    }
    let malformed = |e: String| format!("signature is not a well-formed DER ECDSA-Sig-Value: {e}");
    let (seq, rest) =
        crate::crypto::der::expect(sig, 0x30).map_err(|e| malformed(e.to_string()))?;
    if !rest.is_empty() {
        return Err(malformed(format!("{} trailing bytes", rest.len())));
    }
    let parts = crate::crypto::der::children(seq.content).map_err(|e| malformed(e.to_string()))?;
    if parts.len() != 2 || parts.iter().any(|p| p.tag != 0x02 || p.content.is_empty()) {
        return Err(malformed(
            "expected SEQUENCE { INTEGER r, INTEGER s }".into(),
        ));
    }
    Ok(())
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
        sct: None,
        detail: Vec::new(),
    };
    if m.sig.is_empty() {
        c.detail.push("empty signature".into());
        return c;
    }
    if let Err(e) = shape(&m.sig) {
        c.tlog = TlogState::NotChecked;
        c.detail.push(e);
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

/// Names the first repeated issuer when walking leaf -> issuer through the presented chain.
fn chain_loop(leaf: &Certificate, chain: &[Certificate]) -> Option<String> {
    let mut seen = vec![leaf.subject.clone()];
    let mut cur = leaf;
    for _ in 0..=chain.len() {
        if cur.issuer == cur.subject {
            return None;
        }
        let next = chain.iter().find(|c| c.subject == cur.issuer)?;
        if seen.contains(&next.subject) {
            seen.push(next.subject.clone());
            return Some(seen.join(" -> "));
        }
        seen.push(next.subject.clone());
        cur = next;
    }
    None
}

fn check_cert(
    ctx: &Ctx<'_>,
    msg: Msg<'_>,
    m: &Material,
    leaf: &Certificate,
    binding: &Binding,
    mut c: Checked,
) -> Checked {
    if let Some(l) = chain_loop(leaf, &m.chain) {
        c.tlog = TlogState::NotChecked;
        c.detail.push(format!(
            "certificate chain loops ({l}): malformed chain, not checked further"
        ));
        return c;
    }
    let key = match leaf.public_key() {
        Ok(k) => k,
        Err(e) => {
            c.tlog = TlogState::NotChecked;
            c.detail.push(format!("certificate key: {e}"));
            return c;
        }
    };
    c.key_fingerprint = Some(key.fingerprint());
    let ident = match &leaf.oidc_issuer {
        Some(i) => format!("{} (issuer {i})", leaf.identity()),
        None => format!("{} (no OIDC issuer extension)", leaf.identity()),
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
    let roots: Vec<&super::TrustedEntry> = ctx
        .input
        .trust
        .by_role(Role::RootCa)
        .filter(|t| t.cert.is_some())
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
    let (usable, outside): (Vec<&super::TrustedEntry>, Vec<&super::TrustedEntry>) =
        roots.into_iter().partition(|t| t.valid_for.contains(time));
    let outside_note = || {
        outside
            .iter()
            .map(|t| format!("'{}' valid {}", t.name, t.valid_for.describe()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let anchors: Vec<Certificate> = usable.iter().filter_map(|t| t.cert.clone()).collect();
    if anchors.is_empty() {
        c.outcome = Outcome::UntrustedKey;
        c.detail.push(format!(
            "no trusted root-ca is valid at {whence} (validFor windows: {})",
            outside_note()
        ));
        return c;
    }
    if let Err(e) = verify_chain(leaf, &m.chain, &anchors, time) {
        c.outcome = Outcome::UntrustedKey;
        let mut d = format!("certificate does not chain to a trusted root-ca at {whence}: {e}");
        if !outside.is_empty() {
            d.push_str(&format!(
                " (not used, outside their validFor window then: {})",
                outside_note()
            ));
        }
        c.detail.push(d);
        return c;
    }
    c.detail.push(format!(
        "certificate chains to a trusted root-ca at {whence}"
    ));
    let (sct_state, sct_detail) = check_sct(ctx, leaf, &m.chain, &anchors);
    c.sct = Some(sct_state);
    c.detail
        .push(format!("sct: {} ({sct_detail})", sct_state.as_str()));
    let pol = ctx.input.cert_policy;
    let rules = &pol.identities;
    c.outcome = Outcome::UntrustedKey;
    if rules.is_empty() {
        c.detail.push(format!(
            "{} has no [[signature.identities]] rule, so no certificate identity is accepted: add one naming {ident} to accept it",
            pol.source
        ));
    } else if let Some(r) = rules.iter().find(|r| r.matches(leaf)) {
        if pol.sct_required && sct_state != SctState::Verified {
            c.detail.push(format!(
                "{} requires a verified SCT for certificate signatures (sct_required = true)",
                pol.source
            ));
        } else {
            c.outcome = Outcome::Verified;
            c.detail.push(format!(
                "identity accepted by the rule {} of {}",
                r.describe(),
                pol.source
            ));
        }
    } else {
        c.detail.push(format!(
            "certificate identity {ident} matches none of the {} identity rule(s) of {}",
            rules.len(),
            pol.source
        ));
    }
    c
}

/// The certificate's embedded SCTs against the trusted ctlog keys, at each SCT's own time.
fn check_sct(
    ctx: &Ctx<'_>,
    leaf: &Certificate,
    chain: &[Certificate],
    roots: &[Certificate],
) -> (SctState, String) {
    let scts = match sct::embedded(&leaf.der) {
        Ok(s) if s.is_empty() => {
            return (
                SctState::Absent,
                "no SCT embedded in the certificate".into(),
            )
        }
        Ok(s) => s,
        Err(e) => return (SctState::Invalid, e.to_string()),
    };
    let Some(issuer) = chain
        .iter()
        .chain(roots.iter())
        .find(|i| i.subject == leaf.issuer)
    else {
        return (
            SctState::NotChecked,
            format!("the issuer {} is not at hand to hash its key", leaf.issuer),
        );
    };
    let mut notes = Vec::new();
    let mut invalid = false;
    for s in &scts {
        let id = hex::encode(s.log_id);
        let secs = i64::try_from(s.timestamp_ms / 1000).unwrap_or(i64::MAX);
        let Some(log) = ctx
            .input
            .trust
            .by_role(Role::Ctlog)
            .find(|t| t.fingerprint == id)
        else {
            notes.push(format!("no trusted ctlog key for log id {}", &id[..16]));
            continue;
        };
        if !log.valid_for.contains(secs) {
            invalid = true;
            notes.push(format!(
                "ctlog '{}' is valid {}, the SCT time {} is outside it",
                log.name,
                log.valid_for.describe(),
                when(secs)
            ));
            continue;
        }
        match sct::verify(s, &log.key, &issuer.spki, &leaf.der) {
            Ok(()) => {
                return (
                    SctState::Verified,
                    format!(
                        "SCT of {} verified with trusted ctlog '{}'",
                        when(secs),
                        log.name
                    ),
                )
            }
            Err(e) => {
                invalid = true;
                notes.push(format!("ctlog '{}': {e}", log.name));
            }
        }
    }
    let state = if invalid {
        SctState::Invalid
    } else {
        SctState::NotChecked
    };
    (state, notes.join("; "))
}
