//! Verification over the real cosign/Sigstore fixtures and the real-evidence set: each
//! outcome PROVENANCE.md records, plus mutations made in a tempdir (one payload byte, a
//! payload for another digest, a missing annotation, tampered SET / proof / checkpoint).

use crate::common::shared;
use base64::Engine;
use dossier::analysis::policy::{Policy, DEFAULT_POLICY};
use dossier::analysis::verify::{Kind, Outcome, TlogState, VerificationResult};
use dossier::store::Store;
use dossier::workflow::{self, verify as wv, Actor, ImportOptions};
use std::path::{Path, PathBuf};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

pub(crate) fn actor() -> Actor {
    Actor {
        name: "conformance".into(),
        role: None,
        key_fingerprint: None,
    }
}

fn real() -> PathBuf {
    shared().join("fixtures/real-evidence")
}

pub(crate) fn cosign(name: &str) -> PathBuf {
    shared().join("fixtures/cosign").join(name)
}

pub(crate) struct Env {
    _dir: tempfile::TempDir,
    pub(crate) store: Store,
    pub(crate) work: PathBuf,
    /// The policy import and re-verification apply; `None` = the embedded default.
    pub(crate) policy: Option<Policy>,
}

/// The default policy plus one `[[signature.identities]]` rule, as a user would write it.
pub(crate) fn policy_accepting(subject: &str, issuer: &str) -> Policy {
    let text = format!(
        "{DEFAULT_POLICY}\n[[signature.identities]]\nsubject = \"{subject}\"\nissuer = \"{issuer}\"\n"
    );
    Policy::parse(text.as_bytes(), "conformance.toml").unwrap()
}

/// The signer PROVENANCE.md and the certificate record for the containers/image keyless
/// fixtures (SAN mitr@redhat.com; issuer extension 1.3.6.1.4.1.57264.1.1).
pub(crate) const MITR: (&str, &str) = ("mitr@redhat.com", "https://github.com/login/oauth");

pub(crate) fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.db")).unwrap();
    let work = dir.path().join("evidence");
    std::fs::create_dir_all(&work).unwrap();
    Env {
        _dir: dir,
        store,
        work,
        policy: None,
    }
}

impl Env {
    pub(crate) fn trust(&mut self, file: &Path, role: &str) {
        wv::trust_add(&mut self.store, file, "k", role, &actor()).unwrap();
    }
    /// Copies `src` into the work dir as `name`.
    pub(crate) fn put(&self, src: &Path, name: &str) -> PathBuf {
        let dst = self.work.join(name);
        std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
        std::fs::copy(src, &dst).unwrap();
        dst
    }
    pub(crate) fn write(&self, name: &str, bytes: &[u8]) {
        let dst = self.work.join(name);
        std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
        std::fs::write(dst, bytes).unwrap();
    }
    pub(crate) fn verify(&mut self, dir: &Path) -> Vec<VerificationResult> {
        let opts = ImportOptions {
            policy: self.policy.clone(),
            ..ImportOptions::default()
        };
        let rep = workflow::import_paths(
            &mut self.store,
            &[dir.to_path_buf()],
            &opts,
            &actor(),
            &mut |_| {},
        )
        .unwrap();
        let id = rep.sets[0].id;
        // Import verified already; the stored run must say the same as a fresh one.
        let stored = self
            .store
            .verification_results(id)
            .unwrap()
            .expect("import stores a verification run");
        let policy = self.policy.clone().unwrap_or_else(Policy::default_policy);
        let out = wv::verify_set_with(&mut self.store, id, &actor(), &policy).unwrap();
        assert_eq!(stored.results.len(), out.results.len());
        for (a, b) in stored.results.iter().zip(&out.results) {
            assert_eq!(
                (&a.outcome, &a.file),
                (&b.outcome.as_str().to_string(), &b.file)
            );
        }
        out.results
    }
    pub(crate) fn verify_work(&mut self) -> Vec<VerificationResult> {
        let w = self.work.clone();
        self.verify(&w)
    }
}

fn digest_txt() -> String {
    std::fs::read_to_string(real().join("image/digest.txt"))
        .unwrap()
        .trim()
        .to_string()
}

