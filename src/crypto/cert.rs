//! X.509 certificates as signing identities: the few fields verification needs (key,
//! validity, names, Fulcio identity extensions) read with the small DER reader, and chain
//! building to trusted roots at a given time through rustls-webpki.

use super::der::{self, DerError, Tlv};
use super::pubkey::{pem_blocks, KeyError, PublicKey};
use rustls_pki_types::{CertificateDer, UnixTime};

const OID_SAN: &[u8] = &[0x55, 0x1d, 0x11];
const OID_CN: &[u8] = &[0x55, 0x04, 0x03];
const OID_O: &[u8] = &[0x55, 0x04, 0x0a];
/// Fulcio's OIDC issuer extensions: v1 (raw string) and v2 (DER UTF8String).
const OID_FULCIO_ISSUER_V1: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xbf, 0x30, 0x01, 0x01];
const OID_FULCIO_ISSUER_V2: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xbf, 0x30, 0x01, 0x08];
/// id-kp-codeSigning 1.3.6.1.5.5.7.3.3, which Fulcio puts in every leaf.
const EKU_CODE_SIGNING: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x03];

/// Signature algorithms the crypto policy refuses, by OID content bytes.
const WEAK_SIG_ALGS: &[(&[u8], &str)] = &[
    (
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x04],
        "md5WithRSAEncryption",
    ),
    (
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05],
        "sha1WithRSAEncryption",
    ),
    (
        &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x01],
        "ecdsa-with-SHA1",
    ),
    (&[0x2a, 0x86, 0x48, 0xce, 0x38, 0x04, 0x03], "dsa-with-sha1"),
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertError {
    #[error("certificate: {0}")]
    Parse(String),
    #[error("certificate chain: {0}")]
    Chain(String),
}

impl From<DerError> for CertError {
    fn from(e: DerError) -> Self {
        Self::Parse(e.to_string())
    }
}

/// A parsed certificate: its DER plus what reports and checks need.
#[derive(Debug, Clone)]
pub struct Certificate {
    pub der: Vec<u8>,
    pub spki: Vec<u8>,
    pub subject: String,
    pub issuer: String,
    /// Validity as Unix seconds.
    pub not_before: i64,
    pub not_after: i64,
    /// Subject alternative names: e-mail addresses, URIs and DNS names.
    pub san: Vec<String>,
    /// The OIDC issuer Fulcio recorded, when present.
    pub oidc_issuer: Option<String>,
    /// Set when the certificate's own signature algorithm is forbidden (SHA-1, MD5).
    pub weak_signature: Option<String>,
}

impl Certificate {
    pub fn from_der(der_bytes: &[u8]) -> Result<Self, CertError> {
        let (cert, _) = der::expect(der_bytes, 0x30)?;
        let (tbs, rest) = der::expect(cert.content, 0x30)?;
        let (sig_alg, _) = der::expect(rest, 0x30)?;
        let (sig_oid, _) = der::expect(sig_alg.content, 0x06)?;
        let weak_signature = WEAK_SIG_ALGS
            .iter()
            .find(|(o, _)| *o == sig_oid.content)
            .map(|(_, n)| format!("certificate signed with {n}"));
        let mut fields = der::children(tbs.content)?.into_iter().peekable();
        if fields.peek().is_some_and(|t| t.tag == 0xa0) {
            fields.next();
        }
        let mut next = |what: &str| {
            fields
                .next()
                .ok_or_else(|| CertError::Parse(format!("missing {what}")))
        };
        let _serial = next("serial number")?;
        let _alg = next("signature algorithm")?;
        let issuer = name_string(next("issuer")?);
        let validity = next("validity")?;
        let subject = name_string(next("subject")?);
        let spki = next("subjectPublicKeyInfo")?;
        let times = der::children(validity.content)?;
        let (not_before, not_after) = match times.as_slice() {
            [a, b] => (time(a)?, time(b)?),
            _ => return Err(CertError::Parse("validity is not two times".into())),
        };
        let mut c = Self {
            der: der_bytes[..cert.raw.len()].to_vec(),
            spki: spki.raw.to_vec(),
            subject,
            issuer,
            not_before,
            not_after,
            san: Vec::new(),
            oidc_issuer: None,
            weak_signature,
        };
        for f in fields {
            if f.tag == 0xa3 {
                c.read_extensions(f)?;
            }
        }
        Ok(c)
    }

    /// Every certificate of a PEM text, in order.
    pub fn from_pem_chain(text: &str) -> Result<Vec<Self>, CertError> {
        let blocks = pem_blocks(text).map_err(|e| CertError::Parse(e.to_string()))?;
        blocks
            .iter()
            .filter(|(l, _)| l == "CERTIFICATE")
            .map(|(_, d)| Self::from_der(d))
            .collect()
    }

