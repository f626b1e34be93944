//! Certificate signatures against the policy: identity rules (subject and issuer globs),
//! the SCT requirement, validFor windows of trusted roots, and junk material (chain loop,
//! wrong curve, malformed or oversized signatures). The PKI is tests/fixtures/verify.

use super::*;
use crate::crypto::privkey::PrivateKey;
use base64::Engine;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;
const IMAGE: &str = "sha256:52c1fa53b306f09e32761cfbffae79ceedad6482dec55cdd472de220f41c145b";
const ROOT: &str = include_str!("../../../tests/fixtures/verify/test-root.pem");
const INTER: &str = include_str!("../../../tests/fixtures/verify/test-intermediate.pem");
const LEAF: &str = include_str!("../../../tests/fixtures/verify/test-leaf.pem");
const LEAF_KEY: &str = include_str!("../../../tests/fixtures/verify/test-leaf.test-only-key.pem");
const LOOP: &str = include_str!("../../../tests/fixtures/hostile/loop-a.pem");
const K1: &str = include_str!("../../../tests/fixtures/hostile/secp256k1-leaf.pem");
/// 2030-03-17: inside the test leaf's validity (2026-11-27 .. 2126-11-03).
const NOW: i64 = 1_900_000_000;

fn file(path: &str, format: &str, bytes: &[u8]) -> EvidenceFile {
    EvidenceFile {
        path: path.into(),
        format: format.into(),
        sha256: hex::encode(sha256(bytes)),
        bytes: bytes.to_vec(),
    }
}

fn payload() -> Vec<u8> {
    format!(
        r#"{{"critical":{{"identity":{{"docker-reference":"reg.example/app"}},"image":{{"docker-manifest-digest":"{IMAGE}"}},"type":"cosign container image signature"}},"optional":null}}"#
    )
    .into_bytes()
}

/// A `.sig` manifest whose one layer carries `sig` and the given certificate annotations.
fn sig_files(sig: &[u8], cert: Option<&str>, chain: Option<&str>) -> Vec<EvidenceFile> {
    let p = payload();
    let mut ann = serde_json::json!({"dev.cosignproject.cosign/signature": B64.encode(sig)});
    if let Some(c) = cert {
        ann["dev.sigstore.cosign/certificate"] = c.into();
    }
    if let Some(c) = chain {
        ann["dev.sigstore.cosign/chain"] = c.into();
    }
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "layers": [{"mediaType": "application/vnd.dev.cosign.simplesigning.v1+json",
                    "digest": format!("sha256:{}", hex::encode(sha256(&p))), "size": p.len(),
                    "annotations": ann}],
    });
    vec![
        file(
            "sig/manifest.json",
            "oci-manifest",
            &serde_json::to_vec(&manifest).unwrap(),
        ),
        file("blobs/layer", "cosign-simple-signing", &p),
    ]
}

fn leaf_signature() -> Vec<u8> {
    PrivateKey::from_pem("leaf", LEAF_KEY, None)
        .unwrap()
        .sign(&payload())
}

fn root_trust(window: ValidFor) -> Trust {
    let c = Certificate::from_pem_chain(ROOT).unwrap().remove(0);
    let key = c.public_key().unwrap();
    Trust {
        entries: vec![TrustedEntry {
            id: 1,
            name: "test-root".into(),
            role: Role::RootCa,
            fingerprint: key.fingerprint(),
            key,
            cert: Some(c),
            valid_for: window,
        }],
    }
}

fn rule(subject: &str, issuer: &str) -> IdentityRule {
    IdentityRule {
        subject: subject.into(),
        issuer: issuer.into(),
    }
}

fn run(files: &[EvidenceFile], trust: &Trust, pol: &CertPolicy) -> VerificationResult {
    let rep = verify(&VerifyInput {
        files,
        set_digest: Some(IMAGE),
        trust,
        now: NOW,
        cert_policy: pol,
    });
    assert_eq!(rep.results.len(), 1, "{:?}", rep.results);
    rep.results[0].clone()
}

fn policy(rules: Vec<IdentityRule>, sct_required: bool) -> CertPolicy {
    CertPolicy {
        identities: rules,
        sct_required,
        source: "policy 't' (t.toml)".into(),
    }
}

fn keyless(pol: &CertPolicy, window: ValidFor) -> VerificationResult {
    let files = sig_files(&leaf_signature(), Some(LEAF), Some(INTER));
    run(&files, &root_trust(window), pol)
}

#[test]
fn a_matching_identity_rule_verifies_the_certificate_signature() {
    let r = keyless(
        &policy(
            vec![
                rule("someone-else@example.mil", "*"),
                rule("release-bot@build.example.mil", "https://idp.example.mil"),
            ],
            false,
        ),
        ValidFor::default(),
    );
    assert_eq!(r.outcome, Outcome::Verified, "{}", r.detail);
    assert!(
        r.detail.contains("subject 'release-bot@build.example.mil'"),
        "{}",
        r.detail
    );
    // OpenSSL cannot embed an SCT: the state says so, and the policy does not require one.
    assert_eq!(r.sct, Some(SctState::Absent));
    assert_eq!(
        r.key_name.as_deref(),
        Some("release-bot@build.example.mil (issuer https://idp.example.mil)")
    );
    let glob = keyless(
        &policy(vec![rule("*@build.example.mil", "https://idp.*")], false),
        ValidFor::default(),
    );
    assert_eq!(glob.outcome, Outcome::Verified, "{}", glob.detail);
}

