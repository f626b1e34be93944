//! Self-contained verification tests: keys made here from fixed scalars, payloads and
//! proofs built by hand from the specs (cosign simple signing, DSSE PAE, RFC 8785 SET,
//! RFC 9162 Merkle proofs, signed-note checkpoints).

use super::*;
use crate::crypto::rekor;
use base64::Engine;
use p256::ecdsa::{signature::Signer, SigningKey};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;
const IMAGE: &str = "sha256:52c1fa53b306f09e32761cfbffae79ceedad6482dec55cdd472de220f41c145b";
const OTHER: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";

pub(crate) fn signing_key(seed: u8) -> SigningKey {
    let mut s = [0u8; 32];
    s[31] = seed;
    s[0] = 1;
    SigningKey::from_slice(&s).unwrap()
}

/// SPKI DER of a P-256 key, assembled from RFC 5480's fixed prefix.
pub(crate) fn spki(sk: &SigningKey) -> Vec<u8> {
    let mut d = hex::decode("3059301306072a8648ce3d020106082a8648ce3d030107034200").unwrap();
    d.extend_from_slice(&sk.verifying_key().to_sec1_point(false).to_bytes());
    d
}

pub(crate) fn sign(sk: &SigningKey, msg: &[u8]) -> Vec<u8> {
    let s: p256::ecdsa::Signature = sk.sign(msg);
    s.to_der().as_bytes().to_vec()
}

fn entry(id: i64, name: &str, role: Role, sk: &SigningKey) -> TrustedEntry {
    let key = PublicKey::from_spki_der(&spki(sk)).unwrap();
    TrustedEntry {
        id,
        name: name.into(),
        role,
        fingerprint: key.fingerprint(),
        key,
        cert: None,
        valid_for: ValidFor::default(),
    }
}

fn file(path: &str, format: &str, bytes: &[u8]) -> EvidenceFile {
    EvidenceFile {
        path: path.into(),
        format: format.into(),
        sha256: hex::encode(sha256(bytes)),
        bytes: bytes.to_vec(),
    }
}

fn payload(digest: &str) -> Vec<u8> {
    format!(
        r#"{{"critical":{{"identity":{{"docker-reference":"reg.example/app"}},"image":{{"docker-manifest-digest":"{digest}"}},"type":"cosign container image signature"}},"optional":null}}"#
    )
    .into_bytes()
}

fn manifest(layer: &[u8], annotations: serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", "size": 2},
        "layers": [{"mediaType": "application/vnd.dev.cosign.simplesigning.v1+json", "digest": format!("sha256:{}", hex::encode(sha256(layer))), "size": layer.len(), "annotations": annotations}],
    }))
    .unwrap()
}

fn run(files: &[EvidenceFile], trust: &Trust) -> VerifyReport {
    verify(&VerifyInput {
        files,
        set_digest: Some(IMAGE),
        trust,
        now: 1_800_000_000,
        cert_policy: &CertPolicy::default(),
    })
}

fn signer_trust(sk: &SigningKey) -> Trust {
    Trust {
        entries: vec![entry(1, "pipeline", Role::PipelineSigner, sk)],
    }
}

fn sig_manifest_files(p: &[u8], sig: &[u8], extra: serde_json::Value) -> Vec<EvidenceFile> {
    let mut ann = serde_json::json!({"dev.cosignproject.cosign/signature": B64.encode(sig)});
    if let (Some(a), Some(e)) = (ann.as_object_mut(), extra.as_object()) {
        a.extend(e.clone());
    }
    vec![
        file("sig/manifest.json", "oci-manifest", &manifest(p, ann)),
        file("blobs/layer", "cosign-simple-signing", p),
    ]
}

#[test]
fn keyed_signature_with_trusted_key_is_verified_and_tlog_absent() {
    let sk = signing_key(1);
    let p = payload(IMAGE);
    let rep = run(
        &sig_manifest_files(&p, &sign(&sk, &p), serde_json::json!({})),
        &signer_trust(&sk),
    );
    assert_eq!(rep.results.len(), 1, "{rep:?}");
    let r = &rep.results[0];
    assert_eq!(
        (r.kind, r.outcome, r.tlog),
        (Kind::Signature, Outcome::Verified, TlogState::Absent),
        "{}",
        r.detail
    );
    assert_eq!(r.subject_digest.as_deref(), Some(IMAGE));
    assert_eq!(
        r.key_fingerprint.as_deref(),
        Some(sha256_hex(&spki(&sk)).as_str())
    );
    assert_eq!(r.key_name.as_deref(), Some("pipeline"));
}

