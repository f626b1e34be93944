//! Scale benchmarks for issue 8 (a `harness = false` bench binary that prints tables).
//! Each figure comes with a same-run baseline so ratios survive a noisy, shared machine.
//!
//!   cargo bench --bench scale -- [import] [rss] [view] [gate] [tui] [export] [package]
//!   (default: all)
//!   DOSSIER_BENCH_MB=100 (import file size), DOSSIER_BENCH_FINDINGS=1000000 (view/gate)
//!   DOSSIER_BENCH_RSS_MB=10,100,500 (import sizes for peak RSS)
//!   DOSSIER_BENCH_STORE=/var/tmp/big.db keeps the view/gate store there and reuses it when
//!   it already holds the bench set (the 1M-finding write takes minutes)
//!   DOSSIER_BENCH_KEEP=1 (keep the generated stores and outputs, e.g. for `perf record`)

use dossier::devgen::synthetic::{findings_for_trivy_bytes, generate, SynthFormat, SynthOptions};
use dossier::ingest::detect::Format;
use dossier::model::{
    ComponentKey, Cvss, CvssVersion, ScannerView, SetComponent, SetFinding, Severity,
};
use dossier::store::{Cursor, ViewFilter, ViewSort};
use dossier::store::{FileRow, SetWrite, Store};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

#[path = "scale/tui.rs"]
mod tui_bench;

const BIN: &str = env!("CARGO_BIN_EXE_dossier");

fn env_u64(k: &str, d: u64) -> u64 {
    std::env::var(k)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(d)
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

fn mb(b: u64) -> f64 {
    b as f64 / 1e6
}

/// Runs the release binary under `/usr/bin/time -v`: (wall, peak RSS KiB, exit code).
fn timed_child(args: &[&str], store: &Path) -> (Duration, u64, i32) {
    timed_child_env(args, store, &[])
}

/// User + system CPU of the last `timed_child_env` child (ms): wall time on a shared
/// machine is mostly waiting for a core.
static LAST_CHILD_CPU_MS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

fn timed_child_env(args: &[&str], store: &Path, envs: &[(&str, &str)]) -> (Duration, u64, i32) {
    let t = Instant::now();
    let out = Command::new("/usr/bin/time")
        .arg("-v")
        .arg(BIN)
        .arg("--store")
        .arg(store)
        .args(args)
        .env("DOSSIER_ACTOR", "bench")
        .env("DOSSIER_MAX_FILE_BYTES", "4000000000")
        .envs(envs.iter().copied())
        .output()
        .expect("run /usr/bin/time");
    let wall = t.elapsed();
    let err = String::from_utf8_lossy(&out.stderr);
    let secs = |k: &str| -> f64 {
        err.lines()
            .find_map(|l| l.trim().strip_prefix(k))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0.0)
    };
    let cpu = secs("User time (seconds): ") + secs("System time (seconds): ");
    LAST_CHILD_CPU_MS.store((cpu * 1000.0) as u64, std::sync::atomic::Ordering::Relaxed);
    let rss = err
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("Maximum resident set size (kbytes): ")
        })
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    if !out.status.success() && out.status.code() != Some(1) {
        eprintln!(
            "child {args:?} failed: {}",
            err.lines().take(3).collect::<Vec<_>>().join(" | ")
        );
    }
    (wall, rss, out.status.code().unwrap_or(-1))
}

