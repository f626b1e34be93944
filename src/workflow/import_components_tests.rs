//! The scratch-file merge against the in-memory one (`ingest::merge::merge`, the reference),
//! plus values worked out by hand from each input.

use super::*;
use crate::ingest::detect::Format;
use crate::ingest::formats::parse_reader;
use crate::ingest::merge::{merge, SUBJECT};
use crate::model::{SetComponent, Subject};
use crate::store::ComponentFeed;
use crate::workflow::import_stream::{Spool, Staged};

fn comp(purl: Option<&str>, name: &str, r: Option<&str>, licenses: &[&str]) -> Component {
    Component {
        purl: purl.map(str::to_string),
        kind: "library".into(),
        name: name.into(),
        version: Some("1".into()),
        licenses: licenses.iter().map(|s| s.to_string()).collect(),
        cpes: vec![],
        locations: vec![],
        local_ref: r.map(str::to_string),
    }
}

type Out = (Vec<SetComponent>, Vec<(String, String)>, usize);

fn drain(comps: &mut Components) -> Out {
    let Some((mut m, n)) = comps.merged().unwrap() else {
        return (Vec::new(), Vec::new(), 0);
    };
    let mut cs = Vec::new();
    m.components(&mut |c| {
        cs.push(c.clone());
        Ok(())
    })
    .unwrap();
    let mut ds = Vec::new();
    m.dependencies(&mut |f, t| {
        ds.push((f.to_string(), t.to_string()));
        Ok(())
    })
    .unwrap();
    (cs, ds, n)
}

/// Every document staged whole (as the import stages documents parsed in memory), with the
/// default budgets (one run in memory, edges resolved through the ref table), with budgets
/// so small every record is a run of its own on disk, and with the components in memory
/// but the refs over the table's budget (both by the two joins): all give the same.
fn via_scratch(docs: &[(usize, &str, Document)]) -> Out {
    let runs = |mut comps: Components, by_table: bool| {
        for (i, p, d) in docs {
            let mut d = d.clone();
            comps
                .stage(*i, p, &format!("sha-{i}"), &mut d, false)
                .unwrap();
            assert!(d.components.is_empty() && d.dependencies.is_empty());
        }
        let out = drain(&mut comps);
        if comps.active() {
            assert_eq!(comps.resolved_by_table(), Some(by_table));
        }
        out
    };
    // Without a single ref the table is empty, within any budget.
    let refs = docs
        .iter()
        .any(|(_, _, d)| d.components.iter().any(|c| c.local_ref.is_some()));
    let got = runs(Components::default(), true);
    assert_eq!(runs(Components::with_budgets(1, 1), !refs), got);
    assert_eq!(runs(Components::with_budgets(1 << 20, 1), !refs), got);
    got
}

fn reference(docs: &[(usize, &str, Document)]) -> Out {
    let refs: Vec<(usize, &str, &Document)> = docs.iter().map(|(i, p, d)| (*i, *p, d)).collect();
    let m = merge(&refs);
    let n = m.components.len();
    (m.components, m.dependencies.into_iter().collect(), n)
}