fn sha256_hex(b: &[u8]) -> String {
    hex::encode(sha256(b))
}

#[test]
fn same_signature_with_an_unrelated_trusted_key_is_untrusted_when_the_evidence_key_made_it() {
    let (sk, other) = (signing_key(1), signing_key(2));
    let p = payload(IMAGE);
    let mut files = sig_manifest_files(&p, &sign(&sk, &p), serde_json::json!({}));
    let pem = PublicKey::from_spki_der(&spki(&sk)).unwrap().to_pem();
    files.push(file("sig/cosign.pub", "public-key", pem.as_bytes()));
    let rep = run(&files, &signer_trust(&other));
    assert_eq!(
        rep.results[0].outcome,
        Outcome::UntrustedKey,
        "{}",
        rep.results[0].detail
    );
    assert_eq!(rep.evidence_keys.len(), 1);
    assert!(!rep.evidence_keys[0].in_trust_store);
    // Without the evidence key nothing says who signed: a trusted key was tried and failed.
    let rep = run(&files[..2], &signer_trust(&other));
    assert_eq!(rep.results[0].outcome, Outcome::BadSignature);
    // With no trust at all, nothing is ever verified.
    let rep = run(&files, &Trust::default());
    assert_eq!(rep.results[0].outcome, Outcome::UntrustedKey);
}

#[test]
fn one_changed_payload_byte_is_a_bad_signature() {
    let sk = signing_key(1);
    let p = payload(IMAGE);
    let sig = sign(&sk, &p);
    let mut changed = p.clone();
    let i = changed.iter().position(|b| *b == b'r').unwrap();
    changed[i] = b'R';
    let rep = run(
        &sig_manifest_files(&changed, &sig, serde_json::json!({})),
        &signer_trust(&sk),
    );
    assert_eq!(rep.results[0].outcome, Outcome::BadSignature);
}

#[test]
fn payload_naming_another_digest_is_a_digest_mismatch() {
    let sk = signing_key(1);
    let p = payload(OTHER);
    let rep = run(
        &sig_manifest_files(&p, &sign(&sk, &p), serde_json::json!({})),
        &signer_trust(&sk),
    );
    assert_eq!(rep.results[0].outcome, Outcome::DigestMismatch);
    assert_eq!(rep.results[0].subject_digest.as_deref(), Some(OTHER));
}

#[test]
fn missing_signature_annotation_is_unverifiable_and_a_lone_payload_too() {
    let sk = signing_key(1);
    let p = payload(IMAGE);
    let files = vec![
        file(
            "m.json",
            "oci-manifest",
            &manifest(&p, serde_json::json!({"predicateType": "x"})),
        ),
        file("layer", "cosign-simple-signing", &p),
    ];
    let rep = run(&files, &signer_trust(&sk));
    assert_eq!(rep.results.len(), 1);
    assert_eq!(rep.results[0].outcome, Outcome::Unverifiable);
    assert!(rep.results[0]
        .detail
        .contains("dev.cosignproject.cosign/signature"));
    let rep = run(&files[1..], &signer_trust(&sk));
    assert_eq!(rep.results[0].outcome, Outcome::Unverifiable);
}

#[test]
fn detached_base64_signature_pairs_with_the_payload_beside_it() {
    let sk = signing_key(3);
    let p = payload(IMAGE);
    let sig = B64.encode(sign(&sk, &p));
    let files = vec![
        file("s/payload.json", "cosign-simple-signing", &p),
        file("s/signature.b64", "signature-base64", sig.as_bytes()),
    ];
    let rep = run(&files, &signer_trust(&sk));
    assert_eq!(rep.results.len(), 1, "{rep:?}");
    assert_eq!(
        (rep.results[0].file.as_str(), rep.results[0].outcome),
        ("s/signature.b64", Outcome::Verified)
    );
}