#[test]
fn a_wrong_subject_or_issuer_is_untrusted_key_naming_the_identity() {
    for pol in [
        policy(vec![rule("release-bot@other.example.mil", "*")], false),
        policy(
            vec![rule(
                "release-bot@build.example.mil",
                "https://accounts.google.com",
            )],
            false,
        ),
    ] {
        let r = keyless(&pol, ValidFor::default());
        assert_eq!(r.outcome, Outcome::UntrustedKey, "{}", r.detail);
        assert!(
            r.detail.contains("release-bot@build.example.mil (issuer https://idp.example.mil) matches none of the 1 identity rule(s) of policy 't'"),
            "{}",
            r.detail
        );
    }
}

#[test]
fn without_identity_rules_no_certificate_is_accepted_and_the_detail_says_why() {
    let r = keyless(&policy(Vec::new(), false), ValidFor::default());
    assert_eq!(r.outcome, Outcome::UntrustedKey, "{}", r.detail);
    assert!(
        r.detail.contains("chains to a trusted root-ca"),
        "{}",
        r.detail
    );
    assert!(
        r.detail
            .contains("policy 't' (t.toml) has no [[signature.identities]] rule"),
        "{}",
        r.detail
    );
}

#[test]
fn a_required_sct_that_is_absent_makes_it_untrusted() {
    let r = keyless(
        &policy(vec![rule("release-bot@build.example.mil", "*")], true),
        ValidFor::default(),
    );
    assert_eq!(r.outcome, Outcome::UntrustedKey, "{}", r.detail);
    assert_eq!(r.sct, Some(SctState::Absent));
    assert!(r.detail.contains("requires a verified SCT"), "{}", r.detail);
}

#[test]
fn a_root_outside_its_valid_for_window_is_not_used() {
    let pol = policy(vec![rule("release-bot@build.example.mil", "*")], false);
    // The window ends one second before the signature time.
    let r = keyless(
        &pol,
        ValidFor {
            start: None,
            end: Some(NOW - 1),
        },
    );
    assert_eq!(r.outcome, Outcome::UntrustedKey, "{}", r.detail);
    assert!(
        r.detail.contains("no trusted root-ca is valid at"),
        "{}",
        r.detail
    );
    assert!(
        r.detail
            .contains("'test-root' valid (any time) .. 2030-03-17T17:46:39Z"),
        "{}",
        r.detail
    );
    let r = keyless(
        &pol,
        ValidFor {
            start: Some(NOW - 10),
            end: Some(NOW + 10),
        },
    );
    assert_eq!(r.outcome, Outcome::Verified, "{}", r.detail);
}

#[test]
fn a_certificate_chain_loop_is_unverifiable_naming_the_loop() {
    let sig = leaf_signature();
    let files = sig_files(&sig, Some(LOOP), Some(LOOP));
    let r = run(
        &files,
        &root_trust(ValidFor::default()),
        &policy(vec![rule("*", "*")], false),
    );
    assert_eq!(r.outcome, Outcome::Unverifiable, "{}", r.detail);
    assert!(
        r.detail
            .contains("certificate chain loops (CN=loop-A -> CN=loop-B -> CN=loop-A)"),
        "{}",
        r.detail
    );
}

#[test]
fn a_certificate_on_a_curve_we_do_not_accept_is_unverifiable_naming_it() {
    let files = sig_files(&leaf_signature(), Some(K1), None);
    let r = run(
        &files,
        &root_trust(ValidFor::default()),
        &policy(vec![rule("*", "*")], false),
    );
    assert_eq!(r.outcome, Outcome::Unverifiable, "{}", r.detail);
    assert!(
        r.detail.contains("EC curve secp256k1 (1.3.132.0.10)"),
        "{}",
        r.detail
    );
}

#[test]
fn truncated_and_oversized_signatures_are_unverifiable_before_any_key_is_tried() {
    let mut sig = leaf_signature();
    sig.truncate(sig.len() - 6);
    let files = sig_files(&sig, None, None);
    let r = run(&files, &Trust::default(), &CertPolicy::default());
    assert_eq!(r.outcome, Outcome::Unverifiable, "{}", r.detail);
    assert!(
        r.detail.contains("not a well-formed DER ECDSA-Sig-Value"),
        "{}",
        r.detail
    );

    let big = vec![0x30u8; MAX_SIGNATURE_BYTES + 1];
    let files = sig_files(&big, None, None);
    let r = run(&files, &Trust::default(), &CertPolicy::default());
    assert_eq!(r.outcome, Outcome::Unverifiable, "{}", r.detail);
    assert!(
        r.detail.contains(&format!(
            "signature of {} bytes exceeds the max-signature-bytes limit ({MAX_SIGNATURE_BYTES})",
            MAX_SIGNATURE_BYTES + 1
        )),
        "{}",
        r.detail
    );
}

#[test]
fn glob_is_literal_except_for_star() {
    assert!(glob("a*c", "abbbc"));
    assert!(glob("*", ""));
    assert!(glob("a.c", "a.c"));
    assert!(!glob("a.c", "abc"));
    assert!(!glob("a?c", "abc"));
    assert!(glob(
        "https://github.com/org/*@refs/heads/main",
        "https://github.com/org/repo/.github/workflows/r.yml@refs/heads/main"
    ));
    assert!(!glob(
        "https://github.com/org/*@refs/heads/main",
        "https://github.com/org/repo/.github/workflows/r.yml@refs/heads/dev"
    ));
    // Many stars against a long non-matching name: no exponential backtracking.
    let p = "*a".repeat(2000);
    let s = "a".repeat(1999);
    assert!(!glob(&p, &s));
}
