//! The report's sections, each a function of the export model and the template wording.

use super::charts::{bar_chart, severity_color};
use super::layout::{black, grey, rgb, Doc, Face, CONTENT_W, MARGIN_X};
use super::tables::{col, table};
use super::template::Template;
use super::{PdfOptions, Progress};
use crate::export::model::{Package, SetExport, NOT_EVALUATED};
use std::collections::BTreeMap;

/// `#1 app`: short enough for a table column, unique by the set id.
fn set_label(s: &SetExport) -> String {
    let name = s
        .repository
        .as_deref()
        .or(s.image.as_deref())
        .map(|r| r.rsplit('/').next().unwrap_or(r).to_string())
        .unwrap_or_default();
    format!("#{} {name}", s.id)
}

fn opt(s: &Option<String>) -> String {
    s.clone().unwrap_or_else(|| "-".into())
}

fn verdict_box(doc: &mut Doc<'_>, status: &str) {
    let h = 30.0;
    doc.ensure(h + 10.0);
    let text = format!("Overall verdict: {status}");
    let w = doc.fonts.face(Face::Bold).width(&text, 16.0) + 24.0;
    doc.rect(
        MARGIN_X,
        doc.y - h,
        w.min(CONTENT_W),
        h,
        severity_color(status),
    );
    doc.text_at(
        MARGIN_X + 12.0,
        doc.y - 21.0,
        &text,
        Face::Bold,
        16.0,
        rgb(1.0, 1.0, 1.0),
    );
    doc.y -= h + 10.0;
}

pub fn cover(doc: &mut Doc<'_>, pkg: &Package, t: &Template, opts: &PdfOptions) {
    doc.gap(30.0);
    for line in doc
        .fonts
        .wrap(&t.cover.title, Face::Bold, 20.0, CONTENT_W, 3)
    {
        doc.text_at(
            MARGIN_X,
            doc.y - 20.0,
            &line,
            Face::Bold,
            20.0,
            rgb(0.1, 0.2, 0.4),
        );
        doc.gap(26.0);
    }
    doc.gap(4.0);
    doc.text_at(
        MARGIN_X,
        doc.y - 12.0,
        &t.cover.subtitle,
        Face::Regular,
        12.0,
        grey(),
    );
    doc.gap(36.0);
    verdict_box(doc, &pkg.verdict.status);
    doc.kv("System / package", &pkg.name);
    doc.kv("Date", &pkg.generated_at);
    let mut reviewer = pkg.reviewer.name.clone();
    if let Some(r) = &pkg.reviewer.role {
        reviewer.push_str(&format!(" ({r})"));
    }
    doc.kv("Reviewer", &reviewer);
    doc.kv(
        "Reviewer key",
        pkg.reviewer
            .key_fingerprint
            .as_deref()
            .unwrap_or("package not signed"),
    );
    doc.kv("Classification", &pkg.classification);
    doc.kv(
        "Policy sha256",
        pkg.verdict
            .policy_sha256
            .as_deref()
            .unwrap_or(NOT_EVALUATED),
    );
    doc.kv(
        "Evaluated as of",
        pkg.verdict.as_of.as_deref().unwrap_or(NOT_EVALUATED),
    );
    doc.kv("Package sha256", &opts.package_sha256);
    doc.kv("Audit log head", &pkg.audit_head);
    doc.gap(8.0);
    if !pkg.verdict.is_evaluated() {
        doc.paragraph(&t.cover.not_evaluated, 10.0);
    }
    for r in &pkg.verdict.reasons {
        doc.paragraph(&format!("• {r}"), 9.0);
    }
    doc.gap(6.0);
    let rows = pkg.sets.iter().map(|s| {
        vec![
            set_label(s),
            s.image.clone().unwrap_or_default(),
            opt(&s.digest),
            s.verdict.status.clone(),
            s.counts.total.to_string(),
        ]
    });
    table(
        doc,
        &[
            col("Set", 0.12),
            col("Image", 0.28),
            col("Digest", 0.34),
            col("Verdict", 0.14),
            col("Findings", 0.12),
        ],
        rows,
        4,
    );
    doc.paragraph(&t.cover.intro, 9.5);
    doc.new_page();
}

