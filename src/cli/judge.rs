//! `findings`, `gate`, `checks`, `threat`, `diff`: judging a set. Thin: every decision is
//! `workflow::judge`'s; this file prints and picks the exit code (0 PASS, 3 CONDITIONAL,
//! 1 FAIL, 2 error).

use super::output::{opt, print_json, print_table, tri};
use crate::analysis::gate::Verdict;
use crate::sanitize;
use crate::workflow::judge::{self, JudgeReport};
use crate::workflow::Actor;
use clap::{Args, Subcommand};
use std::collections::HashMap;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct FindingsArgs {
    pub set: String,
    /// Evaluate waiver expiry and staleness at this date (YYYY-MM-DD).
    #[arg(long)]
    pub as_of: Option<String>,
    /// Policy file (default: the embedded program policy).
    #[arg(long)]
    pub policy: Option<PathBuf>,
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
    pub policy: Option<PathBuf>,
    #[arg(long)]
    pub as_of: Option<String>,
    #[arg(long)]
    pub json: bool,
}

fn text(s: &str) -> String {
    sanitize::clean(s, false)
}

pub fn findings(store: Option<PathBuf>, a: FindingsArgs) -> anyhow::Result<i32> {
    let st = super::open_store(store)?;
    let id = st.resolve_set(&a.set)?;
    let policy = judge::load_policy(a.policy.as_deref())?;
    let as_of = judge::parse_as_of(a.as_of.as_deref())?;
    let report = judge::evaluate_set(&st, id, &policy, as_of)?;
    let by_id: HashMap<i64, &judge::FindingJudgement> =
        report.findings.iter().map(|f| (f.finding_id, f)).collect();
    let rows = st.findings(id)?;
    if a.json {
        let v: Vec<serde_json::Value> = rows
            .iter()
            .map(|f| {
                let j = by_id.get(&f.id);
                serde_json::json!({
                    "id": f.vuln_id, "aliases": f.aliases, "component": f.component_key, "purl": f.purl,
                    "name": f.name, "version": f.version, "severity": f.severity, "cvss_v3_score": f.cvss_v3_score,
                    "cvss_v2_vector": f.cvss_v2_vector, "cvss_v3_vector": f.cvss_v3_vector, "cvss_v4_vector": f.cvss_v4_vector,
                    "epss": j.and_then(|j| j.epss), "kev": j.map(|j| j.kev), "fixed_versions": f.fixed_versions,
                    "fix_state": f.fix_state, "direct": f.direct, "scanners": f.scanners, "locations": f.locations,
                    "gate": j.map(|j| j.gate), "gate_reason": j.map(|j| j.reason.clone()),
                    "disposition": j.and_then(|j| j.disposition.clone()),
                    "waiver": j.and_then(|j| j.waiver.clone()), "vex": j.and_then(|j| j.vex.clone()),
                })
            })
            .collect();
        print_json(&v)?;
    } else {
        let t: Vec<Vec<String>> = rows
            .iter()
            .map(|f| {
                let j = by_id.get(&f.id);
                vec![
                    f.severity.to_string(),
                    j.map(|j| j.gate.as_str().to_string()).unwrap_or_default(),
                    f.vuln_id.clone(),
                    f.name.clone(),
                    opt(&f.version),
                    tri(f.direct).into(),
                    f.fixed_versions.join(","),
                    j.and_then(|j| j.disposition.clone())
                        .unwrap_or_else(|| "-".into()),
                    f.scanners.join(","),
                ]
            })
            .collect();
        print_table(
            &[
                "SEVERITY",
                "GATE",
                "ID",
                "COMPONENT",
                "VERSION",
                "DIRECT",
                "FIXED",
                "DISPOSITION",
                "SCANNERS",
            ],
            &t,
            50,
        )?;
    }
    Ok(0)
}

fn gate_json(r: &JudgeReport) -> serde_json::Value {
    serde_json::json!({
        "set": r.set_id, "image": r.image, "digest": r.digest,
        "verdict": r.verdict, "policy": r.policy_name, "policy_sha256": r.policy_sha256, "as_of": r.as_of,
        "reasons": r.reasons, "counts": r.counts, "threat_data": r.threat,
        "findings": r.findings.iter().map(|f| serde_json::json!({
            "id": f.id, "component": f.component, "severity": f.severity, "gate": f.gate, "reason": f.reason,
            "disposition": f.disposition, "waiver": f.waiver, "vex": f.vex,
        })).collect::<Vec<_>>(),
        "checks": r.diagnostics,
    })
}

