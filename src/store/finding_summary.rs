//! The merged headline of one finding as the import writes it: CVSS, EPSS, KEV, fix, text
//! and scanners chosen across its views, and the exact fix-disagreement flag the gate counts.

use crate::model::SetFinding;

/// Borrowed from the finding's views: the write copies each value once, into its batch.
pub(super) struct Summary<'a> {
    pub(super) v2: Option<&'a str>,
    pub(super) v3: Option<&'a str>,
    pub(super) v3_score: Option<f64>,
    pub(super) v4: Option<&'a str>,
    pub(super) epss: Option<&'a crate::model::Epss>,
    pub(super) kev: Option<bool>,
    pub(super) fixed: Vec<&'a str>,
    pub(super) fix_state: &'a str,
    pub(super) title: Option<&'a str>,
    pub(super) description: Option<&'a str>,
    pub(super) scanners: Vec<&'a str>,
}

/// `finding.fix_disagrees`: among the views the finding stores (`stored`: view index and
/// file id), more than one scanner and more than one distinct fixed-version list. The
/// same rule the gate's fix cross-check applies to the stored views, so the gate can
/// count the flag and read views only for the findings it lists.
pub(super) fn fix_disagrees(f: &SetFinding, stored: &[(usize, i64)]) -> bool {
    let views: Vec<&crate::model::ScannerView> = stored
        .iter()
        .filter_map(|(i, _)| f.views.get(*i).map(|(_, v)| v))
        .collect();
    let Some(first) = views.first() else {
        return false;
    };
    views.iter().any(|v| v.scanner != first.scanner)
        && views
            .iter()
            .any(|v| v.fixed_versions != first.fixed_versions)
}

/// The merged headline of a finding. NVD's vector is preferred when scanners carry several,
/// because that is what reviewers and the AO compare against.
pub(super) fn summarize(f: &SetFinding) -> Summary<'_> {
    use crate::model::CvssVersion;
    let all: Vec<&crate::model::Cvss> = f.views.iter().flat_map(|(_, v)| v.cvss.iter()).collect();
    let pick = |vs: &[CvssVersion]| {
        let mut c: Vec<&&crate::model::Cvss> = all
            .iter()
            .filter(|c| vs.contains(&c.version) && c.vector.is_some())
            .collect();
        c.sort_by_key(|c| (c.source != "nvd", std::cmp::Reverse(c.version)));
        c.first().map(|c| (c.vector.as_deref(), c.base_score))
    };
    let v3 = pick(&[CvssVersion::V3_1, CvssVersion::V3_0]);
    let v3_score = v3.as_ref().and_then(|x| x.1).or_else(|| {
        all.iter()
            .filter(|c| matches!(c.version, CvssVersion::V3_0 | CvssVersion::V3_1))
            .find_map(|c| c.base_score)
    });
    let mut fixed: Vec<&str> = Vec::new();
    let mut scanners: Vec<&str> = Vec::new();
    for (_, v) in &f.views {
        for x in &v.fixed_versions {
            if !fixed.contains(&x.as_str()) {
                fixed.push(x);
            }
        }
        if !scanners.contains(&v.scanner.as_str()) {
            scanners.push(&v.scanner);
        }
    }
    let fix_state = if !fixed.is_empty() {
        "fixed"
    } else {
        f.views
            .iter()
            .map(|(_, v)| v.fix_state.as_str())
            .find(|s| !s.is_empty() && *s != "unknown")
            .unwrap_or("unknown")
    };
    let epss = f
        .views
        .iter()
        .filter_map(|(_, v)| v.epss.as_ref())
        .max_by(|a, b| a.score.total_cmp(&b.score));
    let kev = f
        .views
        .iter()
        .filter_map(|(_, v)| v.kev)
        .reduce(|a, b| a || b);
    let longest = |get: fn(&crate::model::ScannerView) -> Option<&str>| {
        f.views
            .iter()
            .filter_map(|(_, v)| get(v))
            .max_by_key(|s| s.len())
    };
    Summary {
        v2: pick(&[CvssVersion::V2]).and_then(|x| x.0),
        v3: v3.and_then(|x| x.0),
        v3_score,
        v4: pick(&[CvssVersion::V4]).and_then(|x| x.0),
        epss,
        kev,
        fixed,
        fix_state,
        title: longest(|v| v.title.as_deref()),
        description: longest(|v| v.description.as_deref()),
        scanners,
    }
}