pub(crate) fn show(rs: &[VerificationResult]) -> String {
    rs.iter()
        .map(|r| {
            format!(
                "{:?} {:?} {:?} {} :: {}\n",
                r.kind, r.outcome, r.tlog, r.file, r.detail
            )
        })
        .collect()
}

pub(crate) fn ends(rs: &[VerificationResult], suffix: &str) -> VerificationResult {
    rs.iter()
        .find(|r| r.file.ends_with(suffix) || r.file.contains(&format!("{suffix}#")))
        .unwrap_or_else(|| panic!("no result for {suffix}:\n{}", show(rs)))
        .clone()
}

/// The predicate of a real DSSE envelope, decoded here with serde_json only.
fn predicate_of(envelope: &Path) -> serde_json::Value {
    let e: serde_json::Value = serde_json::from_slice(&std::fs::read(envelope).unwrap()).unwrap();
    let st: serde_json::Value =
        serde_json::from_slice(&B64.decode(e["payload"].as_str().unwrap()).unwrap()).unwrap();
    st["predicate"].clone()
}

#[test]
#[ignore = "needs ../shared/fixtures"]
fn real_evidence_signature_and_both_attestations_verify_with_the_pipeline_key() {
    let mut e = env();
    e.trust(&real().join("keys/test-only-cosign.pub"), "pipeline-signer");
    let rs = e.verify(&real());
    let digest = digest_txt();
    // Loose detached pair, the skopeo dir: copy, and the .sig manifest in the OCI layout.
    for f in [
        "signature/signature.b64",
        "skopeo-dir-with-sigstore/signature-1",
        "blobs/sha256/0ebfd32122eb9a1f7becb9a6b57595e97db23f7041683eb0ecdfd7ee01cb0758",
    ] {
        let r = ends(&rs, f);
        assert_eq!(
            (r.kind, r.outcome, r.tlog),
            (Kind::Signature, Outcome::Verified, TlogState::Absent),
            "{f}:\n{}",
            show(&rs)
        );
        assert_eq!(r.subject_digest.as_deref(), Some(digest.as_str()));
    }
    // Which SBOM each attestation carries, decided here from the raw JSON.
    let sboms = [
        ("spdx", "sbom/syft.spdx.json"),
        ("cyclonedx", "sbom/trivy.cdx.json"),
    ];
    for (att, sbom) in sboms {
        let pred = predicate_of(&real().join(format!("attestation/{att}.dsse.json")));
        let want: serde_json::Value =
            serde_json::from_slice(&std::fs::read(real().join(sbom)).unwrap()).unwrap();
        assert_eq!(pred, want, "fixture: {att} predicate is {sbom}");
        let hits: Vec<&VerificationResult> = rs
            .iter()
            .filter(|r| {
                r.kind == Kind::Attestation
                    && r.sbom_file.as_deref().is_some_and(|s| s.ends_with(sbom))
            })
            .collect();
        assert!(!hits.is_empty(), "{att}:\n{}", show(&rs));
        for r in hits {
            assert_eq!(r.outcome, Outcome::Verified, "{}", r.detail);
            assert_eq!(r.subject_digest.as_deref(), Some(digest.as_str()));
        }
    }
    assert!(
        rs.iter().all(|r| r.outcome == Outcome::Verified),
        "{}",
        show(&rs)
    );
}

#[test]
#[ignore = "needs ../shared/fixtures"]
fn real_evidence_with_an_unrelated_trusted_key_is_untrusted_key() {
    let mut e = env();
    e.trust(&cosign("ci_cosign.pub"), "pipeline-signer");
    let rs = e.verify(&real());
    assert!(!rs.is_empty());
    // The evidence ships its own cosign.pub: it verifies, but is never trusted for that.
    assert!(
        rs.iter().all(|r| r.outcome == Outcome::UntrustedKey),
        "{}",
        show(&rs)
    );
}

fn copy_image(e: &Env) {
    for f in ["image/manifest.json", "image/digest.txt"] {
        e.put(&real().join(f), f);
    }
}

