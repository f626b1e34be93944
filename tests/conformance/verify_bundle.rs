//! Verification of the Sigstore-bundle and attestation fixtures: the v0.3 bundle with SET,
//! inclusion proof and checkpoint (and each tampered), grype's cosign CycloneDX attestation
//! (good, tampered, wrong key), and certificate identity rules on the keyless signature.

use crate::verify::{actor, cosign, ends, env, policy_accepting, show, Env, MITR};
use base64::Engine;
use dossier::analysis::verify::{Kind, Outcome, TlogState};
use dossier::workflow::{self, verify as wv, ImportOptions};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// The v0.3 bundle's Fulcio leaf: SAN cody@soyland.com, issuer (1.3.6.1.4.1.57264.1.8)
/// https://github.com/login/oauth, as `openssl x509 -text` shows them.
pub(crate) const CODY: (&str, &str) = ("cody@soyland.com", "https://github.com/login/oauth");

pub(crate) fn bundle_env() -> Env {
    let mut e = env();
    e.policy = Some(policy_accepting(CODY.0, CODY.1));
    e.trust(&cosign("cosign_trusted_root_pgi.json"), "root-ca");
    e
}

fn tampered_bundle(f: impl Fn(&mut serde_json::Value)) -> Vec<u8> {
    let mut v: serde_json::Value = serde_json::from_slice(
        &std::fs::read(cosign("cosign_oci-attestation.sigstore.json")).unwrap(),
    )
    .unwrap();
    f(&mut v["verificationMaterial"]["tlogEntries"][0]);
    serde_json::to_vec(&v).unwrap()
}

fn flip_b64(s: &str) -> String {
    let mut b = B64.decode(s).unwrap();
    b[0] ^= 0x01;
    B64.encode(b)
}

#[test]
#[ignore = "needs ../shared/fixtures"]
fn v03_bundle_verifies_with_set_proof_and_checkpoint_and_each_tamper_is_rejected() {
    let mut e = bundle_env();
    e.put(
        &cosign("cosign_oci-attestation.sigstore.json"),
        "b.sigstore.json",
    );
    let rs = e.verify_work();
    let r = ends(&rs, "b.sigstore.json");
    assert_eq!(
        (r.kind, r.outcome, r.tlog),
        (Kind::Bundle, Outcome::Verified, TlogState::Verified),
        "{}",
        show(&rs)
    );
    assert_eq!(
        r.predicate_type.as_deref(),
        Some("https://cosign.sigstore.dev/attestation/v1")
    );
    assert!(
        r.detail.contains("SET")
            && r.detail.contains("inclusion proof")
            && r.detail.contains("checkpoint"),
        "{}",
        r.detail
    );

    type Tamper = fn(&mut serde_json::Value);
    let cases: [(&str, Tamper); 3] = [
        ("SET", |t| {
            let s = flip_b64(
                t["inclusionPromise"]["signedEntryTimestamp"]
                    .as_str()
                    .unwrap(),
            );
            t["inclusionPromise"]["signedEntryTimestamp"] = s.into();
        }),
        ("inclusion proof", |t| {
            let s = flip_b64(t["inclusionProof"]["hashes"][0].as_str().unwrap());
            t["inclusionProof"]["hashes"][0] = s.into();
        }),
        ("checkpoint", |t| {
            let c = t["inclusionProof"]["checkpoint"]["envelope"]
                .as_str()
                .unwrap()
                .replacen("rekor.sigstore.dev", "rekor.sigstore.dew", 1);
            t["inclusionProof"]["checkpoint"]["envelope"] = c.into();
        }),
    ];
    for (what, f) in cases {
        let mut e = bundle_env();
        e.write("b.sigstore.json", &tampered_bundle(f));
        let rs = e.verify_work();
        assert_eq!(
            ends(&rs, "b.sigstore.json").tlog,
            TlogState::Invalid,
            "tampered {what}:\n{}",
            show(&rs)
        );
    }
}

