//! STIG results: OpenSCAP XCCDF 1.1/1.2 `TestResult`s (standalone, inside a Benchmark, or
//! inside ARF; SCC's `cdf:` prefix too) counted by result and, for failures, by CAT I/II/III
//! (severity high/medium/low). quick-xml: no DTD processing, no entity expansion.

use quick_xml::events::{BytesStart, Event};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StigSummary {
    pub file: String,
    /// Result word (`pass`, `fail`, `notapplicable`, ...) -> count of rule-results.
    pub results: BTreeMap<String, u64>,
    pub cat_i_fail: u64,
    pub cat_ii_fail: u64,
    pub cat_iii_fail: u64,
    /// Failures whose severity is unknown/info.
    pub other_fail: u64,
    /// Rule ids of failures (for the message; CAT I first).
    pub failed_rules: Vec<(String, String)>,
}

impl StigSummary {
    pub fn count(&self, result: &str) -> u64 {
        self.results.get(result).copied().unwrap_or(0)
    }

    /// Failures include `error` results: the rule could not be shown to pass.
    pub fn failures(&self) -> u64 {
        self.count("fail") + self.count("error")
    }
}

fn attr(e: &BytesStart<'_>, name: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == name)
        .map(|a| a.value.to_string())
}

pub fn parse(file: &str, bytes: &[u8]) -> Result<StigSummary, String> {
    let mut r = quick_xml::Reader::from_reader(bytes);
    r.config_mut().trim_text(true);
    let mut out = StigSummary {
        file: file.to_string(),
        ..Default::default()
    };
    let mut buf = Vec::new();
    let mut depth_in_test_result = 0usize;
    let mut current: Option<(String, String)> = None; // (idref, severity)
    let mut in_result = false;
    let mut saw_test_result = false;
    loop {
        let ev = r
            .read_event_into(&mut buf)
            .map_err(|e| format!("{file}: byte {}: {e}", r.buffer_position()))?;
        match ev {
            Event::Start(e) => {
                let name = e.local_name().as_ref().to_string();
                if name == "TestResult" {
                    depth_in_test_result += 1;
                    saw_test_result = true;
                } else if depth_in_test_result > 0 && name == "rule-result" {
                    current = Some((
                        attr(&e, "idref").unwrap_or_default(),
                        attr(&e, "severity").unwrap_or_default(),
                    ));
                } else if current.is_some() && name == "result" {
                    in_result = true;
                }
            }
            Event::Text(t) if in_result => {
                if let Some((idref, sev)) = current.take() {
                    let res = t.as_ref().trim().to_ascii_lowercase();
                    *out.results.entry(res.clone()).or_insert(0) += 1;
                    if res == "fail" || res == "error" {
                        match sev.as_str() {
                            "high" => out.cat_i_fail += 1,
                            "medium" => out.cat_ii_fail += 1,
                            "low" => out.cat_iii_fail += 1,
                            _ => out.other_fail += 1,
                        }
                        out.failed_rules.push((sev, idref));
                    }
                }
                in_result = false;
            }
            Event::End(e) => {
                let name = e.local_name().as_ref().to_string();
                if name == "TestResult" {
                    depth_in_test_result = depth_in_test_result.saturating_sub(1);
                } else if name == "result" {
                    in_result = false;
                } else if name == "rule-result" {
                    current = None;
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !saw_test_result {
        return Err(format!("{file}: no XCCDF TestResult found"));
    }
    let rank = |s: &str| match s {
        "high" => 0,
        "medium" => 1,
        "low" => 2,
        _ => 3,
    };
    out.failed_rules
        .sort_by_key(|(s, id)| (rank(s), id.clone()));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_result_and_cat() {
        let x = r#"<?xml version="1.0"?><cdf:Benchmark xmlns:cdf="http://checklists.nist.gov/xccdf/1.2">
          <cdf:Rule id="r0"><cdf:title>not a result</cdf:title></cdf:Rule>
          <cdf:TestResult id="t"><cdf:rule-result idref="a" severity="high"><cdf:result>fail</cdf:result></cdf:rule-result>
          <cdf:rule-result idref="b" severity="medium"><cdf:result>pass</cdf:result></cdf:rule-result>
          <cdf:rule-result idref="c" severity="low"><cdf:result>fail</cdf:result><cdf:override><cdf:old-result>pass</cdf:old-result><cdf:new-result>fail</cdf:new-result></cdf:override></cdf:rule-result>
          <cdf:rule-result idref="d" severity="medium"><cdf:result>notapplicable</cdf:result></cdf:rule-result>
          </cdf:TestResult></cdf:Benchmark>"#;
        let s = parse("x.xml", x.as_bytes()).unwrap();
        assert_eq!(
            (s.count("pass"), s.count("fail"), s.count("notapplicable")),
            (1, 2, 1)
        );
        assert_eq!((s.cat_i_fail, s.cat_ii_fail, s.cat_iii_fail), (1, 0, 1));
        assert_eq!(s.failed_rules[0].1, "a");
        assert!(parse("y.xml", b"<Benchmark/>").is_err());
    }
}
