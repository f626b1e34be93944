//! Hostile evidence through the real binary (`dossier import --json` on a temp `--store`):
//! each case must end in a clear, one-line, per-file reason or a safe result, within a
//! bounded time and address space, and the good file imported beside it must still land.
//! Big inputs are generated at test time in a tempdir (sparse where possible).

use assert_cmd::Command;
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Address-space cap for every run (ulimit -v, KiB): a huge allocation aborts the child
/// instead of swapping the machine, and the test sees it.
const MEM_KIB: u64 = 1536 * 1024;
const TIMEOUT: Duration = Duration::from_secs(60);
/// For the 100 MB inputs: a debug build walks them at opt-level 0, ~36 s alone and more
/// on a loaded 2-core machine; the guard is against a hang, not a speed test.
const BIG_TIMEOUT: Duration = Duration::from_secs(240);
const PASSWD_MARK: &str = "root:x:0:0";

struct Env {
    dir: tempfile::TempDir,
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    elapsed: Duration,
    limit: Duration,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): code {} stderr {}", self.code, self.stderr))
    }
    /// Every file report, across sets.
    fn files(&self) -> Vec<Value> {
        let j = self.json();
        j["sets"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["files"].as_array().unwrap().clone())
            .collect()
    }
    fn file(&self, suffix: &str) -> Value {
        self.files()
            .into_iter()
            .find(|f| f["path"].as_str().unwrap_or("").ends_with(suffix))
            .unwrap_or_else(|| panic!("no file report ending {suffix:?} in {}", self.stdout))
    }
    fn no_crash(&self) {
        assert!(!self.stderr.contains("panicked"), "panic: {}", self.stderr);
        assert!(
            self.code == 0 || self.code == 1,
            "exit {} (crash or abort?) stderr: {}",
            self.code,
            self.stderr
        );
        assert!(self.elapsed < self.limit, "took {:?}", self.elapsed);
    }
}

fn scan_fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/scan")
        .join(name)
}

