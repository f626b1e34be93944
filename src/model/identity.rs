//! Component identity: the one rule that decides when two documents talk about the same
//! package. Keys are purls without qualifiers and subpath (type lowercased), else a
//! `(type, name, version)` triple spelled so it can never collide with a purl.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ComponentKey(pub String);

impl std::fmt::Display for ComponentKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// `pkg:TYPE/ns/name@version` with qualifiers (`?..`) and subpath (`#..`) removed and the
/// type lowercased. Returns `None` for strings that are not purls.
pub fn normalize_purl(purl: &str) -> Option<String> {
    let (ty, path) = purl_parts(purl)?;
    // Built by hand rather than with `format!`: this runs for every component of every SBOM,
    // several times (key, type), on the parse thread.
    let mut s = String::with_capacity(5 + ty.len() + path.len());
    s.push_str("pkg:");
    s.push_str(ty);
    s[4..].make_ascii_lowercase();
    s.push('/');
    s.push_str(path);
    Some(s)
}

/// (type as written, namespace/name@version) of a purl, without qualifiers or subpath.
fn purl_parts(purl: &str) -> Option<(&str, &str)> {
    let p = purl.trim();
    let rest = p.strip_prefix("pkg:").or_else(|| p.strip_prefix("PKG:"))?;
    let rest = rest.trim_start_matches('/');
    let end = memchr::memchr2(b'?', b'#', rest.as_bytes()).unwrap_or(rest.len());
    let rest = &rest[..end];
    let (ty, path) = rest.split_once('/')?;
    if ty.is_empty() || path.is_empty() {
        return None;
    }
    Some((ty, path))
}

/// The purl type, lowercased (`deb`, `npm`, ...).
pub fn purl_type(purl: &str) -> Option<String> {
    purl_parts(purl).map(|(ty, _)| ty.to_ascii_lowercase())
}

pub fn component_key(
    purl: Option<&str>,
    kind: &str,
    name: &str,
    version: Option<&str>,
) -> ComponentKey {
    if let Some(p) = purl.and_then(normalize_purl) {
        return ComponentKey(p);
    }
    ComponentKey(format!(
        "nopurl:{}/{}@{}",
        kind.to_ascii_lowercase(),
        name,
        version.unwrap_or("")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qualifiers_and_subpath_are_dropped_and_type_lowercased() {
        assert_eq!(
            normalize_purl("pkg:DEB/debian/busybox@1.30.1-6?arch=amd64&distro=debian-11#sub")
                .as_deref(),
            Some("pkg:deb/debian/busybox@1.30.1-6")
        );
        assert_eq!(normalize_purl("not-a-purl"), None);
        assert_eq!(normalize_purl("pkg:npm"), None);
        assert_eq!(normalize_purl("pkg:npm/"), None);
        assert_eq!(
            normalize_purl("pkg:/npm/x@1").as_deref(),
            Some("pkg:npm/x@1")
        );
        // Only the type is lowercased; the name keeps its case, non-ASCII included.
        assert_eq!(
            normalize_purl(" PKG:PyPI/Django@5?x=1 ").as_deref(),
            Some("pkg:pypi/Django@5")
        );
        assert_eq!(normalize_purl("pkg:Ä/x").as_deref(), Some("pkg:Ä/x"));
    }

    #[test]
    fn purl_type_is_the_lowercased_type_of_a_valid_purl_only() {
        assert_eq!(
            purl_type("pkg:DEB/debian/busybox@1?arch=amd64").as_deref(),
            Some("deb")
        );
        assert_eq!(purl_type("pkg:npm"), None);
        assert_eq!(purl_type("pkg:npm/"), None);
        assert_eq!(purl_type("not-a-purl"), None);
    }

    #[test]
    fn fallback_key_never_looks_like_a_purl() {
        let k = component_key(None, "Library", "zlib", Some("1.2"));
        assert_eq!(k.0, "nopurl:library/zlib@1.2");
        let k2 = component_key(Some("garbage"), "library", "zlib", None);
        assert_eq!(k2.0, "nopurl:library/zlib@");
    }
}
