//! The JSON arrays of strings the store keeps in text columns (aliases, fixed versions,
//! scanners), read without allocating: the import writes them with `serde_json::to_string`
//! (`["a","b"]`, no spaces), so text without a backslash is split in place; anything else
//! (escapes, whitespace, other writers) goes through serde_json.

/// A decoded array: borrowed pieces of the column text, or owned strings when the text
/// needed real JSON decoding.
#[derive(Debug, Clone, PartialEq)]
pub enum StrArray<'a> {
    /// The text between the outer `["` and `"]` (empty for `[]`) and the item count.
    Split {
        inner: &'a str,
        len: usize,
    },
    Owned(Vec<String>),
}

impl Default for StrArray<'_> {
    fn default() -> Self {
        StrArray::Split { inner: "", len: 0 }
    }
}

impl<'a> StrArray<'a> {
    /// Decodes `s`; an error (never a panic) when it is not a JSON array of strings.
    pub fn parse(s: &'a str) -> Result<Self, serde_json::Error> {
        if s == "[]" {
            return Ok(Self::default());
        }
        if let Some(inner) = fast_inner(s) {
            if let Some(len) = count_items(inner) {
                return Ok(Self::Split { inner, len });
            }
        }
        serde_json::from_str::<Vec<String>>(s).map(Self::Owned)
    }

    /// Like `parse`, with undecodable text read as no items (what the gate always did).
    pub fn parse_or_empty(s: &'a str) -> Self {
        Self::parse(s).unwrap_or_default()
    }

    pub fn len(&self) -> usize {
        match self {
            Self::Split { len, .. } => *len,
            Self::Owned(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        let (split, owned) = match self {
            Self::Split { inner, len } => (
                Some(Pieces {
                    rest: (*len > 0).then_some(*inner),
                }),
                None,
            ),
            Self::Owned(v) => (None, Some(v.iter().map(String::as_str))),
        };
        split
            .into_iter()
            .flatten()
            .chain(owned.into_iter().flatten())
    }

    pub fn first(&self) -> Option<&str> {
        self.iter().next()
    }

    pub fn to_vec(&self) -> Vec<String> {
        self.iter().map(str::to_string).collect()
    }
}

/// The items of a split array: between `","` delimiters (checked by `count_items`).
struct Pieces<'a> {
    rest: Option<&'a str>,
}

impl<'a> Iterator for Pieces<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let rest = self.rest?;
        match rest.find('"') {
            Some(i) => {
                self.rest = rest.get(i + 3..);
                rest.get(..i)
            }
            None => {
                self.rest = None;
                Some(rest)
            }
        }
    }
}

/// How many items the text between `["` and `"]` holds when every quote in it is part
/// of a `","` delimiter and no control character appears (JSON forbids them raw); `None`
/// when the text is not the writer's form.
fn count_items(inner: &str) -> Option<usize> {
    let b = inner.as_bytes();
    let (mut i, mut len) = (0, 1);
    while i < b.len() {
        match b[i] {
            b'"' if b.get(i + 1) == Some(&b',') && b.get(i + 2) == Some(&b'"') => {
                len += 1;
                i += 3;
            }
            b'"' => return None,
            c if c < 0x20 => return None,
            _ => i += 1,
        }
    }
    Some(len)
}

/// The text between `["` and `"]` when `s` has that shape and no backslash.
fn fast_inner(s: &str) -> Option<&str> {
    if s.len() < 4 || s.contains('\\') {
        return None;
    }
    s.strip_prefix("[\"")?.strip_suffix("\"]")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(s: &str) -> Vec<String> {
        StrArray::parse(s).unwrap().to_vec()
    }

    #[test]
    fn empty_one_several() {
        assert!(StrArray::parse("[]").unwrap().is_empty());
        assert_eq!(items(r#"["CVE-2024-1"]"#), vec!["CVE-2024-1"]);
        let a = StrArray::parse(r#"["trivy","grype","x y"]"#).unwrap();
        assert!(matches!(a, StrArray::Split { .. }), "{a:?}");
        assert_eq!(a.len(), 3);
        assert_eq!(a.first(), Some("trivy"));
        assert_eq!(a.to_vec(), vec!["trivy", "grype", "x y"]);
        // An empty string item is an item.
        assert_eq!(items(r#"["",""]"#), vec!["", ""]);
        assert_eq!(items(r#"[""]"#), vec![""]);
        // Non-ASCII text is split in place too.
        assert_eq!(items(r#"["größe","1.0"]"#), vec!["größe", "1.0"]);
    }

    #[test]
    fn escapes_and_other_spellings_fall_back_to_json() {
        let a = StrArray::parse(r#"["a\"b","c"]"#).unwrap();
        assert!(matches!(a, StrArray::Owned(_)), "{a:?}");
        assert_eq!(a.to_vec(), vec!["a\"b", "c"]);
        assert_eq!(items(r#"["a\\","b"]"#), vec!["a\\", "b"]);
        assert_eq!(items(r#"["\u0041"]"#), vec!["A"]);
        assert_eq!(items(r#"[ "a" , "b" ]"#), vec!["a", "b"]);
        assert_eq!(items(r#"[ ]"#), Vec::<String>::new());
    }

    #[test]
    fn malformed_is_an_error_not_a_panic() {
        for bad in [
            "",
            "[",
            "]",
            "[\"",
            "[\"]",
            "[\"a\"",
            "[\"a\",]",
            "[\"a\"x\"b\"]",
            "[\"a\",\"b\"\"]",
            "[1,2]",
            "null",
            "{\"a\":1}",
            "[\"a\nb\"]",
            "[\"a\\\"]",
        ] {
            assert!(StrArray::parse(bad).is_err(), "{bad:?} parsed");
            assert!(StrArray::parse_or_empty(bad).is_empty(), "{bad:?}");
        }
    }
}
