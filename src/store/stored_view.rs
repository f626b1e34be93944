//! `finding_source.view` without the text `finding_text` already holds: a view's title or
//! description equal to its finding's merged one is left out of the stored JSON (the key
//! itself, so "absent" means "the finding's"; a view without one keeps `null`) and is put
//! back on read. About a quarter of every view's bytes, written once per import.

use crate::model::{Cvss, Epss, ScannerView, Severity};
use serde::Deserialize;

/// `ScannerView` as serde writes it, but for `title` and `description`: left out, key and
/// all, when `None` here. Borrowed, so a view is serialised once and a title or description
/// its finding already holds is never escaped only to be cut out again.
#[derive(serde::Serialize)]
struct Stored<'a> {
    scanner: &'a String,
    scanner_version: &'a Option<String>,
    severity: &'a Severity,
    severity_source: &'a Option<String>,
    cvss: &'a Vec<Cvss>,
    fixed_versions: &'a Vec<String>,
    fix_state: &'a String,
    data_source: &'a Option<String>,
    namespace: &'a Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<&'a Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a Option<String>>,
    urls: &'a Vec<String>,
    epss: &'a Option<Epss>,
    kev: &'a Option<bool>,
    match_details: &'a Option<String>,
    ignored_by: &'a Option<String>,
    status: &'a Option<String>,
    published: &'a Option<String>,
}

/// The JSON to store for `view`; `title`/`description` are the finding's.
#[cfg(test)]
fn stored(view: &ScannerView, title: Option<&str>, description: Option<&str>) -> String {
    let mut out = String::new();
    write(view, title, description, &mut out);
    out
}

/// `stored`, into `out` (cleared first, its buffer reused).
pub(super) fn write(
    view: &ScannerView,
    title: Option<&str>,
    description: Option<&str>,
    out: &mut String,
) {
    // Every field named: a field added to `ScannerView` fails to compile here until it is
    // stored too.
    let ScannerView {
        scanner,
        scanner_version,
        severity,
        severity_source,
        cvss,
        fixed_versions,
        fix_state,
        data_source,
        namespace,
        title: own_title,
        description: own_description,
        urls,
        epss,
        kev,
        match_details,
        ignored_by,
        status,
        published,
    } = view;
    let strip_title = own_title.is_some() && own_title.as_deref() == title;
    let strip_desc = own_description.is_some() && own_description.as_deref() == description;
    let v = Stored {
        scanner,
        scanner_version,
        severity,
        severity_source,
        cvss,
        fixed_versions,
        fix_state,
        data_source,
        namespace,
        title: (!strip_title).then_some(own_title),
        description: (!strip_desc).then_some(own_description),
        urls,
        epss,
        kev,
        match_details,
        ignored_by,
        status,
        published,
    };
    let mut buf = std::mem::take(out).into_bytes();
    buf.clear();
    // Strings, numbers and enums only: serialising cannot fail, and serde_json writes UTF-8.
    *out = match serde_json::to_writer(&mut buf, &v) {
        Ok(()) => String::from_utf8(buf).unwrap_or_else(|_| "null".into()),
        Err(_) => "null".into(),
    };
}

/// Which of the two members a stored view has (present as `null` counts as present).
#[derive(serde::Deserialize)]
struct Present {
    #[serde(default, deserialize_with = "present")]
    title: bool,
    #[serde(default, deserialize_with = "present")]
    description: bool,
}

fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    serde::de::IgnoredAny::deserialize(d).map(|_| true)
}

