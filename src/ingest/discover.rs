//! Discovery: turns the PATHs given to import into evidence files with their bytes and
//! sha256. Walks directories, reads .tar/.tar.gz entries in memory (never unpacking to
//! disk, so no path traversal or symlink escape is possible), and never follows symlinks
//! out of the root. Anything refused is reported with its reason, never dropped.

use super::limits::Limits;
use sha2::{Digest, Sha256};
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

#[derive(Debug, Default)]
pub struct Discovery {
    pub files: Vec<DiscoveredFile>,
    pub refused: Vec<Refused>,
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
        walk_dir(root, &canon, 0, limits, &mut out);
    } else {
        take_file(root, &root.display().to_string(), limits, 0, &mut out);
    }
    Ok(out)
}

fn walk_dir(dir: &Path, canon_root: &Path, depth: u32, limits: &Limits, out: &mut Discovery) {
    if depth > limits.max_depth {
        out.refused.push(Refused {
            path: dir.display().to_string(),
            reason: format!("directory deeper than the limit max_depth={}", limits.max_depth),
        });
        return;
    }
    let mut entries: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
        Err(e) => {
            out.refused.push(Refused { path: dir.display().to_string(), reason: e.to_string() });
            return;
        }
    };
    // Sorted so imports are deterministic whatever the file system's order.
    entries.sort();
    for p in entries {
        if (out.files.len() + out.refused.len()) as u64 >= limits.max_files {
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
                out.refused.push(Refused { path: display, reason: e.to_string() });
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
                    reason: format!("symlink points outside the evidence root (to {}); not followed", target.display()),
                }),
                Err(e) => out.refused.push(Refused { path: display, reason: format!("dangling symlink: {e}") }),
            }
        } else if lmeta.is_dir() {
            walk_dir(&p, canon_root, depth + 1, limits, out);
        } else if lmeta.is_file() {
            take_file(&p, &display, limits, depth, out);
        } else {
            out.refused.push(Refused { path: display, reason: "not a regular file (device, socket or FIFO)".into() });
        }
    }
}

