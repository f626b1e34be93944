//! Severity vocabulary shared by every scanner, ordered so that "highest wins" is `max`.

use serde::{Deserialize, Serialize};

#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "UPPERCASE")]
pub enum Severity {
    /// The scanner could not name a severity. Ordered lowest so `max` prefers any real one.
    #[default]
    Unknown,
    Negligible,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// Parses every spelling the scanners use (Trivy upper case, Grype capitalised,
    /// CycloneDX lower case with `info`/`none`, XCCDF `high/medium/low`).
    pub fn parse(s: &str) -> Self {
        // Compared without lowercasing into a new string: this runs once per finding.
        let s = s.trim();
        let is = |w: &str| s.eq_ignore_ascii_case(w);
        if is("critical") {
            Self::Critical
        } else if is("high") || is("important") {
            Self::High
        } else if is("medium") || is("moderate") {
            Self::Medium
        } else if is("low") {
            Self::Low
        } else if is("negligible") || is("info") || is("informational") || is("none") {
            Self::Negligible
        } else {
            Self::Unknown
        }
    }

    /// Trivy's `VendorSeverity` integers: 0 unknown, 1 low, 2 medium, 3 high, 4 critical.
    pub fn from_trivy_int(n: i64) -> Self {
        match n {
            1 => Self::Low,
            2 => Self::Medium,
            3 => Self::High,
            4 => Self::Critical,
            _ => Self::Unknown,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unknown => "UNKNOWN",
            Self::Negligible => "NEGLIGIBLE",
            Self::Low => "LOW",
            Self::Medium => "MEDIUM",
            Self::High => "HIGH",
            Self::Critical => "CRITICAL",
        }
    }

    pub const ALL: [Severity; 6] = [
        Self::Critical,
        Self::High,
        Self::Medium,
        Self::Low,
        Self::Negligible,
        Self::Unknown,
    ];
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocabularies_map_and_order() {
        assert_eq!(Severity::parse("Negligible"), Severity::Negligible);
        assert_eq!(Severity::parse("CRITICAL"), Severity::Critical);
        assert_eq!(Severity::parse("none"), Severity::Negligible);
        assert_eq!(Severity::parse("weird"), Severity::Unknown);
        assert!(Severity::Critical > Severity::High);
        assert!(Severity::Low > Severity::Unknown);
        assert_eq!(Severity::from_trivy_int(3), Severity::High);
    }
}
