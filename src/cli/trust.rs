//! `trust add|list|remove` and `verify`: thin handlers over `workflow::verify`.

use super::output::{opt, print_json, print_table};
use crate::workflow::{verify as wv, Actor};
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum TrustCmd {
    /// Trust a PEM public key, a root certificate or a Sigstore trusted_root.json.
    Add {
        file: PathBuf,
        #[arg(long)]
        name: String,
        /// pipeline-signer, approver, reviewer, rekor, root-ca or ctlog (a trusted_root.json brings its own roles).
        #[arg(long)]
        role: String,
    },
    List {
        /// Only this role.
        #[arg(long)]
        role: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Remove a trusted entry by id (or a unique fingerprint prefix).
    Remove { id: String },
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Set id, unique digest prefix, or image reference.
    pub set: String,
    /// Print `[{"kind","file","key_fingerprint","key_name","subject_digest","predicate_type","outcome","tlog","detail",...}]`.
    #[arg(long)]
    pub json: bool,
    /// Policy whose [signature] rules apply (certificate identities, SCT requirement);
    /// default: the embedded policy.
    #[arg(long)]
    pub policy: Option<PathBuf>,
}

fn short(fp: &str) -> String {
    fp.chars().take(16).collect()
}

pub fn trust(store: Option<PathBuf>, c: TrustCmd) -> anyhow::Result<i32> {
    let mut st = super::open_store(store)?;
    match c {
        TrustCmd::Add { file, name, role } => {
            let rep = wv::trust_add(&mut st, &file, &name, &role, &Actor::from_env())?;
            let rows: Vec<Vec<String>> = rep
                .added
                .iter()
                .map(|k| {
                    vec![
                        k.id.to_string(),
                        k.role.clone(),
                        k.algorithm.clone(),
                        short(&k.fingerprint),
                        k.name.clone(),
                    ]
                })
                .collect();
            if !rows.is_empty() {
                print_table(
                    &["ID", "ROLE", "ALGORITHM", "FINGERPRINT", "NAME"],
                    &rows,
                    80,
                )?;
            }
            for a in &rep.already_trusted {
                eprintln!("already trusted: {a}");
            }
            Ok(0)
        }
        TrustCmd::List { role, json } => {
            let keys = wv::trust_list(&st, role.as_deref())?;
            if json {
                print_json(&keys)?;
            } else {
                let rows: Vec<Vec<String>> = keys
                    .iter()
                    .map(|k| {
                        vec![
                            k.id.to_string(),
                            k.role.clone(),
                            k.kind.clone(),
                            k.algorithm.clone(),
                            k.fingerprint.clone(),
                            k.name.clone(),
                            k.added_at.clone(),
                        ]
                    })
                    .collect();
                print_table(
                    &[
                        "ID",
                        "ROLE",
                        "KIND",
                        "ALGORITHM",
                        "FINGERPRINT",
                        "NAME",
                        "ADDED",
                    ],
                    &rows,
                    80,
                )?;
            }
            Ok(0)
        }
        TrustCmd::Remove { id } => {
            let k = wv::trust_remove(&mut st, &id, &Actor::from_env())?;
            println!(
                "removed {} {} {} ({})",
                k.id,
                k.role,
                k.fingerprint,
                crate::sanitize::line(&k.name, 80)
            );
            Ok(0)
        }
    }
}

/// Exit 0 when the set has signatures and every one is `verified`, else 1.
pub fn verify(store: Option<PathBuf>, a: VerifyArgs) -> anyhow::Result<i32> {
    let mut st = super::open_store(store)?;
    let set_id = st.resolve_set(&a.set)?;
    let policy = crate::workflow::judge::load_policy(a.policy.as_deref())?;
    let out = wv::verify_set_with(&mut st, set_id, &Actor::from_env(), &policy)?;
    let all_ok = !out.results.is_empty()
        && out
            .results
            .iter()
            .all(|r| r.outcome == crate::analysis::verify::Outcome::Verified);
    if a.json {
        print_json(&out.results)?;
    } else {
        if out.results.is_empty() {
            println!("set {set_id}: no signatures or attestations in the evidence");
        } else {
            let rows: Vec<Vec<String>> = out
                .results
                .iter()
                .map(|r| {
                    vec![
                        r.kind.as_str().to_string(),
                        r.outcome.as_str().to_string(),
                        r.tlog.as_str().to_string(),
                        r.key_name
                            .clone()
                            .or_else(|| r.key_fingerprint.as_deref().map(short))
                            .unwrap_or_else(|| "-".into()),
                        opt(&r.subject_digest),
                        r.file.clone(),
                    ]
                })
                .collect();
            print_table(
                &["KIND", "OUTCOME", "TLOG", "KEY", "SUBJECT", "FILE"],
                &rows,
                72,
            )?;
            println!();
            for (i, r) in out.results.iter().enumerate() {
                println!(
                    "[{}] {}: {}",
                    i + 1,
                    crate::sanitize::line(&r.file, 120),
                    crate::sanitize::line(&r.detail, 2000)
                );
            }
        }
        if !out.evidence_keys.is_empty() {
            println!("\nkey material found in the evidence (never trusted because of that; use `dossier trust add`):");
            let rows: Vec<Vec<String>> = out
                .evidence_keys
                .iter()
                .map(|k| {
                    vec![
                        k.kind.clone(),
                        k.fingerprint
                            .as_deref()
                            .map(short)
                            .unwrap_or_else(|| "-".into()),
                        opt(&k.algorithm),
                        if k.in_trust_store {
                            "yes".into()
                        } else {
                            "no".into()
                        },
                        k.file.clone(),
                        k.subject
                            .clone()
                            .or_else(|| k.note.clone())
                            .unwrap_or_default(),
                    ]
                })
                .collect();
            print_table(
                &[
                    "KIND",
                    "FINGERPRINT",
                    "ALGORITHM",
                    "IN TRUST STORE",
                    "FILE",
                    "NOTE",
                ],
                &rows,
                72,
            )?;
        }
        println!("\ntrust store sha256 {} at {}", out.trust_hash, out.run_at);
    }
    Ok(if all_ok { 0 } else { 1 })
}