    fn read_extensions(&mut self, wrapper: Tlv<'_>) -> Result<(), CertError> {
        let (list, _) = der::expect(wrapper.content, 0x30)?;
        for ext in der::children(list.content)? {
            let parts = der::children(ext.content)?;
            let (Some(oid), Some(value)) = (parts.first(), parts.last()) else {
                continue;
            };
            if value.tag != 0x04 {
                continue;
            }
            if oid.content == OID_SAN {
                let (names, _) = der::expect(value.content, 0x30)?;
                for n in der::children(names.content)? {
                    if matches!(n.tag, 0x81 | 0x82 | 0x86) {
                        self.san
                            .push(String::from_utf8_lossy(n.content).into_owned());
                    }
                }
            } else if oid.content == OID_FULCIO_ISSUER_V1 {
                self.oidc_issuer
                    .get_or_insert_with(|| String::from_utf8_lossy(value.content).into_owned());
            } else if oid.content == OID_FULCIO_ISSUER_V2 {
                if let Ok((s, _)) = der::read(value.content) {
                    self.oidc_issuer = Some(String::from_utf8_lossy(s.content).into_owned());
                }
            }
        }
        Ok(())
    }

    pub fn public_key(&self) -> Result<PublicKey, KeyError> {
        PublicKey::from_spki_der(&self.spki)
    }

    /// The signer identity for reports: the SAN (e-mail or URI) else the subject.
    pub fn identity(&self) -> String {
        self.san
            .first()
            .cloned()
            .unwrap_or_else(|| self.subject.clone())
    }
}

fn name_string(name: Tlv<'_>) -> String {
    let mut parts = Vec::new();
    for rdn in der::children(name.content).unwrap_or_default() {
        for atv in der::children(rdn.content).unwrap_or_default() {
            let kv = der::children(atv.content).unwrap_or_default();
            if let [k, v] = kv.as_slice() {
                let label = if k.content == OID_CN {
                    "CN"
                } else if k.content == OID_O {
                    "O"
                } else {
                    continue;
                };
                parts.push(format!("{label}={}", String::from_utf8_lossy(v.content)));
            }
        }
    }
    parts.join(", ")
}

fn time(t: &Tlv<'_>) -> Result<i64, CertError> {
    let s =
        std::str::from_utf8(t.content).map_err(|_| CertError::Parse("time is not ASCII".into()))?;
    let full = match t.tag {
        0x17 => {
            let yy: i32 = s
                .get(..2)
                .and_then(|y| y.parse().ok())
                .ok_or_else(|| CertError::Parse(format!("bad UTCTime {s}")))?;
            format!("{}{s}", if yy >= 50 { "19" } else { "20" })
        }
        0x18 => s.to_string(),
        _ => return Err(CertError::Parse("validity time of unknown type".into())),
    };
    let dt = chrono::NaiveDateTime::parse_from_str(full.trim_end_matches('Z'), "%Y%m%d%H%M%S")
        .map_err(|e| CertError::Parse(format!("bad time {s}: {e}")))?;
    Ok(dt.and_utc().timestamp())
}

/// Verifies that `leaf` chains to one of `roots` (through `intermediates`) at Unix time
/// `at`, for code signing. Roots may be intermediates themselves (a trusted_root.json
/// lists the whole CA chain); any trusted certificate anchors the path.
pub fn verify_chain(
    leaf: &Certificate,
    intermediates: &[Certificate],
    roots: &[Certificate],
    at: i64,
) -> Result<(), CertError> {
    if let Some(w) = leaf
        .weak_signature
        .as_ref()
        .or_else(|| intermediates.iter().find_map(|c| c.weak_signature.as_ref()))
    {
        return Err(CertError::Chain(format!("crypto policy: {w}")));
    }
    let leaf_der = CertificateDer::from(leaf.der.clone());
    let ee = webpki::EndEntityCert::try_from(&leaf_der)
        .map_err(|e| CertError::Chain(format!("leaf: {e}")))?;
    let root_ders: Vec<CertificateDer<'static>> = roots
        .iter()
        .map(|r| CertificateDer::from(r.der.clone()))
        .collect();
    let anchors: Vec<_> = root_ders
        .iter()
        .filter_map(|d| webpki::anchor_from_trusted_cert(d).ok())
        .collect();
    if anchors.is_empty() {
        return Err(CertError::Chain("no trusted root-ca certificate".into()));
    }
    let inter: Vec<CertificateDer<'static>> = intermediates
        .iter()
        .map(|c| CertificateDer::from(c.der.clone()))
        .collect();
    let t = UnixTime::since_unix_epoch(std::time::Duration::from_secs(
        u64::try_from(at).unwrap_or(0),
    ));
    ee.verify_for_usage(
        webpki::ALL_VERIFICATION_ALGS,
        &anchors,
        &inter,
        t,
        webpki::KeyUsage::required(EKU_CODE_SIGNING),
        None,
        None,
    )
    .map(|_| ())
    .map_err(|e| CertError::Chain(format!("{e:?}")))
}
