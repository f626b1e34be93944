//! Threat data parsers: the FIRST EPSS CSV (plain or gzip, with its `#model_version`
//! comment line) and the CISA KEV JSON catalog. Pure: bytes in, rows out; the dates the
//! data is valid for are kept so every use can say how old it is.

use serde::{Deserialize, Serialize};
use std::io::Read;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EpssRow {
    pub cve: String,
    pub epss: f64,
    pub percentile: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EpssData {
    pub model_version: String,
    /// Score date as the comment line gives it (ISO 8601).
    pub score_date: String,
    pub rows: Vec<EpssRow>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KevRow {
    pub cve: String,
    pub vendor_project: String,
    pub product: String,
    pub date_added: String,
    pub due_date: Option<String>,
    pub ransomware: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KevData {
    pub catalog_version: String,
    pub date_released: String,
    pub rows: Vec<KevRow>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ThreatData {
    Epss(EpssData),
    Kev(KevData),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}{}: {message}", .line.map(|l| format!(" line {l}")).unwrap_or_default())]
pub struct ThreatError {
    pub file: String,
    pub line: Option<u64>,
    pub message: String,
}

/// Upper bound on decompressed size: the real EPSS file is about 8 MB unpacked.
const MAX_BYTES: u64 = 512 * 1024 * 1024;

/// Sniffs gzip, then EPSS CSV or KEV JSON, from the content.
pub fn parse_threat(file: &str, bytes: &[u8]) -> Result<ThreatData, ThreatError> {
    let err = |line: Option<u64>, m: String| ThreatError {
        file: file.to_string(),
        line,
        message: m,
    };
    let data: Vec<u8> = if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(bytes)
            .take(MAX_BYTES + 1)
            .read_to_end(&mut out)
            .map_err(|e| err(None, format!("gzip: {e}")))?;
        if out.len() as u64 > MAX_BYTES {
            return Err(err(
                None,
                format!("decompresses to more than {MAX_BYTES} bytes"),
            ));
        }
        out
    } else {
        bytes.to_vec()
    };
    let text = std::str::from_utf8(&data).map_err(|e| err(None, format!("not UTF-8 text: {e}")))?;
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with('{') {
        parse_kev(file, trimmed).map(ThreatData::Kev)
    } else if trimmed.starts_with("#model_version") || trimmed.starts_with("cve,epss") {
        parse_epss(file, trimmed).map(ThreatData::Epss)
    } else {
        Err(err(
            Some(1),
            "neither a FIRST EPSS CSV (#model_version:... line) nor a CISA KEV JSON catalog".into(),
        ))
    }
}

pub fn parse_epss(file: &str, text: &str) -> Result<EpssData, ThreatError> {
    let err = |line: u64, m: String| ThreatError {
        file: file.to_string(),
        line: Some(line),
        message: m,
    };
    let mut lines = text.lines().enumerate();
    let (_, first) = lines.next().ok_or_else(|| err(1, "empty file".into()))?;
    let first = first.trim();
    let comment = first.strip_prefix('#').ok_or_else(|| {
        err(
            1,
            "missing the '#model_version:...,score_date:...' line, so the scores have no date"
                .into(),
        )
    })?;
    let mut model_version = None;
    let mut score_date = None;
    for part in comment.split(',') {
        if let Some((k, v)) = part.split_once(':') {
            match k.trim() {
                "model_version" => model_version = Some(v.trim().to_string()),
                "score_date" => score_date = Some(v.trim().to_string()),
                _ => {}
            }
        }
    }
    let model_version =
        model_version.ok_or_else(|| err(1, "comment line has no model_version".into()))?;
    let score_date = score_date.ok_or_else(|| {
        err(
            1,
            "comment line has no score_date: refusing scores of unknown date".into(),
        )
    })?;
    if score_date.len() < 10
        || chrono::NaiveDate::parse_from_str(&score_date[..10], "%Y-%m-%d").is_err()
    {
        return Err(err(
            1,
            format!("score_date '{score_date}' is not an ISO 8601 date"),
        ));
    }
    let (hi, header) = lines
        .next()
        .ok_or_else(|| err(2, "missing the header 'cve,epss,percentile'".into()))?;
    let cols: Vec<&str> = header.split(',').map(str::trim).collect();
    if cols.first() != Some(&"cve") || cols.get(1) != Some(&"epss") {
        return Err(err(
            hi as u64 + 1,
            format!(
                "header is '{}', expected 'cve,epss,percentile'",
                header.trim()
            ),
        ));
    }
    let pct_col = cols.iter().position(|c| *c == "percentile");
    let mut rows = Vec::new();
    for (i, l) in lines {
        let l = l.trim();
        if l.is_empty() {
            continue;
        }
        let f: Vec<&str> = l.split(',').collect();
        let n = i as u64 + 1;
        let cve = f.first().map(|s| s.trim()).unwrap_or("");
        if !cve.starts_with("CVE-") {
            return Err(err(n, format!("'{cve}' is not a CVE id")));
        }
        let epss: f64 = f
            .get(1)
            .and_then(|s| s.trim().parse().ok())
            .filter(|v: &f64| (0.0..=1.0).contains(v))
            .ok_or_else(|| err(n, "epss is not a number between 0 and 1".into()))?;
        let percentile = pct_col
            .and_then(|c| f.get(c))
            .and_then(|s| s.trim().parse().ok());
        rows.push(EpssRow {
            cve: cve.to_string(),
            epss,
            percentile,
        });
    }
    Ok(EpssData {
        model_version,
        score_date,
        rows,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawKev {
    catalog_version: String,
    date_released: String,
    vulnerabilities: Vec<RawKevVuln>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawKevVuln {
    #[serde(rename = "cveID")]
    cve_id: String,
    #[serde(default)]
    vendor_project: String,
    #[serde(default)]
    product: String,
    date_added: String,
    due_date: Option<String>,
    known_ransomware_campaign_use: Option<String>,
}

pub fn parse_kev(file: &str, text: &str) -> Result<KevData, ThreatError> {
    let raw: RawKev = serde_json::from_str(text).map_err(|e| ThreatError {
        file: file.to_string(),
        line: Some(e.line() as u64),
        message: format!(
            "not a CISA KEV catalog: {}",
            e.to_string().split(" at line ").next().unwrap_or_default()
        ),
    })?;
    let rows = raw
        .vulnerabilities
        .into_iter()
        .map(|v| KevRow {
            cve: v.cve_id.trim().to_string(),
            vendor_project: v.vendor_project.trim().to_string(),
            product: v.product.trim().to_string(),
            date_added: v.date_added,
            due_date: v.due_date,
            ransomware: v.known_ransomware_campaign_use,
        })
        .collect();
    Ok(KevData {
        catalog_version: raw.catalog_version,
        date_released: raw.date_released,
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    const EPSS: &str = "#model_version:v2025.03.14,score_date:2025-03-20T12:00:00Z\ncve,epss,percentile\nCVE-2024-0001,0.20000,0.95\nCVE-2024-0002,0.00043,0.09\n";

    #[test]
    fn epss_plain_and_gzip() {
        let d = parse_threat("e.csv", EPSS.as_bytes()).unwrap();
        let ThreatData::Epss(e) = d else { panic!() };
        assert_eq!(e.model_version, "v2025.03.14");
        assert_eq!(e.score_date, "2025-03-20T12:00:00Z");
        assert_eq!(e.rows.len(), 2);
        assert_eq!(e.rows[0].epss, 0.2);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(EPSS.as_bytes()).unwrap();
        let d2 = parse_threat("e.csv.gz", &gz.finish().unwrap()).unwrap();
        assert_eq!(d2, ThreatData::Epss(e));
    }

    #[test]
    fn epss_errors_are_precise() {
        let e = parse_threat(
            "x.csv",
            b"#model_version:v1,score_date:2024-02-20T00:00:00+0000\ninvalid,header,format\n",
        )
        .unwrap_err();
        assert_eq!(e.line, Some(2));
        assert!(e.message.contains("invalid,header,format"));
        let e = parse_threat("x.csv", b"#model_version:v1\ncve,epss,percentile\n").unwrap_err();
        assert!(e.message.contains("score_date"), "{e}");
        let e = parse_threat(
            "x.csv",
            b"#model_version:v1,score_date:2024-01-01\ncve,epss\nCVE-1,7\n",
        )
        .unwrap_err();
        assert_eq!(e.line, Some(3));
    }

    #[test]
    fn kev_json() {
        let j = r#"{"title":"t","catalogVersion":"2025.02.25","dateReleased":"2025-02-25T20:33:53.3676Z","count":1,
          "vulnerabilities":[{"cveID":"CVE-2024-1","vendorProject":"SimpleHelp ","product":"p","vulnerabilityName":"n",
          "dateAdded":"2025-01-01","shortDescription":"d","requiredAction":"a","dueDate":"2025-01-22","knownRansomwareCampaignUse":"Known","notes":"","cwes":[]}]}"#;
        let ThreatData::Kev(k) = parse_threat("kev.json", j.as_bytes()).unwrap() else {
            panic!()
        };
        assert_eq!(k.catalog_version, "2025.02.25");
        assert_eq!(k.rows[0].vendor_project, "SimpleHelp");
        assert!(parse_threat("kev.json", b"{\"a\":1}").is_err());
    }
}
