//! CycloneDX JSON as a stream: the document is walked with `slices::Json`, and each element
//! of `components[]`, `dependencies[]` and `vulnerabilities[]` is parsed from its own slice
//! and mapped at once by the whole parser's `list_comp` / `dep` / `vuln`, so neither the
//! file's bytes nor its wire structs are ever held whole.

use super::{dep, finish, list_comp, vuln, FinishError, List, WComp, WDep, WMeta, WVuln};
use crate::ingest::components::ComponentSink;
use crate::ingest::formats::cyclonedx_model as m;
use crate::ingest::formats::slices::{checker, Check, Json, CHUNK, MAX_VALUE};
use crate::ingest::formats::stream::{FindingSink, StreamError, Streamed};
use std::io::Read;

struct Parts<'s> {
    metadata: Option<WMeta>,
    components: Vec<m::Comp>,
    dependencies: Vec<(String, Vec<String>)>,
    vulnerabilities: Vec<m::Vuln>,
    /// The sink components and edges go to, until the first list decides (`spooled`).
    sink: Option<&'s mut dyn ComponentSink>,
    /// Set when the first of `components` / `dependencies` is met after `metadata`: from
    /// then on they go to the sink. Met before it, they stay in memory (the subject, which
    /// decides which components are kept, is not known yet).
    spooled: Option<m::SpooledBom<'s>>,
    decided: bool,
}

impl<'s> Parts<'s> {
    fn decide(&mut self) {
        if self.decided {
            return;
        }
        self.decided = true;
        if let (Some(meta), Some(sink)) = (&self.metadata, self.sink.take()) {
            let key = meta.component.as_ref().and_then(|c| {
                let p = c.purl.0.as_deref()?.trim();
                crate::model::normalize_purl(p).filter(|_| !p.is_empty())
            });
            self.spooled = Some(m::SpooledBom::new(sink, key));
        }
    }
}

pub(in crate::ingest::formats) fn parse<R: Read>(
    reader: R,
    sink: &mut dyn FindingSink,
) -> Result<Streamed, StreamError> {
    parse_chunked(reader, sink, CHUNK, MAX_VALUE)
}

/// `parse` reading `chunk` bytes at a time and holding at most `max_value` bytes of one
/// value (tests use tiny ones to cut elements across reads).
pub(in crate::ingest::formats) fn parse_chunked<R: Read>(
    reader: R,
    sink: &mut dyn FindingSink,
    chunk: usize,
    max_value: usize,
) -> Result<Streamed, StreamError> {
    let mut parts = Parts {
        metadata: None,
        components: Vec::new(),
        dependencies: Vec::new(),
        vulnerabilities: Vec::new(),
        sink: sink.components(),
        spooled: None,
        decided: false,
    };
    let mut j = Json::new(reader, chunk, max_value);
    if j.peek()? != Some(b'{') {
        // An array (serde reads a struct from one too) or what serde refuses: the whole
        // parse gives its answer.
        return Err(StreamError::Unstreamable(
            "a CycloneDX document that is not a JSON object".into(),
        ));
    }
    top(&mut j, &mut parts)?;
    j.end()?;
    drop(j);
    let mut doc = finish(
        parts.metadata,
        parts.components,
        parts.dependencies,
        parts.vulnerabilities,
        parts.spooled.as_mut(),
    )
    .map_err(|e| match e {
        FinishError::Format(e) => StreamError::Format(e),
        FinishError::Sink(e) => StreamError::Sink(e),
    })?;
    drop(parts.spooled);
    // Findings need every component (`affects` names bom-refs), so they leave at the end.
    for f in std::mem::take(&mut doc.findings) {
        sink.finding(f).map_err(StreamError::Sink)?;
    }
    Ok(Streamed {
        doc,
        late_scanner_version: None,
    })
}

/// A lenient list (`List<T>`) whose elements are parsed one slice at a time and handed to
/// `f`; a value that is not a list is parsed whole as `List<T>` (empty, or serde's error).
/// `f` returning an error (the sink's) stops the walk.
pub(in crate::ingest::formats) fn each<R: Read, T>(
    j: &mut Json<R>,
    elem: Check<'_>,
    list: Check<'_>,
    mut f: impl FnMut(T) -> Result<(), String>,
) -> Result<(), StreamError>
where
    T: for<'de> serde::Deserialize<'de>,
{
    if j.peek()? != Some(b'[') {
        let s = j.span()?;
        let l: List<T> = j.parse(s, list)?;
        for x in l.0 {
            f(x).map_err(StreamError::Sink)?;
        }
        return Ok(());
    }
    j.open();
    let mut first = true;
    while j.next_element(&mut first)? {
        let s = j.span()?;
        let x: T = j.parse(s, elem)?;
        f(x).map_err(StreamError::Sink)?;
    }
    Ok(())
}

fn top<R: Read>(j: &mut Json<R>, p: &mut Parts) -> Result<(), StreamError> {
    j.open();
    let (mut first, mut seen) = (true, 0u16);
    while let Some(k) = j.next_key(&mut first)? {
        let bit = match k.as_str() {
            "metadata" => 1,
            "components" => 2,
            "dependencies" => 4,
            "vulnerabilities" => 8,
            _ => 0,
        };
        if bit != 0 {
            j.once(&mut seen, bit, &k)?;
        }
        j.colon()?;
        match bit {
            1 => {
                let s = j.span()?;
                p.metadata = j.parse(s, checker!(Option<WMeta>))?;
            }
            2 => {
                p.decide();
                match p.spooled.as_mut() {
                    Some(sp) => each(j, checker!(WComp), checker!(List<WComp>), |w: WComp| {
                        sp.component(list_comp(w))
                    })?,
                    None => {
                        let out = &mut p.components;
                        each(j, checker!(WComp), checker!(List<WComp>), |w: WComp| {
                            out.push(list_comp(w));
                            Ok(())
                        })?
                    }
                }
            }
            4 => {
                p.decide();
                match p.spooled.as_mut() {
                    Some(sp) => each(j, checker!(WDep), checker!(List<WDep>), |w: WDep| {
                        let Some((from, tos)) = dep(w) else {
                            return Ok(());
                        };
                        for to in tos {
                            if !from.is_empty() && !to.is_empty() {
                                sp.sink.edge(&from, &to)?;
                            }
                        }
                        Ok(())
                    })?,
                    None => {
                        let out = &mut p.dependencies;
                        each(j, checker!(WDep), checker!(List<WDep>), |w: WDep| {
                            out.extend(dep(w));
                            Ok(())
                        })?
                    }
                }
            }
            8 => {
                let out = &mut p.vulnerabilities;
                each(j, checker!(WVuln), checker!(List<WVuln>), |w: WVuln| {
                    out.push(vuln(w));
                    Ok(())
                })?
            }
            _ => j.skip()?,
        }
    }
    Ok(())
}
