//! `review`, `waiver ...`, `keys ...`, `audit ...`: recording decisions. Thin handlers over
//! `workflow::{review, waivers, keys, config}`; passphrases are read here (no echo, or a
//! file) and handed down as bytes.

use super::output::{opt, print_json, print_table};
use crate::model::waiver::{WaiverJustification, WaiverState};
use crate::sanitize;
use crate::workflow::{config, keys, review as wr, waivers as ww, Actor};
use clap::{Args, Subcommand};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

/// Who is acting, when the config file should not decide.
#[derive(Debug, Args, Default)]
pub struct IdentityArgs {
    /// Reviewer name (default: `[reviewer] name` in the config file, then the login name).
    #[arg(long = "as")]
    pub name: Option<String>,
    /// Reviewer role (default: `[reviewer] role` in the config file).
    #[arg(long)]
    pub role: Option<String>,
}

#[derive(Debug, Args)]
pub struct ReviewArgs {
    /// Set id, unique digest prefix, or image reference.
    pub set: String,
    /// Vulnerability id (or alias), plus --component where several components carry it.
    pub finding: String,
    /// Component key, purl, name or name@version.
    #[arg(long)]
    pub component: Option<String>,
    /// open | patched | not_affected | false_positive | waived
    #[arg(long)]
    pub state: String,
    /// For not_affected: component_not_present | vulnerable_code_not_present |
    /// vulnerable_code_not_in_execute_path | vulnerable_code_cannot_be_controlled_by_adversary |
    /// inline_mitigations_already_exist
    #[arg(long)]
    pub justification: Option<String>,
    #[arg(long)]
    pub note: Option<String>,
    /// For waived: the id of the waiver that covers the finding.
    #[arg(long)]
    pub waiver: Option<String>,
    /// Policy for the verdict shown afterwards (default: the embedded policy).
    #[arg(long)]
    pub policy: Option<PathBuf>,
    #[command(flatten)]
    pub id: IdentityArgs,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum WaiverCmd {
    /// Draft a pending waiver for a finding (YAML to --out or stdout).
    New {
        set: String,
        finding: String,
        #[arg(long)]
        component: Option<String>,
        /// YYYY-MM-DD (default: 90 days from today); stops applying at 00:00 UTC that day.
        #[arg(long)]
        expires: Option<String>,
        /// no_patch_available | compensating_control | component_not_reachable | false_positive |
        /// operational_requirement
        #[arg(long = "type")]
        kind: Option<String>,
        #[arg(long)]
        text: Option<String>,
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        id: IdentityArgs,
    },
    /// Approve and sign every waiver in FILE, in place.
    Sign {
        file: PathBuf,
        /// Private key (cosign format or PKCS#8 PEM; default: `[reviewer] key` in the config).
        #[arg(long)]
        key: Option<PathBuf>,
        #[arg(long)]
        passphrase_file: Option<PathBuf>,
        /// Gate policy whose `self_approval` knob applies (default: the embedded policy).
        #[arg(long)]
        policy: Option<PathBuf>,
        #[command(flatten)]
        id: IdentityArgs,
    },
    /// Waivers that may apply to a set.
    List {
        set: String,
        #[arg(long)]
        json: bool,
    },
    /// Write a set's signed waivers as one YAML stream.
    Export {
        set: String,
        #[arg(long)]
        out: PathBuf,
        /// Include pending (unsigned) waivers too.
        #[arg(long)]
        all: bool,
    },
    /// Import waivers from a YAML stream.
    Import { file: PathBuf },
    /// Reject a pending waiver.
    Reject {
        id: String,
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        who: IdentityArgs,
    },
    /// Revoke a signed waiver.
    Revoke {
        id: String,
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        who: IdentityArgs,
    },
    /// Print the exact bytes each waiver's signature covers (RFC 8785 JSON without
    /// `signature`), for checking with openssl.
    Canonical { file: PathBuf },
}

#[derive(Debug, Subcommand)]
pub enum KeysCmd {
    /// Make an ECDSA P-256 key pair: <name>.key (cosign encrypted format, 0600) and <name>.pub.
    Generate {
        /// Directory (default: the keys directory beside the config file).
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(long, default_value = "cosign")]
        name: String,
        #[arg(long)]
        passphrase_file: Option<PathBuf>,
    },
    /// Check a private key (cosign or PKCS#8, P-256 or Ed25519) and keep a 0600 copy.
    Import {
        file: PathBuf,
        #[arg(long)]
        passphrase_file: Option<PathBuf>,
        /// Only validate and print the fingerprint; do not copy.
        #[arg(long)]
        no_copy: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCmd {
    /// Walk the hash chain; exit 1 naming the first broken entry.
    Verify {
        #[arg(long)]
        json: bool,
    },
    List {
        #[arg(long)]
        json: bool,
    },
}

fn actor(id: &IdentityArgs) -> anyhow::Result<Actor> {
    let cfg = config::load()?;
    Ok(config::actor(
        &cfg,
        &config::IdentityOverrides {
            name: id.name.clone(),
            role: id.role.clone(),
        },
    ))
}

fn passphrase(file: Option<&Path>, confirm: bool) -> Result<Vec<u8>, keys::KeysError> {
    if let Some(f) = file {
        return keys::read_passphrase_file(f);
    }
    if !std::io::stdin().is_terminal() {
        return Err(keys::KeysError::Io {
            path: "stdin".into(),
            source: std::io::Error::other(
                "no terminal to ask for the passphrase; use --passphrase-file",
            ),
        });
    }
    let io = |source| keys::KeysError::Io {
        path: "terminal".into(),
        source,
    };
    let p = rpassword::prompt_password("Passphrase: ").map_err(io)?;
    if confirm {
        let again = rpassword::prompt_password("Passphrase again: ").map_err(io)?;
        if again != p {
            return Err(keys::KeysError::Mismatch);
        }
    }
    Ok(p.into_bytes())
}

pub fn review(store: Option<PathBuf>, a: ReviewArgs) -> anyhow::Result<i32> {
    let mut st = super::open_store(store)?;
    let set_id = st.resolve_set(&a.set)?;
    let finding = wr::find_finding(&st, set_id, &a.finding, a.component.as_deref())?;
    let input = wr::parse_input(
        &a.state,
        a.justification.as_deref(),
        a.note.as_deref(),
        a.waiver.as_deref(),
    )?;
    let who = actor(&a.id)?;
    let row = wr::set_disposition(&mut st, &who, &finding, &input)?;
    let verdict = current_verdict(&st, set_id, a.policy.as_deref());
    if a.json {
        print_json(&serde_json::json!({ "disposition": row, "verdict": verdict }))?;
    } else {
        println!(
            "set {set_id}  {}  {}: {}{}",
            sanitize::line(&row.vuln_id, 40),
            sanitize::line(&row.component_key, 80),
            row.state,
            row.justification
                .map(|j| format!(" ({j})"))
                .unwrap_or_default()
        );
        if let Some(v) = verdict {
            println!("verdict now: {v}");
        }
    }
    Ok(0)
}

/// The gate re-evaluated after a decision, so the reviewer sees the current verdict.
fn current_verdict(st: &crate::store::Store, set_id: i64, policy: Option<&Path>) -> Option<String> {
    use crate::workflow::judge;
    let p = judge::load_policy(policy).ok()?;
    judge::evaluate_set(st, set_id, &p, judge::today())
        .ok()
        .map(|r| r.verdict.as_str().to_string())
}

pub fn waiver(store: Option<PathBuf>, c: WaiverCmd) -> anyhow::Result<i32> {
    match c {
        WaiverCmd::New {
            set,
            finding,
            component,
            expires,
            kind,
            text,
            out,
            id,
        } => {
            let mut st = super::open_store(store)?;
            let set_id = st.resolve_set(&set)?;
            let f = wr::find_finding(&st, set_id, &finding, component.as_deref())?;
            let expires = match expires {
                None => None,
                Some(e) => Some(
                    chrono::NaiveDate::parse_from_str(e.trim(), "%Y-%m-%d").map_err(|_| {
                        anyhow::anyhow!("--expires '{e}' is not a date (YYYY-MM-DD)")
                    })?,
                ),
            };
            let kind = match kind {
                None => None,
                Some(k) => Some(WaiverJustification::parse(&k).ok_or_else(|| {
                    anyhow::anyhow!(
                        "unknown --type '{k}'; use one of: {}",
                        WaiverJustification::words()
                    )
                })?),
            };
            if let Some(o) = &out {
                anyhow::ensure!(
                    !o.exists(),
                    "{} already exists; choose another --out",
                    o.display()
                );
            }
            let opts = ww::NewWaiverOptions {
                expires,
                kind,
                text,
                out: out.as_ref().map(|o| o.display().to_string()),
            };
            let doc = ww::new_from_finding(&mut st, &actor(&id)?, &f, &opts, chrono::Utc::now())?;
            let yaml = crate::model::waiver::to_yaml_stream(std::slice::from_ref(&doc))?;
            match &out {
                Some(o) => {
                    std::fs::write(o, yaml).map_err(|e| anyhow::anyhow!("{}: {e}", o.display()))?;
                    eprintln!("drafted {} (pending) in {}", doc.id, o.display());
                }
                None => print!("{yaml}"),
            }
            if doc.justification.text == ww::PLACEHOLDER {
                eprintln!(
                    "write the justification text, then have an approver run: dossier waiver sign FILE --key KEY"
                );
            }
            Ok(0)
        }
        WaiverCmd::Sign {
            file,
            key,
            passphrase_file,
            policy,
            id,
        } => {
            let cfg = config::load()?;
            let key_path = key.or_else(|| cfg.reviewer.key.clone()).ok_or_else(|| {
                anyhow::anyhow!("no key: pass --key FILE or set [reviewer] key in the config file")
            })?;
            let pol = crate::workflow::judge::load_policy(policy.as_deref())?;
            let mut pass = || passphrase(passphrase_file.as_deref(), false);
            let k = keys::load_signing_key(&key_path, &mut pass)?;
            let mut who = config::actor(
                &cfg,
                &config::IdentityOverrides {
                    name: id.name,
                    role: id.role,
                },
            );
            who.key_fingerprint = Some(k.fingerprint());
            let mut st = super::open_store(store)?;
            let opts = ww::SignOptions {
                allow_self_approval: pol.self_approval,
            };
            let signed = ww::sign_file(&mut st, &who, &file, &k, &opts, chrono::Utc::now())?;
            for s in &signed {
                println!(
                    "signed {}  key {}  expires {}",
                    sanitize::line(&s.id, 40),
                    s.keyid,
                    s.expires
                );
            }
            Ok(0)
        }
        WaiverCmd::List { set, json } => {
            let st = super::open_store(store)?;
            let set_id = st.resolve_set(&set)?;
            let rows = st.waivers(set_id)?;
            if json {
                return print_json(&rows).map(|_| 0);
            }
            let table: Vec<Vec<String>> = rows
                .iter()
                .map(|r| {
                    let d = &r.document;
                    vec![
                        r.waiver_id.clone(),
                        r.state.to_string(),
                        d.vulnerability.clone(),
                        d.scope
                            .image
                            .clone()
                            .or_else(|| d.scope.repository.clone())
                            .unwrap_or_default(),
                        opt(&d.scope.purl),
                        d.expires.clone(),
                        d.justification.kind.to_string(),
                        d.approved_by
                            .as_ref()
                            .map(|p| p.name.clone())
                            .unwrap_or_else(|| "-".into()),
                        r.signer_keyid
                            .as_deref()
                            .map(|k| k[..k.len().min(16)].to_string())
                            .unwrap_or_else(|| "-".into()),
                    ]
                })
                .collect();
            print_table(
                &[
                    "ID",
                    "STATE",
                    "VULNERABILITY",
                    "SCOPE",
                    "PURL",
                    "EXPIRES",
                    "TYPE",
                    "APPROVER",
                    "KEY",
                ],
                &table,
                80,
            )?;
            Ok(0)
        }
        WaiverCmd::Export { set, out, all } => {
            let mut st = super::open_store(store)?;
            let set_id = st.resolve_set(&set)?;
            let n = ww::export(
                &mut st,
                &actor(&IdentityArgs::default())?,
                set_id,
                &out,
                all,
            )?;
            println!("wrote {n} waiver(s) to {}", out.display());
            Ok(0)
        }
        WaiverCmd::Import { file } => {
            let mut st = super::open_store(store)?;
            let got = ww::import_file(&mut st, &actor(&IdentityArgs::default())?, &file)?;
            for w in &got {
                println!(
                    "{}  {}{}",
                    sanitize::line(&w.id, 40),
                    w.state,
                    w.note
                        .as_ref()
                        .map(|n| format!("  ({n})"))
                        .unwrap_or_default()
                );
            }
            Ok(0)
        }
        WaiverCmd::Reject { id, reason, who } => {
            state_change(store, &id, WaiverState::Rejected, &reason, &who)
        }
        WaiverCmd::Revoke { id, reason, who } => {
            state_change(store, &id, WaiverState::Revoked, &reason, &who)
        }
        WaiverCmd::Canonical { file } => {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let docs = crate::model::waiver::parse_stream(&file.display().to_string(), &text)?;
            anyhow::ensure!(
                docs.len() == 1,
                "{} holds {} waivers; canonical needs exactly one",
                file.display(),
                docs.len()
            );
            use std::io::Write;
            std::io::stdout().write_all(&docs[0].signing_bytes()?)?;
            Ok(0)
        }
    }
}

fn state_change(
    store: Option<PathBuf>,
    id: &str,
    to: WaiverState,
    reason: &str,
    who: &IdentityArgs,
) -> anyhow::Result<i32> {
    let mut st = super::open_store(store)?;
    ww::change_state(&mut st, &actor(who)?, id, to, reason)?;
    println!("{} {to}", sanitize::line(id, 40));
    Ok(0)
}

pub fn keys(c: KeysCmd) -> anyhow::Result<i32> {
    match c {
        KeysCmd::Generate {
            out,
            name,
            passphrase_file,
        } => {
            let dir = out
                .or_else(config::key_dir)
                .ok_or_else(|| anyhow::anyhow!("no config directory; pass --out DIR"))?;
            let pass = passphrase(passphrase_file.as_deref(), true)?;
            let info = keys::generate(&dir, &name, &pass)?;
            println!(
                "private key  {}  (cosign encrypted, mode 0600)",
                opt_path(&info.private_key)
            );
            println!("public key   {}", opt_path(&info.public_key));
            println!("fingerprint  {}", info.fingerprint);
            Ok(0)
        }
        KeysCmd::Import {
            file,
            passphrase_file,
            no_copy,
        } => {
            let dir = if no_copy { None } else { config::key_dir() };
            let mut pass = || passphrase(passphrase_file.as_deref(), false);
            let info = keys::import(&file, &mut pass, dir.as_deref())?;
            println!("{} key, fingerprint {}", info.algorithm, info.fingerprint);
            if !no_copy {
                println!(
                    "copied to {} (set [reviewer] key to it in the config file)",
                    opt_path(&info.private_key)
                );
            }
            Ok(0)
        }
    }
}

fn opt_path(p: &Option<PathBuf>) -> String {
    p.as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "-".into())
}

pub fn audit(store: Option<PathBuf>, c: AuditCmd) -> anyhow::Result<i32> {
    let st = super::open_store(store)?;
    match c {
        AuditCmd::Verify { json } => {
            let v = wr::verify_audit(&st)?;
            if json {
                print_json(&v)?;
            } else {
                match &v.broken {
                    None => println!("audit log intact: {} entries, head {}", v.entries, v.head),
                    Some(b) => println!("audit log BROKEN at entry {}: {}", b.seq, b.reason),
                }
            }
            Ok(if v.broken.is_some() { 1 } else { 0 })
        }
        AuditCmd::List { json } => {
            let entries = st.audit_entries()?;
            if json {
                return print_json(&entries).map(|_| 0);
            }
            let rows: Vec<Vec<String>> = entries
                .iter()
                .map(|e| {
                    vec![
                        e.seq.to_string(),
                        e.at.clone(),
                        e.actor.clone(),
                        e.action.clone(),
                        e.target.clone(),
                        e.hash[..e.hash.len().min(16)].to_string(),
                    ]
                })
                .collect();
            print_table(
                &["SEQ", "AT", "ACTOR", "ACTION", "TARGET", "HASH"],
                &rows,
                80,
            )?;
            Ok(0)
        }
    }
}
