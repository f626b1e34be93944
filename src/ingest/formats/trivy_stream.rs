//! Trivy JSON as a stream: the report is walked with `slices::Json` down to
//! `Results[].Vulnerabilities[]`, each element parsed from its own slice into the borrowed
//! `Vuln` and converted by the whole parse's `add_vuln`, then sent to the sink. A result
//! whose `Type` or `Packages` follow its `Vulnerabilities` is unstreamable.

use super::{add_modified, add_result, add_vuln, header, package_component, secrets_warning};
use super::{Builder, Metadata, ModifiedFinding, Package, Report, TResult, TrivyInfo, Vuln};
use crate::ingest::detect::{top_value_of, TopKeys};
use crate::ingest::formats::slices::{checker, one, Json};
use crate::ingest::formats::stream::{FindingSink, StreamError, Streamed};
use serde::de::IgnoredAny;
use std::io::Read;

struct St<'s> {
    sink: &'s mut dyn FindingSink,
    b: Builder,
    version: Option<String>,
    sent_without_version: bool,
    secrets: usize,
    misconfigs: usize,
    /// Everything but `Results`, converted at the end exactly as the whole parse does.
    meta: Report<'static>,
    top_keys: TopKeys,
}

pub(in crate::ingest::formats) fn parse<R: Read>(
    reader: R,
    sink: &mut dyn FindingSink,
    chunk: usize,
    max_value: usize,
) -> Result<(Streamed, TopKeys), StreamError> {
    let mut st = St {
        sink,
        b: Builder::new(),
        version: None,
        sent_without_version: false,
        secrets: 0,
        misconfigs: 0,
        meta: Report::default(),
        top_keys: TopKeys::new(),
    };
    let mut j = Json::new(reader, chunk, max_value);
    match j.peek()? {
        Some(b'{') => top(&mut j, &mut st)?,
        Some(b'[') => results(&mut j, &mut st)?,
        // `trivy::parse` looks past whitespace and BOM bytes for the first byte: an object
        // or array there is refused by serde at the BOM, where it stands; anything else is
        // not a report.
        Some(0xef | 0xbb | 0xbf)
            if matches!(
                j.first_past(|b| b.is_ascii_whitespace() || matches!(b, 0xef | 0xbb | 0xbf))?,
                Some(b'{' | b'[')
            ) =>
        {
            let s = j.span()?;
            j.parse::<IgnoredAny>(s, checker!(IgnoredAny))?;
        }
        _ => {
            return Err(StreamError::Format(super::FormatError::at(
                "a Trivy report is a JSON object or array",
                1,
                Some(1),
            )))
        }
    }
    j.end()?;
    let (mut b, _) = header(st.meta);
    b.doc.components = st.b.doc.components;
    b.doc.warnings.extend(st.b.doc.warnings);
    if st.secrets + st.misconfigs > 0 {
        b.doc
            .warnings
            .push(secrets_warning(st.secrets, st.misconfigs));
    }
    Ok((
        Streamed {
            doc: b.doc,
            late_scanner_version: st.version.filter(|_| st.sent_without_version),
        },
        st.top_keys,
    ))
}

impl St<'_> {
    /// Hands over the findings `add_vuln` just built.
    fn emit(&mut self) -> Result<(), StreamError> {
        for f in self.b.doc.findings.drain(..) {
            self.sent_without_version |= self.version.is_none();
            self.sink.finding(f).map_err(StreamError::Sink)?;
        }
        Ok(())
    }

    fn packages(&mut self, packages: Vec<Package>, rtype: Option<&str>) {
        for p in packages {
            let Some(c) = package_component(&p, rtype) else {
                continue;
            };
            self.b.component(c);
        }
    }
}

fn top<R: Read>(j: &mut Json<R>, st: &mut St) -> Result<(), StreamError> {
    j.open();
    let (mut first, mut seen) = (true, 0u16);
    while let Some(k) = j.next_key(&mut first)? {
        let bit = match k.as_str() {
            "Trivy" => 1,
            "CreatedAt" => 2,
            "ArtifactName" => 4,
            "ArtifactType" => 8,
            "Metadata" => 16,
            "Results" => 32,
            _ => 0,
        };
        if bit != 0 {
            j.once(&mut seen, bit, &k)?;
        }
        j.colon()?;
        match bit {
            1 => {
                let s = j.span()?;
                st.meta.trivy = j.parse(s, checker!(Option<TrivyInfo>))?;
                st.version = st
                    .meta
                    .trivy
                    .as_ref()
                    .and_then(|t| super::nonempty(t.version.clone()));
            }
            2 | 4 | 8 => {
                let s = j.span()?;
                let v: Option<String> = j.parse(s, checker!(Option<String>))?;
                match bit {
                    2 => st.meta.created_at = v,
                    4 => st.meta.artifact_name = v,
                    _ => st.meta.artifact_type = v,
                }
            }
            16 => {
                let s = j.span()?;
                st.meta.metadata = j.parse(s, checker!(Option<Metadata>))?;
            }
            32 => {
                if j.peek()? == Some(b'[') {
                    results(j, st)?;
                } else {
                    // `null`, or what serde refuses.
                    let s = j.span()?;
                    let r: Option<Vec<TResult>> = j.parse(s, checker!(Option<Vec<TResult>>))?;
                    for res in r.unwrap_or_default() {
                        one_whole(st, res)?;
                    }
                }
            }
            _ => {
                let s = j.span()?;
                j.parse::<IgnoredAny>(s, checker!(IgnoredAny))?;
                st.top_keys.insert(k, top_value_of(j.bytes(s)));
                continue;
            }
        }
        // No registry rule reads the value of a key parsed here, only its presence.
        st.top_keys.insert(k, None);
    }
    Ok(())
}