fn bench_import(dir: &Path) {
    let target = env_u64("DOSSIER_BENCH_MB", 100) * 1_000_000;
    println!(
        "\n## import throughput (file >= {} MB, load {})",
        target / 1_000_000,
        load()
    );
    println!("| format | file MB | rows | parse-only MB/s (wall / CPU) | streamed parse-only MB/s (wall / CPU) | import MB/s (wall) | import CPU s (user+sys) | import MB per CPU s | import/streamed parse (CPU) | import/parse (wall) | peak RSS MiB |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    let nf = findings_for_trivy_bytes(target) * 105 / 100;
    // ~1.1 KB per CycloneDX component, ~1.0 KB per SPDX package with its relationships.
    let nc = (target / 950) as usize;
    let cases = [
        (SynthFormat::Trivy, Format::TrivyJson, 5_000usize, nf),
        (SynthFormat::Grype, Format::GrypeJson, 5_000, nf * 115 / 100),
        (SynthFormat::CycloneDx, Format::CycloneDxJson, nc, 0),
        (SynthFormat::Spdx, Format::SpdxJson, nc * 105 / 100, 0),
    ];
    for (sf, fmt, components, findings) in cases {
        let d = dir.join(format!("imp-{}", sf.file_name()));
        let opts = SynthOptions {
            seed: 11,
            components,
            findings,
            formats: vec![sf],
        };
        let (path, size) = generate(&opts, &d).expect("generate").remove(0);
        // Baseline: read + parse only, same bytes, same run.
        let t = Instant::now();
        let (c0, _) = sched();
        let bytes = std::fs::read(&path).expect("read");
        let doc = dossier::ingest::formats::parse(fmt, &bytes).expect("parse");
        let parse = t.elapsed();
        let parse_cpu = (sched().0 - c0) as f64 / 1e9;
        let rows = (doc.findings.len() + doc.components.len()) as f64;
        drop(doc);
        drop(bytes);
        // The import's own parse: the file streamed (`parse_reader`, what a file over
        // `stream_above_bytes` goes through), findings counted and dropped.
        struct Count(usize);
        impl dossier::ingest::formats::stream::FindingSink for Count {
            fn finding(&mut self, _: dossier::model::FindingRecord) -> Result<(), String> {
                self.0 += 1;
                Ok(())
            }
        }
        let t = Instant::now();
        let (c0, _) = sched();
        let file =
            std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(&path).expect("open"));
        let mut count = Count(0);
        let s = dossier::ingest::formats::parse_reader(fmt, file, &mut count).expect("stream");
        let streamed = t.elapsed();
        let streamed_cpu = (sched().0 - c0) as f64 / 1e9;
        drop(s);
        // The same import twice: the default (files over 32 MiB streamed: Trivy, Grype,
        // CycloneDX and SPDX JSON) and with streaming off, the whole-document path, as a
        // same-run baseline.
        for (label, envs) in [
            ("", &[][..]),
            (
                " (whole)",
                &[("DOSSIER_STREAM_ABOVE_BYTES", "18446744073709551615")][..],
            ),
        ] {
            let store = d.join("store.db");
            let (wall, rss, _) =
                timed_child_env(&["import", path.to_str().unwrap_or("")], &store, envs);
            let cpu = LAST_CHILD_CPU_MS.load(std::sync::atomic::Ordering::Relaxed) as f64 / 1000.0;
            let pm = mb(size) / parse.as_secs_f64();
            let sm = mb(size) / streamed.as_secs_f64();
            let im = mb(size) / wall.as_secs_f64();
            let icpu = mb(size) / cpu.max(1e-9);
            let scpu = mb(size) / streamed_cpu.max(1e-9);
            println!(
                "| {}{label} | {:.0} | {} | {:.0} / {:.0} | {:.0} / {:.0} | {:.0} | {:.2} | {:.0} | {:.2} | {:.2} | {:.0} |",
                fmt.name(),
                mb(size),
                rows,
                pm,
                mb(size) / parse_cpu.max(1e-9),
                sm,
                scpu,
                im,
                cpu,
                icpu,
                icpu / scpu,
                im / pm,
                rss as f64 / 1024.0
            );
            for ext in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(d.join(format!("store.db{ext}")));
            }
        }
        let _ = std::fs::remove_dir_all(&d);
    }
}

