//! The compact half of a spooled view: what the store write summarises (severity, CVSS,
//! EPSS, KEV, fixed versions, fix state, scanner, title, description) in a small binary
//! form next to the view's JSON text, so the write never parses JSON back.

use crate::model::{Cvss, CvssVersion, Epss, ScannerView, Severity};

/// Appends one spool record to `out`: `u32` length of the view's JSON text, the text as
/// serde writes it with the title and description `None` (what `store::FindingStream::view_json` gives: the
/// two long strings are in the summary, not escaped into the text as well), then
/// `put_summary`'s bytes. `view` is as it came in when this returns.
pub(super) fn encode(view: &mut ScannerView, out: &mut Vec<u8>) -> serde_json::Result<()> {
    let start = out.len();
    out.extend_from_slice(&[0; 4]);
    let title = view.title.take();
    let description = view.description.take();
    let written = serde_json::to_writer(&mut *out, &*view);
    view.title = title;
    view.description = description;
    written?;
    let n = u32::try_from(out.len() - start - 4).map_err(|_| {
        serde_json::Error::io(std::io::Error::other("a scanner view of over 4 GiB"))
    })?;
    out[start..start + 4].copy_from_slice(&n.to_le_bytes());
    put_summary(view, out);
    Ok(())
}

/// `view` serialised as `encode` writes it into a record.
#[cfg(test)]
pub(super) fn blanked_text(view: &ScannerView) -> String {
    let mut v = view.clone();
    v.title = None;
    v.description = None;
    serde_json::to_string(&v).unwrap()
}

/// Splits a record into its JSON text and the view's summary fields.
pub(super) fn decode(rec: &[u8]) -> Result<(&[u8], ScannerView), String> {
    let mut r = Reader { b: rec };
    let n = r.u32()? as usize;
    let json = r.take(n)?;
    let v = r.summary()?;
    if !r.b.is_empty() {
        return Err(format!("{} bytes left over in a spool record", r.b.len()));
    }
    Ok((json, v))
}

