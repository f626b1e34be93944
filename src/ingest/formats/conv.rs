//! Conversion helpers on the Trivy/Grype hot path (one call per finding): small JSON maps
//! read into sorted vectors with `BTreeMap`'s exact semantics, JSON text written by hand
//! as serde_json writes it, and a per-document cache that skips rebuilding a component
//! whose raw fields were already met.

use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::marker::PhantomData;

/// A JSON string, borrowed from the input when it holds no escape. serde's own
/// `Cow<str>` borrows only as a direct `#[serde(borrow)]` field; inside an `Option`, a
/// `Vec` or a map it always allocates. Refuses what `String` refuses, in the same words.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Str<'a>(pub(super) Cow<'a, str>);

impl Str<'_> {
    pub(super) fn into_owned(self) -> String {
        self.0.into_owned()
    }
}

impl std::ops::Deref for Str<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for Str<'_> {
    fn eq(&self, o: &str) -> bool {
        *self.0 == *o
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Vis;
        impl<'de> Visitor<'de> for Vis {
            type Value = Cow<'de, str>;
            // `String`'s word, so a wrong type reads "..., expected a string" as before.
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Cow::Borrowed(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Cow::Owned(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Cow::Owned(v))
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Self::Value, E> {
                match std::str::from_utf8(v) {
                    Ok(s) => Ok(Cow::Owned(s.to_owned())),
                    Err(_) => Err(E::invalid_value(de::Unexpected::Bytes(v), &self)),
                }
            }
        }
        d.deserialize_string(Vis).map(Str)
    }
}

/// Any JSON value as `serde_json::Value` reads one: the same values accepted, the same
/// errors and nesting limit, the last of equal keys kept, serde_json's raw-value token
/// honoured; its strings borrowed and its objects kept as entry lists, so a value read
/// once (Grype's `matchDetails`, licenses, CPEs) costs no tree of owned strings.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Node<'a> {
    Null,
    Bool(bool),
    Num(serde_json::Number),
    Str(Cow<'a, str>),
    Arr(Vec<Node<'a>>),
    Obj(Vec<(Cow<'a, str>, Node<'a>)>),
}

impl<'a> Node<'a> {
    pub(super) fn as_str(&self) -> Option<&str> {
        match self {
            Node::Str(s) => Some(s),
            _ => None,
        }
    }

    pub(super) fn is_null(&self) -> bool {
        matches!(self, Node::Null)
    }

    /// An object's value for `k`: the last of equal keys, the one `Value` keeps.
    pub(super) fn get(&self, k: &str) -> Option<&Node<'a>> {
        match self {
            Node::Obj(e) => e.iter().rev().find(|(x, _)| x == k).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The compact text `serde_json::Value::to_string` gives: object keys sorted, the
    /// last of equal keys, strings and numbers written by serde_json itself.
    pub(super) fn to_json(&self) -> String {
        let mut out = Vec::with_capacity(256);
        self.write(&mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    fn write(&self, out: &mut Vec<u8>) {
        match self {
            Node::Null => out.extend_from_slice(b"null"),
            Node::Bool(true) => out.extend_from_slice(b"true"),
            Node::Bool(false) => out.extend_from_slice(b"false"),
            Node::Num(n) => {
                let _ = serde_json::to_writer(&mut *out, n);
            }
            Node::Str(s) => {
                let _ = serde_json::to_writer(&mut *out, &**s);
            }
            Node::Arr(a) => {
                out.push(b'[');
                for (i, x) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    x.write(out);
                }
                out.push(b']');
            }
            Node::Obj(e) => {
                let mut order: Vec<usize> = (0..e.len()).collect();
                // Stable: equal keys stay in input order, and only the last is written.
                order.sort_by(|&a, &b| e[a].0.cmp(&e[b].0));
                out.push(b'{');
                let mut first = true;
                for (j, &i) in order.iter().enumerate() {
                    if order.get(j + 1).is_some_and(|&n| e[n].0 == e[i].0) {
                        continue;
                    }
                    if !first {
                        out.push(b',');
                    }
                    first = false;
                    let _ = serde_json::to_writer(&mut *out, &*e[i].0);
                    out.push(b':');
                    e[i].1.write(out);
                }
                out.push(b'}');
            }
        }
    }

    fn from_value(v: serde_json::Value) -> Node<'static> {
        use serde_json::Value;
        match v {
            Value::Null => Node::Null,
            Value::Bool(b) => Node::Bool(b),
            Value::Number(n) => Node::Num(n),
            Value::String(s) => Node::Str(Cow::Owned(s)),
            Value::Array(a) => Node::Arr(a.into_iter().map(Node::from_value).collect()),
            Value::Object(o) => Node::Obj(
                o.into_iter()
                    .map(|(k, v)| (Cow::Owned(k), Node::from_value(v)))
                    .collect(),
            ),
        }
    }
}

/// serde_json's `BoxedFromString`: the raw-value token's string, in its words.
struct RawString;

impl<'de> de::DeserializeSeed<'de> for RawString {
    type Value = String;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<String, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for RawString {
    type Value = String;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("raw value")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
        Ok(v)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Node<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Vis;
        impl<'de> Visitor<'de> for Vis {
            type Value = Node<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any valid JSON value")
            }
            fn visit_bool<E>(self, v: bool) -> Result<Node<'de>, E> {
                Ok(Node::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Node<'de>, E> {
                Ok(Node::Num(v.into()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Node<'de>, E> {
                Ok(Node::Num(v.into()))
            }
            fn visit_i128<E: de::Error>(self, v: i128) -> Result<Node<'de>, E> {
                serde_json::Number::deserialize(de::value::I128Deserializer::new(v)).map(Node::Num)
            }
            fn visit_u128<E: de::Error>(self, v: u128) -> Result<Node<'de>, E> {
                serde_json::Number::deserialize(de::value::U128Deserializer::new(v)).map(Node::Num)
            }
            fn visit_f64<E>(self, v: f64) -> Result<Node<'de>, E> {
                Ok(serde_json::Number::from_f64(v).map_or(Node::Null, Node::Num))
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Node<'de>, E> {
                Ok(Node::Str(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Node<'de>, E> {
                Ok(Node::Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Node<'de>, E> {
                Ok(Node::Str(Cow::Owned(v)))
            }
            fn visit_none<E>(self) -> Result<Node<'de>, E> {
                Ok(Node::Null)
            }
            fn visit_unit<E>(self) -> Result<Node<'de>, E> {
                Ok(Node::Null)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node<'de>, D::Error> {
                Deserialize::deserialize(d)
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut s: A) -> Result<Node<'de>, A::Error> {
                let mut v = Vec::new();
                while let Some(x) = s.next_element()? {
                    v.push(x);
                }
                Ok(Node::Arr(v))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Node<'de>, A::Error> {
                let Some(Str(first)) = m.next_key::<Str>()? else {
                    return Ok(Node::Obj(Vec::new()));
                };
                if first == "$serde_json::private::RawValue" {
                    // What `Value` does with serde_json's raw-value token: the string
                    // value is parsed as the JSON it holds.
                    let raw = m.next_value_seed(RawString)?;
                    let v: serde_json::Value =
                        serde_json::from_str(&raw).map_err(de::Error::custom)?;
                    return Ok(Node::from_value(v));
                }
                let mut e = vec![(first, m.next_value()?)];
                while let Some((Str(k), v)) = m.next_entry()? {
                    e.push((k, v));
                }
                Ok(Node::Obj(e))
            }
        }
        d.deserialize_any(Vis)
    }
}

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

