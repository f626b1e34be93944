//! `finding_source.view` without the text `finding_text` already holds: a view's title or
//! description equal to its finding's merged one is left out of the stored JSON (the key
//! itself, so "absent" means "the finding's"; a view without one keeps `null`) and is put
//! back on read. About a quarter of every view's bytes, written once per import.

use crate::model::ScannerView;
use serde::Deserialize;

/// The two members as a blanked text has them: serde writes `title` and `description` one
/// after the other, and outside a JSON string a `"` is never preceded by a backslash, so
/// the first match is those members.
const BLANK_PAIR: &str = ",\"title\":null,\"description\":null";

/// The JSON to store for `view`; `title`/`description` are the finding's. `blanked` is
/// `view` serialised with its title and description `None`, when the caller has it (a
/// streamed import's spool: the two long strings travel beside it, not escaped into it);
/// else the view is serialised here.
pub(super) fn stored(
    view: &ScannerView,
    blanked: Option<&str>,
    title: Option<&str>,
    description: Option<&str>,
) -> String {
    let strip_title = view.title.is_some() && view.title.as_deref() == title;
    let strip_desc = view.description.is_some() && view.description.as_deref() == description;
    if let Some(t) = blanked {
        return filled(t, view, strip_title, strip_desc);
    }
    let full = serde_json::to_string(view).unwrap_or_else(|_| "null".into());
    if !strip_title && !strip_desc {
        return full;
    }
    splice(&full, view, strip_title, strip_desc)
        .unwrap_or_else(|| rebuilt(&full, view, strip_title, strip_desc))
}

/// A blanked text with the members the stored view keeps written in, as serde writes them
/// (a `None` kept is `null`), and the ones it leaves to `finding_text` left out.
fn filled(text: &str, view: &ScannerView, strip_title: bool, strip_desc: bool) -> String {
    let Some(at) = memchr::memmem::find(text.as_bytes(), BLANK_PAIR.as_bytes()) else {
        return rebuilt(text, view, strip_title, strip_desc);
    };
    let mut out = String::with_capacity(text.len() + 64);
    out.push_str(&text[..at]);
    let mut member = |key: &str, value: &Option<String>| {
        out.push_str(key);
        // A string or null always serialises.
        out.push_str(&serde_json::to_string(value).unwrap_or_else(|_| "null".into()));
    };
    if !strip_title {
        member(",\"title\":", &view.title);
    }
    if !strip_desc {
        member(",\"description\":", &view.description);
    }
    out.push_str(&text[at + BLANK_PAIR.len()..]);
    out
}

/// serde writes the fields in declaration order, `…,"title":T,"description":D,"urls":…`,
/// and no string member before `title` can hold `,"title":` (a quote inside a JSON
/// string is escaped): cut the two members out where they are, after checking that the
/// text there is exactly what serialising them gives.
fn splice(full: &str, view: &ScannerView, strip_title: bool, strip_desc: bool) -> Option<String> {
    let t = serde_json::to_string(&view.title).ok()?;
    let d = serde_json::to_string(&view.description).ok()?;
    let key = ",\"title\":";
    let at = memchr::memmem::find(full.as_bytes(), key.as_bytes())?;
    let rest = full.get(at + key.len()..)?;
    let rest = rest.strip_prefix(t.as_str())?;
    let rest = rest.strip_prefix(",\"description\":")?;
    let rest = rest.strip_prefix(d.as_str())?;
    let mut out = String::with_capacity(full.len());
    out.push_str(&full[..at]);
    if !strip_title {
        out.push_str(key);
        out.push_str(&t);
    }
    if !strip_desc {
        out.push_str(",\"description\":");
        out.push_str(&d);
    }
    out.push_str(rest);
    Some(out)
}

/// The slow way, for a text not shaped as `splice` or `filled` expects: from the text
/// itself (a streamed import's views carry only the fields the write summarises), else the
/// view; the members kept take the view's values.
fn rebuilt(text: &str, view: &ScannerView, strip_title: bool, strip_desc: bool) -> String {
    let value = match serde_json::from_str::<serde_json::Value>(text) {
        Ok(v @ serde_json::Value::Object(_)) => Ok(v),
        _ => serde_json::to_value(view),
    };
    let Ok(serde_json::Value::Object(mut m)) = value else {
        return "null".into();
    };
    for (key, strip, value) in [
        ("title", strip_title, &view.title),
        ("description", strip_desc, &view.description),
    ] {
        if strip {
            m.remove(key);
        } else {
            m.insert(
                key.into(),
                value
                    .as_deref()
                    .map_or(serde_json::Value::Null, serde_json::Value::from),
            );
        }
    }
    serde_json::Value::Object(m).to_string()
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
            ..ScannerView::default()
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
                        let a = stored(&v, None, ft, fd);
                        // A spooled view: serialised without its two long strings.
                        let blank = serde_json::to_string(&ScannerView {
                            title: None,
                            description: None,
                            ..v.clone()
                        })
                        .unwrap();
                        let c = stored(&v, Some(&blank), ft, fd);
                        assert_eq!(c, a, "blanked and serialised views store the same text");
                        assert_eq!(restore(&a, ft, fd), v, "{vt:?} {vd:?} / {ft:?} {fd:?}: {a}");
                        let raw: serde_json::Value = serde_json::from_str(&a).unwrap();
                        let equal_t = vt.is_some() && vt == ft;
                        let equal_d = vd.is_some() && vd == fd;
                        assert_eq!(raw.get("title").is_none(), equal_t, "{a}");
                        assert_eq!(raw.get("description").is_none(), equal_d, "{a}");
                        if !equal_t && !equal_d {
                            assert_eq!(a, full, "nothing to strip: stored as serialised");
                        }
                        // The rest of the members are untouched.
                        assert_eq!(raw["fixed_versions"], serde_json::json!(["1.2"]));
                    }
                }
            }
        }
    }

    #[test]
    fn the_stripped_view_is_shorter_by_the_text_and_an_unexpected_shape_still_strips() {
        let v = view(Some("t1"), Some("the description"));
        let full = serde_json::to_string(&v).unwrap();
        let s = stored(&v, None, Some("t1"), Some("the description"));
        assert_eq!(
            full.len() - s.len(),
            r#","title":"t1","description":"the description""#.len()
        );
        // Spooled text in another member order (not what serde writes): rebuilt instead,
        // with a kept member written in and a stripped one left out.
        let odd_blank = r#"{"description":null,"scanner":"trivy","scanner_version":"0.58.1","severity":"HIGH","severity_source":null,"cvss":[],"fixed_versions":["1.2"],"fix_state":"fixed","data_source":null,"namespace":"debian \"bookworm\", title","urls":["https://example.test/a"],"epss":null,"kev":null,"match_details":null,"ignored_by":null,"status":null,"published":null,"title":null}"#;
        let s = stored(&v, Some(odd_blank), Some("other"), Some("the description"));
        assert!(
            s.contains(r#""title":"t1""#) && !s.contains("the description"),
            "{s}"
        );
        assert_eq!(restore(&s, Some("other"), Some("the description")), v);
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