#[test]
fn duplicate_keys_across_documents_merge_into_one_row_in_key_order() {
    let mut a = Document::new(DocKind::Sbom);
    a.components
        .push(comp(Some("pkg:npm/z@1?x=1"), "z", Some("a-z"), &["MIT"]));
    a.components.push(comp(None, "solo", None, &[]));
    a.components
        .push(comp(Some("pkg:npm/b@1"), "b", Some("a-b"), &["MIT"]));
    let mut t = Document::new(DocKind::Scan);
    t.components
        .push(comp(Some("pkg:npm/b@1"), "b", None, &["Apache-2.0", "MIT"]));
    t.components
        .push(comp(Some("pkg:NPM/z@1"), "z-from-scan", None, &[]));
    let docs = vec![(0, "sbom.json", a), (1, "trivy.json", t)];
    let got = via_scratch(&docs);
    assert_eq!(got, reference(&docs));
    let (cs, _, n) = got;
    // Three keys: pkg:npm/b@1, pkg:npm/z@1 (both spellings), the nopurl triple; in key order.
    assert_eq!(n, 3);
    let keys: Vec<&str> = cs.iter().map(|c| c.key.0.as_str()).collect();
    assert_eq!(
        keys,
        ["nopurl:library/solo@1", "pkg:npm/b@1", "pkg:npm/z@1"]
    );
    let b = &cs[1];
    assert_eq!(b.licenses, ["MIT", "Apache-2.0"]);
    assert!(b.in_sbom && b.in_scan);
    assert_eq!(b.locations.len(), 2);
    // The first document to name z names it.
    assert_eq!(cs[2].name, "z");
    assert_eq!(cs[2].purl.as_deref(), Some("pkg:npm/z@1?x=1"));
}

#[test]
fn edges_resolve_through_the_first_ref_and_drop_unknown_ends() {
    let mut d = Document::new(DocKind::Sbom);
    d.subject = Some(Subject {
        refs: vec!["root".into()],
        ..Default::default()
    });
    // Edges name "b" before any component with that ref exists in document order.
    d.dependencies = vec![
        ("root".into(), "a".into()),
        ("a".into(), "b".into()),
        ("a".into(), "ghost".into()),
        ("ghost".into(), "b".into()),
        ("b".into(), "root".into()),
        ("a".into(), "a".into()),
    ];
    d.components
        .push(comp(Some("pkg:npm/a@1"), "a", Some("a"), &[]));
    d.components
        .push(comp(Some("pkg:npm/b@1"), "b", Some("b"), &[]));
    // A second component with ref "b": the first one keeps the ref.
    d.components
        .push(comp(Some("pkg:npm/b2@1"), "b2", Some("b"), &[]));
    d.components
        .push(comp(Some("pkg:npm/c@1"), "c", Some("c"), &[]));
    let docs = vec![(0, "d.json", d)];
    let got = via_scratch(&docs);
    assert_eq!(got, reference(&docs));
    let (cs, ds, _) = got;
    assert_eq!(
        ds,
        [
            (SUBJECT.to_string(), "pkg:npm/a@1".to_string()),
            ("pkg:npm/a@1".to_string(), "pkg:npm/b@1".to_string()),
        ]
    );
    let direct: Vec<(&str, Option<bool>)> =
        cs.iter().map(|c| (c.name.as_str(), c.direct)).collect();
    assert_eq!(
        direct,
        // Key order: "pkg:npm/b2@1" sorts before "pkg:npm/b@1" ('2' < '@').
        [
            ("a", Some(true)),
            ("b2", None),
            ("b", Some(false)),
            ("c", None)
        ]
    );
}

#[test]
fn a_document_with_no_components_merges_to_nothing() {
    let mut d = Document::new(DocKind::Sbom);
    d.subject = Some(Subject {
        refs: vec!["root".into()],
        ..Default::default()
    });
    d.dependencies = vec![("root".into(), "x".into())];
    let docs = vec![(0, "empty.json", d)];
    assert_eq!(via_scratch(&docs), (Vec::new(), Vec::new(), 0));
}

/// Parses `json` as a stream with the import's sinks, stages it with a whole-parsed report,
/// and returns the scratch merge next to the in-memory merge of the whole parses.
fn streamed_and_whole(format: Format, json: &str, report: Document) -> (Out, Out) {
    let (got, want) = streamed_and_whole_with(Components::default(), format, json, report.clone());
    let (tiny, _) = streamed_and_whole_with(Components::with_budgets(1, 1), format, json, report);
    assert_eq!(tiny, got);
    (got, want)
}

