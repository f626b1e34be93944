//! Discovery tests: directory walking, tar safety, and image layouts (OCI layout, skopeo
//! `dir:`, docker-archive) whose layer blobs are listed but never unpacked or stored.

use super::*;
use std::io::Write;

#[test]
fn directories_are_walked_in_order_and_symlinks_out_are_refused() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("b.json"), b"{}").unwrap();
    std::fs::create_dir(d.path().join("sub")).unwrap();
    std::fs::write(d.path().join("sub/a.txt"), b"x").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink("/etc/hostname", d.path().join("escape")).unwrap();
    let r = discover(d.path(), &Limits::default()).unwrap();
    let names: Vec<_> = r
        .files
        .iter()
        .map(|f| f.path.rsplit('/').next().unwrap().to_string())
        .collect();
    assert_eq!(names, vec!["b.json", "a.txt"]);
    #[cfg(unix)]
    assert!(
        r.refused.iter().any(|x| x.reason.contains("outside")),
        "{:?}",
        r.refused
    );
    assert_eq!(r.files[0].sha256, sha256_hex(b"{}"));
}

#[test]
fn tar_traversal_and_links_are_refused_in_memory() {
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(2);
    h.set_mode(0o644);
    h.set_entry_type(tar::EntryType::Regular);
    b.append_data(&mut h.clone(), "ok.json", &b"{}"[..])
        .unwrap();
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

fn tar_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in entries {
        let mut h = tar::Header::new_ustar();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        b.append_data(&mut h, name, *data).unwrap();
    }
    b.into_inner().unwrap()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// A small cosign-save-like layout: image (config + one gzip layer whose content would be
/// detected as evidence if it were ever unpacked), a `.sig` manifest with its payload, a
/// referrer manifest that `index.json` does not list, its bundle, and an orphan tar blob.
struct Layout {
    files: Vec<(String, Vec<u8>)>,
    layer: String,
    orphan: String,
    evidence: Vec<String>,
}

fn layout() -> Layout {
    let layer = gzip(&tar_of(&[(
        "etc/trivy.json",
        br#"{"SchemaVersion":2,"ArtifactName":"inside-a-layer"}"#,
    )]));
    let orphan = tar_of(&[("x", b"y")]);
    let config = br#"{"architecture":"amd64","os":"linux","config":{"User":"1000"},"rootfs":{"type":"layers","diff_ids":[]}}"#.to_vec();
    let payload = br#"{"critical":{"identity":{"docker-reference":"r/a"},"image":{"docker-manifest-digest":"sha256:0000000000000000000000000000000000000000000000000000000000000000"},"type":"cosign container image signature"},"optional":null}"#.to_vec();
    let bundle = br#"{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{},"dsseEnvelope":{"payload":"e30=","payloadType":"application/vnd.in-toto+json","signatures":[]}}"#.to_vec();
    let (lh, ch, ph, bh, oh) = (
        sha256_hex(&layer),
        sha256_hex(&config),
        sha256_hex(&payload),
        sha256_hex(&bundle),
        sha256_hex(&orphan),
    );
    let image = format!(
        r#"{{"schemaVersion":2,"config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:{ch}","size":1}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:{lh}","size":1}}]}}"#
    )
    .into_bytes();
    let ih = sha256_hex(&image);
    let sig = format!(
        r#"{{"schemaVersion":2,"config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:{ch}","size":1}},"layers":[{{"mediaType":"application/vnd.dev.cosign.simplesigning.v1+json","digest":"sha256:{ph}","size":1,"annotations":{{"dev.cosignproject.cosign/signature":"MEUC"}}}}]}}"#
    )
    .into_bytes();
    let referrer = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.dev.sigstore.bundle.v0.3+json","config":{{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2}},"layers":[{{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","digest":"sha256:{bh}","size":1}}],"subject":{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:{ih}","size":1}}}}"#
    )
    .into_bytes();
    let sh = sha256_hex(&sig);
    let rh = sha256_hex(&referrer);
    let index = format!(
        r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:{ih}","size":1}},{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:{sh}","size":1}}]}}"#
    )
    .into_bytes();
    let blob = |h: &str| format!("blobs/sha256/{h}");
    let files = vec![
        (
            "oci-layout".to_string(),
            br#"{"imageLayoutVersion": "1.0.0"}"#.to_vec(),
        ),
        ("index.json".to_string(), index),
        (blob(&ih), image),
        (blob(&ch), config),
        (blob(&lh), layer),
        (blob(&sh), sig),
        (blob(&ph), payload),
        (blob(&rh), referrer),
        (blob(&bh), bundle),
        (blob(&oh), orphan),
    ];
    let evidence = vec![
        "oci-layout".into(),
        "index.json".into(),
        blob(&ih),
        blob(&ch),
        blob(&sh),
        blob(&ph),
        blob(&rh),
        blob(&bh),
    ];
    Layout {
        files,
        layer: lh,
        orphan: oh,
        evidence,
    }
}

