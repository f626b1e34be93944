//! The per-finding gate: BLOCK / WARN / INFO exactly as DESIGN.md section 6 words it, with
//! a reason that names every number used and every piece of data that was missing. Also
//! the set verdict from classified findings and check outcomes.

use super::cvss;
use super::policy::Policy;
use crate::model::Severity;
use serde::Serialize;
use std::fmt;

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

/// `GateInput` borrowed, with its texts as anything displayable: judging a million
/// findings builds one per finding without allocating, and the reason text is written only
/// when someone shows it (`decide` with a writer).
#[derive(Clone, Copy)]
pub struct GateFacts<'a> {
    pub severity: Severity,
    pub severity_disagrees: bool,
    pub direct: Option<bool>,
    pub fix_available: bool,
    pub vectors: &'a [&'a str],
    /// EPSS probability and where it came from.
    pub epss: Option<(f64, &'a dyn fmt::Display)>,
    /// In the CISA KEV catalog, and where that came from.
    pub kev: Option<&'a dyn fmt::Display>,
    /// A justified not_affected VEX statement applies (its description).
    pub vex_not_affected: Option<&'a dyn fmt::Display>,
}

impl GateInput<'_> {
    pub fn facts(&self) -> GateFacts<'_> {
        GateFacts {
            severity: self.severity,
            severity_disagrees: self.severity_disagrees,
            direct: self.direct,
            fix_available: self.fix_available,
            vectors: &self.vectors,
            epss: self
                .epss
                .as_ref()
                .map(|(v, s)| (*v, s as &dyn fmt::Display)),
            kev: self.kev.as_ref().map(|k| k as &dyn fmt::Display),
            vex_not_affected: self
                .vex_not_affected
                .as_ref()
                .map(|v| v as &dyn fmt::Display),
        }
    }
}

pub fn classify(f: &GateInput<'_>, p: &Policy) -> GateDecision {
    let mut reason = String::new();
    // Writing into a String cannot fail.
    let class = decide(&f.facts(), p, Some(&mut reason)).unwrap_or(GateClass::Warn);
    GateDecision { class, reason }
}

/// The class of one finding; with `out`, also writes the reason naming every number used.
/// One function for both, so the class judged and the reason shown never drift apart.
pub fn decide(
    f: &GateFacts<'_>,
    p: &Policy,
    out: Option<&mut dyn fmt::Write>,
) -> Result<GateClass, fmt::Error> {
    let sev = SevText(f);
    if let Some(v) = f.vex_not_affected {
        return say(
            out,
            format_args!("{sev}, but VEX not_affected: {v}"),
            GateClass::Info,
        );
    }
    if p.kev_blocks {
        if let Some(k) = f.kev {
            return say(
                out,
                format_args!("{sev}, in the CISA KEV catalog ({k})"),
                GateClass::Block,
            );
        }
    }
    match f.severity {
        Severity::Critical => say(
            out,
            format_args!("{sev}: any CRITICAL blocks"),
            GateClass::Block,
        ),
        Severity::High => decide_high(f, p, out),
        Severity::Medium => say(out, format_args!("{sev}: needs a waiver"), GateClass::Warn),
        Severity::Unknown => say(
            out,
            format_args!("UNKNOWN severity (no scanner named one): needs a waiver"),
            GateClass::Warn,
        ),
        Severity::Low | Severity::Negligible => {
            say(out, format_args!("{sev}: informational"), GateClass::Info)
        }
    }
}

fn say(
    out: Option<&mut dyn fmt::Write>,
    text: fmt::Arguments<'_>,
    class: GateClass,
) -> Result<GateClass, fmt::Error> {
    if let Some(o) = out {
        o.write_fmt(text)?;
    }
    Ok(class)
}

/// The severity as the reason names it.
struct SevText<'f, 'a>(&'f GateFacts<'a>);

impl fmt::Display for SevText<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.severity_disagrees {
            write!(f, "{} (highest of disagreeing scanners)", self.0.severity)
        } else {
            write!(f, "{}", self.0.severity)
        }
    }
}

/// The exploitability part of a HIGH finding's reason.
struct ExplText<'e> {
    expl: &'e Result<cvss::Exploitability, String>,
    threshold: f64,
}

impl fmt::Display for ExplText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.expl {
            Ok(e) => {
                let s = e.scaled.unwrap_or(0.0);
                match (e.version, e.native) {
                    (cvss::CvssKind::V2, _) => write!(f, "CVSS v2 exploitability {s:.2}")?,
                    (_, Some(n)) => write!(
                        f,
                        "CVSS v3 exploitability {n:.2} = {s:.2} on the 0-10 scale (x 10/3.9)"
                    )?,
                    _ => f.write_str("exploitability not computable")?,
                }
                let cmp = if s > self.threshold { ">" } else { "<=" };
                write!(f, " {cmp} {:.1} (0-10 scale)", self.threshold)
            }
            Err(why) => f.write_str(why),
        }
    }
}

/// The EPSS part of a HIGH finding's reason.
struct EpssText<'a> {
    epss: Option<(f64, &'a dyn fmt::Display)>,
    threshold: f64,
}

impl fmt::Display for EpssText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.epss {
            Some((v, src)) => {
                let cmp = if v > self.threshold { ">" } else { "<=" };
                write!(f, "EPSS {v} ({src}) {cmp} {}", self.threshold)
            }
            None => f.write_str("no EPSS data (not above the threshold)"),
        }
    }
}

fn decide_high(
    f: &GateFacts<'_>,
    p: &Policy,
    out: Option<&mut dyn fmt::Write>,
) -> Result<GateClass, fmt::Error> {
    let sev = SevText(f);
    let direct = match f.direct {
        Some(true) => "direct dependency",
        Some(false) => {
            return say(
                out,
                format_args!("{sev} in a transitive dependency: needs a waiver"),
                GateClass::Warn,
            )
        }
        None => "dependency relation unknown, counted as direct",
    };
    let expl = cvss::best_exploitability(f.vectors.iter().copied());
    let expl_above = match &expl {
        Ok(e) => e.scaled.unwrap_or(0.0) > p.exploitability_threshold,
        Err(_) => false,
    };
    let epss_above = f.epss.is_some_and(|(v, _)| v > p.epss_threshold);
    let expl_text = ExplText {
        expl: &expl,
        threshold: p.exploitability_threshold,
    };
    let epss_text = EpssText {
        epss: f.epss,
        threshold: p.epss_threshold,
    };
    if !f.fix_available && p.high_without_fix_warns {
        return say(
            out,
            format_args!(
                "{sev}, {direct}, no fix available: needs a waiver; {expl_text}; {epss_text}"
            ),
            GateClass::Warn,
        );
    }
    if expl_above || epss_above {
        say(
            out,
            format_args!("{sev}, {direct}, {expl_text}; {epss_text}"),
            GateClass::Block,
        )
    } else {
        say(
            out,
            format_args!("{sev}, {direct}, below both thresholds: {expl_text}; {epss_text}"),
            GateClass::Warn,
        )
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
