//! Evidence in, without the store: discover files, detect each format by content, parse
//! it into the model, decide which image digest the files are about, and merge. The
//! workflow layer writes the result in one transaction.

pub mod components;
pub mod detect;
pub mod discover;
pub mod feed;
pub mod formats;
pub mod large;
pub mod layout;
pub mod limits;
pub mod merge;

use crate::model::{DocKind, Document};
use detect::{Detection, Format};
use discover::DiscoveredFile;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileStatus {
    Parsed,
    Failed,
    Unrecognised,
    UnsupportedVersion,
    /// Already in this set (same sha256): nothing new.
    Duplicate,
    /// Recognised and deliberately not kept (private keys never enter the store).
    Refused,
}

impl FileStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Parsed => "parsed",
            Self::Failed => "failed",
            Self::Unrecognised => "unrecognised",
            Self::UnsupportedVersion => "unsupported-version",
            Self::Duplicate => "duplicate",
            Self::Refused => "refused",
        }
    }

    pub fn parse(s: &str) -> Self {
        match s {
            "parsed" => Self::Parsed,
            "failed" => Self::Failed,
            "unsupported-version" => Self::UnsupportedVersion,
            "duplicate" => Self::Duplicate,
            "refused" => Self::Refused,
            _ => Self::Unrecognised,
        }
    }
}

/// One evidence file after detection and parsing.
#[derive(Debug, Clone)]
pub struct ParsedFile {
    pub path: String,
    pub sha256: String,
    pub size: u64,
    /// The raw bytes, when they are to be kept as a blob (never for refused or unrecognised files).
    pub bytes: Option<Vec<u8>>,
    pub format: Option<Format>,
    pub spec_version: Option<String>,
    pub status: FileStatus,
    pub message: Option<String>,
    pub doc: Option<Document>,
}

impl ParsedFile {
    pub fn named_digests(&self) -> Vec<String> {
        self.doc
            .as_ref()
            .map(|d| d.image_digests.clone())
            .unwrap_or_default()
    }
}

/// Detects and parses one discovered file. Never panics; every outcome is a status.
pub fn parse_file(f: DiscoveredFile) -> ParsedFile {
    let size = f.bytes.len() as u64;
    if let Some(named) = layout_blob_name(&f.path) {
        if named != f.sha256 {
            // Content-addressed storage that does not match its address was altered after
            // it was written: never read it as evidence, and say so.
            return ParsedFile {
                message: Some(format!(
                    "OCI blob content has sha256 {} but its name says {named}: the layout was altered",
                    f.sha256
                )),
                path: f.path,
                sha256: f.sha256,
                size,
                bytes: Some(f.bytes),
                format: None,
                spec_version: None,
                status: FileStatus::Failed,
                doc: None,
            };
        }
    }
    let det = detect::detect(&f.bytes);
    let mut pf = ParsedFile {
        path: f.path,
        sha256: f.sha256,
        size,
        bytes: None,
        format: None,
        spec_version: None,
        status: FileStatus::Unrecognised,
        message: None,
        doc: None,
    };
    match det {
        Detection::Unrecognised { reason } => {
            if detect::is_oversized_signature(&f.bytes) {
                // A named limit was hit: that fails the file, so the import exits non-zero.
                pf.status = FileStatus::Failed;
            }
            pf.message = Some(reason);
        }
        Detection::UnsupportedVersion {
            format,
            spec_version,
            reason,
        } => {
            pf.format = Some(format);
            pf.spec_version = spec_version;
            pf.status = FileStatus::UnsupportedVersion;
            pf.message = Some(reason);
            pf.bytes = Some(f.bytes);
        }
        Detection::Supported {
            format: Format::PrivateKey,
            ..
        } => {
            pf.format = Some(Format::PrivateKey);
            pf.status = FileStatus::Refused;
            pf.message = Some("private key material: never stored (keys stay in files; use `dossier keys import`)".into());
        }
        Detection::Supported {
            format,
            spec_version,
        } => {
            pf.format = Some(format);
            pf.spec_version = spec_version;
            let result = std::panic::catch_unwind(|| formats::parse(format, &f.bytes));
            match result {
                Ok(Ok(doc)) => {
                    pf.status = FileStatus::Parsed;
                    if !doc.warnings.is_empty() {
                        pf.message = Some(doc.warnings.join("; "));
                    }
                    pf.doc = Some(doc);
                }
                Ok(Err(e)) => {
                    pf.status = FileStatus::Failed;
                    pf.message = Some(e.to_string());
                }
                Err(_) => {
                    pf.status = FileStatus::Failed;
                    pf.message = Some(format!("internal error while parsing {format} (a bug: please report it with this file)"));
                }
            }
            pf.bytes = Some(f.bytes);
        }
    }
    pf
}

/// The identity of the image a group of files is about.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SetIdentity {
    pub digest: Option<String>,
    pub image: Option<String>,
    pub image_user: Option<String>,
}

