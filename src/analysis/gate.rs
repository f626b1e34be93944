//! The per-finding gate: BLOCK / WARN / INFO exactly as DESIGN.md section 6 words it, with
//! a reason that names every number used and every piece of data that was missing. Also
//! the set verdict from classified findings and check outcomes.

use super::cvss;
use super::policy::Policy;
use crate::model::Severity;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum GateClass {
    Info,
    Warn,
    Block,
}

impl GateClass {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Block => "BLOCK",
            Self::Warn => "WARN",
            Self::Info => "INFO",
        }
    }
}

/// What the gate needs to know about one merged finding.
#[derive(Debug, Clone, Default)]
pub struct GateInput<'a> {
    pub severity: Severity,
    /// Set when scanners named different severities (the highest is used).
    pub severity_disagrees: bool,
    /// `None` = unknown, which counts as direct.
    pub direct: Option<bool>,
    pub fix_available: bool,
    pub vectors: Vec<&'a str>,
    /// EPSS probability and where it came from (`grype`, `FIRST 2025-03-20`).
    pub epss: Option<(f64, String)>,
    /// In the CISA KEV catalog, and where that came from.
    pub kev: Option<String>,
    /// A justified not_affected VEX statement applies (its description).
    pub vex_not_affected: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GateDecision {
    pub class: GateClass,
    pub reason: String,
}

pub fn classify(f: &GateInput<'_>, p: &Policy) -> GateDecision {
    let d = |class, reason: String| GateDecision { class, reason };
    let sev = if f.severity_disagrees {
        format!("{} (highest of disagreeing scanners)", f.severity)
    } else {
        f.severity.to_string()
    };
    if let Some(v) = &f.vex_not_affected {
        return d(GateClass::Info, format!("{sev}, but VEX not_affected: {v}"));
    }
    if p.kev_blocks {
        if let Some(k) = &f.kev {
            return d(
                GateClass::Block,
                format!("{sev}, in the CISA KEV catalog ({k})"),
            );
        }
    }
    match f.severity {
        Severity::Critical => d(GateClass::Block, format!("{sev}: any CRITICAL blocks")),
        Severity::High => classify_high(f, p, &sev),
        Severity::Medium => d(GateClass::Warn, format!("{sev}: needs a waiver")),
        Severity::Unknown => d(
            GateClass::Warn,
            "UNKNOWN severity (no scanner named one): needs a waiver".into(),
        ),
        Severity::Low | Severity::Negligible => d(GateClass::Info, format!("{sev}: informational")),
    }
}