fn state_summary(set: &SetExport, kinds: &[&str]) -> String {
    let Some(v) = &set.verification else {
        return NOT_EVALUATED.into();
    };
    let mut by: BTreeMap<&str, usize> = BTreeMap::new();
    for r in v
        .iter()
        .filter(|r| kinds.iter().any(|k| r.kind.contains(k)))
    {
        *by.entry(r.status.as_str()).or_default() += 1;
    }
    if by.is_empty() {
        return "none found".into();
    }
    by.iter()
        .map(|(s, n)| format!("{s} ({n})"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn db_age(set: &SetExport) -> String {
    if set.scanners.is_empty() {
        return "no scan report".into();
    }
    set.scanners
        .iter()
        .map(|s| {
            let v = s
                .version
                .as_deref()
                .map(|v| format!(" {v}"))
                .unwrap_or_default();
            match (&s.db_built, s.db_age_days) {
                (Some(b), Some(d)) => {
                    format!("{}{v}: DB built {b}, {d} day(s) before the scan", s.scanner)
                }
                (Some(b), None) => format!("{}{v}: DB built {b}", s.scanner),
                _ => format!("{}{v}: DB build date not recorded in the report", s.scanner),
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

pub fn summary(doc: &mut Doc<'_>, pkg: &Package, t: &Template) {
    doc.heading(&t.summary.heading);
    doc.paragraph(&t.summary.intro, 9.5);
    for s in &pkg.sets {
        doc.subheading(&format!(
            "{} {}",
            set_label(s),
            s.image.as_deref().unwrap_or("")
        ));
        doc.kv(
            "Digest",
            s.digest
                .as_deref()
                .unwrap_or("(no digest named by the evidence)"),
        );
        doc.kv("Repository", s.repository.as_deref().unwrap_or("-"));
        doc.kv("Verdict", &s.verdict.status);
        for r in &s.verdict.reasons {
            doc.kv("", &format!("• {r}"));
        }
        doc.kv("Image signature", &state_summary(s, &["signature"]));
        doc.kv("Attestations", &state_summary(s, &["attest"]));
        doc.kv("Scanner DB age", &db_age(s));
        doc.kv("Findings", &s.counts.total.to_string());
        let sev: Vec<(String, u64)> = crate::model::Severity::ALL
            .iter()
            .map(|x| {
                (
                    x.as_str().to_string(),
                    s.counts.by_severity.get(x.as_str()).copied().unwrap_or(0),
                )
            })
            .collect();
        bar_chart(doc, "Findings by severity", &sev);
        let order = ["BLOCK", "WARN", "INFO", NOT_EVALUATED];
        let mut gates: Vec<(String, u64)> = order
            .iter()
            .filter_map(|g| s.counts.by_gate.get(*g).map(|n| (g.to_string(), *n)))
            .collect();
        gates.extend(
            s.counts
                .by_gate
                .iter()
                .filter(|(g, _)| !order.contains(&g.as_str()))
                .map(|(g, n)| (g.clone(), *n)),
        );
        if gates.is_empty() {
            gates.push(("BLOCK".into(), 0));
        }
        bar_chart(doc, "Findings by gate class", &gates);
        let disp: Vec<(String, u64)> = s
            .counts
            .by_disposition
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        if !disp.is_empty() {
            bar_chart(doc, "Findings by disposition", &disp);
        }
    }
}

pub fn evidence(doc: &mut Doc<'_>, pkg: &Package, t: &Template) {
    doc.heading(&t.evidence.heading);
    doc.paragraph(&t.evidence.intro, 9.5);
    let rows = pkg.sets.iter().flat_map(|s| {
        s.evidence.iter().map(move |e| {
            let mut status = e.status.clone();
            if let Some(m) = &e.message {
                status.push_str(&format!(": {m}"));
            }
            vec![
                set_label(s),
                e.path.clone(),
                format!(
                    "{} {}",
                    opt(&e.format),
                    e.spec_version.as_deref().unwrap_or("")
                ),
                status,
                e.size.to_string(),
                e.sha256.clone(),
            ]
        })
    });
    table(
        doc,
        &[
            col("Set", 0.09),
            col("Path", 0.26),
            col("Format", 0.13),
            col("Status", 0.14),
            col("Bytes", 0.08),
            col("SHA-256", 0.30),
        ],
        rows,
        3,
    );
}

pub fn signatures(doc: &mut Doc<'_>, pkg: &Package, t: &Template) {
    doc.heading(&t.signatures.heading);
    doc.paragraph(&t.signatures.intro, 9.5);
    for s in &pkg.sets {
        match &s.verification {
            None => doc.paragraph(&format!("{}: {}", set_label(s), t.signatures.none), 9.0),
            Some(v) => {
                doc.subheading(&set_label(s));
                let rows = v.iter().map(|r| {
                    vec![
                        r.kind.clone(),
                        r.subject.clone(),
                        r.status.clone(),
                        opt(&r.key),
                        opt(&r.detail),
                    ]
                });
                table(
                    doc,
                    &[
                        col("Kind", 0.14),
                        col("Subject", 0.26),
                        col("Result", 0.12),
                        col("Key", 0.16),
                        col("Detail", 0.32),
                    ],
                    rows,
                    3,
                );
            }
        }
    }
}

pub fn checks(doc: &mut Doc<'_>, pkg: &Package, t: &Template) {
    doc.heading(&t.checks.heading);
    doc.paragraph(&t.checks.intro, 9.5);
    for s in &pkg.sets {
        match &s.checks {
            None => doc.paragraph(&format!("{}: {}", set_label(s), t.checks.none), 9.0),
            Some(c) => {
                doc.subheading(&set_label(s));
                let rows = c
                    .iter()
                    .map(|r| vec![r.code.clone(), r.status.to_uppercase(), r.reason.clone()]);
                table(
                    doc,
                    &[col("Check", 0.25), col("Result", 0.10), col("Reason", 0.65)],
                    rows,
                    4,
                );
            }
        }
    }
}

fn listed(gate: &str, all: bool) -> bool {
    all || gate == "BLOCK" || gate == "WARN" || gate == NOT_EVALUATED
}

pub fn findings(
    doc: &mut Doc<'_>,
    pkg: &Package,
    t: &Template,
    opts: &PdfOptions,
    progress: Progress<'_>,
) {
    doc.heading(&t.findings.heading);
    let unclassified = pkg.all_findings().any(|(_, f)| f.gate == NOT_EVALUATED);
    let intro = if opts.all_findings {
        &t.findings.all_intro
    } else if unclassified {
        &t.findings.unclassified_intro
    } else {
        &t.findings.intro
    };
    doc.paragraph(intro, 9.5);
    let total = pkg
        .all_findings()
        .filter(|(_, f)| listed(&f.gate, opts.all_findings))
        .count();
    let mut done = 0usize;
    let rows = pkg
        .all_findings()
        .filter(|(_, f)| listed(&f.gate, opts.all_findings))
        .map(|(s, f)| {
            done += 1;
            if done % 2000 == 0 || done == total {
                progress("pdf: findings", done, total);
            }
            let comp = format!("{} {}", f.name, f.version.as_deref().unwrap_or(""));
            let mut why: Vec<String> = Vec::new();
            if let Some(w) = &f.waiver {
                why.push(format!("waiver {w}"));
            }
            if let Some(j) = &f.justification {
                why.push(j.clone());
            }
            if let Some(n) = &f.note {
                why.push(n.clone());
            }
            if why.is_empty() {
                if let Some(r) = &f.gate_reason {
                    why.push(format!("gate: {r}"));
                }
            }
            vec![
                set_label(s),
                f.vuln_id.clone(),
                comp,
                f.severity.clone(),
                f.gate.clone(),
                f.disposition.clone(),
                why.join("; "),
            ]
        });
    table(
        doc,
        &[
            col("Set", 0.07),
            col("Vulnerability", 0.18),
            col("Component", 0.18),
            col("Severity", 0.09),
            col("Gate", 0.07),
            col("Disposition", 0.11),
            col("Justification / waiver", 0.30),
        ],
        rows,
        3,
    );
    if !opts.all_findings {
        doc.paragraph(&t.findings.info_counts, 9.0);
        let rows = pkg.sets.iter().map(|s| {
            let n = s.counts.by_gate.get("INFO").copied().unwrap_or(0);
            let mut by: BTreeMap<&str, u64> = BTreeMap::new();
            for f in s.findings.iter().filter(|f| f.gate == "INFO") {
                *by.entry(f.severity.as_str()).or_default() += 1;
            }
            let sev = by
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect::<Vec<_>>()
                .join(", ");
            vec![set_label(s), n.to_string(), sev]
        });
        table(
            doc,
            &[
                col("Set", 0.2),
                col("INFO findings", 0.2),
                col("By severity", 0.6),
            ],
            rows,
            2,
        );
    }
}

pub fn waivers(doc: &mut Doc<'_>, pkg: &Package, t: &Template) {
    doc.heading(&t.waivers.heading);
    doc.paragraph(&t.waivers.intro, 9.5);
    let mut all: BTreeMap<&str, (&crate::export::model::WaiverItem, Vec<String>)> = BTreeMap::new();
    for s in &pkg.sets {
        match &s.waivers {
            None => doc.paragraph(&format!("{}: {}", set_label(s), t.waivers.unavailable), 9.0),
            Some(ws) => {
                for w in ws {
                    all.entry(w.id.as_str())
                        .or_insert((w, Vec::new()))
                        .1
                        .push(set_label(s));
                }
            }
        }
    }
    if all.is_empty() {
        doc.paragraph(&t.waivers.none, 9.0);
        return;
    }
    let rows = all.values().map(|(w, sets)| {
        let mut sig = w.signature.clone();
        if let Some(st) = &w.state {
            sig.push_str(&format!(" / {st}"));
        }
        vec![
            w.id.clone(),
            w.vulnerability.clone(),
            format!("{}: {}", w.justification_type, w.justification_text),
            opt(&w.approver),
            w.expires.clone(),
            sig,
            sets.join(", "),
        ]
    });
    table(
        doc,
        &[
            col("Waiver", 0.12),
            col("Vulnerability", 0.13),
            col("Justification", 0.31),
            col("Approver", 0.12),
            col("Expires", 0.09),
            col("Signature", 0.12),
            col("Sets", 0.11),
        ],
        rows,
        4,
    );
}

pub fn stig(doc: &mut Doc<'_>, pkg: &Package, t: &Template) {
    doc.heading(&t.stig.heading);
    doc.paragraph(&t.stig.intro, 9.5);
    let with: Vec<&SetExport> = pkg.sets.iter().filter(|s| s.stig.is_some()).collect();
    if with.is_empty() {
        doc.paragraph(&t.stig.none, 9.0);
        return;
    }
    let rows = with.iter().filter_map(|s| {
        let st = s.stig.as_ref()?;
        let cats = st
            .failed_by_cat
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join(", ");
        Some(vec![
            set_label(s),
            opt(&st.benchmark),
            st.pass.to_string(),
            st.fail.to_string(),
            st.other.to_string(),
            cats,
        ])
    });
    table(
        doc,
        &[
            col("Set", 0.12),
            col("Benchmark", 0.30),
            col("Pass", 0.08),
            col("Fail", 0.08),
            col("Other", 0.08),
            col("Failed by category", 0.34),
        ],
        rows,
        3,
    );
}

pub fn signoff(doc: &mut Doc<'_>, pkg: &Package, t: &Template) {
    doc.heading(&t.signoff.heading);
    doc.paragraph(&t.signoff.text, 9.5);
    for (i, role) in t.signoff.roles.iter().enumerate() {
        let h = 64.0;
        doc.ensure(h + 8.0);
        let top = doc.y;
        doc.rect(MARGIN_X, top - h, CONTENT_W, h, rgb(0.97, 0.97, 0.97));
        doc.text_at(MARGIN_X + 8.0, top - 14.0, role, Face::Bold, 10.0, black());
        let name = if i == 0 {
            doc.fonts.prepare(&pkg.reviewer.name)
        } else {
            String::new()
        };
        let fields = [
            ("Name", name),
            ("Signature", String::new()),
            ("Date", String::new()),
        ];
        let mut x = MARGIN_X + 8.0;
        let w = (CONTENT_W - 16.0) / 3.0;
        for (label, value) in fields {
            doc.text_at(x, top - 32.0, &value, Face::Regular, 9.0, black());
            doc.hline(x, x + w - 12.0, top - 40.0, 0.6, grey());
            doc.text_at(x, top - 50.0, label, Face::Regular, 7.5, grey());
            x += w;
        }
        doc.y = top - h - 8.0;
    }
}
