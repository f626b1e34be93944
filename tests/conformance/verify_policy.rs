//! Policy-driven certificate checks on the real Sigstore fixtures: embedded SCTs verified
//! offline with the trusted_root.json ctlog keys, the `sct_required` knob, and validFor
//! windows of Rekor keys, Fulcio CAs and CT logs (a window that excludes the log time).

use crate::verify::{cosign, ends, env, policy_accepting, show, Env, MITR};
use crate::verify_bundle::{bundle_env, CODY};
use base64::Engine;
use dossier::analysis::policy::DEFAULT_POLICY;
use dossier::analysis::verify::{Outcome, SctState, TlogState};
use serde_json::Value;
use std::path::PathBuf;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

fn bundle() -> Value {
    serde_json::from_slice(&std::fs::read(cosign("cosign_oci-attestation.sigstore.json")).unwrap())
        .unwrap()
}

/// The bundle's integrated time, read here from the raw JSON (int64 as a string).
fn integrated_time() -> i64 {
    bundle()["verificationMaterial"]["tlogEntries"][0]["integratedTime"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

fn rfc3339(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The public-good trusted root with `f` applied, written beside (not into) the evidence.
fn trusted_root_with(e: &Env, f: impl Fn(&mut Value)) -> PathBuf {
    let mut v: Value =
        serde_json::from_slice(&std::fs::read(cosign("cosign_trusted_root_pgi.json")).unwrap())
            .unwrap();
    f(&mut v);
    let p = e.work.parent().unwrap().join("trusted_root.json");
    std::fs::write(&p, serde_json::to_vec(&v).unwrap()).unwrap();
    p
}

fn with_bundle(e: Env) -> Env {
    e.put(
        &cosign("cosign_oci-attestation.sigstore.json"),
        "b.sigstore.json",
    );
    e
}

#[test]
#[ignore = "needs ../shared/fixtures"]
fn real_fulcio_scts_verify_with_the_trusted_ctlogs() {
    let mut e = with_bundle(bundle_env());
    let rs = e.verify_work();
    let r = ends(&rs, "b.sigstore.json");
    assert_eq!(r.outcome, Outcome::Verified, "{}", show(&rs));
    assert_eq!(r.sct, Some(SctState::Verified), "{}", r.detail);
    assert!(r.detail.contains("sct: verified"), "{}", r.detail);

    // The containers/image keyless signature (2023) also carries an SCT of the 2022 log.
    let mut e = env();
    e.policy = Some(policy_accepting(MITR.0, MITR.1));
    e.trust(&cosign("cosign_trusted_root_pgi.json"), "root-ca");
    e.put(
        &cosign("ci_dir-img-cosign-fulcio-rekor-valid_manifest.json"),
        "manifest.json",
    );
    e.put(
        &cosign("ci_dir-img-cosign-fulcio-rekor-valid_signature-1"),
        "signature-1",
    );
    let rs = e.verify_work();
    let r = ends(&rs, "signature-1");
    assert_eq!(
        (r.outcome, r.tlog, r.sct),
        (
            Outcome::Verified,
            TlogState::Verified,
            Some(SctState::Verified)
        ),
        "{}",
        show(&rs)
    );
}

#[test]
#[ignore = "needs ../shared/fixtures"]
fn without_ctlog_keys_the_sct_is_not_checked_and_a_policy_may_require_it() {
    let setup = |required: bool| {
        let mut e = env();
        let mut p = policy_accepting(MITR.0, MITR.1);
        if required {
            let text = format!(
                "{}\n[[signature.identities]]\nsubject = \"{}\"\nissuer = \"{}\"\n",
                DEFAULT_POLICY.replace("sct_required = false", "sct_required = true"),
                MITR.0,
                MITR.1
            );
            p = dossier::analysis::policy::Policy::parse(text.as_bytes(), "req.toml").unwrap();
            assert!(p.sct_required);
        }
        e.policy = Some(p);
        e.trust(&cosign("ci_fulcio_v1.crt.pem"), "root-ca");
        e.trust(&cosign("ci_rekor.pub"), "rekor");
        e.put(
            &cosign("ci_dir-img-cosign-fulcio-rekor-valid_manifest.json"),
            "manifest.json",
        );
        e.put(
            &cosign("ci_dir-img-cosign-fulcio-rekor-valid_signature-1"),
            "signature-1",
        );
        let rs = e.verify_work();
        ends(&rs, "signature-1")
    };
    let r = setup(false);
    assert_eq!(r.outcome, Outcome::Verified, "{}", r.detail);
    assert_eq!(r.sct, Some(SctState::NotChecked), "{}", r.detail);
    assert!(r.detail.contains("no trusted ctlog key"), "{}", r.detail);
    let r = setup(true);
    assert_eq!(r.outcome, Outcome::UntrustedKey, "{}", r.detail);
    assert!(r.detail.contains("requires a verified SCT"), "{}", r.detail);
}

#[test]
#[ignore = "needs ../shared/fixtures"]
fn the_sct_signature_covers_the_issuer_key_and_the_timestamp() {
    use dossier::crypto::{cert::Certificate, sct, PublicKey};
    let v = bundle();
    let leaf = B64
        .decode(
            v["verificationMaterial"]["certificate"]["rawBytes"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
    let tr: Value =
        serde_json::from_slice(&std::fs::read(cosign("cosign_trusted_root_pgi.json")).unwrap())
            .unwrap();
    // The intermediate is the first certificate of the current Fulcio CA chain.
    let ca = tr["certificateAuthorities"]
        .as_array()
        .unwrap()
        .last()
        .unwrap();
    let inter_der = B64
        .decode(
            ca["certChain"]["certificates"][0]["rawBytes"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
    let root_der = B64
        .decode(
            ca["certChain"]["certificates"][1]["rawBytes"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
    let inter = Certificate::from_der(&inter_der).unwrap();
    let root = Certificate::from_der(&root_der).unwrap();
    let scts = sct::embedded(&leaf).unwrap();
    assert!(!scts.is_empty());
    let log_key = |s: &sct::Sct| {
        tr["ctlogs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                B64.decode(c["publicKey"]["rawBytes"].as_str().unwrap())
                    .unwrap()
            })
            .map(|d| PublicKey::from_spki_der(&d).unwrap())
            .find(|k| k.fingerprint() == hex::encode(s.log_id))
            .expect("a ctlog of the trusted root logged it")
    };
    let s = &scts[0];
    let k = log_key(s);
    assert_eq!(sct::verify(s, &k, &inter.spki, &leaf), Ok(()));
    // Another issuer key hash, or another timestamp, and the log's signature fails.
    assert!(sct::verify(s, &k, &root.spki, &leaf).is_err());
    let mut later = s.clone();
    later.timestamp_ms += 1;
    assert!(sct::verify(&later, &k, &inter.spki, &leaf).is_err());
}

#[test]
#[ignore = "needs ../shared/fixtures"]
fn trusted_root_windows_that_exclude_the_log_time_are_not_used() {
    let t = integrated_time();
    let before = rfc3339(t - 3600);

    // Rekor key retired an hour before the entry was integrated: the entry is invalid.
    let mut e = env();
    e.policy = Some(policy_accepting(CODY.0, CODY.1));
    let tr = trusted_root_with(&e, |v| {
        v["tlogs"][0]["publicKey"]["validFor"]["end"] = before.clone().into();
    });
    e.trust(&tr, "root-ca");
    let mut e = with_bundle(e);
    let rs = e.verify_work();
    let r = ends(&rs, "b.sigstore.json");
    assert_eq!(r.tlog, TlogState::Invalid, "{}", show(&rs));
    assert!(r.detail.contains("is outside it"), "{}", r.detail);

    // Every Fulcio CA window ends before the log time: no root may vouch for the certificate.
    let mut e = env();
    e.policy = Some(policy_accepting(CODY.0, CODY.1));
    let tr = trusted_root_with(&e, |v| {
        for ca in v["certificateAuthorities"].as_array_mut().unwrap() {
            ca["validFor"]["end"] = before.clone().into();
        }
    });
    e.trust(&tr, "root-ca");
    let mut e = with_bundle(e);
    let rs = e.verify_work();
    let r = ends(&rs, "b.sigstore.json");
    assert_eq!(
        (r.outcome, r.tlog),
        (Outcome::UntrustedKey, TlogState::Verified),
        "{}",
        show(&rs)
    );
    assert!(
        r.detail.contains("no trusted root-ca is valid at"),
        "{}",
        r.detail
    );

    // The CT log's window closed before the SCT was issued: the SCT is invalid, and is
    // reported so (not required by the default, so the signature still verifies).
    let mut e = env();
    e.policy = Some(policy_accepting(CODY.0, CODY.1));
    let tr = trusted_root_with(&e, |v| {
        for c in v["ctlogs"].as_array_mut().unwrap() {
            c["publicKey"]["validFor"]["end"] = before.clone().into();
        }
    });
    e.trust(&tr, "root-ca");
    let mut e = with_bundle(e);
    let rs = e.verify_work();
    let r = ends(&rs, "b.sigstore.json");
    assert_eq!(r.sct, Some(SctState::Invalid), "{}", show(&rs));
    assert_eq!(r.outcome, Outcome::Verified, "{}", r.detail);
}