/// `{"vendor_ids":[..],"vendor_severity":{"<source>":{"level":n,"severity":"S"},..}}` as
/// `serde_json::json!(..).to_string()` writes it (keys sorted, compact), without the
/// `Value` tree.
pub(super) fn vendor_details(vendor: &[(Str, i64)], ids: &[Str]) -> String {
    let mut s = String::with_capacity(40 + 48 * vendor.len() + 24 * ids.len());
    s.push_str("{\"vendor_ids\":[");
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        json_str(&mut s, id);
    }
    s.push_str("],\"vendor_severity\":{");
    for (i, (k, n)) in vendor.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        json_str(&mut s, k);
        s.push_str(":{\"level\":");
        let _ = std::fmt::Write::write_fmt(&mut s, format_args!("{n}"));
        s.push_str(",\"severity\":\"");
        s.push_str(crate::model::Severity::from_trivy_int(*n).as_str());
        s.push_str("\"}");
    }
    s.push_str("}}");
    s
}

/// A 0.7x structured CPE object written out in the 2.3 formatted-string form.
pub(super) fn cpe_string(v: &Node) -> Option<String> {
    match v {
        Node::Str(s) if !s.is_empty() => Some(s.to_string()),
        Node::Obj(_) => {
            let f = |k: &str| {
                v.get(k)
                    .and_then(Node::as_str)
                    .filter(|s| !s.is_empty())
                    .unwrap_or("*")
                    .to_string()
            };
            let parts = [
                "Part",
                "Vendor",
                "Product",
                "Version",
                "Update",
                "Edition",
                "Language",
                "SWEdition",
                "TargetSW",
                "TargetHW",
                "Other",
            ];
            Some(format!("cpe:2.3:{}", parts.map(f).join(":")))
        }
        _ => None,
    }
}

pub(super) fn license_string(v: &Node) -> Option<String> {
    match v {
        Node::Str(s) if !s.is_empty() => Some(s.to_string()),
        Node::Obj(_) => ["spdxExpression", "value", "name"]
            .iter()
            .find_map(|k| v.get(k).and_then(Node::as_str).filter(|s| !s.is_empty()))
            .map(str::to_string),
        _ => None,
    }
}

#[cfg(test)]
#[path = "conv_tests.rs"]
mod tests;
