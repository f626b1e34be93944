//! Image layouts met during discovery (OCI image layout, skopeo `dir:` copy, docker-archive):
//! which of their blobs are image *layers*, i.e. filesystem content rather than evidence.
//! Pure functions over bytes; the walking and reading stay in `discover`.

use serde::Deserialize;
use std::collections::{HashMap, HashSet};

/// Shown for every layer blob: it is listed once, never unpacked, parsed or stored.
pub const LAYER_REASON: &str =
    "image layer blob (filesystem content, not evidence): listed, not read or stored";

/// Shown for an archive blob that no manifest in the layout names.
pub const UNLISTED_ARCHIVE_REASON: &str =
    "archive blob in an image layout that no manifest names: taken as image layer content (not evidence), not unpacked or stored";

/// Manifests are small (registries cap them at 4 MiB); larger blobs are never read to
/// look for layers.
pub const MAX_MANIFEST_BYTES: u64 = 8 << 20;

#[derive(Deserialize)]
struct Descriptor {
    #[serde(rename = "mediaType")]
    media_type: Option<String>,
    digest: Option<String>,
}

#[derive(Deserialize)]
struct Manifest {
    #[serde(default)]
    layers: Option<Vec<Descriptor>>,
    /// Docker schema 1 (old registries, old skopeo `dir:` copies).
    #[serde(default, rename = "fsLayers")]
    fs_layers: Option<Vec<FsLayer>>,
}

#[derive(Deserialize)]
struct FsLayer {
    #[serde(rename = "blobSum")]
    blob_sum: Option<String>,
}

#[derive(Deserialize)]
struct DockerArchiveEntry {
    #[serde(rename = "Layers", default)]
    layers: Vec<String>,
}

/// True for media types that carry a file system (OCI and Docker layers, and any other
/// tar-based artefact content); false for JSON evidence such as cosign simple-signing,
/// DSSE envelopes and Sigstore bundles, which are imported like any file.
pub fn is_filesystem_media_type(mt: &str) -> bool {
    let mt = mt.to_ascii_lowercase();
    mt.contains("image.layer")
        || mt.contains("image.rootfs")
        || mt.contains(".tar")
        || mt.ends_with("+gzip")
        || mt.ends_with("+zstd")
        || mt.ends_with("gzip")
}

/// The layer digests (`alg:hex`, lowercased) a manifest names as file-system content.
/// Anything that is not a manifest with `layers` yields nothing.
pub fn manifest_layers(bytes: &[u8]) -> Vec<String> {
    let Ok(m) = serde_json::from_slice::<Manifest>(bytes) else {
        return Vec::new();
    };
    let schema1 = m
        .fs_layers
        .unwrap_or_default()
        .into_iter()
        .filter_map(|l| l.blob_sum);
    m.layers
        .unwrap_or_default()
        .into_iter()
        .filter(|l| l.media_type.as_deref().is_none_or(is_filesystem_media_type))
        .filter_map(|l| l.digest)
        .chain(schema1)
        .filter_map(|d| {
            let (alg, hex) = d.split_once(':')?;
            (!alg.is_empty() && !hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit()))
                .then(|| format!("{}:{}", alg.to_ascii_lowercase(), hex.to_ascii_lowercase()))
        })
        .collect()
}

/// Layer paths of a docker-archive `manifest.json` (`[{"Config":..,"Layers":[..]}]`), or
/// `None` when the bytes are not one.
pub fn docker_archive_layers(bytes: &[u8]) -> Option<Vec<String>> {
    let v: Vec<DockerArchiveEntry> = serde_json::from_slice(bytes).ok()?;
    Some(v.into_iter().flat_map(|e| e.layers).collect())
}

/// gzip, zstd or ustar magic: the blob is an archive, not JSON/text evidence.
pub fn is_archive_head(head: &[u8]) -> bool {
    head.starts_with(&[0x1f, 0x8b])
        || head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd])
        || (head.len() >= 262 && &head[257..262] == b"ustar")
}

/// A skopeo `dir:` copy writes a `version` file with this text.
pub fn is_skopeo_version(bytes: &[u8]) -> bool {
    bytes.starts_with(b"Directory Transport Version")
}

/// True when the first non-blank byte opens a JSON object (a manifest candidate).
pub fn looks_like_json_object(head: &[u8]) -> bool {
    head.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
}

/// `alg:hex` for a blob file named `hex` inside `blobs/alg/`, when the name is hex.
pub fn blob_digest(alg: &str, name: &str) -> Option<String> {
    (!name.is_empty() && name.chars().all(|c| c.is_ascii_hexdigit()) && !alg.is_empty())
        .then(|| format!("{}:{}", alg.to_ascii_lowercase(), name.to_ascii_lowercase()))
}

/// One regular file of a tar, as a range of the archive bytes (no copy until it is taken).
pub struct TarFile {
    /// Entry name with any leading `./` removed.
    pub name: String,
    /// Display path (`archive.tar!name`).
    pub inner: String,
    pub start: usize,
    pub len: usize,
}

