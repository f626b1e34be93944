//! `import`, `list`, `show`, `components`: evidence in and what it holds.

use super::output::{opt, print_json, print_table, tri};
use crate::workflow::{self, Actor, ImportOptions};
use clap::Args;
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Files, directories, .tar/.tar.gz archives, OCI layouts or skopeo dir: copies.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Group the imported sets under this package name.
    #[arg(long)]
    pub package: Option<String>,
    /// Policy whose [signature] rules the import's verification applies (default: embedded).
    #[arg(long)]
    pub policy: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct JsonFlag {
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct SetArgs {
    /// Set id, unique digest prefix, or image reference.
    pub set: String,
    #[arg(long)]
    pub json: bool,
}

pub fn import(store: Option<PathBuf>, a: ImportArgs) -> anyhow::Result<i32> {
    let mut st = super::open_store(store)?;
    let opts = ImportOptions {
        package: a.package,
        limits: crate::ingest::limits::Limits::from_env(),
        policy: match &a.policy {
            Some(p) => Some(crate::workflow::judge::load_policy(Some(p))?),
            None => None,
        },
    };
    let bar = std::io::stderr().is_terminal().then(|| {
        let b = indicatif::ProgressBar::new(0);
        b.set_style(
            indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {wide_msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    });
    let mut progress = |p: workflow::ImportProgress| {
        if let Some(b) = &bar {
            b.set_length(p.total as u64);
            b.set_position(p.done as u64);
            b.set_message(crate::sanitize::line(&p.path, 60));
        }
    };
    let report =
        workflow::import_paths(&mut st, &a.paths, &opts, &Actor::from_env(), &mut progress)?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    if a.json {
        print_json(&report)?;
    } else {
        for s in &report.sets {
            println!(
                "set {}  {}  {}  components {}  findings {}{}",
                s.id,
                crate::sanitize::line(&opt(&s.image), 60),
                opt(&s.digest),
                s.components,
                s.findings,
                if s.unchanged {
                    "  (unchanged: everything was already imported)"
                } else {
                    ""
                }
            );
            let rows: Vec<Vec<String>> = s
                .files
                .iter()
                .map(|f| {
                    vec![
                        f.status.clone(),
                        opt(&f.format),
                        f.path.clone(),
                        opt(&f.message),
                    ]
                })
                .collect();
            print_table(&["STATUS", "FORMAT", "FILE", "MESSAGE"], &rows, 100)?;
        }
    }
    Ok(if report.any_failed() { 1 } else { 0 })
}

pub fn list(store: Option<PathBuf>, a: JsonFlag) -> anyhow::Result<i32> {
    let st = super::open_store(store)?;
    let sets = st.list_sets()?;
    if a.json {
        let v: Vec<serde_json::Value> = sets
            .iter()
            .map(|s| {
                serde_json::json!({
                    "id": s.id, "image": s.image, "digest": s.digest, "package": s.package,
                    "components": s.components, "findings": s.findings, "imported_at": s.imported_at,
                })
            })
            .collect();
        print_json(&v)?;
    } else {
        let rows: Vec<Vec<String>> = sets
            .iter()
            .map(|s| {
                vec![
                    s.id.to_string(),
                    opt(&s.package),
                    opt(&s.image),
                    s.digest
                        .clone()
                        .map(|d| d.chars().take(19).collect())
                        .unwrap_or_else(|| "-".into()),
                    s.components.to_string(),
                    s.findings.to_string(),
                ]
            })
            .collect();
        print_table(
            &["ID", "PACKAGE", "IMAGE", "DIGEST", "COMPONENTS", "FINDINGS"],
            &rows,
            60,
        )?;
    }
    Ok(0)
}

pub fn show(store: Option<PathBuf>, a: SetArgs) -> anyhow::Result<i32> {
    let st = super::open_store(store)?;
    let id = st.resolve_set(&a.set)?;
    let s = st.set(id)?;
    let files = st.set_files(id)?;
    if a.json {
        print_json(&serde_json::json!({ "set": s, "files": files }))?;
    } else {
        println!(
            "set {}  image {}  digest {}",
            s.id,
            crate::sanitize::line(&opt(&s.image), 80),
            opt(&s.digest)
        );
        println!(
            "package {}  source {}  imported {}",
            opt(&s.package),
            crate::sanitize::line(&s.source, 80),
            s.imported_at
        );
        println!(
            "components {}  findings {}  image user {}",
            s.components,
            s.findings,
            opt(&s.image_user)
        );
        let rows: Vec<Vec<String>> = files
            .iter()
            .map(|f| {
                vec![
                    f.status.clone(),
                    opt(&f.format),
                    f.sha256.chars().take(12).collect(),
                    f.path.clone(),
                    opt(&f.message),
                ]
            })
            .collect();
        print_table(
            &["STATUS", "FORMAT", "SHA256", "FILE", "MESSAGE"],
            &rows,
            90,
        )?;
    }
    Ok(0)
}

pub fn components(store: Option<PathBuf>, a: SetArgs) -> anyhow::Result<i32> {
    let st = super::open_store(store)?;
    let id = st.resolve_set(&a.set)?;
    let comps = st.components(id)?;
    if a.json {
        print_json(&comps)?;
    } else {
        let rows: Vec<Vec<String>> = comps
            .iter()
            .map(|c| {
                vec![
                    c.name.clone(),
                    opt(&c.version),
                    c.kind.clone(),
                    tri(c.direct).into(),
                    c.findings.to_string(),
                    opt(&c.purl),
                ]
            })
            .collect();
        print_table(
            &["NAME", "VERSION", "TYPE", "DIRECT", "FINDINGS", "PURL"],
            &rows,
            70,
        )?;
    }
    Ok(0)
}
