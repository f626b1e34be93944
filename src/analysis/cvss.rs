//! CVSS vectors (v2, v3.0/3.1, v4.0) and the exploitability sub-score on one named 0-10
//! scale. Formulas from the FIRST specifications (formats.md section 10); v4.0 has no
//! exploitability sub-score, so it is "not computable", never a made-up number.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum CvssKind {
    #[serde(rename = "2.0")]
    V2,
    #[serde(rename = "3.0")]
    V30,
    #[serde(rename = "3.1")]
    V31,
    #[serde(rename = "4.0")]
    V40,
}

/// The exploitability of one vector, with the scale it came from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Exploitability {
    pub version: CvssKind,
    /// The sub-score on its own scale (v2: 0-10, v3: 0.1-3.9); `None` for v4.
    pub native: Option<f64>,
    /// On the policy's 0-10 scale (v3 multiplied by 10/3.9); `None` for v4.
    pub scaled: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("CVSS vector '{vector}': {message}")]
pub struct CvssError {
    pub vector: String,
    pub message: String,
}

fn metrics(body: &str) -> Vec<(&str, &str)> {
    body.split('/').filter_map(|p| p.split_once(':')).collect()
}

fn get<'a>(m: &[(&'a str, &'a str)], key: &str) -> Option<&'a str> {
    m.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
}

/// Parses a vector and computes its exploitability sub-score.
pub fn exploitability(vector: &str) -> Result<Exploitability, CvssError> {
    let v = vector.trim().trim_start_matches('(').trim_end_matches(')');
    let fail = |m: &str| CvssError {
        vector: vector.to_string(),
        message: m.to_string(),
    };
    if let Some(body) = v.strip_prefix("CVSS:4.0/") {
        let m = metrics(body);
        for k in [
            "AV", "AC", "AT", "PR", "UI", "VC", "VI", "VA", "SC", "SI", "SA",
        ] {
            if get(&m, k).is_none() {
                return Err(fail(&format!("v4.0 base metric {k} missing")));
            }
        }
        return Ok(Exploitability {
            version: CvssKind::V40,
            native: None,
            scaled: None,
        });
    }
    let v3 = if let Some(b) = v.strip_prefix("CVSS:3.1/") {
        Some((CvssKind::V31, b))
    } else {
        v.strip_prefix("CVSS:3.0/").map(|b| (CvssKind::V30, b))
    };
    if let Some((kind, body)) = v3 {
        let m = metrics(body);
        let scope_changed = match get(&m, "S") {
            Some("U") => false,
            Some("C") => true,
            _ => return Err(fail("v3 metric S must be U or C")),
        };
        let av = match get(&m, "AV") {
            Some("N") => 0.85,
            Some("A") => 0.62,
            Some("L") => 0.55,
            Some("P") => 0.20,
            _ => return Err(fail("v3 metric AV must be N, A, L or P")),
        };
        let ac = match get(&m, "AC") {
            Some("L") => 0.77,
            Some("H") => 0.44,
            _ => return Err(fail("v3 metric AC must be L or H")),
        };
        let pr = match (get(&m, "PR"), scope_changed) {
            (Some("N"), _) => 0.85,
            (Some("L"), false) => 0.62,
            (Some("L"), true) => 0.68,
            (Some("H"), false) => 0.27,
            (Some("H"), true) => 0.50,
            _ => return Err(fail("v3 metric PR must be N, L or H")),
        };
        let ui = match get(&m, "UI") {
            Some("N") => 0.85,
            Some("R") => 0.62,
            _ => return Err(fail("v3 metric UI must be N or R")),
        };
        let native = 8.22 * av * ac * pr * ui;
        return Ok(Exploitability {
            version: kind,
            native: Some(native),
            scaled: Some(native * 10.0 / 3.9),
        });
    }
    if v.starts_with("CVSS:") {
        return Err(fail("unknown CVSS version prefix"));
    }
    let m = metrics(v);
    let av = match get(&m, "AV") {
        Some("L") => 0.395,
        Some("A") => 0.646,
        Some("N") => 1.0,
        _ => return Err(fail("v2 metric AV must be L, A or N")),
    };
    let ac = match get(&m, "AC") {
        Some("H") => 0.35,
        Some("M") => 0.61,
        Some("L") => 0.71,
        _ => return Err(fail("v2 metric AC must be H, M or L")),
    };
    let au = match get(&m, "Au") {
        Some("M") => 0.45,
        Some("S") => 0.56,
        Some("N") => 0.704,
        _ => return Err(fail("v2 metric Au must be M, S or N")),
    };
    let native = 20.0 * av * ac * au;
    Ok(Exploitability {
        version: CvssKind::V2,
        native: Some(native),
        scaled: Some(native),
    })
}