#[test]
fn containers_sigstore_json_file_verifies() {
    let sk = signing_key(4);
    let p = payload(IMAGE);
    let body = serde_json::json!({
        "mimeType": "application/vnd.dev.cosign.simplesigning.v1+json",
        "payload": B64.encode(&p),
        "annotations": {"dev.cosignproject.cosign/signature": B64.encode(sign(&sk, &p))},
    });
    let mut bytes = b"\0sigstore-json\n".to_vec();
    bytes.extend(serde_json::to_vec(&body).unwrap());
    let rep = run(
        &[file(
            "dir/signature-1",
            "containers-sigstore-signature",
            &bytes,
        )],
        &signer_trust(&sk),
    );
    assert_eq!(
        rep.results[0].outcome,
        Outcome::Verified,
        "{}",
        rep.results[0].detail
    );
}

fn statement(digest_hex: &str, predicate: serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "reg.example/app", "digest": {"sha256": digest_hex}}],
        "predicateType": "https://spdx.dev/Document",
        "predicate": predicate,
    }))
    .unwrap()
}

fn envelope(sk: &SigningKey, payload: &[u8]) -> Vec<u8> {
    let t = "application/vnd.in-toto+json";
    let sig = sign(sk, &dsse::pae(t, payload));
    serde_json::to_vec(&serde_json::json!({"payloadType": t, "payload": B64.encode(payload), "signatures": [{"keyid": "", "sig": B64.encode(sig)}]})).unwrap()
}

#[test]
fn pae_matches_the_dsse_spec_example() {
    // protocol.md: PAE("http://example.com/HelloWorld", "hello world")
    assert_eq!(
        dsse::pae("http://example.com/HelloWorld", b"hello world"),
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
    );
}

#[test]
fn dsse_attestation_verifies_subject_and_matches_the_sbom_by_json_value() {
    let sk = signing_key(5);
    let sbom = br#"{"spdxVersion": "SPDX-2.3", "name": "x", "packages": []}"#;
    let pred: serde_json::Value = serde_json::from_slice(sbom).unwrap();
    let env = envelope(&sk, &statement(IMAGE.trim_start_matches("sha256:"), pred));
    let files = vec![
        file("att/spdx.dsse.json", "dsse-envelope", &env),
        file("sbom/a.spdx.json", "spdx-json", sbom),
    ];
    let rep = run(&files, &signer_trust(&sk));
    let r = &rep.results[0];
    assert_eq!(
        (r.kind, r.outcome),
        (Kind::Attestation, Outcome::Verified),
        "{}",
        r.detail
    );
    assert_eq!(
        r.predicate_type.as_deref(),
        Some("https://spdx.dev/Document")
    );
    assert_eq!(r.sbom_file.as_deref(), Some("sbom/a.spdx.json"));
    // Another image in the subject; an SBOM that differs in one value.
    let env = envelope(
        &sk,
        &statement(
            OTHER.trim_start_matches("sha256:"),
            serde_json::json!({"name": "y"}),
        ),
    );
    let rep = run(
        &[file("e", "dsse-envelope", &env), files[1].clone()],
        &signer_trust(&sk),
    );
    assert_eq!(rep.results[0].outcome, Outcome::DigestMismatch);
    assert_eq!(rep.results[0].sbom_file, None);
}

/// A legacy RekorBundle for a hashedrekord entry, its SET made with `log`.
fn rekor_bundle(
    log: &SigningKey,
    signer: &SigningKey,
    signed: &[u8],
    sig: &[u8],
) -> serde_json::Value {
    let pem = PublicKey::from_spki_der(&spki(signer)).unwrap().to_pem();
    let body = serde_json::json!({
        "apiVersion": "0.0.1", "kind": "hashedrekord",
        "spec": {"data": {"hash": {"algorithm": "sha256", "value": sha256_hex(signed)}},
                 "signature": {"content": B64.encode(sig), "publicKey": {"content": B64.encode(pem)}}},
    });
    let body_b64 = B64.encode(serde_json::to_vec(&body).unwrap());
    let log_id = sha256_hex(&spki(log));
    let canon = format!(
        r#"{{"body":"{body_b64}","integratedTime":1700000000,"logID":"{log_id}","logIndex":42}}"#
    );
    serde_json::json!({
        "SignedEntryTimestamp": B64.encode(sign(log, canon.as_bytes())),
        "Payload": {"body": body_b64, "integratedTime": 1_700_000_000, "logIndex": 42, "logID": log_id},
    })
}

