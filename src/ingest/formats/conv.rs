//! Conversion helpers on the Trivy/Grype hot path (one call per finding): small JSON maps
//! read into sorted vectors with `BTreeMap`'s exact semantics, JSON text written by hand
//! as serde_json writes it, and a per-document cache that skips rebuilding a component
//! whose raw fields were already met.

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::marker::PhantomData;

/// A JSON object read as `BTreeMap<K, V>` reads it (every entry through `next_entry`,
/// sorted by key, the last of equal keys wins), held in a vector: a few entries per finding
/// do not pay for B-tree nodes.
pub(super) struct SortedMap<K, V>(pub(super) Vec<(K, V)>);

impl<K, V> Default for SortedMap<K, V> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<K: PartialEq, V> SortedMap<K, V> {
    pub(super) fn get<Q>(&self, k: &Q) -> Option<&V>
    where
        K: PartialEq<Q>,
        Q: ?Sized,
    {
        self.0.iter().find(|(x, _)| x == k).map(|(_, v)| v)
    }
}

impl<'de, K: Deserialize<'de> + Ord, V: Deserialize<'de>> Deserialize<'de> for SortedMap<K, V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Vis<K, V>(PhantomData<(K, V)>);
        impl<'de, K: Deserialize<'de> + Ord, V: Deserialize<'de>> Visitor<'de> for Vis<K, V> {
            type Value = SortedMap<K, V>;
            // `BTreeMap`'s own word, so a wrong type reads "..., expected a map" as before.
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                let mut v: Vec<(K, V)> = Vec::with_capacity(m.size_hint().unwrap_or(0).min(16));
                while let Some(e) = m.next_entry()? {
                    v.push(e);
                }
                // Stable: equal keys stay in input order, and the later value replaces the
                // earlier one as `BTreeMap::insert` does.
                v.sort_by(|a, b| a.0.cmp(&b.0));
                v.dedup_by(|later, kept| {
                    let same = later.0 == kept.0;
                    if same {
                        std::mem::swap(&mut later.1, &mut kept.1);
                    }
                    same
                });
                Ok(SortedMap(v))
            }
        }
        d.deserialize_map(Vis(PhantomData))
    }
}

/// Appends `s` as a JSON string exactly as `serde_json` writes one.
pub(super) fn json_str(out: &mut String, s: &str) {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push('"');
        out.push_str(s);
        out.push('"');
    } else {
        out.push_str(&serde_json::to_string(s).unwrap_or_default());
    }
}

/// Remembers, per document, the raw fields of every component a finding named and the
/// component they became. Meeting the same fields again is a no-op for the document (the
/// component already holds what they would add, and documents only grow), so the finding
/// takes the index without building and merging a `Component`.
#[derive(Default)]
pub(super) struct SeenComponents {
    map: HashMap<String, usize>,
    key: String,
    usable: bool,
}

impl SeenComponents {
    /// Starts a key for the next finding's component.
    pub(super) fn start(&mut self) {
        self.key.clear();
        self.usable = true;
    }

    /// Adds one raw field (length-prefixed, so no two field lists spell the same key).
    pub(super) fn part(&mut self, s: Option<&str>) {
        match s {
            None => self.key.push('-'),
            Some(s) => {
                let _ = write!(self.key, "{}:", s.len());
                self.key.push_str(s);
            }
        }
    }

    /// Adds the length of the list whose items follow.
    pub(super) fn count(&mut self, n: usize) {
        let _ = write!(self.key, "#{n};");
    }

    /// A field the key cannot spell: this finding is not cached.
    pub(super) fn unusable(&mut self) {
        self.usable = false;
    }

    /// The component index of an earlier finding with the same key.
    pub(super) fn get(&self) -> Option<usize> {
        if !self.usable {
            return None;
        }
        self.map.get(self.key.as_str()).copied()
    }

    /// Records the index the current key's component became.
    pub(super) fn remember(&mut self, i: usize) {
        if self.usable {
            self.map.insert(self.key.clone(), i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;
    use std::collections::BTreeMap;

    /// Every input, read both ways, gives the same entries (or the same error).
    #[test]
    fn sorted_map_reads_as_btreemap_does() {
        let inputs = [
            r#"{"nvd": 3, "debian": 1, "ghsa": 2}"#,
            r#"{"b": 1, "a": 2, "b": 3, "a": 4, "c": 5}"#,
            r#"{"a\u0041": 1, "aA": 2, "\n": 3}"#,
            r#"{}"#,
            r#"{"x": 9223372036854775807, "y": -9223372036854775808}"#,
            r#"{"x": 9223372036854775808}"#,
            r#"{"x": 1.0}"#,
            r#"{"x": null}"#,
            r#"[1, 2]"#,
            r#"5"#,
            r#""s""#,
            r#"{"x": 1,}"#,
            r#"{"x" 1}"#,
        ];
        for i in inputs {
            let a: Result<BTreeMap<Cow<str>, i64>, _> = serde_json::from_str(i);
            let b: Result<SortedMap<Cow<str>, i64>, _> = serde_json::from_str(i);
            match (a, b) {
                (Ok(a), Ok(b)) => {
                    let a: Vec<(String, i64)> =
                        a.into_iter().map(|(k, v)| (k.into_owned(), v)).collect();
                    let b: Vec<(String, i64)> =
                        b.0.into_iter().map(|(k, v)| (k.into_owned(), v)).collect();
                    assert_eq!(a, b, "{i}");
                }
                (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{i}"),
                (a, b) => panic!("{i}: {:?} vs {:?}", a.is_ok(), b.is_ok()),
            }
        }
    }

    #[test]
    fn json_str_writes_what_serde_json_writes() {
        for s in [
            "plain",
            "",
            "quote \" here",
            "back\\slash",
            "tab\tnl\ncr\r",
            "\u{0}\u{1f}\u{7f}",
            "ünï €",
            "\u{202e}bidi",
        ] {
            let mut out = String::new();
            json_str(&mut out, s);
            assert_eq!(out, serde_json::to_string(s).unwrap());
        }
    }

    #[test]
    fn seen_keys_do_not_collide_across_field_boundaries() {
        let mut s = SeenComponents::default();
        s.start();
        s.part(Some("a:b"));
        s.part(None);
        s.remember(1);
        s.start();
        s.part(Some("a"));
        s.part(Some("b"));
        assert_eq!(s.get(), None);
        s.start();
        s.part(Some("a:b"));
        s.part(None);
        assert_eq!(s.get(), Some(1));
        s.unusable();
        assert_eq!(s.get(), None);
    }
}