fn classify_high(f: &GateInput<'_>, p: &Policy, sev: &str) -> GateDecision {
    let direct = match f.direct {
        Some(true) => "direct dependency".to_string(),
        Some(false) => {
            return GateDecision {
                class: GateClass::Warn,
                reason: format!("{sev} in a transitive dependency: needs a waiver"),
            }
        }
        None => "dependency relation unknown, counted as direct".to_string(),
    };
    let expl = cvss::best_exploitability(f.vectors.iter().copied());
    let (expl_above, expl_text) = match &expl {
        Ok(e) => {
            let s = e.scaled.unwrap_or(0.0);
            let how = match (e.version, e.native) {
                (cvss::CvssKind::V2, _) => format!("CVSS v2 exploitability {s:.2}"),
                (_, Some(n)) => {
                    format!("CVSS v3 exploitability {n:.2} = {s:.2} on the 0-10 scale (x 10/3.9)")
                }
                _ => "exploitability not computable".to_string(),
            };
            let cmp = if s > p.exploitability_threshold {
                ">"
            } else {
                "<="
            };
            (
                s > p.exploitability_threshold,
                format!("{how} {cmp} {:.1} (0-10 scale)", p.exploitability_threshold),
            )
        }
        Err(why) => (false, why.clone()),
    };
    let (epss_above, epss_text) = match &f.epss {
        Some((v, src)) => {
            let cmp = if *v > p.epss_threshold { ">" } else { "<=" };
            (
                *v > p.epss_threshold,
                format!("EPSS {v} ({src}) {cmp} {}", p.epss_threshold),
            )
        }
        None => (false, "no EPSS data (not above the threshold)".to_string()),
    };
    if !f.fix_available && p.high_without_fix_warns {
        return GateDecision {
            class: GateClass::Warn,
            reason: format!(
                "{sev}, {direct}, no fix available: needs a waiver; {expl_text}; {epss_text}"
            ),
        };
    }
    if expl_above || epss_above {
        GateDecision {
            class: GateClass::Block,
            reason: format!("{sev}, {direct}, {expl_text}; {epss_text}"),
        }
    } else {
        GateDecision {
            class: GateClass::Warn,
            reason: format!("{sev}, {direct}, below both thresholds: {expl_text}; {epss_text}"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Verdict {
    Pass,
    Conditional,
    Fail,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "PASS",
            Self::Conditional => "CONDITIONAL",
            Self::Fail => "FAIL",
        }
    }

    /// The CLI exit code: 0 PASS, 3 CONDITIONAL, 1 FAIL.
    pub fn exit_code(self) -> i32 {
        match self {
            Self::Pass => 0,
            Self::Conditional => 3,
            Self::Fail => 1,
        }
    }
}

/// FAIL on any undisposed BLOCK or a failed required check; CONDITIONAL when only WARN
/// findings lack a disposition; else PASS.
pub fn verdict(undisposed_block: usize, undisposed_warn: usize, failed_required: usize) -> Verdict {
    if undisposed_block > 0 || failed_required > 0 {
        Verdict::Fail
    } else if undisposed_warn > 0 {
        Verdict::Conditional
    } else {
        Verdict::Pass
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn high<'a>(
        direct: Option<bool>,
        fix: bool,
        vectors: Vec<&'a str>,
        epss: Option<f64>,
    ) -> GateInput<'a> {
        GateInput {
            severity: Severity::High,
            direct,
            fix_available: fix,
            vectors,
            epss: epss.map(|e| (e, "test".to_string())),
            ..Default::default()
        }
    }

    #[test]
    fn the_design_rules() {
        let p = Policy::default_policy();
        let c = |i: &GateInput<'_>| classify(i, &p).class;
        let crit = GateInput {
            severity: Severity::Critical,
            ..Default::default()
        };
        assert_eq!(c(&crit), GateClass::Block);
        assert_eq!(
            c(&high(
                Some(true),
                true,
                vec!["AV:N/AC:L/Au:N/C:P/I:P/A:P"],
                None
            )),
            GateClass::Block
        );
        assert_eq!(
            c(&high(
                Some(true),
                true,
                vec!["AV:L/AC:H/Au:M/C:P/I:P/A:P"],
                Some(0.2)
            )),
            GateClass::Block
        );
        assert_eq!(
            c(&high(
                Some(true),
                true,
                vec!["AV:L/AC:H/Au:M/C:P/I:P/A:P"],
                None
            )),
            GateClass::Warn
        );
        assert_eq!(
            c(&high(
                Some(false),
                true,
                vec!["AV:N/AC:L/Au:N/C:P/I:P/A:P"],
                Some(0.9)
            )),
            GateClass::Warn
        );
        assert_eq!(
            c(&high(
                Some(true),
                false,
                vec!["AV:N/AC:L/Au:N/C:P/I:P/A:P"],
                None
            )),
            GateClass::Warn
        );
        // Unknown relation counts as direct, and the reason says so.
        let u = classify(
            &high(None, true, vec!["AV:N/AC:L/Au:N/C:P/I:P/A:P"], None),
            &p,
        );
        assert_eq!(u.class, GateClass::Block);
        assert!(u.reason.contains("counted as direct"), "{}", u.reason);
        let none = classify(
            &high(Some(true), true, vec!["AV:L/AC:H/Au:M/C:P/I:P/A:P"], None),
            &p,
        );
        assert!(none.reason.contains("no EPSS data"), "{}", none.reason);
        let med = GateInput {
            severity: Severity::Medium,
            ..Default::default()
        };
        assert_eq!(c(&med), GateClass::Warn);
        let kev = GateInput {
            severity: Severity::Medium,
            kev: Some("KEV".into()),
            ..Default::default()
        };
        assert_eq!(c(&kev), GateClass::Block);
        let unknown = GateInput::default();
        assert_eq!(c(&unknown), GateClass::Warn);
        assert_eq!(
            c(&GateInput {
                severity: Severity::Low,
                ..Default::default()
            }),
            GateClass::Info
        );
        assert_eq!(
            c(&GateInput {
                severity: Severity::Negligible,
                ..Default::default()
            }),
            GateClass::Info
        );
        let vex = GateInput {
            severity: Severity::Critical,
            vex_not_affected: Some("x".into()),
            ..Default::default()
        };
        assert_eq!(c(&vex), GateClass::Info);
    }

    #[test]
    fn v4_only_high_is_not_computable_and_says_so() {
        let p = Policy::default_policy();
        let v4 = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N";
        let d = classify(&high(Some(true), true, vec![v4], None), &p);
        assert_eq!(d.class, GateClass::Warn);
        assert!(d.reason.contains("not computable"), "{}", d.reason);
    }

    #[test]
    fn verdict_rules() {
        assert_eq!(verdict(1, 0, 0), Verdict::Fail);
        assert_eq!(verdict(0, 0, 1), Verdict::Fail);
        assert_eq!(verdict(0, 3, 0), Verdict::Conditional);
        assert_eq!(verdict(0, 0, 0), Verdict::Pass);
    }
}