fn print_gate(r: &JudgeReport) -> anyhow::Result<()> {
    println!(
        "set {} {}: {}",
        r.set_id,
        text(
            r.image
                .as_deref()
                .or(r.digest.as_deref())
                .unwrap_or("(no reference)")
        ),
        r.verdict.as_str()
    );
    println!(
        "policy {} sha256:{} ({}), as of {}",
        text(&r.policy_name),
        r.policy_sha256,
        text(&r.policy_source),
        r.as_of
    );
    for t in &r.threat {
        println!(
            "threat data: {} {} dated {} ({} rows)",
            t.kind,
            text(&t.version),
            text(&t.data_date),
            t.rows
        );
    }
    if r.threat.is_empty() {
        println!("threat data: none imported (EPSS and KEV only from the scanner reports)");
    }
    let c = &r.counts;
    println!(
        "findings {}: BLOCK {} WARN {} INFO {}; undisposed BLOCK {} WARN {}; waived {} not_affected {}",
        c.findings,
        judge::class_count(r, crate::analysis::gate::GateClass::Block),
        judge::class_count(r, crate::analysis::gate::GateClass::Warn),
        judge::class_count(r, crate::analysis::gate::GateClass::Info),
        c.undisposed_block,
        c.undisposed_warn,
        c.waived,
        c.not_affected
    );
    for reason in &r.reasons {
        println!("  - {}", text(reason));
    }
    // A failed one is among the reasons already; a warning would otherwise only show in
    // `checks`, and a reviewer gating under one policy must see that signatures were not.
    for d in r.diagnostics.iter().filter(|d| {
        d.code == "verify-policy-differs" && d.level != crate::analysis::checks::Level::Fail
    }) {
        println!("  note: {}", text(&d.message));
    }
    let open: Vec<Vec<String>> = r
        .findings
        .iter()
        .filter(|f| f.gate != crate::analysis::gate::GateClass::Info && f.disposition.is_none())
        .take(50)
        .map(|f| {
            vec![
                f.gate.as_str().into(),
                f.severity.to_string(),
                f.id.clone(),
                f.component.clone(),
                f.reason.clone(),
            ]
        })
        .collect();
    if !open.is_empty() {
        println!();
        print_table(
            &["GATE", "SEVERITY", "ID", "COMPONENT", "REASON"],
            &open,
            120,
        )?;
    }
    Ok(())
}

pub fn gate(store: Option<PathBuf>, a: GateArgs) -> anyhow::Result<i32> {
    let mut st = super::open_store(store)?;
    let policy = judge::load_policy(a.policy.as_deref())?;
    let as_of = judge::parse_as_of(a.as_of.as_deref())?;
    let ids: Vec<i64> = match (&a.set, &a.package) {
        (Some(s), None) => vec![st.resolve_set(s)?],
        (None, Some(p)) => {
            let sets = st.package_sets(p)?;
            if sets.is_empty() {
                anyhow::bail!("package '{p}' has no evidence sets");
            }
            sets.into_iter().map(|s| s.id).collect()
        }
        _ => anyhow::bail!("give exactly one of SET or --package NAME"),
    };
    let actor = Actor::from_env();
    let mut reports = Vec::new();
    for id in ids {
        let r = judge::evaluate_set(&st, id, &policy, as_of)?;
        judge::record_verdict(&mut st, &r, &actor)?;
        reports.push(r);
    }
    let worst = reports
        .iter()
        .map(|r| r.verdict)
        .max_by_key(|v| match v {
            Verdict::Pass => 0,
            Verdict::Conditional => 1,
            Verdict::Fail => 2,
        })
        .unwrap_or(Verdict::Pass);
    if a.json {
        if a.package.is_some() {
            print_json(&serde_json::json!({
                "package": a.package, "verdict": worst, "policy_sha256": policy.sha256, "as_of": as_of.to_string(),
                "sets": reports.iter().map(gate_json).collect::<Vec<_>>(),
            }))?;
        } else if let Some(r) = reports.first() {
            print_json(&gate_json(r))?;
        }
    } else {
        for r in &reports {
            print_gate(r)?;
        }
        if let Some(p) = &a.package {
            println!("package {}: {}", text(p), worst.as_str());
        }
    }
    Ok(worst.exit_code())
}

