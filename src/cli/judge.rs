//! `findings`, `gate`, `checks`, `threat`, `diff`: judging a set.

use super::output::{opt, print_json, print_table, tri};
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct FindingsArgs {
    pub set: String,
    /// Evaluate waiver expiry and staleness at this date (YYYY-MM-DD).
    #[arg(long)]
    pub as_of: Option<String>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct GateArgs {
    pub set: Option<String>,
    #[arg(long)]
    pub package: Option<String>,
    #[arg(long)]
    pub policy: Option<PathBuf>,
    #[arg(long)]
    pub as_of: Option<String>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ChecksArgs {
    pub set: String,
    #[arg(long)]
    pub policy: Option<PathBuf>,
    #[arg(long)]
    pub as_of: Option<String>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum ThreatCmd {
    /// Import a FIRST EPSS CSV (plain or .gz) or the CISA KEV JSON catalog.
    Import { file: PathBuf },
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    pub old: String,
    pub new: String,
    #[arg(long)]
    pub json: bool,
}

pub fn findings(store: Option<PathBuf>, a: FindingsArgs) -> anyhow::Result<i32> {
    let st = super::open_store(store)?;
    let id = st.resolve_set(&a.set)?;
    let rows = st.findings(id)?;
    if a.json {
        let v: Vec<serde_json::Value> = rows
            .iter()
            .map(|f| {
                serde_json::json!({
                    "id": f.vuln_id, "aliases": f.aliases, "component": f.component_key, "purl": f.purl,
                    "name": f.name, "version": f.version, "severity": f.severity, "cvss_v3_score": f.cvss_v3_score,
                    "cvss_v3_vector": f.cvss_v3_vector, "epss": f.epss, "kev": f.kev, "fixed_versions": f.fixed_versions,
                    "fix_state": f.fix_state, "direct": f.direct, "scanners": f.scanners, "locations": f.locations,
                })
            })
            .collect();
        print_json(&v)?;
    } else {
        let t: Vec<Vec<String>> = rows
            .iter()
            .map(|f| {
                vec![
                    f.severity.to_string(),
                    f.vuln_id.clone(),
                    f.name.clone(),
                    opt(&f.version),
                    tri(f.direct).into(),
                    f.fixed_versions.join(","),
                    f.scanners.join(","),
                ]
            })
            .collect();
        print_table(&["SEVERITY", "ID", "COMPONENT", "VERSION", "DIRECT", "FIXED", "SCANNERS"], &t, 50)?;
    }
    Ok(0)
}

pub fn gate(_store: Option<PathBuf>, _a: GateArgs) -> anyhow::Result<i32> {
    anyhow::bail!("gate: not built yet")
}

pub fn checks(_store: Option<PathBuf>, _a: ChecksArgs) -> anyhow::Result<i32> {
    anyhow::bail!("checks: not built yet")
}

pub fn threat(_store: Option<PathBuf>, _c: ThreatCmd) -> anyhow::Result<i32> {
    anyhow::bail!("threat import: not built yet")
}

pub fn diff(_store: Option<PathBuf>, _a: DiffArgs) -> anyhow::Result<i32> {
    anyhow::bail!("diff: not built yet")
}
