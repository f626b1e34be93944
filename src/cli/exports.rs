//! `export` and `verify-package`.

use crate::export::ExportFormat;
use crate::workflow::export::{self as wf, ExportRequest, Selection};
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[arg(long)]
    pub package: Option<String>,
    #[arg(long)]
    pub set: Option<String>,
    /// json, pdf, openvex, cyclonedx-vex, poam-csv, poam-xlsx or all (comma-separated list allowed).
    /// package.json is always written: the PDF's footer names its sha256.
    #[arg(long, default_value = "all")]
    pub format: String,
    #[arg(long)]
    pub out: PathBuf,
    /// The reviewer's P-256 private key (PKCS#8 PEM) to sign package.json with.
    #[arg(long)]
    pub sign_key: Option<PathBuf>,
    #[arg(long)]
    pub passphrase_file: Option<PathBuf>,
    /// Fixes the generation time (YYYY-MM-DD or RFC 3339) for byte-identical re-exports;
    /// `SOURCE_DATE_EPOCH` does the same when this is absent.
    #[arg(long)]
    pub as_of: Option<String>,
    /// Also write package.tar holding the package, its signatures and every raw evidence file.
    #[arg(long)]
    pub with_evidence: bool,
    /// List INFO findings in the PDF too (default: BLOCK and WARN, INFO as counts).
    #[arg(long)]
    pub all_findings: bool,
    /// Classification banner on every PDF page.
    #[arg(long, env = "DOSSIER_CLASSIFICATION", default_value = "UNCLASSIFIED")]
    pub classification: String,
    /// Scan-gate policy for the verdict (default: the embedded policy).
    #[arg(long)]
    pub policy: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct VerifyPackageArgs {
    /// An export directory, a package.json, or a package.tar bundle.
    pub path: PathBuf,
    /// The reviewer's public key (SPKI PEM).
    #[arg(long)]
    pub key: PathBuf,
    #[arg(long)]
    pub json: bool,
}

fn read_passphrase(p: &PathBuf) -> anyhow::Result<Vec<u8>> {
    let mut b = std::fs::read(p).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
    while matches!(b.last(), Some(b'\n' | b'\r')) {
        b.pop();
    }
    Ok(b)
}

pub fn export(store: Option<PathBuf>, a: ExportArgs) -> anyhow::Result<i32> {
    let selection = match (a.package, a.set) {
        (Some(p), None) => Selection::Package(p),
        (None, Some(s)) => Selection::Set(s),
        _ => {
            eprintln!("export: give exactly one of --package NAME or --set SET");
            return Ok(2);
        }
    };
    let formats = match ExportFormat::parse_list(&a.format) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("export: {e}");
            return Ok(2);
        }
    };
    let passphrase = a
        .passphrase_file
        .as_ref()
        .map(read_passphrase)
        .transpose()?;
    let req = ExportRequest {
        selection,
        formats,
        out_dir: a.out,
        sign_key: a.sign_key,
        passphrase,
        as_of: a.as_of,
        source_date_epoch: std::env::var("SOURCE_DATE_EPOCH").ok(),
        with_evidence: a.with_evidence,
        all_findings: a.all_findings,
        classification: a.classification,
        policy: a.policy,
    };
    let mut st = super::open_store(store)?;
    let actor = crate::workflow::Actor::from_env();
    let tty = std::io::IsTerminal::is_terminal(&std::io::stderr());
    // DOSSIER_TIMINGS=1: each phase with the seconds since the export started (for the
    // scale benchmarks' breakdowns), whether or not stderr is a terminal.
    let timings = std::env::var_os("DOSSIER_TIMINGS").is_some();
    let start = std::time::Instant::now();
    let mut last = String::new();
    let report = match wf::export(&mut st, &req, &actor, &mut |p| {
        if p.phase != last {
            if timings {
                eprintln!(
                    "[{:8.3} s, {}] {}",
                    start.elapsed().as_secs_f64(),
                    memory(),
                    p.phase
                );
            } else if tty {
                eprintln!("{}...", p.phase);
            }
            last = p.phase.clone();
        }
    }) {
        Ok(r) => r,
        Err(wf::ExportError::Usage(m)) => {
            eprintln!("export: {m}");
            return Ok(2);
        }
        Err(e) => return Err(e.into()),
    };
    if a.json {
        super::output::print_json(&report)?;
    } else {
        println!(
            "package {}: verdict {}, sha256 {}{}",
            crate::sanitize::line(&report.package, 120),
            report.verdict,
            report.package_sha256,
            if report.signed {
                ", signed"
            } else {
                ", not signed"
            }
        );
        let rows: Vec<Vec<String>> = report
            .files
            .iter()
            .map(|f| {
                vec![
                    f.path.display().to_string(),
                    f.size.to_string(),
                    f.sha256.clone(),
                ]
            })
            .collect();
        super::output::print_table(&["FILE", "BYTES", "SHA256"], &rows, 200)?;
    }
    Ok(0)
}

/// Resident and peak memory from /proc (Linux), for DOSSIER_TIMINGS lines.
fn memory() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or_else(|| "?".to_string(), |k| format!("{}", k / 1024))
    };
    format!("RSS {} MiB, peak {} MiB", kib("VmRSS:"), kib("VmHWM:"))
}

pub fn verify_package(a: VerifyPackageArgs) -> anyhow::Result<i32> {
    let key =
        std::fs::read_to_string(&a.key).map_err(|e| anyhow::anyhow!("{}: {e}", a.key.display()))?;
    let r = wf::verify_package(&a.path, &key, &a.key.display().to_string())?;
    if a.json {
        super::output::print_json(&r)?;
    } else {
        println!("package sha256 {}", r.package_sha256);
        let rows: Vec<Vec<String>> = r
            .steps
            .iter()
            .map(|s| {
                vec![
                    s.check.clone(),
                    if s.ok { "ok".into() } else { "FAILED".into() },
                    s.detail.clone(),
                ]
            })
            .collect();
        super::output::print_table(&["CHECK", "RESULT", "DETAIL"], &rows, 300)?;
    }
    Ok(if r.ok() { 0 } else { 1 })
}
