//! Format detection by content, never by file name: a cheap sniff of the top-level keys
//! (JSON), the root element (XML) or the first lines (text), answering one of supported,
//! known-but-unsupported-version, or unrecognised. `REGISTRY` is the one ordered list.

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;

/// Every evidence format dossier knows. `name()` is the stable string stored and printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    CycloneDxJson,
    CycloneDxXml,
    SpdxJson,
    SpdxTagValue,
    TrivyJson,
    GrypeJson,
    OciManifest,
    OciIndex,
    OciImageConfig,
    OciLayoutMarker,
    SkopeoInspect,
    ImageDigest,
    ImageReference,
    CosignSimpleSigning,
    ContainersSigstoreSignature,
    SignatureBase64,
    SignatureDer,
    DsseEnvelope,
    InTotoStatement,
    SigstoreBundle,
    RekorBundle,
    SigstoreTrustedRoot,
    PublicKeyPem,
    CertificatePem,
    PrivateKey,
    OpenVex,
    CsafVex,
    DossierWaiver,
    TrivyIgnoreYaml,
    TrivyIgnore,
    GrypeConfig,
    HarborAllowlist,
    XccdfResults,
    ArfReport,
    StigViewerChecklist,
    EpssCsv,
    KevJson,
    KevCsv,
    Sarif,
    SyftJson,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Self::CycloneDxJson => "cyclonedx-json",
            Self::CycloneDxXml => "cyclonedx-xml",
            Self::SpdxJson => "spdx-json",
            Self::SpdxTagValue => "spdx-tag-value",
            Self::TrivyJson => "trivy-json",
            Self::GrypeJson => "grype-json",
            Self::OciManifest => "oci-manifest",
            Self::OciIndex => "oci-index",
            Self::OciImageConfig => "oci-image-config",
            Self::OciLayoutMarker => "oci-layout",
            Self::SkopeoInspect => "skopeo-inspect",
            Self::ImageDigest => "image-digest",
            Self::ImageReference => "image-reference",
            Self::CosignSimpleSigning => "cosign-simple-signing",
            Self::ContainersSigstoreSignature => "containers-sigstore-signature",
            Self::SignatureBase64 => "signature-base64",
            Self::SignatureDer => "signature-der",
            Self::DsseEnvelope => "dsse-envelope",
            Self::InTotoStatement => "in-toto-statement",
            Self::SigstoreBundle => "sigstore-bundle",
            Self::RekorBundle => "rekor-bundle",
            Self::SigstoreTrustedRoot => "sigstore-trusted-root",
            Self::PublicKeyPem => "public-key",
            Self::CertificatePem => "certificate",
            Self::PrivateKey => "private-key",
            Self::OpenVex => "openvex",
            Self::CsafVex => "csaf-vex",
            Self::DossierWaiver => "dossier-waiver",
            Self::TrivyIgnoreYaml => "trivyignore-yaml",
            Self::TrivyIgnore => "trivyignore",
            Self::GrypeConfig => "grype-config",
            Self::HarborAllowlist => "harbor-allowlist",
            Self::XccdfResults => "xccdf-results",
            Self::ArfReport => "arf-report",
            Self::StigViewerChecklist => "stig-viewer-checklist",
            Self::EpssCsv => "epss-csv",
            Self::KevJson => "kev-json",
            Self::KevCsv => "kev-csv",
            Self::Sarif => "sarif",
            Self::SyftJson => "syft-json",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        REGISTRY.iter().map(|e| e.format).find(|f| f.name() == name)
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Detection {
    Supported {
        format: Format,
        spec_version: Option<String>,
    },
    UnsupportedVersion {
        format: Format,
        spec_version: Option<String>,
        reason: String,
    },
    Unrecognised {
        reason: String,
    },
}

/// What the sniff saw: top-level keys and the small scalar values of a few of them.
#[derive(Debug, Default, Clone)]
pub struct Sniff {
    pub json: bool,
    pub top_array: bool,
    pub keys: BTreeMap<String, Option<String>>,
    pub xml_root: Option<(String, String)>,
    pub text: String,
}

impl Sniff {
    fn has(&self, k: &str) -> bool {
        self.keys.contains_key(k)
    }
    fn val(&self, k: &str) -> Option<&str> {
        self.keys.get(k).and_then(|v| v.as_deref())
    }
}

#[path = "detect_registry.rs"]
mod registry;
pub use registry::{Entry, REGISTRY};

/// Sniffs `bytes` and answers from the registry. Never parses more than it must, never panics.
pub fn detect(bytes: &[u8]) -> Detection {
    let sniff = sniff(bytes);
    for e in REGISTRY {
        if let Some(d) = (e.rule)(&sniff) {
            return d;
        }
    }
    Detection::Unrecognised {
        reason: unrecognised_reason(bytes, &sniff),
    }
}