#[test]
fn rekor_set_in_the_bundle_annotation_is_verified_and_a_tampered_set_is_invalid() {
    let (sk, log) = (signing_key(6), signing_key(7));
    let p = payload(IMAGE);
    let sig = sign(&sk, &p);
    let mut trust = signer_trust(&sk);
    trust.entries.push(entry(2, "rekor", Role::Rekor, &log));
    let rb = rekor_bundle(&log, &sk, &p, &sig);
    let rep = run(
        &sig_manifest_files(
            &p,
            &sig,
            serde_json::json!({"dev.sigstore.cosign/bundle": rb.to_string()}),
        ),
        &trust,
    );
    assert_eq!(
        (rep.results[0].outcome, rep.results[0].tlog),
        (Outcome::Verified, TlogState::Verified),
        "{}",
        rep.results[0].detail
    );
    assert_eq!(rep.results[0].integrated_time, Some(1_700_000_000));

    let mut bad = rb.clone();
    let set = B64
        .decode(bad["SignedEntryTimestamp"].as_str().unwrap())
        .unwrap();
    let mut set2 = set.clone();
    let n = set2.len() - 1;
    set2[n] ^= 1;
    bad["SignedEntryTimestamp"] = B64.encode(&set2).into();
    let rep = run(
        &sig_manifest_files(
            &p,
            &sig,
            serde_json::json!({"dev.sigstore.cosign/bundle": bad.to_string()}),
        ),
        &trust,
    );
    assert_eq!(
        (rep.results[0].outcome, rep.results[0].tlog),
        (Outcome::Verified, TlogState::Invalid)
    );

    // A valid SET for another artifact does not vouch for this signature.
    let other = payload(OTHER);
    let rb2 = rekor_bundle(&log, &sk, &other, &sign(&sk, &other));
    let rep = run(
        &sig_manifest_files(
            &p,
            &sig,
            serde_json::json!({"dev.sigstore.cosign/bundle": rb2.to_string()}),
        ),
        &trust,
    );
    assert_eq!(
        rep.results[0].tlog,
        TlogState::Invalid,
        "{}",
        rep.results[0].detail
    );

    // No trusted Rekor key: not checked, never verified.
    let rep = run(
        &sig_manifest_files(
            &p,
            &sig,
            serde_json::json!({"dev.sigstore.cosign/bundle": rb.to_string()}),
        ),
        &signer_trust(&sk),
    );
    assert_eq!(rep.results[0].tlog, TlogState::NotChecked);
}

/// A v0.3 message-signature bundle whose entry is leaf 1 of a 2-leaf tree, with a checkpoint.
fn proof_bundle(log: &SigningKey, sk: &SigningKey, artifact: &[u8], tamper: &str) -> Vec<u8> {
    let digest = sha256(artifact);
    let sig = sk_sign_prehash(sk, &digest);
    let pem = PublicKey::from_spki_der(&spki(sk)).unwrap().to_pem();
    let body = serde_json::to_vec(&serde_json::json!({
        "apiVersion": "0.0.1", "kind": "hashedrekord",
        "spec": {"data": {"hash": {"algorithm": "sha256", "value": hex::encode(digest)}},
                 "signature": {"content": B64.encode(&sig), "publicKey": {"content": B64.encode(pem)}}},
    }))
    .unwrap();
    let sibling = rekor::leaf_hash(b"some other entry");
    let leaf = rekor::leaf_hash(&body);
    let mut h = <sha2::Sha256 as sha2::Digest>::new();
    sha2::Digest::update(&mut h, [1u8]);
    sha2::Digest::update(&mut h, sibling);
    sha2::Digest::update(&mut h, leaf);
    let root: [u8; 32] = sha2::Digest::finalize(h).into();
    let fp = hex::decode(sha256_hex(&spki(log))).unwrap();
    let note = format!("rekor.test - 1\n2\n{}\n", B64.encode(root));
    let mut csig = fp[..4].to_vec();
    csig.extend(sign(log, note.as_bytes()));
    let mut checkpoint = format!("{note}\n\u{2014} rekor.test {}\n", B64.encode(csig));
    let mut hashes = vec![B64.encode(sibling)];
    match tamper {
        "proof" => {
            let mut s = sibling;
            s[0] ^= 1;
            hashes = vec![B64.encode(s)];
        }
        "checkpoint" => checkpoint = checkpoint.replacen("rekor.test - 1", "rekor.test - 2", 1),
        _ => {}
    }
    serde_json::to_vec(&serde_json::json!({
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {
            "publicKey": {"hint": B64.encode(sha256(&spki(sk)))},
            "tlogEntries": [{
                "logIndex": "1001", "logId": {"keyId": B64.encode(&fp)},
                "kindVersion": {"kind": "hashedrekord", "version": "0.0.1"},
                "integratedTime": "1700000000",
                "inclusionProof": {"logIndex": "1", "rootHash": B64.encode(root), "treeSize": "2", "hashes": hashes,
                                   "checkpoint": {"envelope": checkpoint}},
                "canonicalizedBody": B64.encode(&body),
            }],
        },
        "messageSignature": {"messageDigest": {"algorithm": "SHA2_256", "digest": B64.encode(digest)}, "signature": B64.encode(&sig)},
    }))
    .unwrap()
}

