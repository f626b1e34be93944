//! VEX and POA&M exports through the real binary: every disposition survives a round trip
//! (export OpenVEX / CycloneDX VEX, import it with the same evidence into a fresh store),
//! the OpenVEX validates against the official 0.2.0 schema (fetched by .ci/run from the PyPI
//! package that ships it), and the POA&M workbook holds the same rows and columns as the CSV.
//! Expected values come from the raw Trivy JSON and the decisions the tests make, never from
//! dossier's own parsers.

use assert_cmd::Command;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command as Proc;

const AS_OF: &str = "2026-11-27";
const PASS: &str = "approver-Secret-4r8t";
/// sha256 of `fixproof/schemas/official/openvex.schema.json` in fixproof 0.2.0 (PyPI).
const OPENVEX_SCHEMA_SHA256: &str =
    "9373597734ed1d3ea5161a8b46d3866c4a8cfe76fd632fdd16aef01fb34b3238";

fn app_trivy() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/export/app/trivy.json")
}

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Self {
        let e = Self {
            dir: tempfile::tempdir().unwrap(),
        };
        std::fs::write(
            e.p("config.toml"),
            "[reviewer]\nname = \"J. Doe\"\nrole = \"Platform Engineer\"\n",
        )
        .unwrap();
        std::fs::write(e.p("approver.pass"), format!("{PASS}\n")).unwrap();
        e
    }

    fn p(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn s(&self, name: &str) -> String {
        self.p(name).display().to_string()
    }

    fn ok(&self, store: &str, args: &[&str]) -> String {
        let o = Command::cargo_bin("dossier")
            .unwrap()
            .arg("--store")
            .arg(self.p(store))
            .env("DOSSIER_CONFIG", self.p("config.toml"))
            .env("DOSSIER_ACTOR", "R. Reviewer")
            .env_remove("SOURCE_DATE_EPOCH")
            .env_remove("COSIGN_PASSWORD")
            .args(args)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{args:?} failed ({:?}):\n{}\n{}",
            o.status.code(),
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stdout).unwrap()
    }

    fn trust_approver(&self, store: &str) {
        self.ok(
            store,
            &[
                "trust",
                "add",
                &self.s("keys/approver.pub"),
                "--name",
                "issm",
                "--role",
                "approver",
            ],
        );
    }

    /// `findings 1 --json` as id -> (disposition or "open", VEX status, VEX justification).
    fn dispositions(&self, store: &str) -> BTreeMap<String, (String, Value, Value)> {
        let rows: Value =
            serde_json::from_str(&self.ok(store, &["findings", "1", "--json", "--as-of", AS_OF]))
                .unwrap();
        rows.as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["id"].as_str().unwrap().to_string(),
                    (
                        r["disposition"].as_str().unwrap_or("open").to_string(),
                        r["vex"]["status"].clone(),
                        r["vex"]["justification"].clone(),
                    ),
                )
            })
            .collect()
    }
}

