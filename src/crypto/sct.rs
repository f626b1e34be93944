//! Embedded Signed Certificate Timestamps (RFC 6962 3.2-3.3) in signing certificates: reads
//! the SCT list extension, rebuilds the precertificate TBS (the TBSCertificate without that
//! extension) and checks each SCT's signature with a certificate-transparency log key.

use super::der::{self, DerError};
use super::PublicKey;
use sha2::{Digest, Sha256};

/// 1.3.6.1.4.1.11129.2.4.2, the embedded SCT list.
const OID_SCT_LIST: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x02];

/// One SCT as logged (v1 only; others are reported, not guessed at).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sct {
    pub log_id: [u8; 32],
    /// Milliseconds since the Unix epoch.
    pub timestamp_ms: u64,
    pub extensions: Vec<u8>,
    pub hash_alg: u8,
    pub sig_alg: u8,
    pub signature: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SctError {
    #[error("SCT list: {0}")]
    Malformed(String),
    #[error("certificate: {0}")]
    Der(#[from] DerError),
}

fn malformed(m: impl Into<String>) -> SctError {
    SctError::Malformed(m.into())
}

/// Reads a big-endian length-prefixed field of `n` length bytes from the front of `b`.
fn take_vec<'a>(b: &mut &'a [u8], n: usize, what: &str) -> Result<&'a [u8], SctError> {
    let len_bytes = b
        .get(..n)
        .ok_or_else(|| malformed(format!("{what}: truncated length")))?;
    let len = len_bytes
        .iter()
        .fold(0usize, |a, x| (a << 8) | usize::from(*x));
    let v = b
        .get(n..n + len)
        .ok_or_else(|| malformed(format!("{what}: {len} bytes run past the end")))?;
    *b = &b[n + len..];
    Ok(v)
}

fn take<'a>(b: &mut &'a [u8], n: usize, what: &str) -> Result<&'a [u8], SctError> {
    let v = b
        .get(..n)
        .ok_or_else(|| malformed(format!("{what}: truncated")))?;
    *b = &b[n..];
    Ok(v)
}

/// The tbsCertificate element and the list of its extension elements' raw bytes.
fn tbs_and_extensions(cert_der: &[u8]) -> Result<(der::Tlv<'_>, Vec<der::Tlv<'_>>), SctError> {
    let (cert, _) = der::expect(cert_der, 0x30)?;
    let (tbs, _) = der::expect(cert.content, 0x30)?;
    let mut exts = Vec::new();
    for f in der::children(tbs.content)? {
        if f.tag == 0xa3 {
            let (list, _) = der::expect(f.content, 0x30)?;
            exts = der::children(list.content)?;
        }
    }
    Ok((tbs, exts))
}

fn is_sct_ext(ext: &der::Tlv<'_>) -> bool {
    der::children(ext.content)
        .ok()
        .and_then(|p| p.first().copied())
        .is_some_and(|oid| oid.tag == 0x06 && oid.content == OID_SCT_LIST)
}

/// The SCTs embedded in a certificate; empty when it has none.
pub fn embedded(cert_der: &[u8]) -> Result<Vec<Sct>, SctError> {
    let (_, exts) = tbs_and_extensions(cert_der)?;
    let Some(ext) = exts.iter().find(|e| is_sct_ext(e)) else {
        return Ok(Vec::new());
    };
    let parts = der::children(ext.content)?;
    let value = parts
        .last()
        .filter(|v| v.tag == 0x04)
        .ok_or_else(|| malformed("extension value is not an OCTET STRING"))?;
    // The extension value holds a DER OCTET STRING wrapping the TLS-encoded list.
    let (inner, _) = der::expect(value.content, 0x04)?;
    let mut b = inner.content;
    let mut list = take_vec(&mut b, 2, "SignedCertificateTimestampList")?;
    let mut out = Vec::new();
    while !list.is_empty() {
        let mut s = take_vec(&mut list, 2, "SerializedSCT")?;
        let version = take(&mut s, 1, "version")?[0];
        if version != 0 {
            return Err(malformed(format!("SCT version {version} is not v1")));
        }
        let log_id: [u8; 32] = take(&mut s, 32, "log id")?
            .try_into()
            .map_err(|_| malformed("log id"))?;
        let ts = take(&mut s, 8, "timestamp")?;
        let timestamp_ms = ts.iter().fold(0u64, |a, x| (a << 8) | u64::from(*x));
        let extensions = take_vec(&mut s, 2, "extensions")?.to_vec();
        let algs = take(&mut s, 2, "signature algorithm")?;
        let signature = take_vec(&mut s, 2, "signature")?.to_vec();
        out.push(Sct {
            log_id,
            timestamp_ms,
            extensions,
            hash_alg: algs[0],
            sig_alg: algs[1],
            signature,
        });
    }
    Ok(out)
}

