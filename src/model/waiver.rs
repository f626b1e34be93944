//! Review decisions as data: the dossier waiver document (DESIGN.md section 13), its YAML
//! reading (a stream of documents, budgeted parser, errors with a line) and writing, the
//! exact bytes its signature covers, and the disposition vocabulary (VEX-aligned).

use serde::{Deserialize, Serialize};
use std::fmt;

pub const API_VERSION: &str = "dossier/v1";
pub const KIND: &str = "Waiver";

/// A waiver stops applying at 00:00 UTC on `expires`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Waiver {
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    pub kind: String,
    pub id: String,
    pub vulnerability: String,
    pub scope: Scope,
    pub justification: Justification,
    pub requested_by: Person,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<Person>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_at: Option<String>,
    pub expires: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<WaiverSignature>,
}

/// Exactly one of `image` (a digest reference) or `repository` (any digest).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scope {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// Omitted = any component.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Justification {
    #[serde(rename = "type")]
    pub kind: WaiverJustification,
    pub text: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Person {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// The requester's key fingerprint when one was configured: lets the signer refuse
    /// self-approval by key, not only by name. An addition to the section 13 example.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyid: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaiverSignature {
    /// Lowercase hex sha256 of the approver's SubjectPublicKeyInfo DER.
    pub keyid: String,
    pub algorithm: SignatureAlgorithm,
    /// Base64: DER (ECDSA) or raw 64 bytes (Ed25519).
    pub value: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SignatureAlgorithm {
    #[serde(rename = "ecdsa-p256-sha256")]
    EcdsaP256Sha256,
    #[serde(rename = "ed25519")]
    Ed25519,
}

impl SignatureAlgorithm {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EcdsaP256Sha256 => "ecdsa-p256-sha256",
            Self::Ed25519 => "ed25519",
        }
    }
}

