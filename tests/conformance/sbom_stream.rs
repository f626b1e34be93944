//! Streamed SBOM parsing (issue 8) against the real CycloneDX and SPDX JSON files in the
//! shared fixtures: each is parsed whole and as a stream, the two documents must be equal,
//! and the merged counts must equal those computed from the raw JSON (`sbom_expect.rs`).
//! Then each real SBOM is imported both ways and the stores must match row for row.

use crate::common::{fixtures, shared};
use crate::sbom::expect;
use dossier::ingest::detect::{detect, Detection, Format};
use dossier::ingest::formats::stream::FindingSink;
use dossier::ingest::formats::{parse, parse_reader};
use dossier::ingest::limits::Limits;
use dossier::ingest::merge::merge;
use dossier::model::FindingRecord;
use dossier::store::Store;
use dossier::workflow::{self, Actor, ImportOptions};
use std::path::{Path, PathBuf};

#[derive(Default)]
struct Collect(Vec<FindingRecord>);

impl FindingSink for Collect {
    fn finding(&mut self, f: FindingRecord) -> Result<(), String> {
        self.0.push(f);
        Ok(())
    }
}

fn json_sboms() -> Vec<(PathBuf, Format)> {
    let dirs = ["cyclonedx", "spdx", "trivy", "grype", "real-evidence/sbom"];
    dirs.iter()
        .flat_map(|d| fixtures(d))
        .filter_map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            match detect(&bytes) {
                Detection::Supported {
                    format: f @ (Format::CycloneDxJson | Format::SpdxJson),
                    ..
                } => Some((p, f)),
                _ => None,
            }
        })
        .collect()
}

#[test]
#[ignore = "needs ../shared/fixtures"]
fn every_json_sbom_fixture_streams_to_the_whole_document() {
    let _ = shared();
    let files = json_sboms();
    // Counted by listing the fixture directories: 7 + 5 CycloneDX/SPDX JSON in cyclonedx/
    // and spdx/, 2 Trivy and 2 Grype CycloneDX, 5 JSON SBOMs in real-evidence/sbom.
    assert!(files.len() >= 15, "{files:#?}");
    let mut report = Vec::new();
    for (path, format) in &files {
        let name = path.display().to_string();
        let bytes = std::fs::read(path).unwrap();
        let whole = parse(*format, &bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut sink = Collect::default();
        let file = std::io::BufReader::new(std::fs::File::open(path).unwrap());
        let s = parse_reader(*format, file, &mut sink).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(s.late_scanner_version, None, "{name}");
        let mut doc = s.doc;
        assert!(doc.findings.is_empty(), "{name}: findings go to the sink");
        doc.findings = sink.0;
        assert_eq!(doc, whole, "{name}: streamed != whole");

        let raw: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let expected = match format {
            Format::CycloneDxJson => expect::cdx_json(&raw),
            _ => expect::spdx_json(&raw),
        };
        let m = merge(&[(0, name.as_str(), &doc)]);
        assert_eq!(
            m.components.len(),
            expected.components.len(),
            "{name}: component count"
        );
        assert_eq!(
            m.findings.len(),
            expected.findings.len(),
            "{name}: finding count"
        );
        report.push(format!(
            "{name}: {} components, {} findings, {} edges",
            m.components.len(),
            m.findings.len(),
            m.dependencies.len()
        ));
    }
    eprintln!("{}", report.join("\n"));
}

fn actor() -> Actor {
    Actor {
        name: "test".into(),
        role: None,
        key_fingerprint: None,
    }
}

fn import(db: &Path, file: &Path, stream: bool) -> bool {
    let mut store = Store::open(db).unwrap();
    let opts = ImportOptions {
        limits: Limits {
            stream_above_bytes: if stream { 0 } else { u64::MAX },
            ..Limits::default()
        },
        ..ImportOptions::default()
    };
    let r = workflow::import_paths(
        &mut store,
        &[file.to_path_buf()],
        &opts,
        &actor(),
        &mut |_| {},
    )
    .unwrap();
    r.sets[0].files[0].streamed
}

/// Every row of `table` but timestamps and the stored (compressed) blob bytes, in rowid
/// (or key) order: deflate output may depend on how the input was fed, so blobs are
/// compared decoded, in `blobs_alike`.
fn rows(db: &Path, table: &str) -> Vec<String> {
    let c = rusqlite::Connection::open(db).unwrap();
    let mut st = c
        .prepare(&format!("SELECT * FROM {table} ORDER BY rowid"))
        .or_else(|_| c.prepare(&format!("SELECT * FROM {table} ORDER BY 1, 2, 3")))
        .unwrap();
    let names: Vec<String> = st.column_names().iter().map(|s| s.to_string()).collect();
    st.query_map([], |r| {
        let mut out = Vec::new();
        for (i, name) in names.iter().enumerate() {
            if name.ends_with("_at") || (table == "blob" && name == "data") {
                continue;
            }
            let v: rusqlite::types::Value = r.get(i)?;
            out.push(format!("{name}={v:?}"));
        }
        Ok(out.join(" "))
    })
    .unwrap()
    .collect::<rusqlite::Result<_>>()
    .unwrap()
}

#[test]
#[ignore = "needs ../shared/fixtures"]
fn the_real_sboms_import_alike_whole_and_streamed() {
    let dir = shared().join("fixtures/real-evidence/sbom");
    let tmp = tempfile::tempdir().unwrap();
    for f in [
        "syft.cdx.json",
        "syft.spdx.json",
        "trivy.cdx.json",
        "trivy.spdx.json",
        "cdxgen.cdx.json",
    ] {
        let path = dir.join(f);
        let (a, b) = (
            tmp.path().join(format!("{f}.whole.db")),
            tmp.path().join(format!("{f}.stream.db")),
        );
        assert!(!import(&a, &path, false), "{f}: read whole");
        assert!(import(&b, &path, true), "{f}: streamed");
        for t in [
            "evidence_set",
            "evidence_file",
            "blob",
            "component",
            "dependency",
            "finding",
            "finding_source",
        ] {
            let (x, y) = (rows(&a, t), rows(&b, t));
            assert_eq!(x.len(), y.len(), "{f}: {t} row count");
            assert_eq!(x, y, "{f}: {t}");
        }
        assert!(!rows(&b, "component").is_empty(), "{f}: no components");
        blobs_alike(&a, &b, &path);
    }
}

/// Both stores give back the file's exact bytes for every blob they hold.
fn blobs_alike(a: &Path, b: &Path, file: &Path) {
    let raw = std::fs::read(file).unwrap();
    let sha = dossier::ingest::discover::sha256_hex(&raw);
    for db in [a, b] {
        let got = Store::open(db).unwrap().blob(&sha).unwrap();
        assert_eq!(
            got.as_deref(),
            Some(&raw[..]),
            "{}: blob of {}",
            db.display(),
            file.display()
        );
    }
}