fn take_file(p: &Path, display: &str, limits: &Limits, depth: u32, out: &mut Discovery) {
    let size = std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    if size > limits.max_file_bytes {
        out.refused.push(Refused {
            path: display.to_string(),
            reason: format!("{size} bytes is over the limit max_file_bytes={}", limits.max_file_bytes),
        });
        return;
    }
    let bytes = match std::fs::read(p) {
        Ok(b) => b,
        Err(e) => {
            out.refused.push(Refused { path: display.to_string(), reason: e.to_string() });
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
        let mut gz = flate2::read::GzDecoder::new(&bytes[..]).take(limits.max_archive_bytes + 1);
        match gz.read_to_end(&mut dec) {
            Ok(n) if n as u64 > limits.max_archive_bytes => out.refused.push(Refused {
                path: display,
                reason: format!(
                    "gzip expands past the limit max_archive_bytes={} (a decompression bomb?)",
                    limits.max_archive_bytes
                ),
            }),
            Ok(_) if is_tar(&dec) => read_tar(&display, &dec, limits, depth, out),
            Ok(_) => out.refused.push(Refused {
                path: display,
                reason: "gzip data that is not a tar archive: decompress it first".into(),
            }),
            Err(e) => out.refused.push(Refused { path: display, reason: format!("gzip: {e}") }),
        }
    } else if is_tar(&bytes) {
        read_tar(&display, &bytes, limits, depth, out);
    } else {
        let sha256 = sha256_hex(&bytes);
        out.files.push(DiscoveredFile { path: display, bytes, sha256 });
    }
}

fn read_tar(display: &str, data: &[u8], limits: &Limits, depth: u32, out: &mut Discovery) {
    if depth >= limits.max_depth {
        out.refused.push(Refused {
            path: display.to_string(),
            reason: format!("archives nested deeper than the limit max_depth={}", limits.max_depth),
        });
        return;
    }
    let mut ar = tar::Archive::new(data);
    let entries = match ar.entries() {
        Ok(e) => e,
        Err(e) => {
            out.refused.push(Refused { path: display.to_string(), reason: format!("tar: {e}") });
            return;
        }
    };
    let mut count: u64 = 0;
    let mut total: u64 = 0;
    for entry in entries {
        count += 1;
        if count > limits.max_archive_entries {
            out.refused.push(Refused {
                path: display.to_string(),
                reason: format!("more entries than the limit max_archive_entries={}; the rest were not read", limits.max_archive_entries),
            });
            return;
        }
        let mut entry = match entry {
            Ok(e) => e,
            Err(e) => {
                out.refused.push(Refused { path: display.to_string(), reason: format!("tar entry {count}: {e}") });
                return;
            }
        };
        let name = entry
            .path()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_else(|_| format!("<entry {count}: undecodable name>"));
        let inner = format!("{display}!{name}");
        let kind = entry.header().entry_type();
        if kind.is_dir() || kind.is_pax_global_extensions() || kind.is_pax_local_extensions() || kind.is_gnu_longname() {
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
                reason: format!("{size} bytes is over the limit max_file_bytes={}", limits.max_file_bytes),
            });
            continue;
        }
        total = total.saturating_add(size);
        if total > limits.max_archive_bytes {
            out.refused.push(Refused {
                path: inner,
                reason: format!("archive content past the limit max_archive_bytes={}", limits.max_archive_bytes),
            });
            return;
        }
        let mut buf = Vec::with_capacity(usize::try_from(size.min(1 << 26)).unwrap_or(0));
        if let Err(e) = entry.read_to_end(&mut buf) {
            out.refused.push(Refused { path: inner, reason: format!("tar read: {e}") });
            return;
        }
        if unsafe_name {
            // Read in memory only, so the name cannot escape anything; it is still flagged.
            out.refused.push(Refused {
                path: inner,
                reason: "absolute or '..' path in the archive: refused (path traversal)".into(),
            });
            continue;
        }
        take_bytes(inner, buf, limits, depth + 1, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directories_are_walked_in_order_and_symlinks_out_are_refused() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("b.json"), b"{}").unwrap();
        std::fs::create_dir(d.path().join("sub")).unwrap();
        std::fs::write(d.path().join("sub/a.txt"), b"x").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink("/etc/hostname", d.path().join("escape")).unwrap();
        let r = discover(d.path(), &Limits::default()).unwrap();
        let names: Vec<_> = r.files.iter().map(|f| f.path.rsplit('/').next().unwrap().to_string()).collect();
        assert_eq!(names, vec!["b.json", "a.txt"]);
        #[cfg(unix)]
        assert!(r.refused.iter().any(|x| x.reason.contains("outside")), "{:?}", r.refused);
        assert_eq!(r.files[0].sha256, sha256_hex(b"{}"));
    }

    #[test]
    fn tar_traversal_and_links_are_refused_in_memory() {
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_size(2);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        b.append_data(&mut h.clone(), "ok.json", &b"{}"[..]).unwrap();
        // `append_data` refuses '..' itself, so write the raw name into the header.
        let mut evil = h.clone();
        evil.as_gnu_mut().unwrap().name[..13].copy_from_slice(b"../escape.txt");
        evil.set_cksum();
        b.append(&evil, &b"{}"[..]).unwrap();
        let mut l = tar::Header::new_gnu();
        l.set_entry_type(tar::EntryType::Symlink);
        l.set_size(0);
        b.append_link(&mut l, "link", "/etc").unwrap();
        let data = b.into_inner().unwrap();
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("e.tar");
        std::fs::write(&p, &data).unwrap();
        let r = discover(&p, &Limits::default()).unwrap();
        assert_eq!(r.files.len(), 1);
        assert!(r.files[0].path.ends_with("e.tar!ok.json"));
        assert_eq!(r.refused.len(), 2, "{:?}", r.refused);
    }
}
