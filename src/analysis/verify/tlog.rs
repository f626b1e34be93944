//! Transparency-log entries attached to a signature (the cosign bundle annotation, a
//! Sigstore bundle's tlogEntries, a loose RekorBundle): SET, inclusion proof, checkpoint,
//! and the binding of the logged body to this very signature, all with trusted Rekor keys.

use super::{b64, Ctx, Role, TlogState};
use crate::crypto::cert::Certificate;
use crate::crypto::{pubkey::pem_blocks, rekor, PublicKey};
use base64::Engine;
use serde_json::Value;

#[derive(Debug, Clone)]
pub(crate) struct Proof {
    pub log_index: u64,
    pub tree_size: u64,
    pub root_hash: Vec<u8>,
    pub hashes: Vec<Vec<u8>>,
    pub checkpoint: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// The body as the base64 text the SET signs.
    pub body_b64: String,
    pub body: Vec<u8>,
    pub integrated_time: i64,
    pub log_id_hex: String,
    pub log_index: i64,
    pub set: Option<Vec<u8>>,
    pub proof: Option<Proof>,
}

/// What the logged body must name for it to be this signature's entry.
#[derive(Debug, Clone, Default)]
pub(crate) struct Binding {
    /// sha256 of the signed bytes (hashedrekord, rekord), or the signed digest itself.
    pub signed_sha256: Option<[u8; 32]>,
    /// sha256 of a DSSE payload (intoto, dsse).
    pub payload_sha256: Option<[u8; 32]>,
    /// sha256 of the DSSE envelope as stored (intoto 0.0.1).
    pub envelope_sha256: Option<[u8; 32]>,
}

pub(crate) struct TlogResult {
    pub state: TlogState,
    pub integrated_time: Option<i64>,
    pub detail: String,
}

/// Legacy cosign RekorBundle: `{"SignedEntryTimestamp", "Payload":{body, integratedTime, logIndex, logID}}`.
pub(crate) fn from_rekor_bundle(v: &Value) -> Result<Entry, String> {
    let p = v.get("Payload").ok_or("RekorBundle without Payload")?;
    let body_b64 = p
        .get("body")
        .and_then(Value::as_str)
        .ok_or("RekorBundle Payload.body is not a string")?;
    Ok(Entry {
        body: b64(body_b64).ok_or("RekorBundle body is not base64")?,
        body_b64: body_b64.to_string(),
        integrated_time: int(p.get("integratedTime"))
            .ok_or("RekorBundle integratedTime is not a number")?,
        log_id_hex: p
            .get("logID")
            .and_then(Value::as_str)
            .ok_or("RekorBundle logID missing")?
            .to_ascii_lowercase(),
        log_index: int(p.get("logIndex")).ok_or("RekorBundle logIndex is not a number")?,
        set: v
            .get("SignedEntryTimestamp")
            .and_then(Value::as_str)
            .and_then(b64),
        proof: None,
    })
}

/// A Sigstore bundle `TransparencyLogEntry` (int64 as strings, bytes as base64).
pub(crate) fn from_bundle_entry(v: &Value) -> Result<Entry, String> {
    let body = v
        .get("canonicalizedBody")
        .and_then(Value::as_str)
        .and_then(b64)
        .ok_or("tlog entry without canonicalizedBody")?;
    let log_id = v
        .pointer("/logId/keyId")
        .and_then(Value::as_str)
        .and_then(b64)
        .ok_or("tlog entry without logId.keyId")?;
    let proof = match v.get("inclusionProof").filter(|p| !p.is_null()) {
        Some(p) => Some(Proof {
            log_index: int(p.get("logIndex"))
                .and_then(|i| u64::try_from(i).ok())
                .ok_or("inclusionProof.logIndex")?,
            tree_size: int(p.get("treeSize"))
                .and_then(|i| u64::try_from(i).ok())
                .ok_or("inclusionProof.treeSize")?,
            root_hash: p
                .get("rootHash")
                .and_then(Value::as_str)
                .and_then(b64)
                .ok_or("inclusionProof.rootHash")?,
            hashes: p
                .get("hashes")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(|h| h.as_str().and_then(b64)).collect())
                .unwrap_or_default(),
            checkpoint: p
                .pointer("/checkpoint/envelope")
                .and_then(Value::as_str)
                .map(str::to_string),
        }),
        None => None,
    };
    Ok(Entry {
        body_b64: base64::engine::general_purpose::STANDARD.encode(&body),
        body,
        integrated_time: int(v.get("integratedTime")).ok_or("tlog entry integratedTime")?,
        log_id_hex: hex::encode(log_id),
        log_index: int(v.get("logIndex")).ok_or("tlog entry logIndex")?,
        set: v
            .pointer("/inclusionPromise/signedEntryTimestamp")
            .and_then(Value::as_str)
            .and_then(b64),
        proof,
    })
}

