//! Verification of the Sigstore-bundle and attestation fixtures: the v0.3 bundle with SET,
//! inclusion proof and checkpoint (and each tampered), grype's cosign CycloneDX attestation
//! (good, tampered, wrong key), and certificate identity rules on the keyless signature.

use crate::verify::{actor, cosign, ends, env, show, Env};
use base64::Engine;
use dossier::analysis::verify::{Kind, Outcome, TlogState};
use dossier::workflow::{self, verify as wv, ImportOptions};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

fn bundle_env() -> Env {
    let mut e = env();
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
#[ignore]
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
#[ignore]
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
#[ignore]
fn keyless_identity_constraints_accept_the_signer_and_refuse_others() {
    use dossier::analysis::verify::IdentityRule;
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
    // The SAN PROVENANCE.md records for this leaf.
    let ok = [IdentityRule {
        subject: "mitr@redhat.com".into(),
        issuer: None,
    }];
    let out = wv::verify_set_with(&mut e.store, id, &actor(), &ok).unwrap();
    assert_eq!(
        ends(&out.results, "signature-1").outcome,
        Outcome::Verified,
        "{}",
        show(&out.results)
    );
    let other = [IdentityRule {
        subject: "*@example.mil".into(),
        issuer: None,
    }];
    let out = wv::verify_set_with(&mut e.store, id, &actor(), &other).unwrap();
    assert_eq!(
        ends(&out.results, "signature-1").outcome,
        Outcome::UntrustedKey,
        "{}",
        show(&out.results)
    );
}
