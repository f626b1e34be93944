//! Streamed parse-only rate of one Trivy/Grype file (what `bench_import`'s streamed column
//! measures), for profiling: `parse_bench trivy|grype FILE [REPS]`.

use dossier::ingest::detect::Format;
use dossier::ingest::formats::stream::FindingSink;
use dossier::model::FindingRecord;
use std::time::Instant;

struct Count(usize, usize);
impl FindingSink for Count {
    fn finding(&mut self, f: FindingRecord) -> Result<(), String> {
        self.0 += 1;
        self.1 += f.vuln_id.len();
        Ok(())
    }
}

fn cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let fmt = if a.get(1).map(String::as_str) == Some("grype") {
        Format::GrypeJson
    } else {
        Format::TrivyJson
    };
    let path = a.get(2).cloned().unwrap_or_default();
    let reps: usize = a.get(3).and_then(|s| s.parse().ok()).unwrap_or(3);
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0) as f64 / 1e6;
    for _ in 0..reps {
        let t = Instant::now();
        let c0 = cpu_ns();
        let file = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(&path).unwrap());
        let mut count = Count(0, 0);
        let s = dossier::ingest::formats::parse_reader(fmt, file, &mut count).unwrap();
        let wall = t.elapsed().as_secs_f64();
        let cpu = (cpu_ns() - c0) as f64 / 1e9;
        println!(
            "{} findings, {} components: {:.0} MB/s wall, {:.0} MB/s CPU ({:.3} s CPU)",
            count.0,
            s.doc.components.len(),
            size / wall,
            size / cpu,
            cpu
        );
    }
}