/// Decides the image digest: the image manifest's own digest first, then a bare digest file,
/// then the digest most files name. Files that name only other digests are flagged by the
/// caller (`mismatched`), never merged silently.
pub fn identify(files: &[ParsedFile]) -> SetIdentity {
    use std::collections::BTreeMap;
    let docs = || files.iter().filter_map(|f| f.doc.as_ref().map(|d| (f, d)));
    let manifest = docs()
        .filter(|(_, d)| d.kind == DocKind::ImageManifest)
        .find_map(|(_, d)| d.image_digests.first().cloned());
    let bare = docs()
        .filter(|(f, _)| f.format == Some(Format::ImageDigest))
        .find_map(|(_, d)| d.image_digests.first().cloned());
    let digest = manifest.or(bare).or_else(|| {
        let mut votes: BTreeMap<&str, usize> = BTreeMap::new();
        for (_, d) in docs() {
            if d.kind == DocKind::ImageIndex {
                continue;
            }
            for g in &d.image_digests {
                *votes.entry(g.as_str()).or_default() += 1;
            }
        }
        votes
            .into_iter()
            .max_by_key(|(g, n)| (*n, std::cmp::Reverse(*g)))
            .map(|(g, _)| g.to_string())
    });
    let image = docs()
        .filter(|(f, _)| {
            f.format == Some(Format::ImageReference) || f.format == Some(Format::SkopeoInspect)
        })
        .find_map(|(_, d)| d.subject.as_ref().and_then(|s| s.reference.clone()))
        .or_else(|| {
            docs()
                .filter(|(_, d)| {
                    matches!(
                        d.kind,
                        DocKind::Sbom | DocKind::Scan | DocKind::SbomWithScan
                    )
                })
                .find_map(|(_, d)| {
                    d.subject
                        .as_ref()
                        .and_then(|s| s.reference.clone().or_else(|| s.name.clone()))
                })
        });
    let image_user = docs().find_map(|(_, d)| d.image_user.clone());
    SetIdentity {
        digest,
        image,
        image_user,
    }
}

/// True when a parsed file names image digests and none of them is `digest`
/// (an index listing the digest counts as naming it).
pub fn names_other_digest(f: &ParsedFile, digest: &str) -> bool {
    let named = f.named_digests();
    !named.is_empty() && !named.iter().any(|d| d == digest)
}

/// `registry/ns/repo` from `registry/ns/repo:tag` or `...@sha256:..`.
pub fn repository_of(reference: &str) -> String {
    let r = reference.split('@').next().unwrap_or(reference);
    match r.rfind(':') {
        Some(i) if !r[i..].contains('/') => r[..i].to_string(),
        _ => r.to_string(),
    }
}

/// The sha256 an OCI layout blob path names (`.../blobs/sha256/<64 hex>`, also inside an
/// archive as `x.tar!blobs/sha256/<hex>`), lower-case.
fn layout_blob_name(path: &str) -> Option<String> {
    let mut parts = path.rsplit(['/', '!']);
    let hex = parts.next()?;
    let alg = parts.next()?;
    let blobs = parts.next()?;
    (blobs == "blobs"
        && alg == "sha256"
        && hex.len() == 64
        && hex.bytes().all(|b| b.is_ascii_hexdigit()))
    .then(|| hex.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_strips_tag_and_digest_but_not_port() {
        assert_eq!(
            repository_of("127.0.0.1:5000/evidence/tiny:1.0"),
            "127.0.0.1:5000/evidence/tiny"
        );
        assert_eq!(repository_of("reg/app@sha256:abc"), "reg/app");
        assert_eq!(repository_of("127.0.0.1:5000/app"), "127.0.0.1:5000/app");
    }

    #[test]
    fn private_keys_are_refused_and_their_bytes_dropped() {
        let f = DiscoveredFile {
            path: "k".into(),
            bytes: b"-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nabc\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n".to_vec(),
            sha256: "x".into(),
        };
        let p = parse_file(f);
        assert_eq!(p.status, FileStatus::Refused);
        assert!(p.bytes.is_none());
    }

    // sha256("{}\n"), computed with `printf '{}\n' | sha256sum`.
    const EMPTY_OBJ: &str = "ca3d163bab055381827226140568f3bef7eaac187cebd76878e0b63e9e442356";

    #[test]
    fn a_layout_blob_whose_content_does_not_match_its_name_fails() {
        let other = "ab".repeat(32);
        let f = DiscoveredFile {
            path: format!("img/blobs/sha256/{other}"),
            bytes: b"{}\n".to_vec(),
            sha256: EMPTY_OBJ.into(),
        };
        let p = parse_file(f);
        assert_eq!(p.status, FileStatus::Failed);
        let m = p.message.unwrap();
        assert!(m.contains(&other) && m.contains(EMPTY_OBJ), "{m}");
        // Matching content is read as usual (here: JSON of no known format).
        let f = DiscoveredFile {
            path: format!("x.tar!blobs/sha256/{}", EMPTY_OBJ.to_uppercase()),
            bytes: b"{}\n".to_vec(),
            sha256: EMPTY_OBJ.into(),
        };
        assert_eq!(parse_file(f).status, FileStatus::Unrecognised);
    }

    #[test]
    fn layout_blob_names() {
        let hex = "0f".repeat(32);
        assert_eq!(
            layout_blob_name(&format!("a/blobs/sha256/{hex}")),
            Some(hex.clone())
        );
        assert_eq!(
            layout_blob_name(&format!("a.tar!blobs/sha256/{hex}")),
            Some(hex.clone())
        );
        assert_eq!(layout_blob_name(&format!("a/sha256/{hex}")), None);
        assert_eq!(layout_blob_name(&format!("a/blobs/sha512/{hex}")), None);
        assert_eq!(layout_blob_name("a/blobs/sha256/abc"), None);
        assert_eq!(
            layout_blob_name(&format!("a/blobs/sha256/{hex}.json")),
            None
        );
    }
}
