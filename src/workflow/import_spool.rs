//! A spooled scanner view: every field in a small binary form (length-prefixed strings,
//! fixed-width numbers), so the parse thread only copies bytes. The view's JSON text is
//! written later, by the store write's producer thread, which has time to spare; JSON here
//! cost the parse thread a tenth of its time in escaping and float formatting.

use crate::model::{Cvss, CvssVersion, Epss, ScannerView, Severity};

/// Appends `view` to `out` as `decode` reads it back.
pub(super) fn encode(view: &ScannerView, out: &mut Vec<u8>) {
    let ScannerView {
        scanner,
        scanner_version,
        severity,
        severity_source,
        cvss,
        fixed_versions,
        fix_state,
        data_source,
        namespace,
        title,
        description,
        urls,
        epss,
        kev,
        match_details,
        ignored_by,
        status,
        published,
    } = view;
    put_str(scanner, out);
    put_opt_str(scanner_version.as_deref(), out);
    out.push(SEVERITIES.iter().position(|s| s == severity).unwrap_or(0) as u8);
    put_opt_str(severity_source.as_deref(), out);
    put_len(cvss.len(), out);
    for c in cvss {
        put_str(&c.source, out);
        out.push(VERSIONS.iter().position(|x| *x == c.version).unwrap_or(0) as u8);
        put_opt_str(c.vector.as_deref(), out);
        put_opt_f64(c.base_score, out);
    }
    put_strs(fixed_versions, out);
    put_str(fix_state, out);
    put_opt_str(data_source.as_deref(), out);
    put_opt_str(namespace.as_deref(), out);
    put_opt_str(title.as_deref(), out);
    put_opt_str(description.as_deref(), out);
    put_strs(urls, out);
    match epss {
        Some(e) => {
            out.push(1);
            out.extend_from_slice(&e.score.to_le_bytes());
            put_opt_f64(e.percentile, out);
            put_opt_str(e.date.as_deref(), out);
        }
        None => out.push(0),
    }
    out.push(match kev {
        None => 0,
        Some(false) => 1,
        Some(true) => 2,
    });
    put_opt_str(match_details.as_deref(), out);
    put_opt_str(ignored_by.as_deref(), out);
    put_opt_str(status.as_deref(), out);
    put_opt_str(published.as_deref(), out);
}

/// The view `encode` wrote into `rec`, which must be exactly one record.
pub(super) fn decode(rec: &[u8]) -> Result<ScannerView, String> {
    let mut r = Reader { b: rec };
    let v = r.view()?;
    if !r.b.is_empty() {
        return Err(format!("{} bytes left over in a spool record", r.b.len()));
    }
    Ok(v)
}

const SEVERITIES: [Severity; 6] = [
    Severity::Unknown,
    Severity::Negligible,
    Severity::Low,
    Severity::Medium,
    Severity::High,
    Severity::Critical,
];
const VERSIONS: [CvssVersion; 4] = [
    CvssVersion::V2,
    CvssVersion::V3_0,
    CvssVersion::V3_1,
    CvssVersion::V4,
];

/// A length the spool's `put` has already bounded: a record is under 4 GiB, so every
/// string and list in it is too.
fn put_len(n: usize, out: &mut Vec<u8>) {
    out.extend_from_slice(&u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes());
}

fn put_str(s: &str, out: &mut Vec<u8>) {
    put_len(s.len(), out);
    out.extend_from_slice(s.as_bytes());
}

fn put_strs(v: &[String], out: &mut Vec<u8>) {
    put_len(v.len(), out);
    for s in v {
        put_str(s, out);
    }
}

fn put_opt_str(s: Option<&str>, out: &mut Vec<u8>) {
    match s {
        Some(s) => {
            out.push(1);
            put_str(s, out);
        }
        None => out.push(0),
    }
}

fn put_opt_f64(x: Option<f64>, out: &mut Vec<u8>) {
    match x {
        Some(x) => {
            out.push(1);
            out.extend_from_slice(&x.to_le_bytes());
        }
        None => out.push(0),
    }
}

