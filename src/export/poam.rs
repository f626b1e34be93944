//! POA&M rows for eMASS (formats.md section 11, the Excel import's column titles C..AA plus an
//! item id): one row per open or waived finding. Waived rows are `Risk Accepted` with comments
//! and no milestones; open rows are `Ongoing` with a scheduled completion date and a milestone.
//!
//! Severity -> category (the DISA convention, see formats.md section 11):
//! CRITICAL and HIGH -> CAT I (raw severity `Very High` / `High`), MEDIUM and UNKNOWN -> CAT II
//! (`Moderate`; an unnamed severity is not assumed to be low), LOW and NEGLIGIBLE -> CAT III
//! (`Low` / `Very Low`). Scheduled completion = generation date + 30 days (CAT I), 90 days
//! (CAT II), 180 days (CAT III); 14 days for a CVE in the CISA KEV catalog.

use super::model::{FindingItem, Package, SetExport};
use chrono::NaiveDate;
use std::borrow::Cow;

pub const COLUMNS: [&str; 26] = [
    "POA&M Item ID",
    "Control Vulnerability Description",
    "Controls / APs",
    "Office/Org",
    "Security Checks",
    "Resources Required",
    "Scheduled Completion Date",
    "Milestone ID",
    "Milestone with Completion Dates",
    "Milestone Changes",
    "Source Identifying Vulnerability",
    "Status",
    "Comments",
    "Raw Severity",
    "Devices Affected",
    "Mitigations",
    "Predisposing Conditions",
    "Severity",
    "Relevance of Threat",
    "Threat Description",
    "Likelihood",
    "Impact",
    "Impact Description",
    "Residual Risk Level",
    "Recommendations",
    "Resulting Residual Risk after Proposed Mitigations",
];

/// (category, eMASS raw severity, days to the scheduled completion).
pub fn category(severity: &str) -> (&'static str, &'static str, i64) {
    match severity {
        "CRITICAL" => ("CAT I", "Very High", 30),
        "HIGH" => ("CAT I", "High", 30),
        "MEDIUM" | "UNKNOWN" => ("CAT II", "Moderate", 90),
        "LOW" => ("CAT III", "Low", 180),
        _ => ("CAT III", "Very Low", 180),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoamRow {
    pub cells: Vec<String>,
}

/// eMASS's Excel template reads dates as MM/DD/YYYY.
fn us_date(d: NaiveDate) -> String {
    d.format("%m/%d/%Y").to_string()
}

fn device(set: &SetExport) -> String {
    match (&set.image, &set.digest) {
        (Some(i), Some(d)) if i.contains(d.as_str()) => i.clone(),
        (Some(i), Some(d)) => format!("{i} ({d})"),
        (Some(i), None) => i.clone(),
        (None, Some(d)) => d.clone(),
        (None, None) => format!("set-{}", set.id),
    }
}

fn source(set: &SetExport, f: &FindingItem) -> String {
    let mut parts = Vec::new();
    for s in set
        .scanners
        .iter()
        .filter(|s| f.scanners.contains(&s.scanner))
    {
        let mut p = s.scanner.clone();
        if let Some(v) = &s.version {
            p.push_str(&format!(" {v}"));
        }
        if let Some(db) = &s.db_built {
            p.push_str(&format!(", DB {db}"));
        }
        parts.push(p);
    }
    if parts.is_empty() {
        parts = f.scanners.clone();
    }
    parts.sort();
    parts.dedup();
    format!(
        "{}; image {}",
        parts.join("; "),
        set.digest.as_deref().unwrap_or("(no digest)")
    )
}

fn row(
    pkg: &Package,
    set: &SetExport,
    f: &FindingItem,
    n: usize,
    today: NaiveDate,
) -> Option<PoamRow> {
    let waived = f.disposition == "waived";
    if !waived && f.disposition != "open" {
        return None;
    }
    let (cat, raw, days) = category(&f.severity);
    let days = if f.kev == Some(true) { 14 } else { days };
    let comp = format!("{} {}", f.name, f.version.as_deref().unwrap_or(""));
    let mut desc = format!("{} ({}) in {} [{cat}]", f.vuln_id, f.severity, comp.trim());
    if let Some(t) = &f.title {
        desc.push_str(&format!(": {t}"));
    }
    let mut checks = vec![f.vuln_id.clone()];
    checks.extend(f.aliases.iter().filter(|a| **a != f.vuln_id).cloned());
    let fix = if f.fixed_versions.is_empty() {
        "no fixed version published yet; track the vendor advisory".to_string()
    } else {
        format!("upgrade {} to {}", f.name, f.fixed_versions.join(" or "))
    };
    let (status, scheduled, mid, milestone, comments) = if waived {
        let w = set
            .waivers
            .as_ref()
            .and_then(|ws| ws.iter().find(|w| Some(&w.id) == f.waiver.as_ref()));
        let mut c = format!(
            "Risk accepted under waiver {}",
            f.waiver.as_deref().unwrap_or("(unnamed)")
        );
        if let Some(w) = w {
            c.push_str(&format!(
                " ({}): {}; approved by {}; expires {}; signature {}",
                w.justification_type,
                w.justification_text,
                w.approver.as_deref().unwrap_or("(unknown)"),
                w.expires,
                w.signature
            ));
        }
        (
            "Risk Accepted",
            String::new(),
            String::new(),
            String::new(),
            c,
        )
    } else {
        let due = today + chrono::Duration::days(days);
        let m = format!(
            "Remediate {} in the image: {fix}, rebuild and rescan - {}",
            f.vuln_id,
            us_date(due)
        );
        let c = f.note.clone().unwrap_or_default();
        ("Ongoing", us_date(due), "1".to_string(), m, c)
    };
    let mitigations = match (&f.justification, &f.note) {
        (Some(j), Some(n)) => format!("{j}: {n}"),
        (Some(j), None) => j.clone(),
        (None, Some(n)) if waived => n.clone(),
        _ => String::new(),
    };
    let cells = vec![
        n.to_string(),
        desc,
        "RA-5; SI-2".into(),
        pkg.reviewer.role.clone().unwrap_or_default(),
        checks.join(", "),
        "Image rebuild by the owning team".into(),
        scheduled,
        mid,
        milestone,
        String::new(),
        source(set, f),
        status.into(),
        comments,
        raw.into(),
        device(set),
        mitigations,
        String::new(),
        raw.into(),
        String::new(),
        f.gate_reason.clone().unwrap_or_default(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        fix,
        String::new(),
    ];
    Some(PoamRow { cells })
}

/// Every row in package order. `today` is the package's generation date.
pub fn rows(pkg: &Package, today: NaiveDate) -> Vec<PoamRow> {
    rows_iter(pkg, today).collect()
}

/// `rows` one at a time, so a writer never holds every row (~66 MB of text at 100k).
pub fn rows_iter(pkg: &Package, today: NaiveDate) -> impl Iterator<Item = PoamRow> + '_ {
    let mut n = 0;
    pkg.all_findings().filter_map(move |(set, f)| {
        let r = row(pkg, set, f, n + 1, today)?;
        n += 1;
        Some(r)
    })
}

/// How many rows `rows` yields, without building them.
pub fn row_count(pkg: &Package) -> usize {
    pkg.all_findings()
        .filter(|(_, f)| matches!(f.disposition.as_str(), "open" | "waived"))
        .count()
}

/// `sanitize::clean(s, false)`, borrowing when that would return `s` unchanged: printable
/// ASCII holds no escape, control or invisible character (most cells are plain ASCII).
pub(crate) fn clean_cow(s: &str) -> Cow<'_, str> {
    if s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(crate::sanitize::clean(s, false))
    }
}

