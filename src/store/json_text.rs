//! The JSON text of a component's array columns (licenses, CPEs, locations), written without
//! serde into a reused buffer: byte for byte what `serde_json::to_string` writes for the
//! same values, so rows read the same whichever wrote them.

use crate::model::Location;

/// Appends `s` as a JSON string, escaped as serde_json escapes it.
fn string(out: &mut String, s: &str) {
    out.push('"');
    let b = s.as_bytes();
    let mut start = 0;
    for (i, &c) in b.iter().enumerate() {
        let esc: &str = match c {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if esc.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(c >> 4)]));
            out.push(char::from(HEX[usize::from(c & 0xf)]));
        } else {
            out.push_str(esc);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// `serde_json::to_string(v)` for a list of strings, into `out` (cleared first).
pub fn strings(out: &mut String, v: &[String]) {
    out.clear();
    push_strings(out, v);
}

/// `serde_json::to_string(v)` for a list of strings, appended to `out`.
pub fn push_strings<S: AsRef<str>>(out: &mut String, v: &[S]) {
    out.push('[');
    for (i, s) in v.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        string(out, s.as_ref());
    }
    out.push(']');
}

/// `serde_json::to_string(v)` for a list of locations, into `out` (cleared first).
pub fn locations(out: &mut String, v: &[Location]) {
    out.clear();
    out.push('[');
    for (i, l) in v.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"file\":");
        string(out, &l.file);
        out.push_str(",\"path\":");
        match &l.path {
            Some(p) => string(out, p),
            None => out.push_str("null"),
        }
        out.push('}');
    }
    out.push(']');
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every byte below 0x80 once, plus the characters JSON writers disagree on.
    fn hostile() -> Vec<String> {
        let all: String = (0u8..0x80).map(char::from).collect();
        vec![
            String::new(),
            all,
            "é \u{2028} \u{1F600} / \u{7f} \u{85}".into(),
            "\"\\\"\\".into(),
            "plain".into(),
        ]
    }

    #[test]
    fn strings_read_back_and_match_serde_byte_for_byte() {
        let mut out = String::new();
        for v in [vec![], hostile(), vec!["MIT".to_string()]] {
            strings(&mut out, &v);
            assert_eq!(serde_json::from_str::<Vec<String>>(&out).unwrap(), v);
            assert_eq!(out, serde_json::to_string(&v).unwrap());
        }
        // Appended after what `out` holds, from borrowed strings too.
        out = "x".into();
        push_strings(&mut out, &["a\"", "b"]);
        assert_eq!(out, r#"x["a\"","b"]"#);
        // Control characters spelled as JSON spells them, worked out by hand.
        strings(&mut out, &["\u{1}\n\u{1f}".to_string()]);
        assert_eq!(out, r#"["\u0001\n\u001f"]"#);
    }

    #[test]
    fn locations_match_serde_byte_for_byte() {
        let mut out = String::new();
        let v: Vec<Location> = hostile()
            .into_iter()
            .enumerate()
            .map(|(i, s)| Location {
                file: s.clone(),
                path: (i % 2 == 0).then_some(s),
            })
            .collect();
        for v in [vec![], v] {
            locations(&mut out, &v);
            assert_eq!(out, serde_json::to_string(&v).unwrap());
        }
        locations(
            &mut out,
            &[Location {
                file: "a".into(),
                path: None,
            }],
        );
        assert_eq!(out, r#"[{"file":"a","path":null}]"#);
    }
}