impl Env {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }
    fn store(&self) -> PathBuf {
        self.dir.path().join("store.db")
    }
    /// An evidence dir holding the good Trivy fixture; hostile files are added to it.
    fn evidence(&self) -> PathBuf {
        let d = self.dir.path().join("ev");
        std::fs::create_dir_all(&d).unwrap();
        std::fs::copy(scan_fixture("trivy.json"), d.join("good-trivy.json")).unwrap();
        d
    }
    fn run(&self, args: &[&str], envs: &[(&str, &str)]) -> Run {
        self.run_within(args, envs, TIMEOUT)
    }
    fn run_within(&self, args: &[&str], envs: &[(&str, &str)], limit: Duration) -> Run {
        let bin = assert_cmd::cargo::cargo_bin("dossier");
        let mut c = Command::new("sh");
        c.arg("-c")
            .arg(format!("ulimit -v {MEM_KIB}; exec \"$0\" \"$@\""))
            .arg(bin);
        c.env("DOSSIER_ACTOR", "tester")
            .env_remove("DOSSIER_STORE")
            .arg("--store")
            .arg(self.store())
            .args(args);
        for (k, v) in envs {
            c.env(k, v);
        }
        c.timeout(limit);
        let t = Instant::now();
        let out = c.output().unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            elapsed: t.elapsed(),
            limit,
        }
    }
    fn import(&self, path: &Path, envs: &[(&str, &str)]) -> Run {
        self.run(&["import", "--json", path.to_str().unwrap()], envs)
    }
    fn store_bytes(&self) -> Vec<u8> {
        let mut all = std::fs::read(self.store()).unwrap_or_default();
        let wal = self.dir.path().join("store.db-wal");
        all.extend(std::fs::read(wal).unwrap_or_default());
        all
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// The good file parsed and its findings landed in a set.
fn good_landed(r: &Run) {
    let f = r.file("good-trivy.json");
    assert_eq!(f["status"], "parsed", "{f}");
    let j = r.json();
    let total: i64 = j["sets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["findings"].as_i64().unwrap_or(0))
        .sum();
    assert!(total >= 3, "good findings missing: {}", r.stdout);
}

/// The hostile file was not parsed, and says why in one line naming what was hit.
fn rejected(r: &Run, suffix: &str, needle: &str) {
    r.no_crash();
    assert_eq!(
        r.code, 1,
        "a failed file must make the import exit 1: {}",
        r.stdout
    );
    let f = r.file(suffix);
    assert_ne!(f["status"], "parsed", "{f}");
    let msg = f["message"].as_str().unwrap_or("");
    assert!(
        !msg.is_empty() && !msg.contains('\n'),
        "reason must be one line: {msg:?}"
    );
    assert!(
        msg.to_lowercase().contains(&needle.to_lowercase()),
        "reason {msg:?} lacks {needle:?}"
    );
}

// ---------- XML ----------

const CDX_NS: &str = "http://cyclonedx.org/schema/bom/1.5";

#[test]
fn xml_billion_laughs_is_rejected_not_expanded() {
    let e = Env::new();
    let ev = e.evidence();
    let mut s = String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE bom [\n<!ENTITY lol \"lol\">\n");
    s.push_str("<!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n");
    for i in 2..10 {
        let p = format!("&lol{};", i - 1);
        s.push_str(&format!("<!ENTITY lol{i} \"{}\">\n", p.repeat(10)));
    }
    s.push_str(&format!("]>\n<bom xmlns=\"{CDX_NS}\" version=\"1\"><components><component type=\"library\"><name>&lol9;</name></component></components></bom>\n"));
    std::fs::write(ev.join("laughs.cdx.xml"), s).unwrap();
    let r = e.import(&ev, &[]);
    rejected(&r, "laughs.cdx.xml", "ENTITY");
    good_landed(&r);
    assert!(!contains(&e.store_bytes(), b"lollollollollollollol"));
}

#[test]
fn xml_external_entity_never_reads_etc_passwd() {
    let e = Env::new();
    let ev = e.evidence();
    let s = format!("<?xml version=\"1.0\"?>\n<!DOCTYPE bom [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n<bom xmlns=\"{CDX_NS}\" version=\"1\"><components><component type=\"library\"><name>&xxe;</name><version>1</version></component></components></bom>\n");
    std::fs::write(ev.join("xxe.cdx.xml"), s).unwrap();
    let r = e.import(&ev, &[]);
    rejected(&r, "xxe.cdx.xml", "ENTITY");
    good_landed(&r);
    assert!(!r.stdout.contains(PASSWD_MARK) && !r.stderr.contains(PASSWD_MARK));
    assert!(
        !contains(&e.store_bytes(), PASSWD_MARK.as_bytes()),
        "/etc/passwd content reached the store"
    );
}

#[test]
fn xml_external_dtd_and_parameter_entities_are_not_fetched() {
    let e = Env::new();
    let ev = e.evidence();
    let s = format!("<?xml version=\"1.0\"?>\n<!DOCTYPE bom SYSTEM \"file:///etc/passwd\" [<!ENTITY % p SYSTEM \"file:///etc/passwd\"> %p;]>\n<bom xmlns=\"{CDX_NS}\" version=\"1\"><components><component type=\"library\"><name>dtdpkg</name><version>1</version></component></components></bom>\n");
    std::fs::write(ev.join("dtd.cdx.xml"), s).unwrap();
    let r = e.import(&ev, &[]);
    r.no_crash();
    good_landed(&r);
    assert!(
        !contains(&e.store_bytes(), PASSWD_MARK.as_bytes()),
        "/etc/passwd content reached the store"
    );
    // Refused outright: a DOCTYPE that declares entities is never processed.
    rejected(&r, "dtd.cdx.xml", "DOCTYPE with ENTITY declarations");
}

#[test]
fn xml_deep_nesting_is_rejected_by_depth_limit() {
    let e = Env::new();
    let ev = e.evidence();
    let mut s =
        format!("<?xml version=\"1.0\"?>\n<bom xmlns=\"{CDX_NS}\" version=\"1\"><components>");
    s.push_str(&"<component type=\"library\"><name>n</name><components>".repeat(100_000));
    std::fs::write(ev.join("deep.cdx.xml"), s).unwrap();
    let r = e.import(&ev, &[]);
    rejected(&r, "deep.cdx.xml", "deeper");
    good_landed(&r);
}

#[test]
fn xml_wrong_namespace_is_not_taken_for_cyclonedx() {
    let e = Env::new();
    let ev = e.evidence();
    std::fs::write(ev.join("wrongns.xml"), "<?xml version=\"1.0\"?>\n<bom xmlns=\"http://example.com/not/cyclonedx\" version=\"1\"><components><component type=\"library\"><name>x</name></component></components></bom>\n").unwrap();
    let r = e.import(&ev, &[]);
    // A <bom> that is not CycloneDX's is not read as a BOM, and the import says so with a
    // non-zero exit and the foreign namespace named in a one-line reason.
    rejected(&r, "wrongns.xml", "example.com/not/cyclonedx");
    assert_eq!(r.file("wrongns.xml")["status"], "failed");
    good_landed(&r);
}

// An XML document with a root no format claims stays "unrecognised" (evidence dirs hold
// unrelated XML too) and does not fail the import.
#[test]
fn xml_of_no_known_root_is_unrecognised_not_failed() {
    let e = Env::new();
    let ev = e.evidence();
    std::fs::write(
        ev.join("pom.xml"),
        "<?xml version=\"1.0\"?>\n<project xmlns=\"http://maven.apache.org/POM/4.0.0\"/>\n",
    )
    .unwrap();
    let r = e.import(&ev, &[]);
    r.no_crash();
    assert_eq!(r.code, 0, "{}", r.stdout);
    let f = r.file("pom.xml");
    assert_eq!(f["status"], "unrecognised", "{f}");
    assert!(
        f["message"].as_str().unwrap().contains("maven.apache.org"),
        "{f}"
    );
    good_landed(&r);
}

// ---------- JSON ----------

const TRIVY_HEAD: &str = r#"{"SchemaVersion":2,"ArtifactName":"reg.example/x:1","ArtifactType":"container_image","Metadata":{"RepoDigests":["reg.example/x@sha256:5e1b7a1c0ffee00000000000000000000000000000000000000000000000c0de"]},"Results":"#;

#[test]
fn json_nesting_100k_deep_is_rejected() {
    let e = Env::new();
    let ev = e.evidence();
    let mut s = String::from(TRIVY_HEAD);
    s.push_str(&"[".repeat(100_000));
    s.push_str(&"]".repeat(100_000));
    s.push('}');
    std::fs::write(ev.join("deep.json"), s).unwrap();
    // Grype keeps `matchDetails` as an untyped value: the nesting reaches the recursion limit.
    let mut g = String::from(
        r#"{"descriptor":{"name":"grype","version":"0.80.0"},"source":{"type":"image","target":{"userInput":"x"}},"matches":[{"matchDetails":"#,
    );
    g.push_str(&"[".repeat(100_000));
    g.push_str(&"]".repeat(100_000));
    g.push_str("}]}");
    std::fs::write(ev.join("deep-grype.json"), g).unwrap();
    let r = e.import(&ev, &[]);
    rejected(&r, "deep.json", "line 1");
    good_landed(&r);
    let f = r.file("deep-grype.json");
    assert_ne!(f["status"], "parsed", "{f}");
    assert!(
        f["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty() && !m.contains('\n')),
        "{f}"
    );
}

fn sparse(path: &Path, len: u64, head: &[u8]) {
    let mut f = std::fs::File::create(path).unwrap();
    f.write_all(head).unwrap();
    f.set_len(len).unwrap();
}

#[test]
fn json_one_gigabyte_sparse_file_hits_the_default_size_limit() {
    let e = Env::new();
    let ev = e.evidence();
    sparse(&ev.join("huge.json"), (1 << 30) + 1, TRIVY_HEAD.as_bytes());
    let r = e.import(&ev, &[]);
    rejected(&r, "huge.json", "max_file_bytes");
    good_landed(&r);
}

#[test]
fn json_file_limit_is_configurable() {
    let e = Env::new();
    let ev = e.evidence();
    sparse(&ev.join("big.json"), 8 << 20, TRIVY_HEAD.as_bytes());
    let r = e.import(&ev, &[("DOSSIER_MAX_FILE_BYTES", "4000000")]);
    rejected(&r, "big.json", "max_file_bytes=4000000");
    good_landed(&r);
}

fn trivy_with_vuln(extra: &str) -> String {
    format!(
        r#"{TRIVY_HEAD}[{{"Target":"t","Class":"os-pkgs","Type":"debian","Vulnerabilities":[{{"VulnerabilityID":"CVE-2024-9999","PkgName":"hostpkg","InstalledVersion":"1.0","Severity":"HIGH"{extra}}}]}}]}}"#
    )
}

#[test]
fn json_huge_numbers_are_refused_with_position() {
    let e = Env::new();
    let ev = e.evidence();
    let big = "9".repeat(5000);
    let s = trivy_with_vuln(&format!(
        r#","CVSS":{{"nvd":{{"V3Score":1e999999,"V2Score":{big}}}}},"VendorSeverity":{{"nvd":{big}}}"#
    ));
    std::fs::write(ev.join("numbers.json"), s).unwrap();
    let r = e.import(&ev, &[]);
    r.no_crash();
    good_landed(&r);
    // 1e999999 overflows f64: refused with its position, never read as infinity.
    rejected(&r, "numbers.json", "number out of range");
    assert!(
        r.file("numbers.json")["message"]
            .as_str()
            .unwrap()
            .contains("line 1, column"),
        "position missing"
    );
}

#[test]
fn json_duplicate_keys_are_refused() {
    let e = Env::new();
    let ev = e.evidence();
    let s = trivy_with_vuln(r#","PkgName":"other","Severity":"LOW","Severity":"CRITICAL""#);
    std::fs::write(ev.join("dups.json"), s).unwrap();
    let r = e.import(&ev, &[]);
    r.no_crash();
    good_landed(&r);
    // Two values for one field could let two tools read two different findings from one
    // file: refused, naming the field.
    rejected(&r, "dups.json", "duplicate field `PkgName`");
}

#[test]
fn json_invalid_utf8_is_rejected_with_position() {
    let e = Env::new();
    let ev = e.evidence();
    let mut b = trivy_with_vuln("").into_bytes();
    let at = b.windows(7).position(|w| w == b"hostpkg").unwrap();
    b[at + 2] = 0xff;
    b[at + 3] = 0xfe;
    std::fs::write(ev.join("badutf8.json"), b).unwrap();
    let r = e.import(&ev, &[]);
    rejected(&r, "badutf8.json", "line");
    good_landed(&r);
}

#[test]
fn json_hundred_megabyte_string_is_bounded() {
    let e = Env::new();
    let ev = e.evidence();
    let mut f = std::fs::File::create(ev.join("longstr.json")).unwrap();
    let s = trivy_with_vuln(r#","Description":"XXXX""#);
    let (a, b) = s.split_once("XXXX").unwrap();
    f.write_all(a.as_bytes()).unwrap();
    let chunk = "A".repeat(1 << 20);
    for _ in 0..100 {
        f.write_all(chunk.as_bytes()).unwrap();
    }
    f.write_all(b.as_bytes()).unwrap();
    drop(f);
    let r = e.run_within(
        &["import", "--json", ev.to_str().unwrap()],
        &[],
        BIG_TIMEOUT,
    );
    r.no_crash();
    good_landed(&r);
}

// ---------- archives ----------

/// A tar entry with an arbitrary raw name (the tar crate refuses `..` through set_path).
fn raw_entry(
    b: &mut tar::Builder<Vec<u8>>,
    name: &[u8],
    kind: tar::EntryType,
    link: Option<&[u8]>,
    data: &[u8],
) {
    let mut h = tar::Header::new_gnu();
    h.as_old_mut().name[..name.len()].copy_from_slice(name);
    if let Some(l) = link {
        h.as_old_mut().linkname[..l.len()].copy_from_slice(l);
    }
    h.set_entry_type(kind);
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    b.append(&h, data).unwrap();
}

fn tar_with(f: impl FnOnce(&mut tar::Builder<Vec<u8>>)) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let good = std::fs::read(scan_fixture("trivy.json")).unwrap();
    raw_entry(
        &mut b,
        b"good-trivy.json",
        tar::EntryType::Regular,
        None,
        &good,
    );
    f(&mut b);
    b.into_inner().unwrap()
}

#[test]
fn tar_traversal_and_absolute_names_never_write_outside() {
    let e = Env::new();
    let t = tar_with(|b| {
        raw_entry(
            b,
            b"../../escaped-evil.json",
            tar::EntryType::Regular,
            None,
            b"{}",
        );
        raw_entry(
            b,
            b"/tmp/dossier-abs-evil.json",
            tar::EntryType::Regular,
            None,
            b"{}",
        );
    });
    let p = e.dir.path().join("trav.tar");
    std::fs::write(&p, t).unwrap();
    let r = e.import(&p, &[]);
    r.no_crash();
    good_landed(&r);
    assert!(!e.dir.path().join("../escaped-evil.json").exists());
    assert!(!Path::new("/tmp/dossier-abs-evil.json").exists());
    // Both are accounted for in the report, never silently dropped.
    assert!(r.stdout.contains("escaped-evil.json") && r.stdout.contains("dossier-abs-evil.json"));
}

#[test]
fn tar_symlink_and_hardlink_to_etc_passwd_are_not_followed() {
    let e = Env::new();
    let t = tar_with(|b| {
        raw_entry(
            b,
            b"sym.json",
            tar::EntryType::Symlink,
            Some(b"/etc/passwd"),
            b"",
        );
        raw_entry(
            b,
            b"hard.json",
            tar::EntryType::Link,
            Some(b"/etc/passwd"),
            b"",
        );
        raw_entry(
            b,
            b"up.json",
            tar::EntryType::Symlink,
            Some(b"../../../../etc/passwd"),
            b"",
        );
    });
    let p = e.dir.path().join("links.tar");
    std::fs::write(&p, t).unwrap();
    let r = e.import(&p, &[]);
    r.no_crash();
    good_landed(&r);
    assert!(
        !contains(&e.store_bytes(), PASSWD_MARK.as_bytes()),
        "/etc/passwd content reached the store"
    );
    assert!(!r.stdout.contains(PASSWD_MARK));
}

#[test]
fn directory_symlink_outside_the_root_is_refused() {
    let e = Env::new();
    let ev = e.evidence();
    std::os::unix::fs::symlink("/etc/passwd", ev.join("passwd.json")).unwrap();
    let r = e.import(&ev, &[]);
    rejected(&r, "passwd.json", "outside");
    good_landed(&r);
    assert!(!contains(&e.store_bytes(), PASSWD_MARK.as_bytes()));
}

#[test]
fn device_entries_and_fifos_are_refused_without_blocking() {
    let e = Env::new();
    let ev = e.evidence();
    // A FIFO would block a naive reader forever.
    let ok = std::process::Command::new("mkfifo")
        .arg(ev.join("pipe.json"))
        .status()
        .unwrap()
        .success();
    assert!(ok, "mkfifo");
    let r = e.import(&ev, &[]);
    rejected(&r, "pipe.json", "not a regular file");
    good_landed(&r);

    let e2 = Env::new();
    let t = tar_with(|b| {
        raw_entry(b, b"dev-null.json", tar::EntryType::Char, None, b"");
        raw_entry(b, b"fifo.json", tar::EntryType::Fifo, None, b"");
        raw_entry(b, b"blk.json", tar::EntryType::Block, None, b"");
    });
    let p = e2.dir.path().join("dev.tar");
    std::fs::write(&p, t).unwrap();
    let r = e2.import(&p, &[]);
    r.no_crash();
    good_landed(&r);
}

fn gzip(data_len: u64) -> Vec<u8> {
    // A tar of one entry holding `data_len` zero bytes, gzip-compressed: a few hundred KB.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut h = tar::Header::new_gnu();
    h.set_path("zeros.json").unwrap();
    h.set_size(data_len);
    h.set_mode(0o644);
    h.set_cksum();
    gz.write_all(h.as_bytes()).unwrap();
    let zeros = vec![0u8; 1 << 20];
    let mut left = data_len;
    while left > 0 {
        let n = left.min(zeros.len() as u64) as usize;
        gz.write_all(&zeros[..n]).unwrap();
        left -= n as u64;
    }
    gz.write_all(&[0u8; 1024]).unwrap();
    gz.finish().unwrap()
}

#[test]
fn gzip_bomb_hits_the_archive_limit() {
    let e = Env::new();
    let ev = e.evidence();
    std::fs::write(ev.join("bomb.tar.gz"), gzip(256 << 20)).unwrap();
    let r = e.import(&ev, &[("DOSSIER_MAX_ARCHIVE_BYTES", "10000000")]);
    rejected(&r, "bomb.tar.gz", "max_archive_bytes=10000000");
    good_landed(&r);
}

/// Under the default limits a 2 GiB bomb is stopped by the expansion-ratio limit (archives
/// are read in memory), within the 1.5 GiB address-space cap this suite runs under.
#[test]
fn gzip_bomb_under_default_limit_stays_within_memory() {
    let e = Env::new();
    let ev = e.evidence();
    std::fs::write(ev.join("bomb2.tar.gz"), gzip(2 << 30)).unwrap();
    let r = e.import(&ev, &[]);
    r.no_crash();
    good_landed(&r);
}

fn many_entries(n: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(n * 512 + 1024);
    let mut h = tar::Header::new_gnu();
    h.set_size(0);
    h.set_mode(0o644);
    h.set_entry_type(tar::EntryType::Regular);
    for i in 0..n {
        h.set_path(format!("e{i}.json")).unwrap();
        h.set_cksum();
        out.extend_from_slice(h.as_bytes());
    }
    out.extend_from_slice(&[0u8; 1024]);
    out
}

#[test]
fn tar_entry_limit_is_named_and_configurable() {
    let e = Env::new();
    let ev = e.evidence();
    std::fs::write(ev.join("many.tar"), many_entries(5_000)).unwrap();
    let r = e.import(&ev, &[("DOSSIER_MAX_ARCHIVE_ENTRIES", "1000")]);
    r.no_crash();
    good_landed(&r);
    assert!(
        r.stdout.contains("max_archive_entries=1000"),
        "limit not named: {}",
        &r.stdout[..r.stdout.len().min(2000)]
    );
}

#[test]
fn tar_with_a_million_entries_is_bounded() {
    let e = Env::new();
    let ev = e.evidence();
    std::fs::write(ev.join("million.tar"), many_entries(1_000_000)).unwrap();
    let r = e.import(&ev, &[]);
    r.no_crash();
    good_landed(&r);
    assert!(
        r.stdout.contains("max_archive_entries=200000"),
        "default limit not named"
    );
}

// ---------- terminal-hostile strings ----------

const OSC52: &str = "\u{1b}]52;c;T1NDNTJQQVlMT0FE\u{7}";
const TITLE: &str = "\u{1b}]0;PWNEDTITLE\u{7}";

fn hostile_strings() -> String {
    format!("{OSC52}{TITLE}\u{1b}[31;1mred\u{1b}[0m\u{9b}2J\u{85}\u{202e}cod\u{200b}e\u{2066}x")
}

fn terminal_safe(out: &str, what: &str) {
    let b = out.as_bytes();
    assert!(!b.contains(&0x1b), "{what}: ESC byte in output");
    for bad in [
        '\u{9b}', '\u{9d}', '\u{85}', '\u{202e}', '\u{200b}', '\u{2066}',
    ] {
        assert!(!out.contains(bad), "{what}: {bad:?} in output");
    }
    assert!(
        !out.contains("PWNEDTITLE") && !out.contains("T1NDNTJQQVlMT0FE"),
        "{what}: OSC payload in output"
    );
}

fn hostile_trivy() -> String {
    let h = hostile_strings();
    let long = "L".repeat(100_000);
    let v = serde_json::json!({
        "SchemaVersion": 2, "ArtifactName": format!("reg.example/evil{h}:1"), "ArtifactType": "container_image",
        "Metadata": {"RepoDigests": ["reg.example/evil@sha256:abababababababababababababababababababababababababababababababab"]},
        "Results": [{"Target": format!("t{h}"), "Class": "os-pkgs", "Type": "debian", "Vulnerabilities": [
            {"VulnerabilityID": format!("CVE-2024-1{h}"), "PkgName": format!("evilpkg{h}{long}"), "InstalledVersion": format!("1.0{h}"),
             "Severity": "HIGH", "Title": format!("title{h}"), "Description": format!("descr{h}{long}")}]}]
    });
    v.to_string()
}

#[test]
fn terminal_escapes_in_names_descriptions_and_file_names_are_neutralised_in_cli_tables() {
    let e = Env::new();
    let ev = e.dir.path().join("ev");
    std::fs::create_dir_all(&ev).unwrap();
    let fname = format!("evil{}name.json", "\u{1b}]0;PWNEDTITLE\u{7}\u{202e}");
    std::fs::write(ev.join(&fname), hostile_trivy()).unwrap();
    let r = e.run(&["import", ev.to_str().unwrap()], &[]);
    r.no_crash();
    terminal_safe(&r.stdout, "import table");
    terminal_safe(&r.stderr, "import stderr");
    for args in [
        vec!["list"],
        vec!["show", "1"],
        vec!["components", "1"],
        vec!["findings", "1"],
    ] {
        let r = e.run(&args, &[]);
        assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
        terminal_safe(&r.stdout, &args.join(" "));
        terminal_safe(&r.stderr, &args.join(" "));
        assert!(
            r.stdout.lines().all(|l| l.chars().count() < 2000),
            "{args:?}: an unbounded line"
        );
    }
}

#[test]
fn terminal_escapes_never_reach_the_pdf() {
    let e = Env::new();
    let ev = e.dir.path().join("ev");
    std::fs::create_dir_all(&ev).unwrap();
    std::fs::write(ev.join("evil.json"), hostile_trivy()).unwrap();
    e.run(&["import", ev.to_str().unwrap()], &[]).no_crash();
    let out = e.dir.path().join("pkg");
    let r = e.run(
        &[
            "export",
            "--set",
            "1",
            "--format",
            "pdf",
            "--as-of",
            "2026-11-27",
            "--out",
            out.to_str().unwrap(),
            "--all-findings",
        ],
        &[],
    );
    r.no_crash();
    terminal_safe(&r.stdout, "export stdout");
    let pdf = std::fs::read_dir(&out)
        .unwrap()
        .filter_map(|e| e.ok())
        .find(|e| e.path().extension().is_some_and(|x| x == "pdf"));
    let Some(pdf) = pdf else {
        panic!("no PDF written: {} {}", r.stdout, r.stderr);
    };
    let bytes = std::fs::read(pdf.path()).unwrap();
    for needle in ["PWNEDTITLE", "T1NDNTJQQVlMT0FE"] {
        assert!(!contains(&bytes, needle.as_bytes()), "{needle} in the PDF");
    }
    assert!(
        !contains(&bytes, "\u{202e}".as_bytes()) && !contains(&bytes, b"\x1b]52"),
        "raw control sequence in the PDF"
    );
}

// Signature junk (truncated DER, wrong curve, chain loop, 100 MB signature) lives in
// tests/hostile_signatures.rs, where each case asserts its specific outcome.