/// Base64 text longer than any signature may be: a hit on the `max-signature-bytes` limit,
/// which fails the file (it is not merely "unrecognised").
pub fn is_oversized_signature(bytes: &[u8]) -> bool {
    bytes.len() > crate::crypto::MAX_SIGNATURE_TEXT
        && bytes
            .iter()
            .take(4096)
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'\n' | b'\r'))
}

fn unrecognised_reason(bytes: &[u8], s: &Sniff) -> String {
    if bytes.is_empty() {
        return "empty file".into();
    }
    if bytes.starts_with(&[0xFD, b'7', b'z', b'X', b'Z', 0]) {
        return "xz-compressed file: decompress it first".into();
    }
    if bytes.starts_with(b"PK\x03\x04") {
        return "zip archive: not supported, use .tar or .tar.gz".into();
    }
    if is_oversized_signature(bytes) {
        return format!(
            "base64 text of {} bytes: too long for a signature (limit max-signature-bytes: {} bytes of base64)",
            bytes.len(),
            crate::crypto::MAX_SIGNATURE_TEXT
        );
    }
    if bytes.len() > 8 && bytes[0] == 0x30 && bytes[1] & 0x80 == 0 {
        return "binary DER data (a raw signature?) with no payload beside it".into();
    }
    if s.json {
        let keys: Vec<&str> = s.keys.keys().map(String::as_str).take(8).collect();
        return format!(
            "JSON document of no known evidence format (top-level keys: {})",
            keys.join(", ")
        );
    }
    if let Some((root, ns)) = &s.xml_root {
        return format!(
            "XML document of no known evidence format (root <{root}> in namespace '{ns}')"
        );
    }
    let lower = s.text.to_ascii_lowercase();
    if lower.contains("<html") || lower.contains("<!doctype html") {
        return "HTML document (a human-readable report, not evidence data)".into();
    }
    if std::str::from_utf8(&bytes[..bytes.len().min(4096)]).is_err() {
        return "binary data of no known evidence format".into();
    }
    "text of no known evidence format".into()
}

/// `detect` for a file too large to hold: `head` is its first bytes (at least 64 KiB when
/// the file is that long) and `rest` reads the whole file from the start. The top-level
/// keys are read from the stream, because some formats name themselves at the end (Grype's
/// `descriptor` follows every match).
pub fn detect_reader<R: std::io::Read>(head: &[u8], rest: R) -> Detection {
    let mut s = sniff(head);
    if s.json {
        let keys = RefCell::new(BTreeMap::new());
        let mut de = serde_json::Deserializer::from_reader(rest);
        let mut top_array = false;
        let _ = TopLevel {
            keys: &keys,
            top_array: &mut top_array,
        }
        .deserialize(&mut de);
        s.keys = keys.into_inner();
        s.top_array = top_array;
    }
    answer(head, &s)
}

/// The top-level keys of a JSON object as `detect_reader` records them: each key with its
/// value when that is a short scalar (`TopKeys::value`), the last one winning for a
/// repeated key.
pub type TopKeys = BTreeMap<String, Option<String>>;

/// `detect_reader` for a JSON object whose top-level keys were already collected by a
/// parser's own pass over the whole file (`keys`, as `TopKeys` records them): the same
/// answer without a second pass.
pub fn detect_with_keys(head: &[u8], keys: TopKeys) -> Detection {
    let mut s = sniff(head);
    if s.json {
        s.keys = keys;
        s.top_array = false;
    }
    answer(head, &s)
}

/// The streamable format a large file probably is, from its first bytes only: what the
/// registry answers on the keys seen so far, or the keys that only a Trivy or Grype report
/// puts first. A guess, never an answer: the caller parses with it, collects every
/// top-level key on the way and confirms with `detect_with_keys`.
pub fn guess_streamable(head: &[u8]) -> Option<Format> {
    let s = sniff(head);
    if !s.json || s.top_array {
        return None;
    }
    match REGISTRY.iter().find_map(|e| (e.rule)(&s)) {
        Some(Detection::Supported {
            format: format @ (Format::TrivyJson | Format::GrypeJson),
            ..
        }) => return Some(format),
        Some(_) => return None,
        None => {}
    }
    // The head usually ends inside the value of the big array, whose key the sniff does
    // not record (it records a key with its value): look at the keys as they start.
    let started = started_keys(head);
    let has = |k: &str| s.has(k) || started.iter().any(|x| x == k);
    if has("matches") {
        Some(Format::GrypeJson)
    } else if has("SchemaVersion") || has("Results") {
        Some(Format::TrivyJson)
    } else {
        None
    }
}