fn sk_sign_prehash(sk: &SigningKey, digest: &[u8]) -> Vec<u8> {
    use p256::ecdsa::signature::hazmat::PrehashSigner;
    let s: p256::ecdsa::Signature = sk.sign_prehash(digest).unwrap();
    s.to_der().as_bytes().to_vec()
}

#[test]
fn bundle_inclusion_proof_and_checkpoint_verify_and_each_tamper_is_rejected() {
    let (sk, log) = (signing_key(8), signing_key(9));
    let mut trust = signer_trust(&sk);
    trust.entries.push(entry(2, "rekor", Role::Rekor, &log));
    let sbom = br#"{"bomFormat":"CycloneDX","specVersion":"1.5"}"#;
    let mut files = vec![file("sbom.cdx.json", "cyclonedx-json", sbom)];
    files.push(file(
        "b.sigstore.json",
        "sigstore-bundle",
        &proof_bundle(&log, &sk, sbom, ""),
    ));
    let rep = run(&files, &trust);
    let r = &rep.results[0];
    assert_eq!(
        (r.kind, r.outcome, r.tlog),
        (Kind::Bundle, Outcome::Verified, TlogState::Verified),
        "{}",
        r.detail
    );
    assert!(
        r.detail.contains("inclusion proof") && r.detail.contains("checkpoint"),
        "{}",
        r.detail
    );
    for t in ["proof", "checkpoint"] {
        files[1] = file(
            "b.sigstore.json",
            "sigstore-bundle",
            &proof_bundle(&log, &sk, sbom, t),
        );
        let rep = run(&files, &trust);
        assert_eq!(
            rep.results[0].tlog,
            TlogState::Invalid,
            "{t}: {}",
            rep.results[0].detail
        );
    }
}

#[test]
fn identity_rules_match_san_exactly_or_by_glob_and_the_issuer() {
    let c = Certificate {
        der: Vec::new(),
        spki: Vec::new(),
        subject: String::new(),
        issuer: String::new(),
        not_before: 0,
        not_after: 0,
        san: vec!["ci@build.example.mil".into()],
        oidc_issuer: Some("https://idp.example.mil".into()),
        weak_signature: None,
    };
    let rule = |s: &str, i: &str| IdentityRule {
        subject: s.into(),
        issuer: i.into(),
    };
    assert!(rule("ci@build.example.mil", "https://idp.example.mil").matches(&c));
    assert!(rule("*@build.example.mil", "https://idp.example.mil").matches(&c));
    assert!(rule("ci@*", "*").matches(&c));
    assert!(rule("ci@*.example.mil", "https://*.example.mil").matches(&c));
    assert!(!rule("ci@build.example.mi", "*").matches(&c));
    assert!(!rule("*@other.example.mil", "*").matches(&c));
    assert!(!rule("ci@build.example.mil", "https://accounts.google.com").matches(&c));
    // No issuer extension: only "*" accepts it.
    let private = Certificate {
        oidc_issuer: None,
        ..c
    };
    assert!(rule("ci@build.example.mil", "*").matches(&private));
    assert!(!rule("ci@build.example.mil", "https://idp.example.mil").matches(&private));
}
