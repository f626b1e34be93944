//! Third-party suppression files read as unsigned waivers: `.trivyignore`,
//! `.trivyignore.yaml`, Grype `ignore:` rules and Harbor CVE allowlists. They never apply
//! (nobody trusted signed them) but each entry stays visible next to the findings it names.

use super::waiver_eval::{Candidate, Signing};
use crate::model::normalize_purl;
use serde_json::Value;

fn date(s: &str) -> Option<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(s.trim().get(..10)?, "%Y-%m-%d").ok()
}

fn unsigned(
    file: &str,
    n: usize,
    vuln: &str,
    purls: Vec<String>,
    expires: Option<chrono::NaiveDate>,
    text: String,
) -> Candidate {
    Candidate {
        id: format!("{file}#{n}"),
        source: file.to_string(),
        vulnerability: vuln.trim().to_string(),
        scope_digest: None,
        scope_repository: None,
        set_local: true,
        purls,
        expires,
        signing: Signing::Unsigned,
        justification: text,
        approver: None,
        requester: None,
    }
}

fn yaml(file: &str, bytes: &[u8]) -> Result<Value, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("{file}: not UTF-8: {e}"))?;
    serde_saphyr::from_str::<Value>(text).map_err(|e| {
        let line = e.location().map(|l| l.line()).unwrap_or(0);
        format!(
            "{file}: line {line}: {}",
            e.to_string().lines().next().unwrap_or("invalid YAML")
        )
    })
}

fn purl_list(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter_map(normalize_purl)
        .collect()
}

/// Plain `.trivyignore`: one id per line, optional `exp:YYYY-MM-DD`, `#` comments.
pub fn parse_trivyignore(file: &str, bytes: &[u8]) -> Vec<Candidate> {
    let text = String::from_utf8_lossy(bytes);
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let l = line.split('#').next().unwrap_or("").trim();
        let mut parts = l.split_whitespace();
        let Some(id) = parts.next() else { continue };
        let exp = parts.find_map(|p| p.strip_prefix("exp:")).and_then(date);
        out.push(unsigned(
            file,
            i + 1,
            id,
            Vec::new(),
            exp,
            "listed in .trivyignore".into(),
        ));
    }
    out
}

/// `.trivyignore.yaml`: only the `vulnerabilities` section concerns findings.
pub fn parse_trivyignore_yaml(file: &str, bytes: &[u8]) -> Result<Vec<Candidate>, String> {
    let v = yaml(file, bytes)?;
    Ok(v.get("vulnerabilities")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
        .filter_map(|(i, e)| {
            let id = e.get("id")?.as_str()?;
            let exp = e.get("expired_at").and_then(Value::as_str).and_then(date);
            let text = e
                .get("statement")
                .and_then(Value::as_str)
                .unwrap_or("listed in .trivyignore.yaml")
                .to_string();
            Some(unsigned(
                file,
                i + 1,
                id,
                purl_list(e.get("purls")),
                exp,
                text,
            ))
        })
        .collect())
}

/// Grype config `ignore:` rules. Rules without a vulnerability (package-only) ignore every
/// vulnerability of that package: they are kept with `*` as the vulnerability.
pub fn parse_grype_config(file: &str, bytes: &[u8]) -> Result<Vec<Candidate>, String> {
    let v = yaml(file, bytes)?;
    Ok(v.get("ignore")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(i, e)| {
            let id = e
                .get("vulnerability")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .unwrap_or("*");
            let pkg = e.get("package");
            let mut text = e
                .get("reason")
                .and_then(Value::as_str)
                .unwrap_or("grype ignore rule")
                .to_string();
            if let Some(p) = pkg {
                text.push_str(&format!(" (package rule {})", p));
            }
            unsigned(file, i + 1, id, Vec::new(), None, text)
        })
        .collect())
}

/// Harbor CVE allowlist JSON: `{"items":[{"cve_id":..}],"expires_at":<unix seconds>|null}`.
pub fn parse_harbor(file: &str, bytes: &[u8]) -> Result<Vec<Candidate>, String> {
    let outer: Value = serde_json::from_slice(bytes).map_err(|e| format!("{file}: {e}"))?;
    // A project's metadata wraps the list as `cve_allowlist`.
    let v = outer.get("cve_allowlist").cloned().unwrap_or(outer);
    let exp = v
        .get("expires_at")
        .and_then(Value::as_i64)
        .filter(|t| *t > 0)
        .and_then(|t| chrono::DateTime::from_timestamp(t, 0))
        .map(|t| t.date_naive());
    Ok(v.get("items")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
        .filter_map(|(i, e)| {
            let id = e.get("cve_id")?.as_str()?;
            Some(unsigned(
                file,
                i + 1,
                id,
                Vec::new(),
                exp,
                "Harbor CVE allowlist".into(),
            ))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trivyignore_plain_and_yaml() {
        let c = parse_trivyignore("t", b"# c\nCVE-1\nCVE-2 exp:2020-01-01\n\n");
        assert_eq!(c.len(), 2);
        assert_eq!(c[1].expires, chrono::NaiveDate::from_ymd_opt(2020, 1, 1));
        let y = b"vulnerabilities:\n  - id: CVE-3\n    purls: [\"pkg:deb/debian/libssl1.1\"]\n    expired_at: 2023-09-01\nmisconfigurations:\n  - id: X\n";
        let c = parse_trivyignore_yaml("t.yaml", y).unwrap();
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].purls, vec!["pkg:deb/debian/libssl1.1"]);
        assert!(c.iter().all(|w| w.signing == Signing::Unsigned));
    }

    #[test]
    fn grype_and_harbor() {
        let c = parse_grype_config(
            "g",
            b"ignore:\n  - vulnerability: CVE-9\n    reason: r\n  - package: {type: gem}\n",
        )
        .unwrap();
        assert_eq!(
            c.iter()
                .map(|w| w.vulnerability.as_str())
                .collect::<Vec<_>>(),
            ["CVE-9", "*"]
        );
        let h = parse_harbor(
            "h",
            br#"{"items":[{"cve_id":"CVE-7"}],"expires_at":1893456000}"#,
        )
        .unwrap();
        assert_eq!(h[0].expires, chrono::NaiveDate::from_ymd_opt(2030, 1, 1));
    }
}