struct Reader<'a> {
    b: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if n > self.b.len() {
            return Err(format!(
                "a spool record ends early ({n} bytes wanted, {} left)",
                self.b.len()
            ));
        }
        let (head, rest) = self.b.split_at(n);
        self.b = rest;
        Ok(head)
    }
    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }
    fn u32(&mut self) -> Result<u32, String> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn f64(&mut self) -> Result<f64, String> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(f64::from_le_bytes(a))
    }
    fn flag(&mut self) -> Result<bool, String> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            x => Err(format!("bad flag {x} in a spool record")),
        }
    }
    fn string(&mut self) -> Result<String, String> {
        let n = self.u32()? as usize;
        let b = self.take(n)?;
        std::str::from_utf8(b)
            .map(str::to_string)
            .map_err(|e| format!("spool record text: {e}"))
    }
    fn opt_string(&mut self) -> Result<Option<String>, String> {
        if self.flag()? {
            self.string().map(Some)
        } else {
            Ok(None)
        }
    }
    fn opt_f64(&mut self) -> Result<Option<f64>, String> {
        if self.flag()? {
            self.f64().map(Some)
        } else {
            Ok(None)
        }
    }
    /// A count of items each at least `min` bytes long, checked against what is left.
    fn count(&mut self, min: usize) -> Result<usize, String> {
        let n = self.u32()? as usize;
        if n.saturating_mul(min) > self.b.len() {
            return Err(format!("a spool record claims {n} items, too many"));
        }
        Ok(n)
    }
    fn strings(&mut self) -> Result<Vec<String>, String> {
        let n = self.count(4)?;
        (0..n).map(|_| self.string()).collect()
    }

    fn view(&mut self) -> Result<ScannerView, String> {
        let scanner = self.string()?;
        let scanner_version = self.opt_string()?;
        let severity = *SEVERITIES
            .get(self.u8()? as usize)
            .ok_or("bad severity in a spool record")?;
        let severity_source = self.opt_string()?;
        let n = self.count(7)?;
        let mut cvss = Vec::with_capacity(n);
        for _ in 0..n {
            let source = self.string()?;
            let version = *VERSIONS
                .get(self.u8()? as usize)
                .ok_or("bad CVSS version in a spool record")?;
            cvss.push(Cvss {
                source,
                version,
                vector: self.opt_string()?,
                base_score: self.opt_f64()?,
            });
        }
        let fixed_versions = self.strings()?;
        let fix_state = self.string()?;
        let data_source = self.opt_string()?;
        let namespace = self.opt_string()?;
        let title = self.opt_string()?;
        let description = self.opt_string()?;
        let urls = self.strings()?;
        let epss = if self.flag()? {
            Some(Epss {
                score: self.f64()?,
                percentile: self.opt_f64()?,
                date: self.opt_string()?,
            })
        } else {
            None
        };
        let kev = match self.u8()? {
            0 => None,
            1 => Some(false),
            2 => Some(true),
            x => return Err(format!("bad KEV flag {x} in a spool record")),
        };
        Ok(ScannerView {
            scanner,
            scanner_version,
            severity,
            severity_source,
            cvss,
            fixed_versions,
            fix_state,
            data_source,
            namespace,
            title,
            description,
            urls,
            epss,
            kev,
            match_details: self.opt_string()?,
            ignored_by: self.opt_string()?,
            status: self.opt_string()?,
            published: self.opt_string()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full() -> ScannerView {
        ScannerView {
            scanner: "gr\"ype".into(),
            scanner_version: Some("0.80.0".into()),
            severity: Severity::Critical,
            severity_source: Some("nvd".into()),
            cvss: vec![
                Cvss {
                    source: "nvd".into(),
                    version: CvssVersion::V3_1,
                    vector: Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H".into()),
                    base_score: Some(9.8),
                },
                Cvss {
                    source: String::new(),
                    version: CvssVersion::V2,
                    vector: None,
                    base_score: None,
                },
                Cvss {
                    source: "ghsa".into(),
                    version: CvssVersion::V4,
                    vector: Some("CVSS:4.0/AV:N".into()),
                    base_score: Some(-0.0),
                },
            ],
            fixed_versions: vec!["1.2".into(), String::new(), "\u{e9}".into()],
            fix_state: "fixed".into(),
            data_source: Some("https://nvd.test".into()),
            namespace: Some("debian:12".into()),
            title: Some("t \u{1b}[31m".into()),
            description: Some(String::new()),
            urls: vec!["https://a.test".into(), "b".into()],
            epss: Some(Epss {
                score: 0.25,
                percentile: None,
                date: Some("2024-05-01".into()),
            }),
            kev: Some(false),
            match_details: Some("[{\"a\":1}]".into()),
            ignored_by: Some("[]".into()),
            status: Some("fixed".into()),
            published: Some("2024-01-01".into()),
        }
    }

    /// Every field set, every field at its default, and the other values of each enum-like
    /// field: each reads back equal to the view written, from a buffer holding more.
    #[test]
    fn a_record_gives_back_the_whole_view() {
        let mut other = full();
        other.epss = Some(Epss {
            score: 1.0,
            percentile: Some(0.5),
            date: None,
        });
        other.kev = Some(true);
        other.title = None;
        other.severity = Severity::Negligible;
        other.cvss[0].version = CvssVersion::V3_0;
        let mut none = full();
        none.kev = None;
        none.epss = None;
        none.severity = Severity::Unknown;
        for v in [full(), ScannerView::default(), other, none] {
            let mut rec = b"earlier record".to_vec();
            encode(&v, &mut rec);
            assert_eq!(decode(&rec[14..]).unwrap(), v);
        }
    }

    #[test]
    fn a_cut_or_damaged_record_is_an_error() {
        let mut rec = Vec::new();
        encode(&full(), &mut rec);
        for n in 0..rec.len() {
            assert!(decode(&rec[..n]).is_err(), "cut at {n}");
        }
        let mut longer = rec.clone();
        longer.push(0);
        assert!(decode(&longer).unwrap_err().contains("left over"));
        // A count far beyond the record is refused before anything is allocated.
        let mut huge = Vec::new();
        put_str("s", &mut huge);
        huge.push(0);
        huge.push(0);
        huge.push(0);
        huge.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(decode(&huge).unwrap_err().contains("too many"));
        // A byte that is not a flag, a severity or valid UTF-8.
        let mut bad = Vec::new();
        put_str("s", &mut bad);
        bad.push(7);
        assert!(decode(&bad).unwrap_err().contains("flag"));
        let mut bad = Vec::new();
        put_str("s", &mut bad);
        bad.extend_from_slice(&[0, 9]);
        assert!(decode(&bad).unwrap_err().contains("severity"));
        let mut bad = Vec::new();
        put_len(2, &mut bad);
        bad.extend_from_slice(&[0xff, 0xfe]);
        assert!(decode(&bad).unwrap_err().contains("spool record text"));
    }
}