fn der_len(n: usize) -> Vec<u8> {
    if n < 0x80 {
        return vec![n as u8];
    }
    let bytes: Vec<u8> = n
        .to_be_bytes()
        .iter()
        .copied()
        .skip_while(|b| *b == 0)
        .collect();
    let mut out = vec![0x80 | bytes.len() as u8];
    out.extend(bytes);
    out
}

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    out.extend(der_len(content.len()));
    out.extend_from_slice(content);
    out
}

/// The TBSCertificate with the SCT list extension removed (RFC 6962 3.2, what the log
/// signed for a precertificate).
pub fn precert_tbs(cert_der: &[u8]) -> Result<Vec<u8>, SctError> {
    let (tbs, _) = tbs_and_extensions(cert_der)?;
    let mut content = Vec::new();
    for f in der::children(tbs.content)? {
        if f.tag == 0xa3 {
            let (list, _) = der::expect(f.content, 0x30)?;
            let kept: Vec<u8> = der::children(list.content)?
                .iter()
                .filter(|e| !is_sct_ext(e))
                .flat_map(|e| e.raw.iter().copied())
                .collect();
            content.extend(tlv(0xa3, &tlv(0x30, &kept)));
        } else {
            content.extend_from_slice(f.raw);
        }
    }
    Ok(tlv(0x30, &content))
}

/// The bytes an SCT over a precertificate signs.
pub fn signed_data(sct: &Sct, issuer_spki: &[u8], tbs: &[u8]) -> Vec<u8> {
    let mut m = vec![0u8, 0u8]; // v1, certificate_timestamp
    m.extend(sct.timestamp_ms.to_be_bytes());
    m.extend([0u8, 1u8]); // precert_entry
    m.extend(Sha256::digest(issuer_spki));
    let n = tbs.len();
    m.extend([(n >> 16) as u8, (n >> 8) as u8, n as u8]);
    m.extend_from_slice(tbs);
    m.extend((sct.extensions.len() as u16).to_be_bytes());
    m.extend_from_slice(&sct.extensions);
    m
}

/// Checks one SCT with the log key whose id it names (SHA-256 over the DER SPKI).
pub fn verify(
    sct: &Sct,
    log_key: &PublicKey,
    issuer_spki: &[u8],
    cert_der: &[u8],
) -> Result<(), String> {
    if Sha256::digest(log_key.spki_der()).as_slice() != sct.log_id {
        return Err("the SCT names another log".into());
    }
    if sct.hash_alg != 4 {
        return Err(format!(
            "SCT hash algorithm {} is not SHA-256 (crypto policy)",
            sct.hash_alg
        ));
    }
    let tbs = precert_tbs(cert_der).map_err(|e| e.to_string())?;
    let msg = signed_data(sct, issuer_spki, &tbs);
    log_key
        .verify_sha256_prehash(&Sha256::digest(&msg), &sct.signature)
        .map_err(|e| format!("SCT signature: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_lengths_short_and_long_forms() {
        // X.690 8.1.3: short form below 128, else 0x80|n followed by n length bytes.
        assert_eq!(der_len(5), vec![5]);
        assert_eq!(der_len(0x80), vec![0x81, 0x80]);
        assert_eq!(der_len(0x1234), vec![0x82, 0x12, 0x34]);
    }

    #[test]
    fn hostile_lists_are_errors_not_panics() {
        // A list length that claims more than there is.
        let mut b: &[u8] = &[0x00, 0x10, 0x00];
        assert!(take_vec(&mut b, 2, "x").is_err());
        assert!(embedded(&[0x30, 0x03, 0x30, 0x01]).is_err());
        assert!(embedded(&[]).is_err());
    }
}