fn streamed_and_whole_with(
    mut comps: Components,
    format: Format,
    json: &str,
    report: Document,
) -> (Out, Out) {
    let mut spool = Spool::new();
    let mut staged = Staged::default();
    let mut sinks = comps.sinks(SpoolSink::new(&mut spool, &mut staged));
    let s = parse_reader(format, json.as_bytes(), &mut sinks).unwrap();
    let id = sinks.finish();
    comps.keep("sbom", id);
    let mut doc = s.doc;
    assert!(doc.components.is_empty() || id.is_none());
    comps
        .stage(0, "sbom.json", "sbom", &mut doc, false)
        .unwrap();
    let mut r = report.clone();
    comps
        .stage(1, "trivy.json", "trivy", &mut r, false)
        .unwrap();
    let got = drain(&mut comps);

    let whole = crate::ingest::formats::parse(format, json.as_bytes()).unwrap();
    let want = reference(&[(0, "sbom.json", whole), (1, "trivy.json", report)]);
    (got, want)
}

fn trivy_like() -> Document {
    let mut t = Document::new(DocKind::Scan);
    t.components.push(comp(
        Some("pkg:deb/debian/a@1?arch=amd64"),
        "a",
        None,
        &["GPL"],
    ));
    t.components.push(comp(
        Some("pkg:deb/debian/only-scan@2"),
        "only-scan",
        None,
        &[],
    ));
    t
}

#[test]
fn a_streamed_cyclonedx_sbom_merges_with_a_report_as_the_whole_parse_does() {
    let json = r#"{"bomFormat":"CycloneDX","specVersion":"1.6",
      "metadata":{"component":{"bom-ref":"img","type":"container","name":"reg/app","purl":"pkg:oci/app@sha256%3Aab"}},
      "components":[
        {"bom-ref":"r-a","type":"library","name":"a","version":"1","purl":"pkg:deb/debian/a@1","licenses":[{"license":{"id":"MIT"}}],
         "properties":[{"name":"syft:location:0:path","value":"/var/lib/dpkg/status"}],
         "components":[{"bom-ref":"r-n","name":"nested","version":"3"}]},
        {"bom-ref":"img2","type":"container","name":"again","purl":"pkg:oci/app@sha256%3Aab"},
        {"bom-ref":"f","type":"file","name":"/etc/x"},
        {"bom-ref":"r-b","type":"library","name":"b","version":"2","purl":"pkg:npm/b@2"}],
      "dependencies":[{"ref":"img","dependsOn":["r-a","img2"]},{"ref":"r-a","dependsOn":["r-b","f","r-n"]},
                      {"ref":"img2","dependsOn":["r-b"]}]}"#;
    let (got, want) = streamed_and_whole(Format::CycloneDxJson, json, trivy_like());
    assert_eq!(got, want);
    // a, nested, b, only-scan: the repeated image and the file are not components.
    assert_eq!(got.2, 4);
    // img2 is the subject too, so b is direct.
    assert!(got
        .1
        .contains(&(SUBJECT.to_string(), "pkg:npm/b@2".to_string())));
}

#[test]
fn metadata_after_the_components_still_merges_the_same() {
    let json = r#"{"bomFormat":"CycloneDX","specVersion":"1.5",
      "components":[{"bom-ref":"r-a","name":"a","version":"1","purl":"pkg:deb/debian/a@1"},
                    {"bom-ref":"img2","type":"container","name":"again","purl":"pkg:oci/app@sha256%3Aab"}],
      "dependencies":[{"ref":"img","dependsOn":["r-a"]}],
      "metadata":{"component":{"bom-ref":"img","type":"container","name":"reg/app","purl":"pkg:oci/app@sha256%3Aab"}}}"#;
    let (got, want) = streamed_and_whole(Format::CycloneDxJson, json, trivy_like());
    assert_eq!(got, want);
    // a (also in the report) and only-scan; the repeated image is the subject.
    assert_eq!(got.2, 2);
}