/// For each tar file, `Some((reason, known sha256))` when it is an image layer (of an OCI
/// layout, skopeo `dir:` copy or docker-archive inside the tar), else `None` (evidence).
pub fn tar_layout_plan(
    files: &[TarFile],
    data: &[u8],
) -> Vec<Option<(&'static str, Option<String>)>> {
    let bytes_of = |f: &TarFile| &data[f.start..f.start + f.len];
    let by_name: HashMap<&str, &TarFile> = files.iter().map(|f| (f.name.as_str(), f)).collect();
    let prefix_of = |name: &str, leaf: &str| -> Option<String> {
        (name == leaf).then(String::new).or_else(|| {
            name.strip_suffix(&format!("/{leaf}"))
                .map(|p| format!("{p}/"))
        })
    };
    // Layout roots (prefixes inside the tar) and what they say is a layer.
    let mut oci_roots: Vec<String> = Vec::new();
    let mut skopeo_roots: Vec<String> = Vec::new();
    let mut layer_paths: HashSet<String> = HashSet::new();
    for f in files {
        if let Some(p) = prefix_of(&f.name, "oci-layout") {
            oci_roots.push(p);
        }
        if let Some(p) = prefix_of(&f.name, "version") {
            if is_skopeo_version(bytes_of(f))
                && by_name.contains_key(format!("{p}manifest.json").as_str())
            {
                skopeo_roots.push(p);
            }
        }
        if let Some(p) = prefix_of(&f.name, "manifest.json") {
            if let Some(ls) = docker_archive_layers(bytes_of(f)) {
                layer_paths.extend(
                    ls.iter()
                        .map(|l| format!("{p}{}", l.trim_start_matches("./"))),
                );
            }
        }
    }
    let blob_of = |name: &str| -> Option<String> {
        for r in &oci_roots {
            if let Some(rest) = name.strip_prefix(&format!("{r}blobs/")) {
                let (alg, hex) = rest.split_once('/')?;
                return blob_digest(alg, hex);
            }
        }
        for r in &skopeo_roots {
            if let Some(hex) = name
                .strip_prefix(r.as_str())
                .filter(|h| h.len() == 64 && !h.contains('/'))
            {
                return blob_digest("sha256", hex);
            }
        }
        None
    };
    let mut layers: HashSet<String> = HashSet::new();
    for f in files {
        let is_manifest_candidate = blob_of(&f.name).is_some()
            || skopeo_roots
                .iter()
                .any(|r| f.name == format!("{r}manifest.json"));
        if is_manifest_candidate
            && (f.len as u64) <= MAX_MANIFEST_BYTES
            && looks_like_json_object(bytes_of(f))
        {
            layers.extend(manifest_layers(bytes_of(f)));
        }
    }
    files
        .iter()
        .map(|f| {
            if let Some(d) = blob_of(&f.name) {
                if layers.contains(&d) {
                    return Some((LAYER_REASON, Some(super::discover::sha_from_digest(&d))));
                }
                if is_archive_head(&bytes_of(f)[..f.len.min(512)]) {
                    return Some((
                        UNLISTED_ARCHIVE_REASON,
                        Some(super::discover::sha_from_digest(&d)),
                    ));
                }
                return None;
            }
            layer_paths
                .contains(&f.name)
                .then_some((LAYER_REASON, None))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_layers_are_content_but_signature_layers_are_evidence() {
        let image = br#"{"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:d6"},
            "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:00E3"},
                      {"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","digest":"sha256:aa"},
                      {"digest":"sha256:bb"}]}"#;
        assert_eq!(
            manifest_layers(image),
            vec!["sha256:00e3", "sha256:aa", "sha256:bb"]
        );
        let sig = br#"{"config":{"digest":"sha256:44"},"layers":[
            {"mediaType":"application/vnd.dev.cosign.simplesigning.v1+json","digest":"sha256:8b"},
            {"mediaType":"application/vnd.dsse.envelope.v1+json","digest":"sha256:70"},
            {"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","digest":"sha256:71"}]}"#;
        assert!(manifest_layers(sig).is_empty());
        assert!(manifest_layers(br#"{"manifests":[]}"#).is_empty());
        assert!(manifest_layers(b"not json").is_empty());
        let schema1 =
            br#"{"schemaVersion":1,"fsLayers":[{"blobSum":"sha256:Ab"},{"blobSum":"sha256:cd"}]}"#;
        assert_eq!(manifest_layers(schema1), vec!["sha256:ab", "sha256:cd"]);
    }

    #[test]
    fn docker_archive_and_magic() {
        let m = br#"[{"Config":"abc.json","RepoTags":["x:1"],"Layers":["l1/layer.tar","blobs/sha256/ff"]}]"#;
        assert_eq!(
            docker_archive_layers(m),
            Some(vec![
                "l1/layer.tar".to_string(),
                "blobs/sha256/ff".to_string()
            ])
        );
        assert_eq!(docker_archive_layers(br#"{"schemaVersion":2}"#), None);
        assert!(is_archive_head(&[0x1f, 0x8b, 8, 0]));
        assert!(!is_archive_head(b"{\"a\":1}"));
        assert!(is_skopeo_version(b"Directory Transport Version: 1.1\n"));
        assert_eq!(blob_digest("sha256", "ABcd"), Some("sha256:abcd".into()));
        assert_eq!(blob_digest("sha256", "x.json"), None);
    }
}
