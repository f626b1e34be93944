//! Discovery: turns the PATHs given to import into evidence files with their bytes and
//! sha256. Walks directories, reads .tar/.tar.gz entries in memory (never unpacking to
//! disk, so no path traversal or symlink escape is possible), and never follows symlinks
//! out of the root. Image layouts (OCI layout, skopeo `dir:`, docker-archive) are
//! recognised so their layer blobs are listed, not unpacked. Nothing is ever dropped.

use super::layout::{self, TarFile, LAYER_REASON, MAX_MANIFEST_BYTES, UNLISTED_ARCHIVE_REASON};
use super::limits::Limits;
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct DiscoveredFile {
    /// Display path: the file path, or `archive.tar!inner/path` for archive entries.
    pub path: String,
    pub bytes: Vec<u8>,
    pub sha256: String,
}

/// An entry that could not be taken, with the reason (shown as a failed file).
#[derive(Debug, Clone)]
pub struct Refused {
    pub path: String,
    pub reason: String,
}

/// A file that is accounted for but is not evidence (an image layer blob): it is listed
/// as unrecognised with the reason, and its bytes are neither parsed nor stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub path: String,
    /// sha256 hex, from the blob name when the layer was not read at all.
    pub sha256: String,
    pub size: u64,
    pub reason: String,
}

impl Skipped {
    pub fn into_parsed(self) -> super::ParsedFile {
        super::ParsedFile {
            path: self.path,
            sha256: self.sha256,
            size: self.size,
            bytes: None,
            format: None,
            spec_version: None,
            status: super::FileStatus::Unrecognised,
            message: Some(self.reason),
            doc: None,
        }
    }
}

/// A plain file over `Limits::stream_above_bytes`: not read here, so its bytes are never
/// all in memory; the import hashes and parses it as a stream (`ingest::large`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LargeFile {
    /// Display path, as for `DiscoveredFile`.
    pub path: String,
    /// Where to read it.
    pub fs_path: PathBuf,
    pub size: u64,
    /// How many `Discovery::files` came before it, so the import keeps the walk's order.
    pub before: usize,
}

#[derive(Debug, Default)]
pub struct Discovery {
    pub files: Vec<DiscoveredFile>,
    pub refused: Vec<Refused>,
    pub skipped: Vec<Skipped>,
    pub large: Vec<LargeFile>,
}