/// The highest computable exploitability among the given vectors (v2 and v3 compared on
/// the 0-10 scale). `Err` carries the reason when none is computable.
pub fn best_exploitability<'a>(
    vectors: impl IntoIterator<Item = &'a str>,
) -> Result<Exploitability, String> {
    let mut best: Option<Exploitability> = None;
    let mut saw_v4 = false;
    let mut errors: Vec<String> = Vec::new();
    for v in vectors {
        match exploitability(v) {
            Ok(e) if e.scaled.is_none() => saw_v4 = true,
            Ok(e) => {
                if best
                    .and_then(|b| b.scaled)
                    .is_none_or(|b| e.scaled.unwrap_or(0.0) > b)
                {
                    best = Some(e);
                }
            }
            Err(e) => errors.push(e.to_string()),
        }
    }
    match best {
        Some(b) => Ok(b),
        None if saw_v4 => {
            Err("exploitability not computable (CVSS v4.0 has no exploitability sub-score)".into())
        }
        None if !errors.is_empty() => Err(format!(
            "exploitability not computable ({})",
            errors.join("; ")
        )),
        None => Err("no CVSS vector".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 0.01
    }

    #[test]
    fn v2_values_from_the_spec() {
        // formats.md section 10: > 7.0 holds for AV:N/AC:L/Au:N (10.0), Au:S (7.95), AC:M (8.59).
        let e = exploitability("AV:N/AC:L/Au:N/C:P/I:P/A:P").unwrap();
        assert!(close(e.native.unwrap(), 9.9968));
        assert!(close(
            exploitability("(AV:N/AC:L/Au:S/C:P/I:P/A:P)")
                .unwrap()
                .native
                .unwrap(),
            7.95
        ));
        assert!(close(
            exploitability("AV:N/AC:M/Au:N/C:N/I:N/A:P")
                .unwrap()
                .native
                .unwrap(),
            8.59
        ));
        assert!(close(
            exploitability("AV:L/AC:H/Au:M/C:N/I:N/A:P")
                .unwrap()
                .native
                .unwrap(),
            1.24
        ));
    }

    #[test]
    fn v3_sub_scores_and_scaling() {
        // 8.22 x .85 x .77 x .85 x .85 = 3.887; x 10/3.9 = 9.97.
        let e = exploitability("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H").unwrap();
        assert_eq!(e.version, CvssKind::V31);
        assert!(close(e.native.unwrap(), 3.887));
        assert!(close(e.scaled.unwrap(), 9.967));
        // Scope changed raises PR:L from .62 to .68: 8.22 x .85 x .77 x .68 x .85 = 3.11.
        let e = exploitability("CVSS:3.0/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H").unwrap();
        assert!(close(e.native.unwrap(), 3.1097));
        // Physical, high complexity, high privileges, user interaction: 0.12.
        let e = exploitability("CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N").unwrap();
        assert!(close(e.native.unwrap(), 0.1212));
    }

    #[test]
    fn v4_is_not_computable_and_garbage_is_an_error() {
        let e = exploitability("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N")
            .unwrap();
        assert_eq!(e.scaled, None);
        let r = best_exploitability([
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
        ]);
        assert!(r.unwrap_err().contains("not computable"));
        assert!(exploitability("AV:X/AC:L/Au:N").is_err());
        assert!(exploitability("CVSS:3.1/AV:N").is_err());
        assert!(exploitability("CVSS:9.9/AV:N").is_err());
    }

    #[test]
    fn best_prefers_the_highest_on_the_common_scale() {
        let b = best_exploitability([
            "CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N",
            "AV:N/AC:L/Au:N/C:P/I:P/A:P",
        ])
        .unwrap();
        assert_eq!(b.version, CvssKind::V2);
    }
}