#[test]
fn a_streamed_spdx_sbom_leaves_its_described_root_out() {
    let json = r#"{"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT","name":"reg/app:1",
      "packages":[
        {"SPDXID":"SPDXRef-root","name":"reg/app","versionInfo":"1","primaryPackagePurpose":"CONTAINER"},
        {"SPDXID":"SPDXRef-a","name":"a","versionInfo":"1","licenseDeclared":"MIT",
         "externalRefs":[{"referenceType":"purl","referenceLocator":"pkg:deb/debian/a@1"}]},
        {"SPDXID":"SPDXRef-c","name":"c","versionInfo":"4"}],
      "relationships":[
        {"spdxElementId":"SPDXRef-root","relationshipType":"CONTAINS","relatedSpdxElement":"SPDXRef-a"},
        {"spdxElementId":"SPDXRef-c","relationshipType":"DEPENDENCY_OF","relatedSpdxElement":"SPDXRef-a"},
        {"spdxElementId":"SPDXRef-DOCUMENT","relationshipType":"DESCRIBES","relatedSpdxElement":"SPDXRef-root"}]}"#;
    let (got, want) = streamed_and_whole(Format::SpdxJson, json, trivy_like());
    assert_eq!(got, want);
    // a, c, only-scan; the root is the subject.
    assert_eq!(got.2, 3);
    let by: HashMap<&str, Option<bool>> =
        got.0.iter().map(|c| (c.name.as_str(), c.direct)).collect();
    assert_eq!(by["a"], Some(true));
    assert_eq!(by["c"], Some(false));
    assert_eq!(by["only-scan"], None);
}

#[test]
fn keys_of_a_streamed_document_with_findings_follow_its_component_numbers() {
    let json = r#"{"bomFormat":"CycloneDX","specVersion":"1.6",
      "metadata":{"tools":[{"name":"trivy","version":"0.5"}]},
      "components":[{"bom-ref":"r-a","name":"a","version":"1","purl":"pkg:npm/a@1"},
                    {"bom-ref":"r-b","name":"b","version":"2","purl":"pkg:npm/b@2"}],
      "vulnerabilities":[{"id":"CVE-1","affects":[{"ref":"r-b"}]}]}"#;
    let mut comps = Components::default();
    let mut spool = Spool::new();
    let mut staged = Staged::default();
    let mut sinks = comps.sinks(SpoolSink::new(&mut spool, &mut staged));
    let s = parse_reader(Format::CycloneDxJson, json.as_bytes(), &mut sinks).unwrap();
    let id = sinks.finish();
    // The finding went to the spool, naming component number 1 (b).
    assert_eq!(staged.len(), 1);
    comps.keep("x", id);
    let mut doc = s.doc;
    let ks = comps.stage(0, "x.json", "x", &mut doc, true).unwrap();
    assert_eq!(
        ks,
        [
            ComponentKey("pkg:npm/a@1".into()),
            ComponentKey("pkg:npm/b@2".into())
        ]
    );
}

fn import_streamed(dir: &std::path::Path) -> (crate::store::Store, super::super::ImportReport) {
    let mut store = crate::store::Store::open_in_memory().unwrap();
    let mut opts = super::super::ImportOptions::default();
    opts.limits.stream_above_bytes = 1;
    let r = super::super::import_paths(
        &mut store,
        &[dir.to_path_buf()],
        &opts,
        &super::super::Actor::default(),
        &mut |_| {},
    )
    .unwrap();
    (store, r)
}

#[test]
fn a_broken_streamed_sbom_names_its_line_and_column_and_adds_no_component() {
    let dir = tempfile::tempdir().unwrap();
    // Line 3, column 9: a key without its colon, after one good component was spooled.
    let broken = "{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.6\",\"metadata\":{},\n\
                  \"components\":[{\"name\":\"a\",\"purl\":\"pkg:npm/a@1\"},\n\
                  {\"name\" \"b\"}]}";
    std::fs::write(dir.path().join("a.cdx.json"), broken).unwrap();
    let (store, r) = import_streamed(dir.path());
    let f = &r.sets[0].files[0];
    assert_eq!(f.status, "failed");
    let msg = f.message.as_deref().unwrap_or("");
    assert!(msg.starts_with("line 3, column 9"), "{msg}");
    assert_eq!(r.sets[0].components, 0);
    assert!(store.components(r.sets[0].id).unwrap().is_empty());
}