impl Discovery {
    fn count(&self) -> u64 {
        (self.files.len() + self.refused.len() + self.skipped.len() + self.large.len()) as u64
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Discovers everything under `root`. Only a missing or unreadable root is an error;
/// problems with individual entries become `Refused`.
pub fn discover(root: &Path, limits: &Limits) -> Result<Discovery, DiscoverError> {
    let meta = std::fs::metadata(root).map_err(|source| DiscoverError::Io {
        path: root.display().to_string(),
        source,
    })?;
    let mut out = Discovery::default();
    if meta.is_dir() {
        let canon = std::fs::canonicalize(root).map_err(|source| DiscoverError::Io {
            path: root.display().to_string(),
            source,
        })?;
        walk_dir(root, &canon, 0, limits, None, &mut out);
    } else {
        take_file(root, &root.display().to_string(), limits, 0, &mut out);
    }
    Ok(out)
}

/// A directory that is an image layout, with the layer digests (`alg:hex`) its manifests name.
struct LayoutDir {
    root: PathBuf,
    oci: bool,
    layers: HashSet<String>,
}

impl LayoutDir {
    /// `alg:hex` when `p` is a blob of this layout (`blobs/<alg>/<hex>`, or `<hex>` in a
    /// skopeo `dir:` copy).
    fn blob_digest(&self, p: &Path) -> Option<String> {
        let name = p.file_name()?.to_str()?;
        let parent = p.parent()?;
        if self.oci {
            let alg = parent.file_name()?.to_str()?;
            (parent.parent()? == self.root.join("blobs")).then_some(())?;
            layout::blob_digest(alg, name)
        } else {
            (parent == self.root && name.len() == 64).then_some(())?;
            layout::blob_digest("sha256", name)
        }
    }
}

fn read_head(p: &Path, n: usize) -> Option<Vec<u8>> {
    let mut f = std::fs::File::open(p).ok()?;
    let mut head = Vec::with_capacity(n);
    f.by_ref().take(n as u64).read_to_end(&mut head).ok()?;
    Some(head)
}

/// Layer digests named by a small JSON manifest file; large or non-JSON files are never read whole.
fn layers_in_file(p: &Path, into: &mut HashSet<String>) {
    let Ok(m) = std::fs::symlink_metadata(p) else {
        return;
    };
    if !m.is_file() || m.len() > MAX_MANIFEST_BYTES {
        return;
    }
    if read_head(p, 64).is_some_and(|h| layout::looks_like_json_object(&h)) {
        if let Ok(bytes) = std::fs::read(p) {
            into.extend(layout::manifest_layers(&bytes));
        }
    }
}

/// Recognises an OCI image layout (`oci-layout` + `blobs/`) or a skopeo `dir:` copy
/// (`version` + `manifest.json`). Every blob is scanned for manifests, because cosign v3
/// referrer manifests are not listed in `index.json` (formats.md 1.6).
fn layout_of(dir: &Path, limits: &Limits) -> Option<LayoutDir> {
    let mut layers = HashSet::new();
    if dir.join("oci-layout").is_file() && dir.join("blobs").is_dir() {
        let mut algs: Vec<PathBuf> = std::fs::read_dir(dir.join("blobs"))
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        algs.sort();
        for a in algs.iter().filter(|a| a.is_dir()) {
            let Ok(rd) = std::fs::read_dir(a) else {
                continue;
            };
            // Bounded like the walk itself, so a hostile layout cannot make this scan unbounded.
            for e in rd
                .filter_map(Result::ok)
                .take(usize::try_from(limits.max_files).unwrap_or(usize::MAX))
            {
                layers_in_file(&e.path(), &mut layers);
            }
        }
        return Some(LayoutDir {
            root: dir.to_path_buf(),
            oci: true,
            layers,
        });
    }
    let version = dir.join("version");
    if dir.join("manifest.json").is_file()
        && version.is_file()
        && read_head(&version, 64).is_some_and(|h| layout::is_skopeo_version(&h))
    {
        layers_in_file(&dir.join("manifest.json"), &mut layers);
        return Some(LayoutDir {
            root: dir.to_path_buf(),
            oci: false,
            layers,
        });
    }
    None
}

fn walk_dir(
    dir: &Path,
    canon_root: &Path,
    depth: u32,
    limits: &Limits,
    outer: Option<&LayoutDir>,
    out: &mut Discovery,
) {
    if depth > limits.max_depth {
        out.refused.push(Refused {
            path: dir.display().to_string(),
            reason: format!(
                "directory deeper than the limit max_depth={}",
                limits.max_depth
            ),
        });
        return;
    }
    let mut entries: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
        Err(e) => {
            out.refused.push(Refused {
                path: dir.display().to_string(),
                reason: e.to_string(),
            });
            return;
        }
    };
    // Sorted so imports are deterministic whatever the file system's order.
    entries.sort();
    let own = layout_of(dir, limits);
    let lay = own.as_ref().or(outer);
    for p in entries {
        if out.count() >= limits.max_files {
            out.refused.push(Refused {
                path: p.display().to_string(),
                reason: format!("more files than the limit max_files={}", limits.max_files),
            });
            return;
        }
        let display = p.display().to_string();
        let lmeta = match std::fs::symlink_metadata(&p) {
            Ok(m) => m,
            Err(e) => {
                out.refused.push(Refused {
                    path: display,
                    reason: e.to_string(),
                });
                continue;
            }
        };
        if lmeta.file_type().is_symlink() {
            match std::fs::canonicalize(&p) {
                Ok(target) if target.starts_with(canon_root) => {
                    if target.is_file() {
                        take_file(&target, &display, limits, depth, out);
                    } else {
                        out.refused.push(Refused {
                            path: display,
                            reason: "symlink to a directory inside the evidence is not followed (its target is walked directly)".into(),
                        });
                    }
                }
                Ok(target) => out.refused.push(Refused {
                    path: display,
                    reason: format!(
                        "symlink points outside the evidence root (to {}); not followed",
                        target.display()
                    ),
                }),
                Err(e) => out.refused.push(Refused {
                    path: display,
                    reason: format!("dangling symlink: {e}"),
                }),
            }
        } else if lmeta.is_dir() {
            walk_dir(&p, canon_root, depth + 1, limits, lay, out);
        } else if lmeta.is_file() {
            match lay.and_then(|l| l.blob_digest(&p).map(|d| (l, d))) {
                Some((l, digest)) => {
                    take_blob(&p, display, &digest, l, lmeta.len(), limits, depth, out)
                }
                None => take_file(&p, &display, limits, depth, out),
            }
        } else {
            out.refused.push(Refused {
                path: display,
                reason: "not a regular file (device, socket or FIFO)".into(),
            });
        }
    }
}

/// sha256 hex of a blob from its `alg:hex` name (other algorithms keep the prefix).
pub(crate) fn sha_from_digest(digest: &str) -> String {
    digest.strip_prefix("sha256:").unwrap_or(digest).to_string()
}

/// A layout blob: layers are listed without being read; an unlisted archive is treated as
/// a layer after reading only its head; everything else is evidence and read as usual.
#[allow(clippy::too_many_arguments)]
fn take_blob(
    p: &Path,
    display: String,
    digest: &str,
    l: &LayoutDir,
    size: u64,
    limits: &Limits,
    depth: u32,
    out: &mut Discovery,
) {
    let reason = if l.layers.contains(digest) {
        Some(LAYER_REASON)
    } else if read_head(p, 512).is_some_and(|h| layout::is_archive_head(&h)) {
        Some(UNLISTED_ARCHIVE_REASON)
    } else {
        None
    };
    match reason {
        Some(r) => out.skipped.push(Skipped {
            path: display,
            sha256: sha_from_digest(digest),
            size,
            reason: r.into(),
        }),
        None => take_file(p, &display, limits, depth, out),
    }
}

fn take_file(p: &Path, display: &str, limits: &Limits, depth: u32, out: &mut Discovery) {
    let size = std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    if size > limits.max_file_bytes {
        out.refused.push(Refused {
            path: display.to_string(),
            reason: format!(
                "{size} bytes is over the limit max_file_bytes={}",
                limits.max_file_bytes
            ),
        });
        return;
    }
    if size > limits.stream_above_bytes
        && read_head(p, 512).is_some_and(|h| !is_gzip(&h) && !is_tar(&h))
    {
        out.large.push(LargeFile {
            path: display.to_string(),
            fs_path: p.to_path_buf(),
            size,
            before: out.files.len(),
        });
        return;
    }
    let bytes = match std::fs::read(p) {
        Ok(b) => b,
        Err(e) => {
            out.refused.push(Refused {
                path: display.to_string(),
                reason: e.to_string(),
            });
            return;
        }
    };
    take_bytes(display.to_string(), bytes, limits, depth, out);
}

fn is_gzip(b: &[u8]) -> bool {
    b.starts_with(&[0x1f, 0x8b])
}

fn is_tar(b: &[u8]) -> bool {
    b.len() >= 262 && &b[257..262] == b"ustar"
}

/// Archives are recognised by content (gzip magic, ustar magic) and read in memory.
fn take_bytes(display: String, bytes: Vec<u8>, limits: &Limits, depth: u32, out: &mut Discovery) {
    if is_gzip(&bytes) {
        let mut dec = Vec::new();
        // Whichever is smaller stops the read: the absolute limit, or the expansion ratio
        // (never below 64 MiB, so small archives of very compressible JSON still open).
        let by_ratio = (bytes.len() as u64)
            .saturating_mul(limits.max_gzip_ratio)
            .max(64 << 20);
        let cap = limits.max_archive_bytes.min(by_ratio);
        let mut gz = flate2::read::GzDecoder::new(&bytes[..]).take(cap.saturating_add(1));
        match gz.read_to_end(&mut dec) {
            Ok(n) if n as u64 > cap => out.refused.push(Refused {
                path: display,
                reason: if cap == limits.max_archive_bytes {
                    format!(
                        "gzip expands past the limit max_archive_bytes={} (a decompression bomb?)",
                        limits.max_archive_bytes
                    )
                } else {
                    format!(
                        "gzip expands more than {}:1, past the limit max_gzip_ratio={} (a decompression bomb?)",
                        limits.max_gzip_ratio, limits.max_gzip_ratio
                    )
                },
            }),
            Ok(_) if is_tar(&dec) => {
                drop(bytes);
                read_tar(&display, &dec, limits, depth, out);
            }
            Ok(_) => out.refused.push(Refused {
                path: display,
                reason: "gzip data that is not a tar archive: decompress it first".into(),
            }),
            Err(e) => out.refused.push(Refused {
                path: display,
                reason: format!("gzip: {e}"),
            }),
        }
    } else if is_tar(&bytes) {
        read_tar(&display, &bytes, limits, depth, out);
    } else {
        let sha256 = sha256_hex(&bytes);
        out.files.push(DiscoveredFile {
            path: display,
            bytes,
            sha256,
        });
    }
}

fn read_tar(display: &str, data: &[u8], limits: &Limits, depth: u32, out: &mut Discovery) {
    if depth >= limits.max_depth {
        out.refused.push(Refused {
            path: display.to_string(),
            reason: format!(
                "archives nested deeper than the limit max_depth={}",
                limits.max_depth
            ),
        });
        return;
    }
    let files = tar_entries(display, data, limits, out);
    let plan = layout::tar_layout_plan(&files, data);
    for (f, reason) in files.into_iter().zip(plan) {
        let bytes = &data[f.start..f.start + f.len];
        match reason {
            Some((r, sha)) => out.skipped.push(Skipped {
                path: f.inner,
                sha256: sha.unwrap_or_else(|| sha256_hex(bytes)),
                size: f.len as u64,
                reason: r.into(),
            }),
            None => take_bytes(f.inner, bytes.to_vec(), limits, depth + 1, out),
        }
    }
}

/// First pass over a tar: every regular file's name and byte range, with the safety checks
/// (entry count, sizes, traversal, links) applied and anything refused reported.
fn tar_entries(display: &str, data: &[u8], limits: &Limits, out: &mut Discovery) -> Vec<TarFile> {
    let mut files = Vec::new();
    let mut ar = tar::Archive::new(data);
    let entries = match ar.entries() {
        Ok(e) => e,
        Err(e) => {
            out.refused.push(Refused {
                path: display.to_string(),
                reason: format!("tar: {e}"),
            });
            return files;
        }
    };
    let mut count: u64 = 0;
    let mut total: u64 = 0;
    for entry in entries {
        count += 1;
        if count > limits.max_archive_entries {
            out.refused.push(Refused {
                path: display.to_string(),
                reason: format!(
                    "more entries than the limit max_archive_entries={}; the rest were not read",
                    limits.max_archive_entries
                ),
            });
            break;
        }
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                out.refused.push(Refused {
                    path: display.to_string(),
                    reason: format!("tar entry {count}: {e}"),
                });
                break;
            }
        };
        let name = entry
            .path()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_else(|_| format!("<entry {count}: undecodable name>"));
        let inner = format!("{display}!{name}");
        let kind = entry.header().entry_type();
        if kind.is_dir()
            || kind.is_pax_global_extensions()
            || kind.is_pax_local_extensions()
            || kind.is_gnu_longname()
        {
            continue;
        }
        if !kind.is_file() {
            out.refused.push(Refused {
                path: inner,
                reason: format!("tar entry of type {kind:?} (links, devices and FIFOs are never followed or created)"),
            });
            continue;
        }
        let unsafe_name = name.starts_with('/') || name.split(['/', '\\']).any(|c| c == "..");
        let size = entry.header().size().unwrap_or(u64::MAX);
        if size > limits.max_file_bytes {
            out.refused.push(Refused {
                path: inner,
                reason: format!(
                    "{size} bytes is over the limit max_file_bytes={}",
                    limits.max_file_bytes
                ),
            });
            continue;
        }
        total = total.saturating_add(size);
        if total > limits.max_archive_bytes {
            out.refused.push(Refused {
                path: inner,
                reason: format!(
                    "archive content past the limit max_archive_bytes={}",
                    limits.max_archive_bytes
                ),
            });
            break;
        }
        let start = usize::try_from(entry.raw_file_position()).unwrap_or(usize::MAX);
        let len = usize::try_from(size).unwrap_or(usize::MAX);
        if start.checked_add(len).is_none_or(|end| end > data.len()) {
            out.refused.push(Refused {
                path: inner,
                reason: "tar entry runs past the end of the archive (truncated?)".into(),
            });
            break;
        }
        if unsafe_name {
            // Read in memory only, so the name cannot escape anything; it is still flagged.
            out.refused.push(Refused {
                path: inner,
                reason: "absolute or '..' path in the archive: refused (path traversal)".into(),
            });
            continue;
        }
        files.push(TarFile {
            name: name.trim_start_matches("./").to_string(),
            inner,
            start,
            len,
        });
    }
    files
}

#[cfg(test)]
#[path = "discover_tests.rs"]
mod tests;