fn int(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// Public keys the logged bodies name (candidates for "signed by an untrusted key").
pub(crate) fn body_keys(entries: &[Entry]) -> Vec<PublicKey> {
    let mut out = Vec::new();
    for e in entries {
        let Ok(v) = serde_json::from_slice::<Value>(&e.body) else {
            continue;
        };
        for pem in body_pems(&v) {
            if let Ok(k) = PublicKey::from_pem(&pem) {
                out.push(k);
            }
        }
    }
    out
}

fn body_pems(v: &Value) -> Vec<String> {
    let mut raw: Vec<&str> = Vec::new();
    for p in ["/spec/signature/publicKey/content", "/spec/publicKey"] {
        if let Some(s) = v.pointer(p).and_then(Value::as_str) {
            raw.push(s);
        }
    }
    for p in ["/spec/content/envelope/signatures", "/spec/signatures"] {
        for s in v.pointer(p).and_then(Value::as_array).into_iter().flatten() {
            for k in ["publicKey", "verifier"] {
                if let Some(x) = s.get(k).and_then(Value::as_str) {
                    raw.push(x);
                }
            }
        }
    }
    raw.into_iter()
        .filter_map(b64)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .collect()
}

fn spki_of_pem(pem: &str) -> Option<Vec<u8>> {
    let blocks = pem_blocks(pem).ok()?;
    let (label, der) = blocks.first()?;
    match label.as_str() {
        "PUBLIC KEY" => Some(der.clone()),
        "CERTIFICATE" => Certificate::from_der(der).ok().map(|c| c.spki),
        _ => None,
    }
}

fn bind(body: &[u8], b: &Binding, key: Option<&PublicKey>, sig: &[u8]) -> Result<(), String> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| format!("log entry body is not JSON: {e}"))?;
    let kind = v.get("kind").and_then(Value::as_str).unwrap_or("");
    let version = v.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let hexv = |p: &str| {
        v.pointer(p)
            .and_then(Value::as_str)
            .map(str::to_ascii_lowercase)
    };
    let want = |h: Option<[u8; 32]>| h.map(hex::encode);
    let sig_eq = |s: Option<Vec<u8>>| s.as_deref() == Some(sig);
    match kind {
        "hashedrekord" | "rekord" => {
            let logged = hexv("/spec/data/hash/value");
            if logged.is_none() || logged != want(b.signed_sha256) {
                return Err(format!("the {kind} entry logs another artifact hash"));
            }
            if !sig_eq(
                v.pointer("/spec/signature/content")
                    .and_then(Value::as_str)
                    .and_then(b64),
            ) {
                return Err(format!("the {kind} entry logs another signature"));
            }
        }
        "intoto" if version == "0.0.1" => {
            let env = hexv("/spec/content/hash/value");
            let pay = hexv("/spec/content/payloadHash/value");
            let ok = (env.is_some() && env == want(b.envelope_sha256))
                || (pay.is_some() && pay == want(b.payload_sha256));
            if !ok {
                return Err("the intoto entry logs another envelope".into());
            }
        }
        "intoto" => {
            if hexv("/spec/content/payloadHash/value")
                .is_none_or(|p| Some(p) != want(b.payload_sha256))
            {
                return Err("the intoto entry logs another payload".into());
            }
            let sigs = v
                .pointer("/spec/content/envelope/signatures")
                .and_then(Value::as_array);
            // intoto 0.0.2 double-encodes: base64 of the base64 signature text.
            let any = sigs.into_iter().flatten().any(|s| {
                sig_eq(
                    s.get("sig")
                        .and_then(Value::as_str)
                        .and_then(b64)
                        .and_then(|t| b64(&String::from_utf8_lossy(&t))),
                )
            });
            if !any {
                return Err("the intoto entry logs another signature".into());
            }
        }
        "dsse" => {
            if hexv("/spec/payloadHash/value").is_none_or(|p| Some(p) != want(b.payload_sha256)) {
                return Err("the dsse entry logs another payload".into());
            }
            let sigs = v.pointer("/spec/signatures").and_then(Value::as_array);
            if !sigs
                .into_iter()
                .flatten()
                .any(|s| sig_eq(s.get("signature").and_then(Value::as_str).and_then(b64)))
            {
                return Err("the dsse entry logs another signature".into());
            }
        }
        other => return Err(format!("log entry of unsupported kind '{other}' {version}")),
    }
    if let Some(k) = key {
        let named: Vec<Vec<u8>> = body_pems(&v)
            .iter()
            .filter_map(|p| spki_of_pem(p))
            .collect();
        if !named.is_empty() && !named.iter().any(|s| s.as_slice() == k.spki_der()) {
            return Err("the log entry names a different signing key".into());
        }
    }
    Ok(())
}

