//! Each hand-written reader and writer of `conv` against the serde_json code it stands in for.

use super::*;
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

/// Every input read as `Node` and as `Value` gives the same text (or the same error).
#[test]
fn node_reads_and_writes_as_value_does() {
    let deep_ok = format!("{}1{}", "[".repeat(126), "]".repeat(126));
    let deep_bad = format!("{}1{}", "[".repeat(128), "]".repeat(128));
    let inputs = [
        r#"[{"type":"exact-direct-match","matcher":"m","searchedBy":{"namespace":"n","package":{"name":"a","version":"1"}},"found":{"vulnerabilityID":"CVE-1","versionConstraint":"< 2"}}]"#,
        r#"{"z":1,"a":2,"z":3,"m":{"b":null,"a":[true,false]}}"#,
        r#"{"\u0041":"\ud83d\ude00","A":"tab\tquote\"back\\","":"é"}"#,
        r#"[0,-0,-0.0,1.5e3,1E-7,123456789012345678901234567890,18446744073709551615,-9223372036854775808,1e308,0.1]"#,
        r#"{"$serde_json::private::RawValue":"[1,{\"b\":1,\"a\":2}]"}"#,
        r#"{"$serde_json::private::RawValue":5}"#,
        r#"{"$serde_json::private::RawValue":"[1,"}"#,
        r#"{"$serde_json::private::RawValue":"1","x":2}"#,
        r#"{"a":1,"$serde_json::private::RawValue":"2"}"#,
        r#"[1e400]"#,
        r#"{"a":tru}"#,
        r#"{"a":1,}"#,
        r#""lone \ud800""#,
        r#"{}"#,
        r#"[]"#,
        r#"null"#,
        deep_ok.as_str(),
        deep_bad.as_str(),
    ];
    for i in inputs {
        let a: Result<serde_json::Value, _> = serde_json::from_str(i);
        let b: Result<Node, _> = serde_json::from_str(i);
        match (a, b) {
            (Ok(a), Ok(b)) => {
                assert_eq!(b.to_json(), a.to_string(), "{i}");
                assert_eq!(b.is_null(), a.is_null(), "{i}");
            }
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{i}"),
            (a, b) => panic!("{i}: {a:?} vs {:?}", b.map(|n| n.to_json())),
        }
    }
    let n: Node = serde_json::from_str(r#"{"k":"a","k":"b","n":1}"#).unwrap();
    assert_eq!(n.get("k").and_then(Node::as_str), Some("b"));
    assert_eq!(n.get("n").and_then(Node::as_str), None);
    assert!(n.get("x").is_none());
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