/// The view with only the fields `summary` keeps: what `decode` gives back for it.
#[cfg(test)]
pub(super) fn summary_of(v: &ScannerView) -> ScannerView {
    ScannerView {
        scanner: v.scanner.clone(),
        scanner_version: v.scanner_version.clone(),
        severity: v.severity,
        cvss: v.cvss.clone(),
        fixed_versions: v.fixed_versions.clone(),
        fix_state: v.fix_state.clone(),
        title: v.title.clone(),
        description: v.description.clone(),
        epss: v.epss.clone(),
        kev: v.kev,
        ..ScannerView::default()
    }
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

fn put_str(s: &str, out: &mut Vec<u8>) {
    out.extend_from_slice(&u32::try_from(s.len()).unwrap_or(u32::MAX).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
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

fn put_summary(v: &ScannerView, out: &mut Vec<u8>) {
    put_str(&v.scanner, out);
    put_opt_str(v.scanner_version.as_deref(), out);
    out.push(
        SEVERITIES
            .iter()
            .position(|s| *s == v.severity)
            .unwrap_or(0) as u8,
    );
    out.extend_from_slice(&(v.cvss.len() as u32).to_le_bytes());
    for c in &v.cvss {
        put_str(&c.source, out);
        out.push(VERSIONS.iter().position(|x| *x == c.version).unwrap_or(0) as u8);
        put_opt_str(c.vector.as_deref(), out);
        put_opt_f64(c.base_score, out);
    }
    out.extend_from_slice(&(v.fixed_versions.len() as u32).to_le_bytes());
    for f in &v.fixed_versions {
        put_str(f, out);
    }
    put_str(&v.fix_state, out);
    put_opt_str(v.title.as_deref(), out);
    put_opt_str(v.description.as_deref(), out);
    match &v.epss {
        Some(e) => {
            out.push(1);
            out.extend_from_slice(&e.score.to_le_bytes());
            put_opt_f64(e.percentile, out);
            put_opt_str(e.date.as_deref(), out);
        }
        None => out.push(0),
    }
    out.push(match v.kev {
        None => 0,
        Some(false) => 1,
        Some(true) => 2,
    });
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
        String::from_utf8(b.to_vec()).map_err(|e| format!("spool record text: {e}"))
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

    fn summary(&mut self) -> Result<ScannerView, String> {
        let scanner = self.string()?;
        let scanner_version = self.opt_string()?;
        let severity = *SEVERITIES
            .get(self.u8()? as usize)
            .ok_or("bad severity in a spool record")?;
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
        let n = self.count(4)?;
        let mut fixed_versions = Vec::with_capacity(n);
        for _ in 0..n {
            fixed_versions.push(self.string()?);
        }
        let fix_state = self.string()?;
        let title = self.opt_string()?;
        let description = self.opt_string()?;
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
            cvss,
            fixed_versions,
            fix_state,
            title,
            description,
            epss,
            kev,
            ..ScannerView::default()
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
            urls: vec!["https://a.test".into()],
            epss: Some(Epss {
                score: 0.25,
                percentile: None,
                date: Some("2024-05-01".into()),
            }),
            kev: Some(false),
            match_details: Some("{}".into()),
            ignored_by: None,
            status: Some("fixed".into()),
            published: Some("2024-01-01".into()),
        }
    }

    #[test]
    fn a_record_gives_back_the_text_and_the_summary_of_its_view() {
        let empty = ScannerView::default();
        let mut no_epss = full();
        no_epss.epss = Some(Epss {
            score: 1.0,
            percentile: Some(0.5),
            date: None,
        });
        no_epss.kev = Some(true);
        no_epss.title = None;
        for v in [full(), empty, no_epss] {
            let mut rec = b"earlier record".to_vec();
            let mut given = v.clone();
            encode(&mut given, &mut rec).unwrap();
            assert_eq!(given, v, "the view is handed back whole");
            let (json, s) = decode(&rec[14..]).unwrap();
            // The text is the view with its two long strings left to the summary.
            let mut blank = v.clone();
            blank.title = None;
            blank.description = None;
            assert_eq!(json, serde_json::to_vec(&blank).unwrap());
            assert_eq!(serde_json::from_slice::<ScannerView>(json).unwrap(), blank);
            // Field by field, independently of `summary_of`.
            assert_eq!(s.scanner, v.scanner);
            assert_eq!(s.scanner_version, v.scanner_version);
            assert_eq!(s.severity, v.severity);
            assert_eq!(s.cvss, v.cvss);
            assert_eq!(s.fixed_versions, v.fixed_versions);
            assert_eq!(s.fix_state, v.fix_state);
            assert_eq!((&s.title, &s.description), (&v.title, &v.description));
            assert_eq!((&s.epss, s.kev), (&v.epss, v.kev));
            assert!(s.urls.is_empty() && s.namespace.is_none() && s.match_details.is_none());
            assert_eq!(s, summary_of(&v));
        }
    }

    #[test]
    fn a_cut_or_damaged_record_is_an_error() {
        let mut rec = Vec::new();
        encode(&mut full(), &mut rec).unwrap();
        for n in 0..rec.len() {
            assert!(decode(&rec[..n]).is_err(), "cut at {n}");
        }
        let mut longer = rec.clone();
        longer.push(0);
        assert!(decode(&longer).unwrap_err().contains("left over"));
        // A count far beyond the record is refused before anything is allocated.
        let json_len = u32::from_le_bytes([rec[0], rec[1], rec[2], rec[3]]) as usize;
        let mut huge = rec[..4 + json_len].to_vec();
        put_str("s", &mut huge);
        huge.push(0);
        huge.push(0);
        huge.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(decode(&huge).unwrap_err().contains("too many"));
    }
}
