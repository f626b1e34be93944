//! Gathering what the judge reads from the store: VEX, waivers, ignore files and STIG
//! results from the set's stored evidence bytes, waivers from the review table, trusted
//! approver keys, and the latest verification run. Unreadable items become diagnostics.

use crate::analysis::checks::{Diagnostic, SignatureFact};
use crate::analysis::policy::Policy;
use crate::analysis::vex::{self, VexStatement};
use crate::analysis::waiver_eval::{self, Candidate, TrustedKey};
use crate::analysis::{ignorefiles, xccdf};
use crate::crypto::pubkey::PublicKey;
use crate::store::{EvidenceFileRow, Store, StoreError};

#[derive(Debug, Default)]
pub struct Gathered {
    pub vex: Vec<VexStatement>,
    pub waivers: Vec<Candidate>,
    pub stig: Vec<xccdf::StigSummary>,
    /// Problems reading evidence the judge needs (shown, never dropped).
    pub problems: Vec<Diagnostic>,
}

/// Trusted keys with a usable public key (certificates are the verify area's business).
pub fn trusted_keys(store: &Store) -> Result<Vec<TrustedKey>, StoreError> {
    Ok(store
        .trusted_keys(None)?
        .into_iter()
        .filter(|k| k.kind == "public-key")
        .filter_map(|k| {
            let key = PublicKey::from_spki_der(&k.der).ok()?;
            Some(TrustedKey {
                name: k.name,
                role: k.role,
                fingerprint: k.fingerprint,
                key,
            })
        })
        .collect())
}

/// The latest verification run as check facts; `None` when the set was never verified.
pub fn signature_facts(
    store: &Store,
    set_id: i64,
) -> Result<Option<Vec<SignatureFact>>, StoreError> {
    Ok(store.verification_results(set_id)?.map(|run| {
        // Keys found inside the evidence are never trusted, but their algorithms still
        // count for the crypto check.
        let keys: Vec<SignatureFact> = run
            .evidence_keys
            .as_array()
            .into_iter()
            .flatten()
            .map(|k| SignatureFact {
                kind: "evidence-key".into(),
                outcome: String::new(),
                tlog_verified: false,
                predicate_type: None,
                algorithm: k["algorithm"].as_str().map(str::to_string),
                file: k["file"].as_str().unwrap_or_default().to_string(),
                detail: k["note"].as_str().unwrap_or_default().to_string(),
            })
            .collect();
        run.results
            .into_iter()
            .map(|r| {
                let attestation = r.kind == "attestation" || r.predicate_type.is_some();
                SignatureFact {
                    kind: if attestation {
                        "attestation"
                    } else {
                        "image-signature"
                    }
                    .into(),
                    outcome: r.outcome,
                    tlog_verified: r.tlog == "verified",
                    predicate_type: r.predicate_type,
                    algorithm: None,
                    file: r.file,
                    detail: r.detail,
                }
            })
            .chain(keys)
            .collect()
    }))
}

/// The set's latest verification ran under another policy than the one judging it now. Its
/// outcomes came from that policy's `[signature]` rules (certificate identities, SCT and
/// transparency-log requirements), so this gate would rest on decisions its own policy did
/// not make: said as an image-signature problem, graded like a missing signature. Nothing
/// is said when the set was never verified (the unsigned check says that) or the run
/// predates recording its policy.
pub fn verify_policy_mismatch(
    store: &Store,
    set_id: i64,
    p: &Policy,
) -> Result<Option<Diagnostic>, StoreError> {
    let Some(run) = store.verification_results(set_id)? else {
        return Ok(None);
    };
    let Some(used) = run.policy else {
        return Ok(None);
    };
    let this = format!("{} sha256:{}", p.name, p.sha256);
    if used == this {
        return Ok(None);
    }
    let msg = format!(
        "the signatures were verified under policy {used}, not under this gate's policy {this}: \
         run `dossier verify` with this policy (--policy), then gate again"
    );
    let ev = vec![format!("verification run {} at {}", run.id, run.run_at)];
    let code = "verify-policy-differs";
    Ok(Some(if p.unsigned_image_fails {
        Diagnostic::problem(p, "image-signature", code, msg, ev)
    } else {
        Diagnostic::with_level(
            crate::analysis::checks::Level::Warn,
            "image-signature",
            code,
            msg,
            ev,
        )
    }))
}

