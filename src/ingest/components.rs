//! What a streamed SBOM parse hands on instead of holding: each component as soon as it is
//! converted, each dependency edge, and at the end which local refs are the subject. Also the
//! compact record a component is spooled as (read back by the import's merge by key).

use crate::model::Component;
use std::collections::HashSet;

/// What an SPDX package contributes when it turns out to be a described root (the subject);
/// computed for every package as it is read, because roots are only known at the end.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RootView {
    pub name: Option<String>,
    pub version: Option<String>,
    /// Image digests the package names (unsorted, may repeat).
    pub digests: Vec<String>,
    pub reference: Option<String>,
}

/// Receives one document's components and dependency edges, in document order. Component
/// number `n` (0-based, in the order sent) is what `FindingRecord::component` would index.
pub trait ComponentSink {
    fn component(&mut self, c: &Component, root: Option<&RootView>) -> Result<(), String>;
    /// `from` depends on / contains `to` (format-local refs, as `Document::dependencies`).
    fn edge(&mut self, from: &str, to: &str) -> Result<(), String>;
    /// Components whose local ref is one of `refs` are the subject, not components.
    fn exclude(&mut self, refs: &[String]) -> Result<(), String>;
    /// The components sent so far whose local ref is in `refs`, in the order sent, with
    /// their number.
    fn find(&mut self, refs: &HashSet<String>) -> Result<Vec<Spooled>, String>;
}

/// A component read back from the spool.
#[derive(Debug, Clone, PartialEq)]
pub struct Spooled {
    pub index: usize,
    pub component: Component,
    pub root: Option<RootView>,
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&u32::try_from(s.len()).unwrap_or(u32::MAX).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn put_opt(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => {
            out.push(1);
            put_str(out, s);
        }
        None => out.push(0),
    }
}

fn put_vec(out: &mut Vec<u8>, v: &[String]) {
    out.extend_from_slice(&u32::try_from(v.len()).unwrap_or(u32::MAX).to_le_bytes());
    for s in v {
        put_str(out, s);
    }
}

/// Appends the record of `c` (and its root view) to `out`: length-prefixed strings, read
/// back by `decode`. No JSON: a record is written and read once per import.
pub fn encode(c: &Component, root: Option<&RootView>, out: &mut Vec<u8>) {
    put_opt(out, c.purl.as_deref());
    put_str(out, &c.kind);
    put_str(out, &c.name);
    put_opt(out, c.version.as_deref());
    put_vec(out, &c.licenses);
    put_vec(out, &c.cpes);
    put_vec(out, &c.locations);
    put_opt(out, c.local_ref.as_deref());
    match root {
        Some(r) => {
            out.push(1);
            put_opt(out, r.name.as_deref());
            put_opt(out, r.version.as_deref());
            put_vec(out, &r.digests);
            put_opt(out, r.reference.as_deref());
        }
        None => out.push(0),
    }
}

struct Rd<'a>(&'a [u8]);

impl Rd<'_> {
    fn bytes(&mut self, n: usize) -> Result<&[u8], String> {
        if self.0.len() < n {
            return Err("component spool record is truncated".into());
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }
    fn u32(&mut self) -> Result<usize, String> {
        let b = self.bytes(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
    }
    fn flag(&mut self) -> Result<bool, String> {
        Ok(self.bytes(1)?[0] != 0)
    }
    fn str(&mut self) -> Result<String, String> {
        let n = self.u32()?;
        String::from_utf8(self.bytes(n)?.to_vec()).map_err(|e| e.to_string())
    }
    fn opt(&mut self) -> Result<Option<String>, String> {
        if self.flag()? {
            self.str().map(Some)
        } else {
            Ok(None)
        }
    }
    fn vec(&mut self) -> Result<Vec<String>, String> {
        let n = self.u32()?;
        let mut v = Vec::with_capacity(n.min(64));
        for _ in 0..n {
            v.push(self.str()?);
        }
        Ok(v)
    }
}

impl<'a> Rd<'a> {
    fn skip_str(&mut self) -> Result<(), String> {
        let n = self.u32()?;
        self.bytes(n).map(drop)
    }
    fn skip_opt(&mut self) -> Result<(), String> {
        if self.flag()? {
            self.skip_str()?;
        }
        Ok(())
    }
    fn skip_vec(&mut self) -> Result<(), String> {
        for _ in 0..self.u32()? {
            self.skip_str()?;
        }
        Ok(())
    }
    fn borrowed_opt(&mut self) -> Result<Option<&'a [u8]>, String> {
        if !self.flag()? {
            return Ok(None);
        }
        let n = self.u32()?;
        if self.0.len() < n {
            return Err("component spool record is truncated".into());
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(Some(a))
    }
}

/// The local ref of a record `encode` wrote, read without decoding the rest.
pub fn local_ref_of(rec: &[u8]) -> Result<Option<&[u8]>, String> {
    let mut r = Rd(rec);
    r.skip_opt()?;
    r.skip_str()?;
    r.skip_str()?;
    r.skip_opt()?;
    r.skip_vec()?;
    r.skip_vec()?;
    r.skip_vec()?;
    r.borrowed_opt()
}

/// Reads a record `encode` wrote.
pub fn decode(rec: &[u8]) -> Result<(Component, Option<RootView>), String> {
    let mut r = Rd(rec);
    let c = Component {
        purl: r.opt()?,
        kind: r.str()?,
        name: r.str()?,
        version: r.opt()?,
        licenses: r.vec()?,
        cpes: r.vec()?,
        locations: r.vec()?,
        local_ref: r.opt()?,
    };
    let root = if r.flag()? {
        Some(RootView {
            name: r.opt()?,
            version: r.opt()?,
            digests: r.vec()?,
            reference: r.opt()?,
        })
    } else {
        None
    };
    Ok((c, root))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_reads_back_as_written() {
        let c = Component {
            purl: Some("pkg:npm/a@1".into()),
            kind: "npm".into(),
            name: "a — ü".into(),
            version: None,
            licenses: vec!["MIT".into(), "".into()],
            cpes: vec![],
            locations: vec!["/x".into()],
            local_ref: Some("ref-1".into()),
        };
        let root = RootView {
            name: None,
            version: Some("1".into()),
            digests: vec!["sha256:00".into()],
            reference: Some("r/a:1".into()),
        };
        for root in [None, Some(&root)] {
            let mut buf = Vec::new();
            encode(&c, root, &mut buf);
            assert_eq!(decode(&buf).unwrap(), (c.clone(), root.cloned()));
            assert_eq!(local_ref_of(&buf).unwrap(), Some(&b"ref-1"[..]));
            assert!(decode(&buf[..buf.len() - 1]).is_err());
        }
    }
}