fn bench_rss(dir: &Path) {
    let sizes = std::env::var("DOSSIER_BENCH_RSS_MB").unwrap_or_else(|_| "10,100,500".into());
    let sizes: Vec<u64> = sizes
        .split(',')
        .filter_map(|s| s.trim().parse::<u64>().ok())
        .collect();
    // DOSSIER_BENCH_RSS_FORMATS=trivy,cdx,spdx (default: all three)
    let formats =
        std::env::var("DOSSIER_BENCH_RSS_FORMATS").unwrap_or_else(|_| "trivy,cdx,spdx".into());
    for f in formats.split(',').map(str::trim) {
        let (sf, what) = match f {
            "trivy" => (SynthFormat::Trivy, "findings"),
            "cdx" => (SynthFormat::CycloneDx, "components"),
            "spdx" => (SynthFormat::Spdx, "packages"),
            _ => continue,
        };
        println!(
            "\n## peak RSS of `dossier import` as the {} file grows (load {})",
            sf.file_name(),
            load()
        );
        println!(
            "| file MB | {what} | wall s | CPU s (user+sys) | peak RSS MiB | RSS / file size |"
        );
        println!("|---|---|---|---|---|---|");
        for &s in &sizes {
            let d = dir.join(format!("rss{s}"));
            let bytes = s * 1_000_000;
            let opts = match sf {
                SynthFormat::Trivy => SynthOptions {
                    seed: 5,
                    components: 5_000,
                    findings: findings_for_trivy_bytes(bytes) * 105 / 100,
                    formats: vec![sf],
                },
                // ~1.1 KB per CycloneDX component, ~1.0 KB per SPDX package (as `import`).
                _ => SynthOptions {
                    seed: 5,
                    components: (bytes / 950) as usize * if f == "spdx" { 105 } else { 100 } / 100,
                    findings: 0,
                    formats: vec![sf],
                },
            };
            let n = if opts.findings > 0 {
                opts.findings
            } else {
                opts.components
            };
            let (path, size) = generate(&opts, &d).expect("generate").remove(0);
            let (wall, rss, cpu, code) = timed_child_cpu(
                &["import", path.to_str().unwrap_or("")],
                &d.join("store.db"),
            );
            println!(
                "| {:.0} | {} | {:.1} | {:.1} | {:.0} | {:.2} |{}",
                mb(size),
                n,
                wall.as_secs_f64(),
                cpu,
                rss as f64 / 1024.0,
                rss as f64 * 1024.0 / size as f64,
                if code > 1 { " (failed)" } else { "" }
            );
            let _ = std::fs::remove_dir_all(&d);
        }
    }
}

/// `timed_child` plus the child's CPU time (user + sys seconds, from `/usr/bin/time -v`).
fn timed_child_cpu(args: &[&str], store: &Path) -> (Duration, u64, f64, i32) {
    let t = Instant::now();
    let out = Command::new("/usr/bin/time")
        .arg("-v")
        .arg(BIN)
        .arg("--store")
        .arg(store)
        .args(args)
        .env("DOSSIER_ACTOR", "bench")
        .env("DOSSIER_MAX_FILE_BYTES", "4000000000")
        .output()
        .expect("run /usr/bin/time");
    let wall = t.elapsed();
    let err = String::from_utf8_lossy(&out.stderr);
    let field = |name: &str| -> Option<f64> {
        err.lines()
            .find_map(|l| l.trim().strip_prefix(name))
            .and_then(|v| v.trim().parse().ok())
    };
    let rss = field("Maximum resident set size (kbytes): ").unwrap_or(0.0) as u64;
    let cpu = field("User time (seconds): ").unwrap_or(0.0)
        + field("System time (seconds): ").unwrap_or(0.0);
    (wall, rss, cpu, out.status.code().unwrap_or(-1))
}

/// A store with one set of `n` findings over n/20 components, written through the store's
/// own import path (the same SQL an import runs), without parsing files.
fn big_store(path: &Path, n: usize) -> (Store, i64, Duration) {
    if let Ok(keep) = std::env::var("DOSSIER_BENCH_STORE") {
        let keep = PathBuf::from(keep);
        if keep.exists() {
            let t = Instant::now();
            let st = Store::open(&keep).expect("open kept store");
            let set = st
                .list_sets()
                .expect("sets")
                .into_iter()
                .find(|s| s.package.as_deref() == Some("bench") && s.findings == n as i64);
            if let Some(set) = set {
                eprintln!(
                    "reusing {} (open + migrate {:?})",
                    keep.display(),
                    t.elapsed()
                );
                return (st, set.id, Duration::ZERO);
            }
            drop(st);
        }
        return write_big_store(&keep, n);
    }
    write_big_store(path, n)
}