fn check_one(
    ctx: &Ctx<'_>,
    e: &Entry,
    b: &Binding,
    key: Option<&PublicKey>,
    sig: &[u8],
) -> (TlogState, String) {
    // A log key only vouches for entries integrated inside its validFor window.
    let rekor_keys: Vec<&PublicKey> = ctx
        .input
        .trust
        .by_role(Role::Rekor)
        .filter(|t| t.valid_for.contains(e.integrated_time))
        .map(|t| &t.key)
        .collect();
    let Some(key_for_log) = ctx
        .input
        .trust
        .by_role(Role::Rekor)
        .find(|t| t.fingerprint == e.log_id_hex)
    else {
        return (
            TlogState::NotChecked,
            format!("no trusted Rekor key for log id {}", e.log_id_hex),
        );
    };
    if !key_for_log.valid_for.contains(e.integrated_time) {
        return (
            TlogState::Invalid,
            format!(
                "trusted Rekor key '{}' is valid {}; the entry's integrated time {} is outside it",
                key_for_log.name,
                key_for_log.valid_for.describe(),
                super::when(e.integrated_time)
            ),
        );
    }
    if e.set.is_none() && e.proof.is_none() {
        return (
            TlogState::NotChecked,
            "log entry has neither a SET nor an inclusion proof".into(),
        );
    }
    let mut done = Vec::new();
    if let Some(set) = &e.set {
        if let Err(m) = rekor::verify_set(
            &key_for_log.key,
            &e.body_b64,
            e.integrated_time,
            &e.log_id_hex,
            e.log_index,
            set,
        ) {
            return (TlogState::Invalid, m);
        }
        done.push("SET");
    }
    if let Some(p) = &e.proof {
        let leaf = rekor::leaf_hash(&e.body);
        if let Err(m) =
            rekor::verify_inclusion(p.log_index, p.tree_size, leaf, &p.hashes, &p.root_hash)
        {
            return (TlogState::Invalid, m);
        }
        done.push("inclusion proof");
        if let Some(cp) = &p.checkpoint {
            match rekor::verify_checkpoint(cp, &rekor_keys) {
                Ok(c) if c.tree_size == p.tree_size && c.root_hash == p.root_hash => {
                    done.push("checkpoint")
                }
                Ok(_) => {
                    return (
                        TlogState::Invalid,
                        "checkpoint names another tree size or root hash than the proof".into(),
                    )
                }
                Err(m) => return (TlogState::Invalid, m),
            }
        }
    }
    if let Err(m) = bind(&e.body, b, key, sig) {
        return (TlogState::Invalid, m);
    }
    (
        TlogState::Verified,
        format!(
            "Rekor {} verified with trusted key '{}'",
            done.join(" + "),
            key_for_log.name
        ),
    )
}

/// The log state of a signature: `absent` without entries, else the best entry's state.
pub(crate) fn check(
    ctx: &Ctx<'_>,
    entries: &[Entry],
    b: &Binding,
    key: Option<&PublicKey>,
    sig: &[u8],
) -> TlogResult {
    if entries.is_empty() {
        return TlogResult {
            state: TlogState::Absent,
            integrated_time: None,
            detail: "no transparency-log proof".into(),
        };
    }
    let mut worst: Option<(TlogState, String)> = None;
    for e in entries {
        let (state, detail) = check_one(ctx, e, b, key, sig);
        if state == TlogState::Verified {
            return TlogResult {
                state,
                integrated_time: Some(e.integrated_time),
                detail,
            };
        }
        if worst.as_ref().is_none_or(|(s, _)| *s != TlogState::Invalid) {
            worst = Some((state, detail));
        }
    }
    let (state, detail) = worst.unwrap_or((TlogState::NotChecked, String::new()));
    TlogResult {
        state,
        integrated_time: None,
        detail,
    }
}