#[test]
fn a_streamed_sbom_and_a_report_import_as_one_set() {
    let dir = tempfile::tempdir().unwrap();
    let sbom = r#"{"bomFormat":"CycloneDX","specVersion":"1.6",
      "metadata":{"component":{"bom-ref":"img","type":"container","name":"reg/app","version":"sha256:1111111111111111111111111111111111111111111111111111111111111111"}},
      "components":[{"bom-ref":"r-a","name":"a","version":"1","purl":"pkg:npm/a@1"},
                    {"bom-ref":"r-b","name":"b","version":"2","purl":"pkg:npm/b@2"}],
      "dependencies":[{"ref":"img","dependsOn":["r-a"]},{"ref":"r-a","dependsOn":["r-b"]}]}"#;
    let vex_free_scan = r#"{"bomFormat":"CycloneDX","specVersion":"1.6",
      "metadata":{"tools":[{"name":"grype","version":"0.80"}],"component":{"bom-ref":"i","type":"container","name":"reg/app","version":"sha256:1111111111111111111111111111111111111111111111111111111111111111"}},
      "components":[{"bom-ref":"x","name":"b","version":"2","purl":"pkg:npm/b@2?q=1"},
                    {"bom-ref":"y","name":"c","version":"3","purl":"pkg:npm/c@3"}],
      "vulnerabilities":[{"id":"CVE-2024-1","ratings":[{"severity":"high"}],"affects":[{"ref":"x"}]}]}"#;
    std::fs::write(dir.path().join("sbom.cdx.json"), sbom).unwrap();
    std::fs::write(dir.path().join("scan.cdx.json"), vex_free_scan).unwrap();
    let (store, r) = import_streamed(dir.path());
    let set = &r.sets[0];
    assert!(
        set.files.iter().all(|f| f.status == "parsed"),
        "{:?}",
        set.files
    );
    // a, b (in both files), c.
    assert_eq!(set.components, 3);
    assert_eq!(set.findings, 1);
    let cs = store.components(set.id).unwrap();
    let b = cs.iter().find(|c| c.name == "b").unwrap();
    assert_eq!(b.direct, Some(false));
    assert!(b.in_sbom && b.in_scan);
    let fs = store.findings(set.id).unwrap();
    assert_eq!(fs[0].component_key, "pkg:npm/b@2");
}

fn import_with(dir: &std::path::Path, stream_above: u64) -> (crate::store::Store, i64) {
    let mut store = crate::store::Store::open_in_memory().unwrap();
    let mut opts = super::super::ImportOptions::default();
    opts.limits.stream_above_bytes = stream_above;
    let r = super::super::import_paths(
        &mut store,
        &[dir.to_path_buf()],
        &opts,
        &super::super::Actor::default(),
        &mut |_| {},
    )
    .unwrap();
    assert!(!r.any_failed());
    let id = r.sets[0].id;
    (store, id)
}

#[test]
fn a_generated_set_of_sboms_and_reports_imports_the_same_streamed_and_whole() {
    use crate::devgen::synthetic::{generate, SynthFormat, SynthOptions};
    let dir = tempfile::tempdir().unwrap();
    let opts = SynthOptions {
        seed: 7,
        components: 300,
        findings: 200,
        formats: SynthFormat::ALL.to_vec(),
    };
    generate(&opts, dir.path()).unwrap();
    let (whole, a) = import_with(dir.path(), u64::MAX);
    let (streamed, b) = import_with(dir.path(), 1);
    let strip = |rows: Vec<crate::store::ComponentRow>| {
        rows.into_iter()
            .map(|mut r| {
                r.id = 0;
                serde_json::to_string(&r).unwrap()
            })
            .collect::<Vec<_>>()
    };
    let cw = strip(whole.components(a).unwrap());
    // The generator writes 300 packages into both SBOMs and the reports name a subset.
    assert_eq!(cw.len(), 300);
    assert_eq!(cw, strip(streamed.components(b).unwrap()));
    let dw = whole.dependencies(a).unwrap();
    assert!(!dw.is_empty());
    assert_eq!(dw, streamed.dependencies(b).unwrap());
    let key = |s: &crate::store::Store, id| {
        s.findings(id)
            .unwrap()
            .into_iter()
            .map(|f| (f.vuln_id, f.component_key))
            .collect::<Vec<_>>()
    };
    assert_eq!(key(&whole, a), key(&streamed, b));
}