pub fn checks(store: Option<PathBuf>, a: ChecksArgs) -> anyhow::Result<i32> {
    let st = super::open_store(store)?;
    let id = st.resolve_set(&a.set)?;
    let policy = judge::load_policy(a.policy.as_deref())?;
    let as_of = judge::parse_as_of(a.as_of.as_deref())?;
    let r = judge::evaluate_set(&st, id, &policy, as_of)?;
    let mut d = r.diagnostics.clone();
    d.sort_by(|x, y| {
        y.level
            .cmp(&x.level)
            .then(x.check.cmp(y.check))
            .then(x.code.cmp(y.code))
    });
    if a.json {
        print_json(&d)?;
    } else {
        let t: Vec<Vec<String>> = d
            .iter()
            .map(|x| {
                vec![
                    x.level.as_str().into(),
                    x.check.into(),
                    x.code.into(),
                    x.message.clone(),
                ]
            })
            .collect();
        print_table(&["LEVEL", "CHECK", "CODE", "MESSAGE"], &t, 160)?;
    }
    Ok(0)
}

pub fn threat(store: Option<PathBuf>, c: ThreatCmd) -> anyhow::Result<i32> {
    let mut st = super::open_store(store)?;
    let ThreatCmd::Import { file } = c;
    let s = judge::threat::import_threat(&mut st, &file, &Actor::from_env())?;
    println!(
        "imported {} {} rows from {} ({} {}, dated {})",
        s.rows,
        s.kind,
        text(&s.file),
        if s.kind == "epss" { "model" } else { "catalog" },
        text(&s.version),
        text(&s.data_date)
    );
    Ok(0)
}

pub fn diff(store: Option<PathBuf>, a: DiffArgs) -> anyhow::Result<i32> {
    let st = super::open_store(store)?;
    let old = st.resolve_set(&a.old)?;
    let new = st.resolve_set(&a.new)?;
    let policy = judge::load_policy(a.policy.as_deref())?;
    let as_of = judge::parse_as_of(a.as_of.as_deref())?;
    let d = judge::diff::diff_sets(&st, old, new, &policy, as_of)?;
    if a.json {
        print_json(&d)?;
        return Ok(0);
    }
    println!(
        "findings: {} new, {} fixed, {} unchanged; components: {} added, {} removed, {} changed",
        d.new_findings.len(),
        d.fixed_findings.len(),
        d.unchanged_findings,
        d.added_components.len(),
        d.removed_components.len(),
        d.changed_components.len()
    );
    let mut t: Vec<Vec<String>> = Vec::new();
    t.extend(d.new_findings.iter().map(|f| {
        vec![
            "new".into(),
            f.severity.to_string(),
            f.id.clone(),
            f.component.clone(),
        ]
    }));
    t.extend(d.fixed_findings.iter().map(|f| {
        vec![
            "fixed".into(),
            f.severity.to_string(),
            f.id.clone(),
            f.component.clone(),
        ]
    }));
    t.extend(d.changed_components.iter().map(|c| {
        vec![
            "changed".into(),
            c.kind.clone(),
            c.name.clone(),
            format!(
                "{} -> {}",
                c.old_version.clone().unwrap_or_default(),
                c.new_version.clone().unwrap_or_default()
            ),
        ]
    }));
    t.extend(d.added_components.iter().map(|c| {
        vec![
            "added".into(),
            c.kind.clone(),
            c.name.clone(),
            opt(&c.version),
        ]
    }));
    t.extend(d.removed_components.iter().map(|c| {
        vec![
            "removed".into(),
            c.kind.clone(),
            c.name.clone(),
            opt(&c.version),
        ]
    }));
    t.extend(d.waivers.iter().map(|w| {
        vec![
            format!("waiver {}", w.status),
            String::new(),
            w.id.clone(),
            w.findings.join(", "),
        ]
    }));
    print_table(
        &["CHANGE", "SEVERITY/TYPE", "ID/NAME", "COMPONENT/VERSION"],
        &t,
        100,
    )?;
    Ok(0)
}