#[test]
#[ignore = "needs ../shared/fixtures"]
fn grype_cyclonedx_attestation_good_tampered_and_wrong_key() {
    let mut e = env();
    e.trust(&cosign("grype_cosign.pub"), "pipeline-signer");
    e.put(&cosign("grype_alpine.cdx.att.json"), "att.json");
    let rs = e.verify_work();
    assert_eq!(
        (rs[0].kind, rs[0].outcome),
        (Kind::Attestation, Outcome::Verified),
        "{}",
        show(&rs)
    );
    assert_eq!(
        rs[0].predicate_type.as_deref(),
        Some("https://cyclonedx.org/bom")
    );

    let mut e = env();
    e.trust(&cosign("grype_cosign.pub"), "pipeline-signer");
    e.put(&cosign("grype_alpine-tampered.cdx.att.json"), "att.json");
    assert_eq!(e.verify_work()[0].outcome, Outcome::BadSignature);

    let mut e = env();
    e.trust(&cosign("grype_another_cosign.pub"), "pipeline-signer");
    e.put(&cosign("grype_alpine.cdx.att.json"), "att.json");
    assert_eq!(e.verify_work()[0].outcome, Outcome::BadSignature);
}

#[test]
#[ignore = "needs ../shared/fixtures"]
fn keyless_identity_rules_from_the_policy_accept_the_signer_and_refuse_others() {
    use dossier::analysis::policy::Policy;
    let mut e = env();
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
    let w = e.work.clone();
    let rep = workflow::import_paths(
        &mut e.store,
        &[w],
        &ImportOptions::default(),
        &actor(),
        &mut |_| {},
    )
    .unwrap();
    let id = rep.sets[0].id;
    let outcome = |e: &mut Env, p: &Policy| {
        let out = wv::verify_set_with(&mut e.store, id, &actor(), p).unwrap();
        let r = ends(&out.results, "signature-1");
        assert_eq!(out.policy, format!("{} sha256:{}", p.name, p.sha256));
        (r.outcome, r.detail)
    };
    // The SAN and issuer PROVENANCE.md and the certificate record.
    let (o, d) = outcome(&mut e, &policy_accepting(MITR.0, MITR.1));
    assert_eq!(o, Outcome::Verified, "{d}");
    let (o, d) = outcome(
        &mut e,
        &policy_accepting("*@redhat.com", "https://github.com/*"),
    );
    assert_eq!(o, Outcome::Verified, "{d}");
    // Wrong subject, wrong issuer: the certificate still chains, but is not accepted.
    let (o, d) = outcome(&mut e, &policy_accepting("*@example.mil", MITR.1));
    assert_eq!(o, Outcome::UntrustedKey, "{d}");
    assert!(
        d.contains("mitr@redhat.com (issuer https://github.com/login/oauth) matches none"),
        "{d}"
    );
    let (o, d) = outcome(
        &mut e,
        &policy_accepting(MITR.0, "https://accounts.google.com"),
    );
    assert_eq!(o, Outcome::UntrustedKey, "{d}");
    // The embedded default names no signer: refused, and the detail says so.
    let (o, d) = outcome(&mut e, &Policy::default_policy());
    assert_eq!(o, Outcome::UntrustedKey, "{d}");
    assert!(d.contains("has no [[signature.identities]] rule"), "{d}");
    // The stored run is the last one, with the policy that applied.
    let run = e.store.verification_results(id).unwrap().unwrap();
    assert_eq!(
        run.policy.as_deref(),
        Some(format!("program-default sha256:{}", Policy::default_policy().sha256).as_str())
    );
    // A broken policy is a clear error naming the file, the rule and the key.
    let bad = format!(
        "{}\n[[signature.identities]]\nsubject = \"mitr@redhat.com\"\nissuer = \"github\"\n",
        dossier::analysis::policy::DEFAULT_POLICY
    );
    let err = Policy::parse(bad.as_bytes(), "bad.toml")
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("policy bad.toml line ") && err.contains("signature.identities[0].issuer"),
        "{err}"
    );
}