#[test]
#[ignore = "needs ../shared/fixtures"]
fn one_payload_byte_changed_is_bad_signature() {
    let mut e = env();
    e.trust(&real().join("keys/test-only-cosign.pub"), "pipeline-signer");
    copy_image(&e);
    let mut p = std::fs::read(real().join("signature/simplesigning-payload.json")).unwrap();
    let i = p.windows(8).position(|w| w == b"tiny:1.0").unwrap() + 7;
    p[i] = b'1';
    e.write("signature/simplesigning-payload.json", &p);
    e.put(
        &real().join("signature/signature.b64"),
        "signature/signature.b64",
    );
    let rs = e.verify_work();
    assert_eq!(
        ends(&rs, "signature/signature.b64").outcome,
        Outcome::BadSignature,
        "{}",
        show(&rs)
    );
    assert!(rs.iter().all(|r| r.outcome != Outcome::Verified));
}

#[test]
#[ignore = "needs ../shared/fixtures"]
fn payload_naming_another_digest_signed_by_the_pipeline_key_is_digest_mismatch() {
    use p256::ecdsa::signature::Signer;
    use p256::pkcs8::DecodePrivateKey;
    let mut e = env();
    e.trust(&real().join("keys/test-only-cosign.pub"), "pipeline-signer");
    copy_image(&e);
    let pem = std::fs::read_to_string(real().join("keys/test-only-cosign.pkcs8.pem")).unwrap();
    let sk = p256::ecdsa::SigningKey::from_pkcs8_pem(&pem).unwrap();
    let other = format!("sha256:{}", "ab".repeat(32));
    let p = String::from_utf8(
        std::fs::read(real().join("signature/simplesigning-payload.json")).unwrap(),
    )
    .unwrap()
    .replace(&digest_txt(), &other);
    let sig: p256::ecdsa::Signature = sk.sign(p.as_bytes());
    e.write("sig2/payload.json", p.as_bytes());
    e.write(
        "sig2/signature.b64",
        B64.encode(sig.to_der().as_bytes()).as_bytes(),
    );
    let rs = e.verify_work();
    let r = ends(&rs, "sig2/signature.b64");
    assert_eq!(r.outcome, Outcome::DigestMismatch, "{}", show(&rs));
    assert_eq!(r.subject_digest.as_deref(), Some(other.as_str()));
}

#[test]
#[ignore = "needs ../shared/fixtures"]
fn signature_annotation_missing_is_unverifiable() {
    let mut e = env();
    e.trust(&real().join("keys/test-only-cosign.pub"), "pipeline-signer");
    copy_image(&e);
    let mut m: serde_json::Value = serde_json::from_slice(
        &std::fs::read(real().join("signature/signature-manifest.json")).unwrap(),
    )
    .unwrap();
    m["layers"][0]["annotations"]
        .as_object_mut()
        .unwrap()
        .remove("dev.cosignproject.cosign/signature");
    e.write(
        "signature/signature-manifest.json",
        &serde_json::to_vec(&m).unwrap(),
    );
    e.put(
        &real().join("signature/simplesigning-payload.json"),
        "signature/simplesigning-payload.json",
    );
    let rs = e.verify_work();
    assert_eq!(rs.len(), 1, "{}", show(&rs));
    assert_eq!(
        (rs[0].outcome, rs[0].tlog),
        (Outcome::Unverifiable, TlogState::NotChecked)
    );
}

fn key_rekor_env() -> Env {
    let mut e = env();
    e.trust(&cosign("ci_cosign2.pub"), "pipeline-signer");
    e.trust(&cosign("ci_rekor.pub"), "rekor");
    e.put(
        &cosign("ci_dir-img-cosign-key-rekor-valid_manifest.json"),
        "manifest.json",
    );
    e
}

