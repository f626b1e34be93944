//! The JSON package: the exact bytes that are signed, and a small structural check against
//! the embedded schema (`assets/schemas/package.schema.json`) used by `verify-package`:
//! required keys, `const`/`enum` values and `additionalProperties: false`, following `$ref`s.
//! Full draft 2020-12 validation is done by the test suite with Python's `jsonschema`.

use super::model::{Package, SCHEMA_VERSION};
use serde_json::Value;

pub const SCHEMA: &str = include_str!("../../assets/schemas/package.schema.json");

/// Pretty JSON (two-space indent) with a trailing newline: stable bytes for stable hashes.
pub fn to_bytes(pkg: &Package) -> Result<Vec<u8>, serde_json::Error> {
    let mut v = Vec::new();
    write(pkg, &mut v)?;
    Ok(v)
}

/// `to_bytes` streamed into `out` (which should be buffered): the same bytes.
pub fn write(pkg: &Package, out: &mut dyn std::io::Write) -> Result<(), serde_json::Error> {
    serde_json::to_writer_pretty(&mut *out, pkg)?;
    out.write_all(b"\n").map_err(serde_json::Error::io)
}

/// Checks `bytes` against the schema's structure; returns every problem with its JSON path.
pub fn check_schema(bytes: &[u8]) -> Result<Package, Vec<String>> {
    let doc: Value = serde_json::from_slice(bytes).map_err(|e| vec![format!("not JSON: {e}")])?;
    let schema: Value =
        serde_json::from_str(SCHEMA).map_err(|e| vec![format!("embedded schema: {e}")])?;
    let mut errs = Vec::new();
    if doc.get("schema_version").and_then(Value::as_str) != Some(SCHEMA_VERSION) {
        errs.push(format!(
            "$.schema_version: expected \"{SCHEMA_VERSION}\", found {}",
            doc.get("schema_version")
                .map_or("nothing".to_string(), |v| v.to_string())
        ));
    }
    walk(&schema, &schema, &doc, "$", &mut errs);
    if !errs.is_empty() {
        return Err(errs);
    }
    serde_json::from_value(doc).map_err(|e| vec![format!("$: {e}")])
}

fn resolve<'a>(root: &'a Value, node: &'a Value) -> &'a Value {
    match node
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/$defs/"))
    {
        Some(name) => root.get("$defs").and_then(|d| d.get(name)).unwrap_or(node),
        None => node,
    }
}

fn walk(root: &Value, node: &Value, v: &Value, path: &str, errs: &mut Vec<String>) {
    let node = resolve(root, node);
    if let Some(c) = node.get("const") {
        if c != v {
            errs.push(format!("{path}: expected {c}, found {v}"));
        }
    }
    if let Some(options) = node.get("enum").and_then(Value::as_array) {
        if !options.contains(v) {
            errs.push(format!(
                "{path}: {v} is not one of {}",
                Value::Array(options.clone())
            ));
        }
    }
    if let Some(alts) = node.get("oneOf").and_then(Value::as_array) {
        // Only `null | object` unions are used; check the object branch for objects.
        if v.is_object() {
            if let Some(obj) = alts
                .iter()
                .find(|a| resolve(root, a).get("properties").is_some())
            {
                walk(root, obj, v, path, errs);
            }
        }
        return;
    }
    if let Some(obj) = v.as_object() {
        if let Some(req) = node.get("required").and_then(Value::as_array) {
            for k in req.iter().filter_map(Value::as_str) {
                if !obj.contains_key(k) {
                    errs.push(format!("{path}: required key '{k}' is missing"));
                }
            }
        }
        let props = node.get("properties").and_then(Value::as_object);
        let closed = node.get("additionalProperties") == Some(&Value::Bool(false));
        for (k, child) in obj {
            match props.and_then(|p| p.get(k)) {
                Some(s) => walk(root, s, child, &format!("{path}.{k}"), errs),
                None if closed => errs.push(format!("{path}: unexpected key '{k}'")),
                None => {}
            }
        }
    }
    if let (Some(items), Some(arr)) = (node.get("items"), v.as_array()) {
        for (i, child) in arr.iter().enumerate() {
            walk(root, items, child, &format!("{path}[{i}]"), errs);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_built_package_passes_and_a_missing_key_is_named() {
        let pkg = crate::export::testdata::package();
        let bytes = to_bytes(&pkg).unwrap();
        assert!(bytes.ends_with(b"}\n"));
        let back = check_schema(&bytes).unwrap();
        assert_eq!(back, pkg);

        let mut v: Value = serde_json::from_slice(&bytes).unwrap();
        v["sets"][0]["findings"][0]
            .as_object_mut()
            .unwrap()
            .remove("gate");
        v["sets"][0]["findings"][1]["disposition"] = "maybe".into();
        v["schema_version"] = "dossier.package/v0".into();
        let errs = check_schema(&serde_json::to_vec(&v).unwrap()).unwrap_err();
        assert!(
            errs.iter()
                .any(|e| e == "$.sets[0].findings[0]: required key 'gate' is missing"),
            "{errs:?}"
        );
        assert!(
            errs.iter().any(
                |e| e.starts_with("$.sets[0].findings[1].disposition: \"maybe\" is not one of")
            ),
            "{errs:?}"
        );
        assert!(
            errs.iter()
                .any(|e| e.starts_with("$.schema_version: expected")),
            "{errs:?}"
        );
    }

    #[test]
    fn unknown_keys_are_refused() {
        let mut v = serde_json::to_value(crate::export::testdata::package()).unwrap();
        v["extra"] = 1.into();
        let errs = check_schema(&serde_json::to_vec(&v).unwrap()).unwrap_err();
        assert_eq!(errs, vec!["$: unexpected key 'extra'".to_string()]);
    }
}