fn assert_layout(r: &Discovery, l: &Layout) {
    assert!(r.refused.is_empty(), "{:?}", r.refused);
    assert!(
        !r.files.iter().any(|f| f.path.contains("trivy.json")),
        "a layer was unpacked"
    );
    let mut got: Vec<String> = r.files.iter().map(|f| f.path.clone()).collect();
    got.sort();
    let mut want: Vec<String> = l.evidence.clone();
    want.sort();
    for w in &want {
        assert!(
            got.iter().any(|g| g.ends_with(w.as_str())),
            "{w} missing from {got:?}"
        );
    }
    assert_eq!(got.len(), want.len(), "{got:?}");
    assert_eq!(r.skipped.len(), 2, "{:?}", r.skipped);
    let layer = r
        .skipped
        .iter()
        .find(|s| s.sha256 == l.layer)
        .expect("layer listed");
    assert_eq!(layer.reason, LAYER_REASON);
    assert!(layer.path.ends_with(&format!("blobs/sha256/{}", l.layer)));
    let orphan = r
        .skipped
        .iter()
        .find(|s| s.sha256 == l.orphan)
        .expect("orphan listed");
    assert_eq!(orphan.reason, UNLISTED_ARCHIVE_REASON);
    // Evidence blobs keep their bytes and their sha256 equals the blob name.
    for f in r.files.iter().filter(|f| f.path.contains("blobs/sha256/")) {
        assert!(f.path.ends_with(&f.sha256), "{}", f.path);
    }
}

#[test]
fn oci_layout_directory_lists_layers_without_unpacking_them() {
    let l = layout();
    let d = tempfile::tempdir().unwrap();
    let root = d.path().join("saved");
    for (name, data) in &l.files {
        let p = root.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, data).unwrap();
    }
    let r = discover(d.path(), &Limits::default()).unwrap();
    assert_layout(&r, &l);
    let p = r.skipped[0].clone().into_parsed();
    assert_eq!(p.status, crate::ingest::FileStatus::Unrecognised);
    assert!(p.bytes.is_none());
}

#[test]
fn tarred_and_gzipped_layouts_are_recognised_too() {
    let l = layout();
    let entries: Vec<(String, Vec<u8>)> = l
        .files
        .iter()
        .map(|(n, b)| (format!("./{n}"), b.clone()))
        .collect();
    let refs: Vec<(&str, &[u8])> = entries
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    let tarred = tar_of(&refs);
    let d = tempfile::tempdir().unwrap();
    for (name, bytes) in [
        ("layout.tar", tarred.clone()),
        ("layout.tgz", gzip(&tarred)),
    ] {
        let p = d.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        let r = discover(&p, &Limits::default()).unwrap();
        assert_layout(&r, &l);
        assert!(r.files.iter().all(|f| f.path.contains(&format!("{name}!"))));
    }
}

#[test]
fn skopeo_dir_copy_lists_its_layer() {
    let layer = gzip(&tar_of(&[("a.json", br#"{"bomFormat":"CycloneDX"}"#)]));
    let lh = sha256_hex(&layer);
    let config = br#"{"config":{}}"#.to_vec();
    let ch = sha256_hex(&config);
    let manifest = format!(
        r#"{{"schemaVersion":2,"config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:{ch}"}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:{lh}"}}]}}"#
    );
    let d = tempfile::tempdir().unwrap();
    let root = d.path();
    std::fs::write(root.join("manifest.json"), manifest).unwrap();
    std::fs::write(root.join("version"), b"Directory Transport Version: 1.1\n").unwrap();
    std::fs::write(root.join(&lh), &layer).unwrap();
    std::fs::write(root.join(&ch), &config).unwrap();
    std::fs::write(root.join("signature-1"), b"\0sigstore-json\n{}").unwrap();
    let r = discover(root, &Limits::default()).unwrap();
    assert_eq!(r.skipped.len(), 1);
    assert_eq!(
        (r.skipped[0].sha256.as_str(), r.skipped[0].size),
        (lh.as_str(), layer.len() as u64)
    );
    assert_eq!(
        r.files.len(),
        4,
        "{:?}",
        r.files.iter().map(|f| &f.path).collect::<Vec<_>>()
    );
    assert!(!r.files.iter().any(|f| f.path.contains('!')));
}

#[test]
fn docker_archive_layers_are_listed_and_other_tars_still_descended() {
    let layer = tar_of(&[("etc/passwd", b"root:x:0:0")]);
    let manifest = br#"[{"Config":"cfg.json","RepoTags":["x:1"],"Layers":["abc/layer.tar"]}]"#;
    let archive = tar_of(&[
        ("manifest.json", manifest),
        ("cfg.json", br#"{"config":{}}"#),
        ("abc/layer.tar", &layer),
    ]);
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("image.tar"), &archive).unwrap();
    // Outside any layout, an evidence bundle tar is still unpacked as before.
    std::fs::write(d.path().join("bundle.tar"), tar_of(&[("scan.json", b"{}")])).unwrap();
    let r = discover(d.path(), &Limits::default()).unwrap();
    assert_eq!(r.skipped.len(), 1);
    assert!(r.skipped[0].path.ends_with("image.tar!abc/layer.tar"));
    assert_eq!(r.skipped[0].sha256, sha256_hex(&layer));
    let names: Vec<&str> = r
        .files
        .iter()
        .map(|f| f.path.rsplit('!').next().unwrap())
        .collect();
    assert_eq!(names, vec!["scan.json", "manifest.json", "cfg.json"]);
}

#[test]
fn a_truncated_tar_entry_is_refused_not_read_past_the_end() {
    let full = tar_of(&[("a.json", &[b'x'; 2000][..])]);
    let cut = &full[..1024];
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("cut.tar");
    std::fs::write(&p, cut).unwrap();
    let r = discover(&p, &Limits::default()).unwrap();
    assert!(r.files.is_empty());
    assert!(
        r.refused
            .iter()
            .any(|x| x.reason.contains("past the end") || x.reason.contains("tar")),
        "{:?}",
        r.refused
    );
}