/// The view a stored JSON text stands for, with the finding's title and description put
/// back where the text left them out. Text that is not a view gives the default view, as
/// the reader always has.
pub(super) fn restore(json: &str, title: Option<&str>, description: Option<&str>) -> ScannerView {
    let Ok(mut v) = serde_json::from_str::<ScannerView>(json) else {
        return ScannerView::default();
    };
    if let Ok(p) = serde_json::from_str::<Present>(json) {
        if !p.title {
            v.title = title.map(str::to_string);
        }
        if !p.description {
            v.description = description.map(str::to_string);
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(title: Option<&str>, description: Option<&str>) -> ScannerView {
        ScannerView {
            scanner: "trivy".into(),
            scanner_version: Some("0.58.1".into()),
            severity: crate::model::Severity::High,
            namespace: Some("debian \"bookworm\", title".into()),
            title: title.map(str::to_string),
            description: description.map(str::to_string),
            urls: vec!["https://example.test/a".into()],
            fixed_versions: vec!["1.2".into()],
            fix_state: "fixed".into(),
            // Every other field set too, so the texts compared below cover each one.
            severity_source: Some("nvd".into()),
            cvss: vec![Cvss {
                source: "nvd".into(),
                version: crate::model::CvssVersion::V3_1,
                vector: Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H".into()),
                base_score: Some(9.8),
            }],
            data_source: Some("https://nvd.test/\"x\"".into()),
            epss: Some(Epss {
                score: 0.5,
                percentile: Some(0.25),
                date: Some("2024-05-01".into()),
            }),
            kev: Some(true),
            match_details: Some(r#"[{"type":"exact-direct-match","title":"x"}]"#.into()),
            ignored_by: Some("[]".into()),
            status: Some("fixed".into()),
            published: Some("2024-01-01".into()),
        }
    }

    /// Every combination of a view's text against the finding's: equal, different, absent.
    #[test]
    fn stripped_views_read_back_as_the_same_view() {
        let t = "libfoo: heap overflow in \"parse\",\"title\":x";
        let d = "A long description\nwith \u{1b}[31m escapes and \"quotes\".";
        let choices = [Some(t), Some("another title"), None];
        let dchoices = [Some(d), Some("another description"), None];
        for vt in choices {
            for vd in dchoices {
                for ft in choices {
                    for fd in dchoices {
                        let v = view(vt, vd);
                        let full = serde_json::to_string(&v).unwrap();
                        let a = stored(&v, ft, fd);
                        assert_eq!(restore(&a, ft, fd), v, "{vt:?} {vd:?} / {ft:?} {fd:?}: {a}");
                        let raw: serde_json::Value = serde_json::from_str(&a).unwrap();
                        let equal_t = vt.is_some() && vt == ft;
                        let equal_d = vd.is_some() && vd == fd;
                        assert_eq!(raw.get("title").is_none(), equal_t, "{a}");
                        assert_eq!(raw.get("description").is_none(), equal_d, "{a}");
                        // Serialised, with each member left to the finding cut out.
                        let mut want = full.clone();
                        for (key, value, strip) in [
                            ("title", &v.title, equal_t),
                            ("description", &v.description, equal_d),
                        ] {
                            if strip {
                                let member =
                                    format!(",\"{key}\":{}", serde_json::to_string(value).unwrap());
                                assert_eq!(want.matches(&member).count(), 1, "{want}");
                                want = want.replacen(&member, "", 1);
                            }
                        }
                        assert_eq!(a, want);
                        // The rest of the members are untouched.
                        assert_eq!(raw["fixed_versions"], serde_json::json!(["1.2"]));
                    }
                }
            }
        }
    }

    #[test]
    fn the_stripped_view_is_shorter_by_the_text() {
        let v = view(Some("t1"), Some("the description"));
        let full = serde_json::to_string(&v).unwrap();
        let s = stored(&v, Some("t1"), Some("the description"));
        assert_eq!(
            full.len() - s.len(),
            r#","title":"t1","description":"the description""#.len()
        );
    }

    #[test]
    fn rows_from_before_stripping_and_broken_rows_read_as_they_always_did() {
        // Old rows always carry both members; `null` stays `None` even if the finding has text.
        let v = view(None, Some("own"));
        let old = serde_json::to_string(&v).unwrap();
        assert_eq!(restore(&old, Some("merged"), Some("merged d")), v);
        assert_eq!(restore("not json", Some("t"), None), ScannerView::default());
    }
}
