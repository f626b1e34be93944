//! Measures the PDF writer on a synthetic package: `cargo run --release --example export_pdf
//! -- 100000 [--all]` prints the findings count, pages, bytes and wall time. Not a test:
//! timings depend on the machine, so nothing here asserts them.

use dossier::export::model::*;
use dossier::export::pdf::{render, PdfOptions};
use std::time::Instant;

fn finding(i: usize) -> FindingItem {
    let sev = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "NEGLIGIBLE", "UNKNOWN"][i % 6];
    let gate = ["BLOCK", "WARN", "WARN", "INFO", "INFO", "WARN"][i % 6];
    let disp = ["open", "waived", "not_affected", "open", "patched", "open"][i % 6];
    FindingItem {
        vuln_id: format!("CVE-2024-{:05}", i),
        aliases: vec![format!(
            "GHSA-{:04x}-{:04x}-xxxx",
            i % 65536,
            (i * 7) % 65536
        )],
        component_key: format!(
            "pkg:npm/some-rather-long-package-name-{}@{}.0.0",
            i % 997,
            i % 13
        ),
        purl: Some(format!(
            "pkg:npm/some-rather-long-package-name-{}@{}.0.0",
            i % 997,
            i % 13
        )),
        name: format!("some-rather-long-package-name-{}", i % 997),
        version: Some(format!("{}.0.0", i % 13)),
        severity: sev.into(),
        direct: Some(i % 2 == 0),
        fixed_versions: vec![format!("{}.0.1", i % 13)],
        fix_state: "fixed".into(),
        cvss_v3_score: Some(7.5),
        epss: Some(0.01),
        kev: Some(false),
        scanners: vec!["trivy".into(), "grype".into()],
        title: Some(
            "A vulnerability title that is long enough to need wrapping in a table cell".into(),
        ),
        gate: gate.into(),
        gate_reason: Some(format!("{sev} in a direct dependency")),
        disposition: disp.into(),
        justification: (disp == "not_affected")
            .then(|| "vulnerable_code_not_in_execute_path".into()),
        note: (disp == "waived")
            .then(|| "Compensating control: the service runs with no network egress.".into()),
        decided_by: None,
        decided_at: None,
        waiver: (disp == "waived").then(|| format!("W-2026-{:04}", i % 500)),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let all = args.iter().any(|a| a == "--all");
    let mut findings: Vec<FindingItem> = (0..n).map(finding).collect();
    sort_findings(&mut findings);
    let set = SetExport {
        id: 1,
        image: Some("registry.example.mil/team/app:1.0".into()),
        repository: Some("registry.example.mil/team/app".into()),
        digest: Some(format!("sha256:{}", "ab".repeat(32))),
        verdict: Verdict {
            status: "FAIL".into(),
            policy_sha256: Some("cd".repeat(32)),
            as_of: Some("2026-11-27".into()),
            reasons: vec!["synthetic".into()],
        },
        evidence: vec![],
        verification: None,
        checks: None,
        scanners: vec![],
        counts: count(&findings),
        findings,
        waivers: Some(vec![]),
        stig: None,
    };
    let pkg = Package {
        schema_version: SCHEMA_VERSION.into(),
        name: "synthetic".into(),
        generated_at: "2026-11-27T00:00:00Z".into(),
        generator: Generator {
            name: "dossier".into(),
            version: "bench".into(),
        },
        classification: "UNCLASSIFIED".into(),
        reviewer: Reviewer::default(),
        verdict: set.verdict.clone(),
        audit_head: "0".repeat(64),
        sets: vec![set],
    };
    let t = Instant::now();
    let opts = PdfOptions {
        package_sha256: "ef".repeat(32),
        all_findings: all,
    };
    let bytes = match render(&pkg, &opts, &mut |_, _, _| {}) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("render failed: {e}");
            std::process::exit(2);
        }
    };
    let pages = bytes
        .windows(b"/Type /Page\n".len())
        .filter(|w| *w == b"/Type /Page\n")
        .count();
    println!(
        "findings {n} (all listed: {all}) -> {} bytes in {:.2?} ({pages} page markers)",
        bytes.len(),
        t.elapsed()
    );
    if let Some(path) = args.iter().find(|a| a.ends_with(".pdf")) {
        if let Err(e) = std::fs::write(path, &bytes) {
            eprintln!("{path}: {e}");
        }
    }
}