/// The top-level keys of a JSON object whose values start within `head`.
fn started_keys(head: &[u8]) -> Vec<String> {
    struct Keys<'a>(&'a RefCell<Vec<String>>);
    impl<'de> Visitor<'de> for Keys<'_> {
        type Value = ();
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            while let Some(k) = map.next_key::<String>()? {
                self.0.borrow_mut().push(k);
                map.next_value::<IgnoredAny>()?;
            }
            Ok(())
        }
    }
    let keys = RefCell::new(Vec::new());
    let mut de = serde_json::Deserializer::from_slice(head);
    let _ = de.deserialize_map(Keys(&keys));
    keys.into_inner()
}

/// The next map value as `TopKeys` records it (a short scalar, else `None`).
pub fn top_value<'de, A: MapAccess<'de>>(map: &mut A) -> Result<Option<String>, A::Error> {
    Ok(map.next_value::<Scalar>()?.0)
}

/// `top_value` for a value already cut out of the document (`None` when it is not valid
/// on its own: the caller has checked it against the whole parse's type first).
pub fn top_value_of(value: &[u8]) -> Option<String> {
    serde_json::from_slice::<Scalar>(value)
        .ok()
        .and_then(|s| s.0)
}

fn answer(head: &[u8], s: &Sniff) -> Detection {
    for e in REGISTRY {
        if let Some(d) = (e.rule)(s) {
            return d;
        }
    }
    Detection::Unrecognised {
        reason: unrecognised_reason(head, s),
    }
}

const TEXT_SNIFF: usize = 64 * 1024;

fn sniff(bytes: &[u8]) -> Sniff {
    let head = &bytes[..bytes.len().min(TEXT_SNIFF)];
    let text = String::from_utf8_lossy(head).into_owned();
    let body = text.trim_start_matches('\u{feff}').trim_start();
    let mut s = Sniff {
        text: text.clone(),
        ..Sniff::default()
    };
    if body.starts_with('{') || body.starts_with('[') {
        s.json = true;
        let keys = RefCell::new(BTreeMap::new());
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let mut top_array = false;
        // Errors are ignored on purpose: the keys seen before a syntax error still decide the
        // format, and the parser then reports the error with its position.
        let _ = TopLevel {
            keys: &keys,
            top_array: &mut top_array,
        }
        .deserialize(&mut de);
        s.keys = keys.into_inner();
        s.top_array = top_array;
    } else if body.starts_with('<') {
        s.xml_root = xml_root(head);
    }
    s
}

fn xml_root(head: &[u8]) -> Option<(String, String)> {
    use quick_xml::events::Event;
    let mut r = quick_xml::NsReader::from_reader(head);
    let mut buf = Vec::new();
    loop {
        match r.read_resolved_event_into(&mut buf) {
            Ok((ns, Event::Start(e) | Event::Empty(e))) => {
                let local = e.local_name().into_inner().to_string();
                let ns = match ns {
                    quick_xml::name::ResolveResult::Bound(n) => n.into_inner().to_string(),
                    _ => String::new(),
                };
                return Some((local, ns));
            }
            Ok((_, Event::Eof)) | Err(_) => return None,
            Ok(_) => {}
        }
        buf.clear();
    }
}

struct TopLevel<'a> {
    keys: &'a RefCell<BTreeMap<String, Option<String>>>,
    top_array: &'a mut bool,
}

impl<'de> DeserializeSeed<'de> for TopLevel<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TopLevel<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object or array")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        record_keys(self.keys, map)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        *self.top_array = true;
        if let Some(()) = seq.next_element_seed(FirstElement { keys: self.keys })? {}
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }
}

/// Records every key of a map with its value when that is a short scalar.
fn record_keys<'de, A: MapAccess<'de>>(
    keys: &RefCell<BTreeMap<String, Option<String>>>,
    mut map: A,
) -> Result<(), A::Error> {
    while let Some(k) = map.next_key::<String>()? {
        let v = map.next_value::<Scalar>()?;
        keys.borrow_mut().insert(k, v.0);
    }
    Ok(())
}

struct FirstElement<'a> {
    keys: &'a RefCell<BTreeMap<String, Option<String>>>,
}

impl<'de> DeserializeSeed<'de> for FirstElement<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for FirstElement<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        record_keys(self.keys, map)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
}

/// A value kept only when it is a short scalar (or the first string of an array, which is
/// how older OpenVEX and some `@context`s spell themselves).
struct Scalar(Option<String>);

impl<'de> de::Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar((v.len() <= 512).then(|| v.to_string())))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar(Some(v.to_string())))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar(Some(v.to_string())))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar(Some(v.to_string())))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar(Some(v.to_string())))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Scalar, E> {
                Ok(Scalar(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Scalar, A::Error> {
                while m.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Scalar(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<Scalar, A::Error> {
                let mut first = None;
                if let Some(Scalar(v)) = s.next_element::<Scalar>()? {
                    first = v;
                }
                while s.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Scalar(first))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
#[path = "detect_tests.rs"]
mod tests;