/// A result the walker does not enter (not an object), converted as the whole parse does.
fn one_whole(st: &mut St, res: TResult) -> Result<(), StreamError> {
    let version = st.version.clone();
    add_result(
        &mut st.b,
        res,
        version.as_deref(),
        &mut st.secrets,
        &mut st.misconfigs,
    );
    st.emit()
}

fn results<R: Read>(j: &mut Json<R>, st: &mut St) -> Result<(), StreamError> {
    j.open();
    let mut first = true;
    while j.next_element(&mut first)? {
        if j.peek()? == Some(b'{') {
            result(j, st)?;
        } else {
            let s = j.span()?;
            let res: TResult = j.parse(s, checker!(TResult))?;
            one_whole(st, res)?;
        }
    }
    Ok(())
}

/// Counts the elements of `Secrets` / `Misconfigurations` (`Option<Vec<IgnoredAny>>`).
fn count<R: Read>(j: &mut Json<R>) -> Result<usize, StreamError> {
    if j.peek()? != Some(b'[') {
        let s = j.span()?;
        let v: Option<Vec<IgnoredAny>> = j.parse(s, checker!(Option<Vec<IgnoredAny>>))?;
        return Ok(v.map_or(0, |v| v.len()));
    }
    j.open();
    let (mut first, mut n) = (true, 0);
    while j.next_element(&mut first)? {
        j.skip()?;
        n += 1;
    }
    Ok(n)
}

fn result<R: Read>(j: &mut Json<R>, st: &mut St) -> Result<(), StreamError> {
    j.open();
    let (mut first, mut seen) = (true, 0u16);
    let mut kind: Option<String> = None;
    let mut pending: Vec<Package> = Vec::new();
    // Suppressed findings come after the vulnerabilities in the whole parse: their bytes
    // wait here (checked now, so errors keep their order) until the result ends.
    let mut modified: Option<Vec<u8>> = None;
    while let Some(k) = j.next_key(&mut first)? {
        let bit = match k.as_str() {
            "Target" => 1,
            "Class" => 2,
            "Type" => 4,
            "Packages" => 8,
            "Vulnerabilities" => 16,
            "ExperimentalModifiedFindings" => 32,
            "Secrets" => 64,
            "Misconfigurations" => 128,
            _ => 0,
        };
        if bit != 0 {
            j.once(&mut seen, bit, &k)?;
        }
        match bit {
            8 if seen & 16 != 0 => {
                return Err(StreamError::Unstreamable(
                    "a Trivy result lists Packages after Vulnerabilities".into(),
                ))
            }
            16 if seen & 4 == 0 => {
                return Err(StreamError::Unstreamable(
                    "a Trivy result lists Vulnerabilities before Type".into(),
                ))
            }
            _ => {}
        }
        j.colon()?;
        match bit {
            1 | 2 => {
                let s = j.span()?;
                j.parse::<Option<String>>(s, checker!(Option<String>))?;
            }
            4 => {
                let s = j.span()?;
                kind = j.parse(s, checker!(Option<String>))?;
            }
            8 => {
                if j.peek()? == Some(b'[') {
                    j.open();
                    let mut f = true;
                    while j.next_element(&mut f)? {
                        let s = j.span()?;
                        pending.push(j.parse(s, checker!(Package))?);
                    }
                } else {
                    let s = j.span()?;
                    let v: Option<Vec<Package>> = j.parse(s, checker!(Option<Vec<Package>>))?;
                    pending.extend(v.unwrap_or_default());
                }
            }
            16 => {
                st.packages(std::mem::take(&mut pending), kind.as_deref());
                vulns(j, st, kind.as_deref())?;
            }
            32 => {
                let s = j.span()?;
                j.parse::<Option<Vec<ModifiedFinding>>>(s, checker!(Option<Vec<ModifiedFinding>>))?;
                modified = Some(j.bytes(s).to_vec());
            }
            64 => st.secrets += count(j)?,
            128 => st.misconfigs += count(j)?,
            _ => j.skip()?,
        }
    }
    st.packages(pending, kind.as_deref());
    if let Some(bytes) = modified {
        // Parsed above already: it cannot fail now.
        let all: Option<Vec<ModifiedFinding>> = serde_json::from_slice(&bytes)
            .map_err(|e| StreamError::Format(super::FormatError::json(&e)))?;
        let version = st.version.clone();
        for m in all.unwrap_or_default() {
            add_modified(&mut st.b, m, kind.as_deref(), version.as_deref());
            st.emit()?;
        }
    }
    Ok(())
}

fn vulns<R: Read>(j: &mut Json<R>, st: &mut St, rtype: Option<&str>) -> Result<(), StreamError> {
    if j.peek()? != Some(b'[') {
        let s = j.span()?;
        let v: Option<Vec<Vuln>> = j.parse(s, checker!(Option<Vec<Vuln>>))?;
        for v in v.unwrap_or_default() {
            add_vuln(&mut st.b, v, rtype, st.version.as_deref(), None);
        }
        return st.emit();
    }
    j.open();
    let mut first = true;
    while j.next_element(&mut first)? {
        let stopped = j.elements(|text, depth| {
            let Some((v, n)) = one::<Vuln>(text, depth) else {
                return Ok(None);
            };
            add_vuln(&mut st.b, v, rtype, st.version.as_deref(), None);
            st.emit()?;
            Ok(Some(n))
        })?;
        if !stopped {
            continue;
        }
        let s = j.span()?;
        let v: Vuln = j.parse(s, checker!(Vuln))?;
        add_vuln(&mut st.b, v, rtype, st.version.as_deref(), None);
        st.emit()?;
    }
    Ok(())
}