#[test]
#[ignore = "needs ../shared/fixtures"]
fn keyed_signature_with_rekor_set_verifies_and_a_tampered_set_is_invalid() {
    let mut e = key_rekor_env();
    e.put(
        &cosign("ci_dir-img-cosign-key-rekor-valid_signature-1"),
        "signature-1",
    );
    let rs = e.verify_work();
    let r = ends(&rs, "signature-1");
    assert_eq!(
        (r.outcome, r.tlog),
        (Outcome::Verified, TlogState::Verified),
        "{}",
        show(&rs)
    );
    // integratedTime as PROVENANCE.md records it.
    assert_eq!(r.integrated_time, Some(1_674_251_859));

    let mut e = key_rekor_env();
    let raw = std::fs::read(cosign("ci_dir-img-cosign-key-rekor-valid_signature-1")).unwrap();
    let mut v: serde_json::Value =
        serde_json::from_slice(raw.strip_prefix(b"\0sigstore-json\n").unwrap()).unwrap();
    let mut b: serde_json::Value = serde_json::from_str(
        v["annotations"]["dev.sigstore.cosign/bundle"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    let mut set = B64
        .decode(b["SignedEntryTimestamp"].as_str().unwrap())
        .unwrap();
    let n = set.len() - 2;
    set[n] ^= 0x01;
    b["SignedEntryTimestamp"] = B64.encode(set).into();
    v["annotations"]["dev.sigstore.cosign/bundle"] = b.to_string().into();
    let mut out = b"\0sigstore-json\n".to_vec();
    out.extend(serde_json::to_vec(&v).unwrap());
    e.write("signature-1", &out);
    let rs = e.verify_work();
    assert_eq!(
        ends(&rs, "signature-1").tlog,
        TlogState::Invalid,
        "{}",
        show(&rs)
    );
}

#[test]
#[ignore = "needs ../shared/fixtures"]
fn detached_keyed_pieces_with_their_rekor_bundle_verify() {
    let mut e = key_rekor_env();
    e.put(&cosign("ci_key-rekor_payload.json"), "sig/payload.json");
    e.put(&cosign("ci_key-rekor_signature.b64"), "sig/signature.b64");
    e.put(&cosign("ci_key-rekor_bundle.json"), "sig/bundle.json");
    let rs = e.verify_work();
    let r = ends(&rs, "sig/signature.b64");
    assert_eq!(
        (r.outcome, r.tlog),
        (Outcome::Verified, TlogState::Verified),
        "{}",
        show(&rs)
    );
}

#[test]
#[ignore = "needs ../shared/fixtures"]
fn keyed_signature_without_tlog_and_the_unknown_key_signature() {
    let mut e = env();
    e.trust(&cosign("ci_cosign.pub"), "pipeline-signer");
    e.put(
        &cosign("ci_dir-img-cosign-valid_manifest.json"),
        "manifest.json",
    );
    e.put(
        &cosign("ci_dir-img-cosign-valid_signature-1"),
        "signature-1",
    );
    let rs = e.verify_work();
    assert_eq!(
        (rs[0].outcome, rs[0].tlog),
        (Outcome::Verified, TlogState::Absent),
        "{}",
        show(&rs)
    );

    let mut e = env();
    e.trust(&cosign("ci_cosign.pub"), "pipeline-signer");
    e.trust(&cosign("ci_cosign2.pub"), "pipeline-signer");
    e.put(
        &cosign("ci_dir-img-cosign-valid_manifest.json"),
        "manifest.json",
    );
    e.put(&cosign("ci_unknown-cosign-key.signature"), "signature-1");
    let rs = e.verify_work();
    assert_eq!(rs.len(), 1);
    assert_eq!(rs[0].outcome, Outcome::BadSignature, "{}", show(&rs));
}

#[test]
#[ignore = "needs ../shared/fixtures"]
fn keyless_signature_chains_to_the_fulcio_root_at_the_rekor_time() {
    let mut e = env();
    e.policy = Some(policy_accepting(MITR.0, MITR.1));
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
    let r = ends(&rs, "signature-1");
    assert_eq!(
        (r.outcome, r.tlog),
        (Outcome::Verified, TlogState::Verified),
        "{}",
        show(&rs)
    );
    assert!(
        r.key_name
            .as_deref()
            .unwrap_or("")
            .contains("mitr@redhat.com"),
        "{:?}",
        r.key_name
    );
    // Without the root the same signature is untrusted, never verified.
    let mut e = env();
    e.policy = Some(policy_accepting(MITR.0, MITR.1));
    e.trust(&cosign("ci_rekor.pub"), "rekor");
    e.put(
        &cosign("ci_dir-img-cosign-fulcio-rekor-valid_manifest.json"),
        "manifest.json",
    );
    e.put(
        &cosign("ci_dir-img-cosign-fulcio-rekor-valid_signature-1"),
        "signature-1",
    );
    assert_eq!(
        ends(&e.verify_work(), "signature-1").outcome,
        Outcome::UntrustedKey
    );
}

#[test]
#[ignore = "needs ../shared/fixtures"]
fn detached_keyless_pieces_verify_with_the_trusted_root() {
    let mut e = env();
    // ci_rekor-cert.pem: SAN mitr@redhat.com, issuer extension https://github.com/login/oauth.
    e.policy = Some(policy_accepting(MITR.0, MITR.1));
    e.trust(&cosign("cosign_trusted_root_pgi.json"), "root-ca");
    for (f, n) in [
        ("ci_rekor-payload.json", "payload.json"),
        ("ci_rekor-sig.b64", "sig.b64"),
        ("ci_rekor-cert.pem", "cert.pem"),
        ("ci_rekor-set.json", "set.json"),
    ] {
        e.put(&cosign(f), &format!("d/{n}"));
    }
    let rs = e.verify_work();
    let r = ends(&rs, "d/sig.b64");
    assert_eq!(
        (r.outcome, r.tlog),
        (Outcome::Verified, TlogState::Verified),
        "{}",
        show(&rs)
    );
}

#[test]
#[ignore = "needs ../shared/fixtures"]
fn trusted_root_adds_its_rekor_keys_and_ca_certificates() {
    let mut e = env();
    let raw: serde_json::Value =
        serde_json::from_slice(&std::fs::read(cosign("cosign_trusted_root_pgi.json")).unwrap())
            .unwrap();
    let tlogs = raw["tlogs"].as_array().map_or(0, Vec::len);
    let certs: usize = raw["certificateAuthorities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            c["certChain"]["certificates"]
                .as_array()
                .map_or(0, Vec::len)
        })
        .sum();
    let rep = wv::trust_add(
        &mut e.store,
        &cosign("cosign_trusted_root_pgi.json"),
        "pgi",
        "root-ca",
        &actor(),
    )
    .unwrap();
    let n = |role: &str| {
        rep.added.iter().filter(|k| k.role == role).count()
            + rep
                .already_trusted
                .iter()
                .filter(|k| k.contains(role))
                .count()
    };
    assert_eq!(n("rekor"), tlogs);
    assert_eq!(n("root-ca"), certs);
    assert_eq!(n("ctlog"), raw["ctlogs"].as_array().map_or(0, Vec::len));
    // validFor windows travel with each entry (RFC 3339 in the file, Unix seconds stored).
    let secs = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().timestamp();
    let rekor = rep.added.iter().find(|k| k.role == "rekor").unwrap();
    assert_eq!(
        (rekor.valid_from, rekor.valid_until),
        (
            Some(secs(
                raw["tlogs"][0]["publicKey"]["validFor"]["start"]
                    .as_str()
                    .unwrap()
            )),
            None
        )
    );
    let ct0 = &raw["ctlogs"][0]["publicKey"]["validFor"];
    assert!(rep.added.iter().any(|k| k.role == "ctlog"
        && k.valid_from == Some(secs(ct0["start"].as_str().unwrap()))
        && k.valid_until == Some(secs(ct0["end"].as_str().unwrap()))));
    // The Rekor key is the one whose sha256(SPKI) is the public-good log id c0d23d6a...
    assert!(rep
        .added
        .iter()
        .any(|k| k.role == "rekor" && k.fingerprint.starts_with("c0d23d6a")));
    // A broken PEM is refused with a reason; nothing is added.
    let before = e.store.trusted_keys(None).unwrap().len();
    assert!(wv::trust_add(
        &mut e.store,
        &cosign("grype_cosign_broken.pub"),
        "b",
        "pipeline-signer",
        &actor()
    )
    .is_err());
    assert_eq!(e.store.trusted_keys(None).unwrap().len(), before);
}