fn write_big_store(path: &Path, n: usize) -> (Store, i64, Duration) {
    let _ = std::fs::remove_file(path);
    let mut st = Store::open(path).expect("open store");
    let nc = (n / 20).max(1);
    let comps: Vec<SetComponent> = (0..nc)
        .map(|i| {
            let name = if i % 100 == 0 {
                format!("openssl-{i}")
            } else {
                format!("lib{}-{i}", ["core", "net", "json", "xml", "http"][i % 5])
            };
            let purl = format!("pkg:deb/debian/{name}@1.{}", i % 7);
            SetComponent {
                key: ComponentKey(purl.clone()),
                purl: Some(purl),
                kind: "deb".into(),
                name,
                version: Some(format!("1.{}", i % 7)),
                in_scan: true,
                ..Default::default()
            }
        })
        .collect();
    let desc = "A flaw was found in the handling of crafted input which allows a remote attacker to cause a denial of service via memory corruption; heap buffer overflow in the parser when processing specially crafted certificates may lead to arbitrary code execution or information disclosure.";
    let findings: Vec<SetFinding> = (0..n)
        .map(|i| {
            let sev = Severity::ALL[(i * 7) % 6];
            let trivy = ScannerView {
                scanner: "trivy".into(),
                severity: sev,
                cvss: vec![Cvss {
                    version: CvssVersion::V3_1,
                    base_score: Some(((i % 100) as f64) / 10.0),
                    vector: Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H".into()),
                    source: "nvd".into(),
                }],
                fixed_versions: if i % 3 == 0 {
                    vec![]
                } else {
                    vec!["2.0".into()]
                },
                fix_state: if i % 3 == 0 {
                    "not-fixed".into()
                } else {
                    "fixed".into()
                },
                description: Some(desc.into()),
                title: Some(format!("title {i}")),
                ..Default::default()
            };
            // Two scanners as in real evidence: Grype agrees on 90% of the findings, and
            // names another fixed version on 1 in 50 of those (the fix cross-check's input).
            let mut views = Vec::with_capacity(2);
            if i % 10 != 0 {
                let mut grype = trivy.clone();
                grype.scanner = "grype".into();
                // Without the long text, to keep the 1M store under ~3 GB of scratch disk.
                grype.description = None;
                grype.title = None;
                if i % 50 == 1 {
                    grype.fixed_versions = vec!["2.1".into()];
                }
                views.push((1, grype));
            }
            views.insert(0, (0, trivy));
            SetFinding {
                vuln_id: format!("CVE-{}-{}", 2014 + i % 12, 10000 + i),
                aliases: vec![],
                component_key: comps[i % nc].key.clone(),
                views,
            }
        })
        .collect();
    let deps = BTreeSet::new();
    // The two scanner reports the views point at (rows only: no bytes stored).
    let file = |name: &str, scanner: &str, sha: char| FileRow {
        path: format!("{name}.json"),
        sha256: std::iter::repeat_n(sha, 64).collect(),
        size: 0,
        bytes: None,
        format: Some(name.into()),
        spec_version: None,
        status: "parsed".into(),
        message: None,
        named_digests: vec![],
        doc_kind: Some("scan".into()),
        scanner: Some(scanner.into()),
        scanner_version: None,
        db_built: Some("2026-11-26T00:00:00Z".into()),
        scanned_at: Some("2026-11-26T01:00:00Z".into()),
    };
    let files = [
        file("trivy-json", "trivy", 'a'),
        file("grype-json", "grype", 'c'),
    ];
    let shas: Vec<String> = files.iter().map(|f| f.sha256.clone()).collect();
    let w = SetWrite {
        existing: None,
        package: Some("bench"),
        digest: Some("sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"),
        image: Some("registry.example.mil/bench/app:1"),
        repository: Some("registry.example.mil/bench/app"),
        source: "bench",
        image_user: None,
        new_files: &files,
        file_shas: &shas,
        components: &comps,
        dependencies: &deps,
        findings: &findings,
    };
    let t = Instant::now();
    let id = st.write_import(&w, &|_, _| Ok(())).expect("write").set_id;
    (st, id, t.elapsed())
}

fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn pct(mut v: Vec<Duration>) -> (f64, f64) {
    v.sort();
    let at = |p: f64| v[((v.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1000.0;
    (at(0.5), at(0.95))
}

fn sample(reps: usize, mut f: impl FnMut()) -> (f64, f64) {
    let v: Vec<Duration> = (0..reps)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    pct(v)
}

/// CPU time of this thread and its time waiting for a core (ns), from the scheduler: on a
/// shared 2-core machine at load 8 the wall time is mostly waiting, and this separates the two.
fn sched() -> (u64, u64) {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    let mut it = s.split_whitespace().map(|v| v.parse::<u64>().unwrap_or(0));
    (it.next().unwrap_or(0), it.next().unwrap_or(0))
}

/// Wall, CPU and run-queue wait seconds of `f`.
fn timed<T>(f: impl FnOnce() -> T) -> (T, [f64; 3]) {
    let (c0, w0) = sched();
    let t = Instant::now();
    let v = f();
    let wall = t.elapsed().as_secs_f64();
    let (c1, w1) = sched();
    (
        v,
        [
            wall,
            (c1 - c0) as f64 / 1e9,
            (w1.saturating_sub(w0)) as f64 / 1e9,
        ],
    )
}

/// Gate + cross-checks over the big set, with the pieces timed on their own so the
/// breakdown is in the same run: the bare row read, the scanner-fix query, the whole
/// evaluation (collected and streamed), and the TUI's judgement-cache write.
fn bench_gate(st: &Store, id: i64, n: usize) {
    use dossier::store::judge::JudgementRow;
    use dossier::workflow::judge;
    let policy = judge::load_policy(None).expect("policy");
    let as_of = judge::parse_as_of(Some("2026-11-27")).expect("date");
    let trusted = judge::inputs::trusted_keys(st).expect("keys");
    let reps = env_u64("DOSSIER_BENCH_GATE_REPS", 3) as usize;
    // Median by wall time; the row shows that run's wall, CPU and wait.
    let med = |mut v: Vec<[f64; 3]>| {
        v.sort_by(|a, b| a[0].total_cmp(&b[0]));
        let m = v[v.len() / 2];
        format!("{:.2} | {:.2} | {:.2}", m[0], m[1], m[2])
    };
    // DOSSIER_BENCH_GATE_PARTS=views,read (say) times only those parts, for profiling.
    let parts = std::env::var("DOSSIER_BENCH_GATE_PARTS").unwrap_or_default();
    let part = |p: &str| parts.is_empty() || parts.split(',').any(|x| x == p);
    let med = |v: Vec<[f64; 3]>| {
        if v.is_empty() {
            "- | - | -".to_string()
        } else {
            med(v)
        }
    };
    let mut rows = 0usize;
    let mut read = Vec::new();
    let mut fix = Vec::new();
    let mut collected = Vec::new();
    let mut streamed = Vec::new();
    let mut views = Vec::new();
    let mut verdict = String::new();
    let mut seen = 0usize;
    let mut nfix = 0;
    for _ in 0..reps {
        if part("read") {
            rows = 0;
            let (_, t) = timed(|| {
                st.for_each_gate_row_ref(id, &mut |_| {
                    rows += 1;
                    Ok(())
                })
                .expect("rows")
            });
            read.push(t);
        }
        if part("fix") {
            let (n, t) = timed(|| st.fix_disagreements(id).map(|v| v.len()).unwrap_or(0));
            nfix = n;
            fix.push(t);
        }
        if part("collected") {
            let (r, t) = timed(|| judge::evaluate_set(st, id, &policy, as_of));
            collected.push(t);
            verdict = r
                .as_ref()
                .map(|r| r.verdict.as_str().to_string())
                .unwrap_or_else(|e| format!("error: {e}"));
            drop(r);
        }
        if part("streamed") {
            seen = 0;
            let (_, t) = timed(|| {
                judge::evaluate_set_streaming(st, id, &policy, as_of, &trusted, &mut |_| seen += 1)
                    .expect("streaming")
            });
            streamed.push(t);
        }
        if part("views") {
            let (r, t) = timed(|| {
                judge::evaluate_set_views(st, id, &policy, as_of, &trusted, &mut |_| {})
                    .expect("views")
            });
            if verdict.is_empty() {
                verdict = r.verdict.as_str().to_string();
            }
            views.push(t);
        }
    }
    // The workstation's path: judgements streamed into compact rows, then cached in the store.
    let mut cache = Vec::new();
    if part("cache") {
        let mut marks: Vec<JudgementRow> = Vec::with_capacity(n);
        judge::evaluate_set_views(st, id, &policy, as_of, &trusted, &mut |f| {
            marks.push(JudgementRow {
                finding_id: f.finding_id,
                gate: f.gate.as_str().to_string(),
                disposition: f.disposition.unwrap_or("undecided").to_string(),
                reason: f.reason.to_string(),
                epss: f.epss,
                kev: f.kev,
            })
        })
        .expect("views");
        let mut st2 = Store::open(st.path()).expect("second connection");
        let (_, t) = timed(|| st2.replace_judgements(id, marks).expect("cache write"));
        cache.push(t);
    }
    println!(
        "\n| gate + cross-checks ({n} findings, median of {reps}; load {}) | wall s | CPU s | waiting for a core s |\n|---|---|---|---|",
        load()
    );
    println!(
        "| workflow::judge::evaluate_set ({verdict}; every judgement collected and sorted) | {} |",
        med(collected)
    );
    println!(
        "| evaluate_set_streaming ({seen} owned judgements streamed, none kept) | {} |",
        med(streamed)
    );
    println!(
        "| **gate + checks**: evaluate_set_views (verdict, counts, every check; judgements lent as views, none kept) | {} |",
        med(views)
    );
    println!(
        "| part: store.for_each_gate_row_ref, {rows} rows read and decoded (borrowed), nothing judged | {} |",
        med(read)
    );
    println!(
        "| part: store.fix_disagreements ({nfix} findings, whole-set SQL; not on the gate's path) | {} |",
        med(fix)
    );
    println!(
        "| TUI: replace_judgements, {n} rows into the finding_judgement cache | {} |",
        med(cache)
    );
}

fn bench_view_and_gate(dir: &Path, which: (bool, bool, bool)) {
    let n = env_u64("DOSSIER_BENCH_FINDINGS", 1_000_000) as usize;
    // The TUI child opens the same file: the kept store when one is named.
    let db = std::env::var("DOSSIER_BENCH_STORE")
        .map(PathBuf::from)
        .unwrap_or_else(|_| dir.join("big.db"));
    let (st, id, wrote) = big_store(&db, n);
    println!(
        "\n## {n} findings in one set (store write {:.1} s, {:.0} rows/s; load {})",
        wrote.as_secs_f64(),
        n as f64 / wrote.as_secs_f64(),
        load()
    );
    if which.0 {
        let page = 60;
        let all = ViewFilter::default();
        println!("| findings view operation (store::views, page {page}) | p50 ms | p95 ms |");
        println!("|---|---|---|");
        let (a, b) = sample(20, || {
            st.findings_after(id, &all, ViewSort::Severity, None, page)
                .expect("page");
        });
        println!("| first page | {a:.2} | {b:.2} |");
        let mut cur: Option<Cursor> = None;
        let (a, b) = sample(200, || {
            let rows = st
                .findings_after(id, &all, ViewSort::Severity, cur.as_ref(), page)
                .expect("page");
            cur = rows.get(1).map(Cursor::from);
        });
        println!("| scroll one row (keyset page query) | {a:.2} | {b:.2} |");
        let mut sorts = [ViewSort::Id, ViewSort::Component, ViewSort::Severity]
            .into_iter()
            .cycle();
        let (a, b) = sample(15, || {
            let s = sorts.next().unwrap_or_default();
            let rows = st.findings_after(id, &all, s, None, page).expect("page");
            if let Some(r) = rows.get(10) {
                st.findings_rank(id, &all, s, &Cursor::from(r))
                    .expect("rank");
            }
        });
        println!("| re-sort, SQL (first page + rank of selection) | {a:.2} | {b:.2} |");
        // The workstation's path: the set's in-memory finding index (one sequential read),
        // then each keystroke = one pass over it + the page's rows by primary key.
        let rss0 = status_kib("VmRSS:");
        let t = Instant::now();
        let mut ix = dossier::workflow::finding_index::build(&st, id).expect("index");
        let built = t.elapsed();
        let rss1 = status_kib("VmRSS:");
        println!(
            "| build the finding index (narrow columns in rowid order + 3 orders + classes; once per opened set) | {:.0} | - |",
            built.as_secs_f64() * 1000.0
        );
        // A judgement cache as the gate writes it: class by i % 3, disposition by i % 5.
        let ids: Vec<i64> = {
            let mut v = Vec::with_capacity(n);
            st.for_each_finding_in_order(id, ViewSort::Id, &mut |i| v.push(i))
                .expect("ids");
            v
        };
        let classes = ["BLOCK", "WARN", "INFO"];
        let disps = [
            "undecided",
            "not_affected",
            "patched",
            "false_positive",
            "waived",
        ];
        for (i, fid) in ids.iter().enumerate() {
            ix.set_judgement(*fid, classes[i % 3], disps[i % 5]);
        }
        let keystroke = |f: &ViewFilter, sort: ViewSort| -> (usize, u64) {
            let r = ix.query(
                &dossier::workflow::finding_index::index_filter(f),
                dossier::workflow::finding_index::slot(sort),
            );
            let page_ids: Vec<i64> = r
                .entries
                .iter()
                .take(page)
                .filter_map(|e| ix.id(*e))
                .collect();
            let rows = st.findings_by_ids(&page_ids).expect("rows");
            (rows.len(), r.counts.iter().sum())
        };
        for (term, kind) in [
            ("openssl", "selective"),
            ("CVE-2019-5", "selective"),
            ("openssl-1", "selective"),
            ("lib", "broad"),
            ("libjson", "broad"),
            ("o", "1 character"),
            ("op", "2 characters"),
            ("c", "1 character"),
        ] {
            let f = ViewFilter {
                text: term.into(),
                ..ViewFilter::default()
            };
            let mut matched = 0;
            let (a, b) = sample(20, || {
                matched = keystroke(&f, ViewSort::Severity).1;
            });
            println!(
                "| filter keystroke {term:?}, {kind} ({matched} match; index pass + counts + first page rows) | {a:.1} | {b:.1} |"
            );
        }
        let mut sorts = [ViewSort::Id, ViewSort::Component, ViewSort::Severity]
            .into_iter()
            .cycle();
        let sel = ids.get(n / 2).copied().unwrap_or(0);
        let (a, b) = sample(15, || {
            let s = sorts.next().unwrap_or_default();
            let r = ix.query(
                &dossier::workflow::finding_index::index_filter(&all),
                dossier::workflow::finding_index::slot(s),
            );
            // The selection's new position, then the rows around it.
            let e = ix.entry_of(sel).expect("entry");
            let p = r.entries.iter().position(|x| *x == e).unwrap_or(0);
            let around: Vec<i64> = r.entries
                [p.saturating_sub(page / 2)..(p + page / 2).min(r.entries.len())]
                .iter()
                .filter_map(|e| ix.id(*e))
                .collect();
            st.findings_by_ids(&around).expect("rows");
        });
        println!("| re-sort, index (walk another cached order + position of the selection + rows around it) | {a:.1} | {b:.1} |");
        for (label, f) in [
            (
                "gate class BLOCK (b)",
                ViewFilter {
                    gates: vec!["BLOCK".into()],
                    ..ViewFilter::default()
                },
            ),
            (
                "disposition not_affected (o)",
                ViewFilter {
                    dispositions: vec!["not_affected".into()],
                    ..ViewFilter::default()
                },
            ),
            (
                "\"openssl\" + BLOCK + High/Critical only",
                ViewFilter {
                    text: "openssl".into(),
                    severities: vec![Severity::Critical, Severity::High],
                    gates: vec!["BLOCK".into()],
                    ..ViewFilter::default()
                },
            ),
        ] {
            let mut matched = 0;
            let (a, b) = sample(20, || {
                matched = keystroke(&f, ViewSort::Severity).1;
            });
            println!("| filter {label}, index ({matched} match) | {a:.1} | {b:.1} |");
        }
        println!(
            "| index memory: {} MiB by its own count; process RSS +{} MiB while building | - | - |",
            ix.heap_bytes() >> 20,
            rss1.saturating_sub(rss0) >> 10
        );
        // Baseline in the same run: a bare indexed point lookup.
        let (a, b) = sample(200, || {
            st.findings_after(id, &all, ViewSort::Id, None, 1)
                .expect("page");
        });
        println!("| baseline: 1-row keyset query | {a:.3} | {b:.3} |");
    }
    if which.1 {
        bench_gate(&st, id, n);
    }
    if which.2 {
        drop(st);
        // A fresh process, so its RSS is the TUI's alone (not this one's generator).
        for (w, h) in [(80u16, 24u16), (200, 50)] {
            let out = Command::new(std::env::current_exe().expect("exe"))
                .arg("__tui-child")
                .arg(&db)
                .arg(w.to_string())
                .arg(h.to_string())
                .env("DOSSIER_ACTOR", "bench")
                .output()
                .expect("tui child");
            print!("{}", String::from_utf8_lossy(&out.stdout));
            if !out.status.success() {
                eprintln!("tui child failed: {}", String::from_utf8_lossy(&out.stderr));
            }
        }
    }
}

fn bench_export(dir: &Path) {
    println!("\n## export (release binary, load {})", load());
    println!("| findings | format | wall s | peak RSS MiB | output MB |");
    println!("|---|---|---|---|---|");
    for n in [10_000usize, 100_000] {
        let db = dir.join(format!("exp{n}.db"));
        // Its own store per size: DOSSIER_BENCH_STORE names the 1M view/gate store only.
        drop(write_big_store(&db, n));
        for fmt in ["json", "pdf"] {
            let out = dir.join(format!("exp{n}-{fmt}"));
            let (wall, rss, code) = timed_child(
                &[
                    "export",
                    "--set",
                    "1",
                    "--format",
                    fmt,
                    "--as-of",
                    "2026-11-27",
                    "--all-findings",
                    "--out",
                    out.to_str().unwrap_or(""),
                ],
                &db,
            );
            let size: u64 = std::fs::read_dir(&out)
                .map(|r| {
                    r.filter_map(|e| e.ok()?.metadata().ok())
                        .map(|m| m.len())
                        .sum()
                })
                .unwrap_or(0);
            println!(
                "| {n} | {fmt} (+package.json) | {:.2} | {:.0} | {:.1} |{}",
                wall.as_secs_f64(),
                rss as f64 / 1024.0,
                mb(size),
                if code != 0 && code != 1 && code != 3 {
                    " (failed)"
                } else {
                    ""
                }
            );
        }
    }
}

/// 50 images x 2,000 findings (`dossier dev gen`, all four formats each): one import of
/// the package, the gate over it, and the full export, each a real release child.
fn bench_package(dir: &Path) {
    let images = env_u64("DOSSIER_BENCH_IMAGES", 50);
    let per = env_u64("DOSSIER_BENCH_PER_IMAGE", 2_000);
    let root = dir.join("package");
    let mut dirs = Vec::new();
    let t = Instant::now();
    for i in 0..images {
        let d = root.join(format!("img{i:02}"));
        let st = Command::new(BIN)
            .args(["dev", "gen", "--seed"])
            .arg((1000 + i).to_string())
            .args(["--components", &(per / 4).to_string()])
            .args(["--findings", &per.to_string(), "--out"])
            .arg(&d)
            .stdout(std::process::Stdio::null())
            .status()
            .expect("dev gen");
        assert!(st.success(), "dev gen failed");
        dirs.push(d.to_string_lossy().into_owned());
    }
    let bytes: u64 = dirs
        .iter()
        .flat_map(|d| std::fs::read_dir(d).into_iter().flatten())
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum();
    println!(
        "\n## package of {images} images x {per} findings ({:.0} MB of evidence, generated in {:.1} s; load {})",
        mb(bytes),
        t.elapsed().as_secs_f64(),
        load()
    );
    println!("| step (release child) | wall s | peak RSS MiB | exit |");
    println!("|---|---|---|---|");
    let db = dir.join("package.db");
    let mut args = vec!["import", "--package", "pkg"];
    args.extend(dirs.iter().map(String::as_str));
    let out = dir.join("package-out");
    let out_s = out.to_string_lossy().into_owned();
    let steps: Vec<(&str, Vec<&str>)> = vec![
        ("import (one command, every image)", args),
        (
            "gate --package",
            vec!["gate", "--package", "pkg", "--as-of", "2026-11-27"],
        ),
        (
            "export --package (all formats)",
            vec![
                "export",
                "--package",
                "pkg",
                "--as-of",
                "2026-11-27",
                "--out",
                &out_s,
            ],
        ),
    ];
    let mut total = 0.0;
    for (label, a) in steps {
        let (wall, rss, code) = timed_child(&a, &db);
        total += wall.as_secs_f64();
        println!(
            "| {label} | {:.2} | {:.0} | {code} |",
            wall.as_secs_f64(),
            rss as f64 / 1024.0
        );
    }
    println!("| **total** | **{total:.2}** | | |");
    let _ = std::fs::remove_dir_all(&root);
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    if args.first().map(String::as_str) == Some("__tui-child") {
        let num = |i: usize| args.get(i).and_then(|v| v.parse().ok()).unwrap_or(80);
        tui_bench::child(Path::new(&args[1]), num(2), num(3));
        return;
    }
    let on = |k: &str| args.is_empty() || args.iter().any(|a| a == k || a == "all");
    let base: PathBuf = std::env::var("DOSSIER_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| std::env::temp_dir());
    let dir = tempfile::Builder::new()
        .prefix("dossier-bench")
        .tempdir_in(base)
        .expect("tempdir");
    println!(
        "# dossier scale benchmarks ({} cores, load {})",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0),
        load()
    );
    if on("import") {
        bench_import(dir.path());
    }
    if on("rss") {
        bench_rss(dir.path());
    }
    if on("view") || on("gate") || on("tui") {
        bench_view_and_gate(dir.path(), (on("view"), on("gate"), on("tui")));
    }
    if on("export") {
        bench_export(dir.path());
    }
    if on("package") {
        bench_package(dir.path());
    }
    // DOSSIER_BENCH_KEEP=1 leaves the stores and outputs behind for profiling.
    if std::env::var_os("DOSSIER_BENCH_KEEP").is_some() {
        println!("kept: {}", dir.keep().display());
    }
}