fn problem(
    p: &Policy,
    check: &'static str,
    code: &'static str,
    f: &EvidenceFileRow,
    msg: String,
) -> Diagnostic {
    Diagnostic::problem(
        p,
        check,
        code,
        format!("{}: {msg}", f.path),
        vec![f.path.clone()],
    )
}

/// Reads every stored evidence file the judge interprets.
pub fn gather(
    store: &Store,
    set_id: i64,
    files: &[EvidenceFileRow],
    trusted: &[TrustedKey],
    p: &Policy,
) -> Result<Gathered, StoreError> {
    let mut g = Gathered::default();
    for f in files.iter().filter(|f| f.status == "parsed") {
        let Some(format) = f.format.as_deref() else {
            continue;
        };
        let wanted = matches!(
            format,
            "openvex"
                | "cyclonedx-json"
                | "cyclonedx-xml"
                | "dossier-waiver"
                | "trivyignore"
                | "trivyignore-yaml"
                | "grype-config"
                | "harbor-allowlist"
                | "xccdf-results"
                | "arf-report"
        );
        if !wanted {
            continue;
        }
        let Some(bytes) = store.blob(&f.sha256)? else {
            g.problems.push(problem(
                p,
                "evidence-files",
                "evidence-bytes-missing",
                f,
                "raw bytes are not stored, so it cannot be read".into(),
            ));
            continue;
        };
        let path = f.path.as_str();
        match format {
            "openvex" => match vex::parse_openvex(path, &bytes) {
                Ok(s) => g.vex.extend(s),
                Err(e) => g.problems.push(problem(p, "vex", "vex-unreadable", f, e)),
            },
            // Only CycloneDX documents with analyses are VEX; the cheap byte test skips
            // parsing every large SBOM a second time.
            "cyclonedx-json" if contains(&bytes, b"\"analysis\"") => {
                match vex::parse_cyclonedx_json(path, &bytes) {
                    Ok(s) => g.vex.extend(s),
                    Err(e) => g.problems.push(problem(p, "vex", "vex-unreadable", f, e)),
                }
            }
            "cyclonedx-xml" if contains(&bytes, b"<analysis") => {
                match vex::parse_cyclonedx_xml(path, &bytes) {
                    Ok(s) => g.vex.extend(s),
                    Err(e) => g.problems.push(problem(p, "vex", "vex-unreadable", f, e)),
                }
            }
            "dossier-waiver" => {
                match crate::model::waiver::parse_stream(path, &String::from_utf8_lossy(&bytes)) {
                    Ok(ws) => g.waivers.extend(
                        ws.iter()
                            .map(|w| waiver_eval::from_document(w, path, trusted)),
                    ),
                    Err(e) => g.problems.push(problem(
                        p,
                        "waivers",
                        "waiver-unreadable",
                        f,
                        e.to_string(),
                    )),
                }
            }
            "trivyignore" => g
                .waivers
                .extend(ignorefiles::parse_trivyignore(path, &bytes)),
            "trivyignore-yaml" => push_or(
                &mut g,
                ignorefiles::parse_trivyignore_yaml(path, &bytes),
                p,
                f,
            ),
            "grype-config" => push_or(&mut g, ignorefiles::parse_grype_config(path, &bytes), p, f),
            "harbor-allowlist" => push_or(&mut g, ignorefiles::parse_harbor(path, &bytes), p, f),
            "xccdf-results" | "arf-report" => match xccdf::parse(path, &bytes) {
                Ok(s) => g.stig.push(s),
                Err(e) => g.problems.push(problem(p, "stig", "stig-unreadable", f, e)),
            },
            _ => {}
        }
    }
    // Waivers recorded through review: the table wins over a file copy with the same id.
    for row in store.waivers(set_id)? {
        use crate::model::waiver::WaiverState;
        if matches!(row.state, WaiverState::Rejected | WaiverState::Revoked) {
            continue;
        }
        let src = row
            .source_file
            .clone()
            .unwrap_or_else(|| "waiver store".into());
        let c = waiver_eval::from_document(&row.document, &src, trusted);
        g.waivers.retain(|w| w.id != c.id);
        g.waivers.push(c);
    }
    Ok(g)
}

fn push_or(g: &mut Gathered, r: Result<Vec<Candidate>, String>, p: &Policy, f: &EvidenceFileRow) {
    match r {
        Ok(c) => g.waivers.extend(c),
        Err(e) => g
            .problems
            .push(problem(p, "waivers", "waiver-unreadable", f, e)),
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}