#[test]
fn documents_staged_out_of_rank_order_merge_in_rank_order() {
    // The same key in three documents; staged 2, 0, 1 (a streamed file is placed before
    // the files read whole, whatever its rank), merged as ranks 0, 1, 2.
    let doc = |name: &str, purl: Option<&str>, lic: &str| {
        let mut d = Document::new(DocKind::Sbom);
        d.components.push(comp(purl, name, Some("r"), &[lic]));
        d.components
            .push(comp(purl, name, Some("r2"), &["Zlib", lic]));
        d
    };
    let docs = vec![
        (0, "zero.json", doc("first", None, "MIT")),
        (1, "one.json", doc("second", Some("pkg:npm/x@1"), "BSD")),
        (2, "two.json", doc("third", Some("pkg:npm/x@1?q=2"), "GPL")),
    ];
    let want = reference(&docs);
    for budgets in [(COMP_BUDGET, EDGE_BUDGET), (1, 1)] {
        let mut comps = Components::with_budgets(budgets.0, budgets.1);
        for k in [2, 0, 1] {
            let (i, p, d) = &docs[k];
            let mut d = d.clone();
            comps
                .stage(*i, p, &format!("sha-{i}"), &mut d, false)
                .unwrap();
        }
        assert_eq!(drain(&mut comps), want);
    }
    // Worked out by hand: the nameless-purl document keys by name, so "first" stays apart;
    // the two purls normalise to one key, named by rank 1, licenses in rank order.
    let (cs, _, n) = want;
    assert_eq!(n, 2);
    let x = cs.iter().find(|c| c.name == "second").unwrap();
    assert_eq!(x.licenses, ["BSD", "Zlib", "GPL"]);
    assert_eq!(x.locations.len(), 2);
}

#[test]
fn many_small_refs_count_against_the_table_budget_per_ref_not_only_in_bytes() {
    // 100 refs of ~43 bytes each as the sorter counts them (~4.3 kB), ~13 kB once each
    // ref's span and hash-table slot are counted.
    let mut d = Document::new(DocKind::Sbom);
    d.subject = Some(Subject {
        refs: vec!["root".into()],
        ..Default::default()
    });
    for i in 0..100 {
        let r = format!("r{i}");
        d.components
            .push(comp(Some(&format!("pkg:npm/c{i}@1")), "c", Some(&r), &[]));
        d.dependencies.push(("root".into(), r.clone()));
        if i > 0 {
            d.dependencies.push((format!("r{}", i - 1), r));
        }
    }
    let docs = vec![(0, "d.json", d)];
    let want = reference(&docs);
    let run = |edge_budget: usize| {
        let mut comps = Components::with_budgets(1 << 20, edge_budget);
        let mut d = docs[0].2.clone();
        comps.stage(0, "d.json", "sha-0", &mut d, false).unwrap();
        let out = drain(&mut comps);
        (out, comps.resolved_by_table())
    };
    // The bytes alone (~4.3 kB) fit a 6 kB table budget; with the per-ref cost they do not.
    assert_eq!(run(1500), (want.clone(), Some(false)));
    assert_eq!(run(10_000), (want.clone(), Some(true)));
    assert_eq!(want.1.len(), 199);
}