/// A spreadsheet reads a leading `= + - @` as a formula: evidence text must never run as one.
fn cell(s: &str) -> Cow<'_, str> {
    let c = clean_cow(s);
    if c.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{c}"))
    } else {
        c
    }
}

pub fn render_csv(pkg: &Package, today: NaiveDate) -> Result<Vec<u8>, csv::Error> {
    let mut out = Vec::new();
    write_csv(pkg, today, &mut out)?;
    Ok(out)
}

/// `render_csv` streamed into `out` (which should be buffered), row by row.
pub fn write_csv(
    pkg: &Package,
    today: NaiveDate,
    out: &mut dyn std::io::Write,
) -> Result<(), csv::Error> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(out);
    w.write_record(COLUMNS)?;
    for r in rows_iter(pkg, today) {
        let cells: Vec<Cow<str>> = r.cells.iter().map(|c| cell(c)).collect();
        w.write_record(cells.iter().map(|c| c.as_bytes()))?;
    }
    w.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::testdata;

    fn col(name: &str) -> usize {
        COLUMNS.iter().position(|c| *c == name).unwrap()
    }

    #[test]
    fn risk_accepted_rows_have_comments_and_no_milestones_ongoing_rows_have_both_dates() {
        let pkg = testdata::package();
        let today = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
        let bytes = render_csv(&pkg, today).unwrap();
        let mut r = csv::Reader::from_reader(bytes.as_slice());
        let recs: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
        // Open: CVE-0001 (critical), CVE-0004 (low), GHSA (medium); waived: CVE-0002.
        assert_eq!(recs.len(), 4);
        let waived = recs
            .iter()
            .find(|x| x[col("Security Checks")].starts_with("CVE-2024-0002"))
            .unwrap();
        assert_eq!(&waived[col("Status")], "Risk Accepted");
        assert!(waived[col("Comments")].contains("W-2026-0042"));
        assert!(waived[col("Comments")].contains("2027-02-01"));
        assert_eq!(&waived[col("Milestone with Completion Dates")], "");
        assert_eq!(&waived[col("Scheduled Completion Date")], "");

        let crit = recs
            .iter()
            .find(|x| x[col("Security Checks")].starts_with("CVE-2024-0001"))
            .unwrap();
        assert_eq!(&crit[col("Status")], "Ongoing");
        // 2026-11-27 + 30 days (CAT I).
        assert_eq!(&crit[col("Scheduled Completion Date")], "12/27/2026");
        assert!(crit[col("Milestone with Completion Dates")].ends_with("12/27/2026"));
        assert_eq!(&crit[col("Raw Severity")], "Very High");
        let low = recs
            .iter()
            .find(|x| x[col("Security Checks")].starts_with("CVE-2024-0004"))
            .unwrap();
        // + 180 days (CAT III).
        assert_eq!(&low[col("Scheduled Completion Date")], "05/26/2027");
        assert_eq!(&low[col("Raw Severity")], "Low");
    }

    #[test]
    fn formula_like_cells_are_neutralised() {
        assert_eq!(cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(cell("a\u{1b}[31mb"), "ab");
        assert_eq!(cell("plain"), "plain");
    }

    #[test]
    fn categories_follow_the_documented_table() {
        assert_eq!(category("CRITICAL").0, "CAT I");
        assert_eq!(category("HIGH").0, "CAT I");
        assert_eq!(category("MEDIUM").0, "CAT II");
        assert_eq!(category("UNKNOWN").0, "CAT II");
        assert_eq!(category("LOW").0, "CAT III");
        assert_eq!(category("NEGLIGIBLE").0, "CAT III");
    }
}