/// Every vulnerability id in the fixture, read from the raw JSON.
fn raw_ids() -> Vec<String> {
    let v: Value = serde_json::from_slice(&std::fs::read(app_trivy()).unwrap()).unwrap();
    let mut ids: Vec<String> = v["Results"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["Vulnerabilities"].as_array().unwrap())
        .map(|x| x["VulnerabilityID"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

/// The decisions made in `decided_store`, as the test records them.
const NOT_AFFECTED: &str = "CVE-2024-2511";
const JUSTIFICATION: &str = "component_not_present";
const PATCHED: &str = "CVE-2024-6119";
const FALSE_POSITIVE: &str = "GHSA-952p-6rrq-rcjv";
const WAIVED: &str = "CVE-2023-50387";

/// Store `a.db` with the fixture, a trusted approver, and one finding in each disposition:
/// not_affected (with a justification), patched, false_positive, waived (signed waiver), the
/// rest open. Returns the expected disposition per vulnerability id.
fn decided_store(e: &Env) -> BTreeMap<String, String> {
    e.ok(
        "a.db",
        &[
            "keys",
            "generate",
            "--out",
            &e.s("keys"),
            "--name",
            "approver",
            "--passphrase-file",
            &e.s("approver.pass"),
        ],
    );
    e.ok(
        "a.db",
        &["import", app_trivy().to_str().unwrap(), "--package", "fx"],
    );
    e.trust_approver("a.db");
    e.ok(
        "a.db",
        &[
            "review",
            "1",
            NOT_AFFECTED,
            "--state",
            "not_affected",
            "--justification",
            JUSTIFICATION,
            "--note",
            "the TLS module is not built into this image",
        ],
    );
    e.ok("a.db", &["review", "1", PATCHED, "--state", "patched"]);
    e.ok(
        "a.db",
        &[
            "review",
            "1",
            FALSE_POSITIVE,
            "--state",
            "false_positive",
            "--note",
            "name collision",
        ],
    );
    e.ok(
        "a.db",
        &[
            "waiver",
            "new",
            "1",
            WAIVED,
            "--text",
            "no fix published; resolver runs with DNSSEC off",
            "--out",
            &e.s("w.yaml"),
        ],
    );
    e.ok(
        "a.db",
        &[
            "waiver",
            "sign",
            &e.s("w.yaml"),
            "--key",
            &e.s("keys/approver.key"),
            "--passphrase-file",
            &e.s("approver.pass"),
            "--as",
            "R. Roe",
            "--role",
            "ISSM",
        ],
    );
    let mut want: BTreeMap<String, String> = raw_ids()
        .into_iter()
        .map(|id| (id, "open".to_string()))
        .collect();
    for (id, d) in [
        (NOT_AFFECTED, "not_affected"),
        (PATCHED, "patched"),
        (FALSE_POSITIVE, "false_positive"),
        (WAIVED, "waived"),
    ] {
        assert!(want.contains_key(id), "{id} is not in the fixture");
        want.insert(id.to_string(), d.to_string());
    }
    want
}

/// A fresh store holding the same scan plus `extra` evidence files, with the approver trusted.
fn fresh(e: &Env, store: &str, extra: &[PathBuf]) {
    let ev = e.p(&format!("{store}-evidence"));
    std::fs::create_dir_all(&ev).unwrap();
    std::fs::copy(app_trivy(), ev.join("trivy.json")).unwrap();
    for f in extra {
        std::fs::copy(f, ev.join(f.file_name().unwrap())).unwrap();
    }
    e.trust_approver(store);
    e.ok(store, &["import", ev.to_str().unwrap()]);
}

#[test]
fn every_disposition_round_trips_through_openvex_and_cyclonedx_vex() {
    let e = Env::new();
    let want = decided_store(&e);
    // The decided store itself shows what the test decided.
    let a = e.dispositions("a.db");
    let got: BTreeMap<String, String> = a.iter().map(|(k, v)| (k.clone(), v.0.clone())).collect();
    assert_eq!(got, want, "decisions in the first store");

    let out = e.p("out");
    e.ok(
        "a.db",
        &[
            "export",
            "--package",
            "fx",
            "--format",
            "openvex,cyclonedx-vex",
            "--as-of",
            AS_OF,
            "--out",
            out.to_str().unwrap(),
        ],
    );
    // Signed waivers travel as evidence files, exactly as they were signed.
    e.ok(
        "a.db",
        &["waiver", "export", "1", "--out", &e.s("waivers.yaml")],
    );

    let ov = out.join("package.openvex.json");
    let cdx = out.join("package.cdx-vex.json");
    for (store, vex) in [("ov.db", &ov), ("cdx.db", &cdx)] {
        fresh(&e, store, &[vex.clone(), e.p("waivers.yaml")]);
        let back = e.dispositions(store);
        let mut expect = want.clone();
        if store == "ov.db" {
            // OpenVEX has no false-positive status: it travels as not_affected /
            // component_not_present and comes back as not_affected.
            expect.insert(FALSE_POSITIVE.into(), "not_affected".into());
        }
        let got: BTreeMap<String, String> =
            back.iter().map(|(k, v)| (k.clone(), v.0.clone())).collect();
        assert_eq!(got, expect, "dispositions after the {store} round trip");
        // The not_affected justification survives word for word (CycloneDX folds
        // component_not_present into code_not_present; dossier's property restores it).
        assert_eq!(back[NOT_AFFECTED].2, JUSTIFICATION, "{store}");
        assert_eq!(back[PATCHED].1, "fixed", "{store}");
        // The waiver decides the waived finding; its VEX statement only says affected.
        assert_eq!(back[WAIVED].1, "affected", "{store}");
    }

    // Without the waiver file, VEX `affected` alone disposes of nothing: the finding is open,
    // never not_affected.
    fresh(&e, "nowaiver.db", std::slice::from_ref(&ov));
    let back = e.dispositions("nowaiver.db");
    assert_eq!(back[WAIVED].0, "open");
    assert_eq!(back[WAIVED].1, "affected");
    assert_eq!(back[PATCHED].0, "patched");
}

/// The schema file: `DOSSIER_OPENVEX_SCHEMA` (set by .ci/run), else where .ci/run puts it.
fn openvex_schema() -> Option<PathBuf> {
    let p = std::env::var_os("DOSSIER_OPENVEX_SCHEMA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            std::env::temp_dir()
                .join("dossier-ci-openvex/fixproof/schemas/official/openvex.schema.json")
        });
    p.is_file().then_some(p)
}

fn python_has(module: &str) -> bool {
    Proc::new("python3")
        .args(["-c", &format!("import {module}")])
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

#[test]
fn openvex_validates_against_the_official_0_2_0_schema() {
    let e = Env::new();
    decided_store(&e);
    let out = e.p("out");
    e.ok(
        "a.db",
        &[
            "export",
            "--package",
            "fx",
            "--format",
            "openvex",
            "--as-of",
            AS_OF,
            "--out",
            out.to_str().unwrap(),
        ],
    );
    let doc = out.join("package.openvex.json");
    let v: Value = serde_json::from_slice(&std::fs::read(&doc).unwrap()).unwrap();
    // Every status the dispositions map to is present, so the schema's conditional rules
    // (not_affected needs a justification or impact statement, affected an action
    // statement) are all exercised.
    let statuses: std::collections::BTreeSet<&str> = v["statements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses.into_iter().collect::<Vec<_>>(),
        ["affected", "fixed", "not_affected", "under_investigation"]
    );

    let Some(schema) = openvex_schema() else {
        eprintln!(
            "skipped: the official OpenVEX schema is not present (.ci/run fetches it from the \
             PyPI package fixproof 0.2.0; or set DOSSIER_OPENVEX_SCHEMA)"
        );
        return;
    };
    if !python_has("jsonschema") {
        eprintln!("skipped: python3 jsonschema not installed");
        return;
    }
    let bytes = std::fs::read(&schema).unwrap();
    use sha2::Digest;
    assert_eq!(
        hex::encode(sha2::Sha256::digest(&bytes)),
        OPENVEX_SCHEMA_SHA256,
        "{} is not the schema file this test was written against",
        schema.display()
    );
    let s: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(
        s["$id"],
        "https://github.com/openvex/spec/openvex_json_schema_0.2.0.json"
    );
    let o = Proc::new("python3")
        .args([
            "-c",
            "import json, sys\nfrom jsonschema import Draft202012Validator as V\n\
             s = json.load(open(sys.argv[1])); d = json.load(open(sys.argv[2]))\n\
             V.check_schema(s)\n\
             errs = list(V(s, format_checker=V.FORMAT_CHECKER).iter_errors(d))\n\
             [print('/'.join(map(str, e.absolute_path)), e.message) for e in errs]\n\
             sys.exit(1 if errs else 0)",
        ])
        .arg(&schema)
        .arg(&doc)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "OpenVEX schema errors:\n{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    // The schema on the spec's main branch is stricter than the 0.2.0 release file:
    // justification and impact_statement are mutually exclusive there. Hold to both.
    for st in v["statements"].as_array().unwrap() {
        if st["status"] == "not_affected" {
            assert!(
                st.get("justification").is_some() != st.get("impact_statement").is_some(),
                "{st}"
            );
        }
    }
}

#[test]
fn poam_xlsx_holds_the_csv_rows_and_is_reproducible() {
    if !python_has("zipfile") {
        eprintln!("skipped: python3 not available to read the workbook back");
        return;
    }
    let e = Env::new();
    decided_store(&e);
    let export = |dir: &str| {
        let out = e.p(dir);
        e.ok(
            "a.db",
            &[
                "export",
                "--package",
                "fx",
                "--format",
                "poam-csv,poam-xlsx",
                "--as-of",
                AS_OF,
                "--out",
                out.to_str().unwrap(),
            ],
        );
        out
    };
    let one = export("one");
    let two = export("two");
    let x1 = std::fs::read(one.join("package.poam.xlsx")).unwrap();
    assert_eq!(x1, std::fs::read(two.join("package.poam.xlsx")).unwrap());

    // The sheet read back with Python's zipfile and a plain XML parse (shared strings).
    let o = Proc::new("python3")
        .args([
            "-c",
            r#"import json, re, sys, zipfile
import xml.etree.ElementTree as ET
z = zipfile.ZipFile(sys.argv[1])
ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
shared = []
if "xl/sharedStrings.xml" in z.namelist():
    for si in ET.fromstring(z.read("xl/sharedStrings.xml")).findall("m:si", ns):
        shared.append("".join(t.text or "" for t in si.iter("{%s}t" % ns["m"])))
def col(ref):
    n = 0
    for ch in re.match(r"[A-Z]+", ref).group(0):
        n = n * 26 + ord(ch) - 64
    return n - 1
rows = []
for r in ET.fromstring(z.read("xl/worksheets/sheet1.xml")).iter("{%s}row" % ns["m"]):
    cells = {}
    for c in r.findall("m:c", ns):
        v = c.find("m:v", ns)
        t = c.find("m:is/m:t", ns)
        if c.get("t") == "s":
            cells[col(c.get("r"))] = shared[int(v.text)]
        elif t is not None:
            cells[col(c.get("r"))] = t.text or ""
        elif v is not None:
            cells[col(c.get("r"))] = v.text
    width = max(cells) + 1 if cells else 0
    rows.append([cells.get(i, "") for i in range(width)])
core = z.read("docProps/core.xml").decode()
print(json.dumps({"rows": rows, "core": core}))"#,
        ])
        .arg(one.join("package.poam.xlsx"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let got: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(
        got["core"]
            .as_str()
            .unwrap()
            .contains("<dcterms:created xsi:type=\"dcterms:W3CDTF\">2026-11-27T00:00:00Z"),
        "core.xml dates come from --as-of: {}",
        got["core"]
    );
    let sheet: Vec<Vec<String>> = serde_json::from_value(got["rows"].clone()).unwrap();

    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_path(one.join("package.poam.csv"))
        .unwrap();
    let csv_rows: Vec<Vec<String>> = r
        .records()
        .map(|x| x.unwrap().iter().map(str::to_string).collect())
        .collect();
    assert_eq!(
        sheet.len(),
        csv_rows.len(),
        "same number of rows (header included)"
    );
    // Open and waived findings only: 5 in the fixture, minus not_affected, patched and
    // false_positive = 2 rows (+ header).
    assert_eq!(csv_rows.len(), 1 + raw_ids().len() - 3);
    for (i, (x, c)) in sheet.iter().zip(&csv_rows).enumerate() {
        // Trailing empty cells are simply absent from the sheet.
        let mut x = x.clone();
        x.resize(c.len(), String::new());
        // The CSV guards formula-like text with a leading quote; the workbook stores text.
        let c: Vec<String> = c
            .iter()
            .map(|v| match v.strip_prefix('\'') {
                Some(rest) if rest.starts_with(['=', '+', '-', '@']) => rest.to_string(),
                _ => v.clone(),
            })
            .collect();
        assert_eq!(x, c, "row {i}");
    }
}