macro_rules! word_enum {
    ($(#[$m:meta])* $name:ident { $($var:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum $name { $(#[serde(rename = $s)] $var),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$var),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$var => $s),+ }
            }

            pub fn parse(s: &str) -> Option<Self> {
                let s = s.trim().replace('-', "_").to_ascii_lowercase();
                Self::ALL.iter().copied().find(|v| v.as_str() == s)
            }

            /// Every accepted word, for error messages.
            pub fn words() -> String {
                Self::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

word_enum!(
    /// Why a risk is accepted (DESIGN.md section 13).
    WaiverJustification {
        NoPatchAvailable = "no_patch_available",
        CompensatingControl = "compensating_control",
        ComponentNotReachable = "component_not_reachable",
        FalsePositive = "false_positive",
        OperationalRequirement = "operational_requirement",
    }
);

word_enum!(
    /// The reviewer's decision on one finding.
    DispositionState {
        Open = "open",
        Patched = "patched",
        NotAffected = "not_affected",
        FalsePositive = "false_positive",
        Waived = "waived",
    }
);

word_enum!(
    /// OpenVEX / CISA "not_affected" justifications, so VEX export is a mapping.
    VexJustification {
        ComponentNotPresent = "component_not_present",
        VulnerableCodeNotPresent = "vulnerable_code_not_present",
        VulnerableCodeNotInExecutePath = "vulnerable_code_not_in_execute_path",
        VulnerableCodeCannotBeControlledByAdversary = "vulnerable_code_cannot_be_controlled_by_adversary",
        InlineMitigationsAlreadyExist = "inline_mitigations_already_exist",
    }
);

word_enum!(
    /// A waiver's life in the store.
    WaiverState {
        Pending = "pending",
        Signed = "signed",
        Rejected = "rejected",
        Revoked = "revoked",
    }
);

#[derive(Debug, thiserror::Error)]
pub enum WaiverError {
    #[error("{file}: line {line}: {message}")]
    Yaml {
        file: String,
        line: u64,
        message: String,
    },
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
    #[error("waiver {id}: {message}")]
    Document { id: String, message: String },
    #[error("{file}: no waiver documents found")]
    Empty { file: String },
}

/// Largest waiver file read; far above any real stream of waivers.
pub const MAX_WAIVER_FILE: usize = 4 << 20;

/// Reads every document of a YAML stream and validates each one. `file` names the source
/// in errors. The parser's default budget (node, depth, alias limits) applies.
pub fn parse_stream(file: &str, text: &str) -> Result<Vec<Waiver>, WaiverError> {
    if text.len() > MAX_WAIVER_FILE {
        return Err(WaiverError::Invalid {
            file: file.to_string(),
            message: format!(
                "{} bytes is larger than the {} byte limit for waiver files",
                text.len(),
                MAX_WAIVER_FILE
            ),
        });
    }
    let docs: Vec<Waiver> =
        serde_saphyr::from_multiple_with_options(text, serde_saphyr::Options::default())
            .map_err(|e| yaml_error(file, &e))?;
    if docs.is_empty() {
        return Err(WaiverError::Empty {
            file: file.to_string(),
        });
    }
    for (i, w) in docs.iter().enumerate() {
        w.validate().map_err(|m| WaiverError::Invalid {
            file: file.to_string(),
            message: format!("document {} (id {}): {m}", i + 1, w.id),
        })?;
    }
    Ok(docs)
}

fn yaml_error(file: &str, e: &serde_saphyr::Error) -> WaiverError {
    let line = e.location().map(|l| l.line()).unwrap_or(0);
    // The error's Display can quote the input around the error: keep only its first line.
    let message = e
        .to_string()
        .lines()
        .next()
        .unwrap_or("invalid YAML")
        .to_string();
    WaiverError::Yaml {
        file: file.to_string(),
        line,
        message,
    }
}

/// Writes waivers as one YAML stream (`---` between documents).
pub fn to_yaml_stream(waivers: &[Waiver]) -> Result<String, WaiverError> {
    let mut out = String::new();
    for w in waivers {
        // Plain or quoted scalars only: a signature value folded over lines is hard to
        // read in a review and to copy into a shell.
        let mut opts = serde_saphyr::SerializerOptions::default();
        opts.prefer_block_scalars = false;
        let doc =
            serde_saphyr::to_string_with_options(w, opts).map_err(|e| WaiverError::Document {
                id: w.id.clone(),
                message: format!("cannot write YAML: {e}"),
            })?;
        out.push_str("---\n");
        out.push_str(&doc);
        if !doc.ends_with('\n') {
            out.push('\n');
        }
    }
    Ok(out)
}

impl Waiver {
    /// The document's fields checked beyond their types; the message names the key.
    pub fn validate(&self) -> Result<(), String> {
        if self.api_version != API_VERSION {
            return Err(format!(
                "apiVersion is '{}', expected '{API_VERSION}'",
                self.api_version
            ));
        }
        if self.kind != KIND {
            return Err(format!("kind is '{}', expected '{KIND}'", self.kind));
        }
        if self.id.trim().is_empty() {
            return Err("id is empty".into());
        }
        if self.vulnerability.trim().is_empty() {
            return Err("vulnerability is empty".into());
        }
        match (&self.scope.image, &self.scope.repository) {
            (Some(_), Some(_)) => return Err("scope has both image and repository; give one".into()),
            (None, None) => return Err("scope needs image (with @sha256 digest) or repository".into()),
            (Some(img), None) if crate::model::find_sha256_digest(img).is_none() => {
                return Err(format!(
                    "scope.image '{img}' has no @sha256: digest; use scope.repository for any digest"
                ))
            }
            _ => {}
        }
        if self.justification.text.trim().is_empty() {
            return Err("justification.text is empty".into());
        }
        if self.requested_by.name.trim().is_empty() {
            return Err("requested_by.name is empty".into());
        }
        parse_date(&self.expires)
            .ok_or_else(|| format!("expires '{}' is not a date (YYYY-MM-DD)", self.expires))?;
        if let Some(at) = &self.approved_at {
            chrono::DateTime::parse_from_rfc3339(at)
                .map_err(|_| format!("approved_at '{at}' is not an RFC 3339 time"))?;
        }
        if self.signature.is_some() && (self.approved_by.is_none() || self.approved_at.is_none()) {
            return Err("signed waiver lacks approved_by or approved_at".into());
        }
        Ok(())
    }

    /// The expiry as a date (validated documents always have one).
    pub fn expiry_date(&self) -> Option<chrono::NaiveDate> {
        parse_date(&self.expires)
    }

    /// True when the waiver no longer applies at `now` (from 00:00 UTC on `expires`).
    pub fn is_expired_at(&self, now: chrono::DateTime<chrono::Utc>) -> bool {
        match self.expiry_date() {
            Some(d) => now.date_naive() >= d,
            None => true,
        }
    }

    /// The bytes the signature covers: RFC 8785 canonical JSON of the document without
    /// `signature`.
    pub fn signing_bytes(&self) -> Result<Vec<u8>, WaiverError> {
        let mut unsigned = self.clone();
        unsigned.signature = None;
        serde_json_canonicalizer::to_vec(&unsigned).map_err(|e| WaiverError::Document {
            id: self.id.clone(),
            message: format!("cannot canonicalise: {e}"),
        })
    }

    /// The section-13 document as RFC 8785 JSON including the signature (for storage).
    pub fn canonical_json(&self) -> Result<String, WaiverError> {
        serde_json_canonicalizer::to_string(self).map_err(|e| WaiverError::Document {
            id: self.id.clone(),
            message: format!("cannot canonicalise: {e}"),
        })
    }

    /// The `sha256:<hex>` digest named by `scope.image`, lowercased.
    pub fn scope_digest(&self) -> Option<String> {
        self.scope
            .image
            .as_deref()
            .and_then(crate::model::find_sha256_digest)
    }
}

fn parse_date(s: &str) -> Option<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECTION_13: &str = r#"apiVersion: dossier/v1
kind: Waiver
id: W-2026-0042                      # unique, stable
vulnerability: CVE-2024-12345
scope:
  image: registry.example.mil/team/app@sha256:52c1fa53b306f09e32761cfbffae79ceedad6482dec55cdd472de220f41c145b
  purl: pkg:rpm/redhat/openssl@3.0.7-27.el9
justification:
  type: no_patch_available
  text: "Vendor has no fix; TLS is terminated by the mesh sidecar, not this process."
requested_by: {name: "J. Doe", role: "Platform Engineer"}
approved_by: {name: "R. Roe", role: "ISSM"}
approved_at: 2026-11-01T14:00:00Z
expires: 2027-02-01
signature:
  keyid: abcd
  algorithm: ecdsa-p256-sha256
  value: MEUCIQ==
"#;

    #[test]
    fn reads_the_design_example() {
        let ws = parse_stream("w.yaml", SECTION_13).unwrap();
        assert_eq!(ws.len(), 1);
        let w = &ws[0];
        assert_eq!(w.id, "W-2026-0042");
        assert_eq!(w.justification.kind, WaiverJustification::NoPatchAvailable);
        assert_eq!(w.approved_at.as_deref(), Some("2026-11-01T14:00:00Z"));
        assert_eq!(w.expires, "2027-02-01");
        assert_eq!(w.requested_by.role.as_deref(), Some("Platform Engineer"));
        assert_eq!(
            w.signature.as_ref().unwrap().algorithm,
            SignatureAlgorithm::EcdsaP256Sha256
        );
        assert_eq!(
            w.scope_digest().as_deref(),
            Some("sha256:52c1fa53b306f09e32761cfbffae79ceedad6482dec55cdd472de220f41c145b")
        );
    }

    #[test]
    fn signing_bytes_are_sorted_compact_json_without_signature() {
        let w = &parse_stream("w.yaml", SECTION_13).unwrap()[0];
        let s = String::from_utf8(w.signing_bytes().unwrap()).unwrap();
        // Written by hand from the example: keys sorted by code unit, no whitespace.
        let expected = concat!(
            r#"{"apiVersion":"dossier/v1","approved_at":"2026-11-01T14:00:00Z","#,
            r#""approved_by":{"name":"R. Roe","role":"ISSM"},"expires":"2027-02-01","id":"W-2026-0042","#,
            r#""justification":{"text":"Vendor has no fix; TLS is terminated by the mesh sidecar, not this process.","type":"no_patch_available"},"#,
            r#""kind":"Waiver","requested_by":{"name":"J. Doe","role":"Platform Engineer"},"#,
            r#""scope":{"image":"registry.example.mil/team/app@sha256:52c1fa53b306f09e32761cfbffae79ceedad6482dec55cdd472de220f41c145b","purl":"pkg:rpm/redhat/openssl@3.0.7-27.el9"},"#,
            r#""vulnerability":"CVE-2024-12345"}"#
        );
        assert_eq!(s, expected);
    }

    #[test]
    fn stream_round_trips_through_yaml() {
        let w = parse_stream("w.yaml", SECTION_13).unwrap().remove(0);
        let mut w2 = w.clone();
        w2.id = "W-2".into();
        w2.signature = None;
        w2.approved_by = None;
        w2.approved_at = None;
        w2.scope = Scope {
            image: None,
            repository: Some("registry.example.mil/team/app".into()),
            purl: None,
        };
        let text = to_yaml_stream(&[w.clone(), w2.clone()]).unwrap();
        let back = parse_stream("out.yaml", &text).unwrap();
        assert_eq!(back, vec![w, w2]);
    }

    #[test]
    fn errors_name_file_line_and_key() {
        let bad = SECTION_13.replace("kind: Waiver\n", "kind: Waiver\nkind: Waiver\n");
        match parse_stream("dup.yaml", &bad) {
            Err(WaiverError::Yaml { file, line, .. }) => {
                assert_eq!(file, "dup.yaml");
                assert_eq!(line, 3);
            }
            other => panic!("expected a YAML error, got {other:?}"),
        }
        let unknown = SECTION_13.replace("kind: Waiver\n", "kind: Waiver\nextra: 1\n");
        let e = parse_stream("u.yaml", &unknown).unwrap_err().to_string();
        assert!(e.contains("extra"), "{e}");
        let bad_type = SECTION_13.replace("no_patch_available", "because");
        let e = parse_stream("t.yaml", &bad_type).unwrap_err().to_string();
        assert!(e.contains("because"), "{e}");
        let bad_date = SECTION_13.replace("expires: 2027-02-01", "expires: soon");
        let e = parse_stream("d.yaml", &bad_date).unwrap_err().to_string();
        assert!(e.contains("expires 'soon'"), "{e}");
        let no_digest = SECTION_13.replace(
            "@sha256:52c1fa53b306f09e32761cfbffae79ceedad6482dec55cdd472de220f41c145b",
            ":1.0",
        );
        let e = parse_stream("s.yaml", &no_digest).unwrap_err().to_string();
        assert!(e.contains("scope.image"), "{e}");
    }

    #[test]
    fn the_shipped_template_is_a_valid_unsigned_waiver() {
        let ws = parse_stream(
            "templates/waiver.yaml",
            include_str!("../../templates/waiver.yaml"),
        )
        .unwrap();
        assert_eq!(ws.len(), 1);
        assert!(ws[0].signature.is_none());
    }

    #[test]
    fn the_schema_lists_the_same_words_as_the_model() {
        let schema: serde_json::Value =
            serde_json::from_str(include_str!("../../assets/schemas/waiver.schema.json")).unwrap();
        let words = |v: &serde_json::Value| -> Vec<String> {
            v.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_str().unwrap().to_string())
                .collect()
        };
        let types = words(&schema["properties"]["justification"]["properties"]["type"]["enum"]);
        assert_eq!(
            types,
            WaiverJustification::ALL
                .iter()
                .map(|w| w.as_str().to_string())
                .collect::<Vec<_>>()
        );
        let algs = words(&schema["properties"]["signature"]["properties"]["algorithm"]["enum"]);
        assert_eq!(
            algs,
            [
                SignatureAlgorithm::EcdsaP256Sha256,
                SignatureAlgorithm::Ed25519
            ]
            .map(|a| a.as_str().to_string())
        );
        let required = words(&schema["required"]);
        assert!(
            required.contains(&"requested_by".to_string())
                && !required.contains(&"signature".to_string())
        );
    }

    #[test]
    fn expiry_is_exclusive_at_midnight_utc() {
        let w = &parse_stream("w.yaml", SECTION_13).unwrap()[0];
        let before = chrono::DateTime::parse_from_rfc3339("2027-01-31T23:59:59Z")
            .unwrap()
            .to_utc();
        let at = chrono::DateTime::parse_from_rfc3339("2027-02-01T00:00:00Z")
            .unwrap()
            .to_utc();
        assert!(!w.is_expired_at(before));
        assert!(w.is_expired_at(at));
    }

    #[test]
    fn words_parse_leniently_and_list_themselves() {
        assert_eq!(
            DispositionState::parse("not-affected"),
            Some(DispositionState::NotAffected)
        );
        assert_eq!(
            VexJustification::parse("COMPONENT_NOT_PRESENT"),
            Some(VexJustification::ComponentNotPresent)
        );
        assert_eq!(DispositionState::parse("maybe"), None);
        assert!(WaiverJustification::words().contains("operational_requirement"));
    }
}
