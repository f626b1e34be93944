//! A minimal DER reader: just enough TLV walking to find the SubjectPublicKeyInfo, names,
//! validity and a few extensions in X.509 certificates, and the algorithm OIDs in keys.
//! Hostile input yields `DerError`, never a panic.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed DER: {0}")]
pub struct DerError(pub String);

/// One tag-length-value element: `raw` is the whole element, `content` its value.
#[derive(Debug, Clone, Copy)]
pub struct Tlv<'a> {
    pub tag: u8,
    pub content: &'a [u8],
    pub raw: &'a [u8],
}

/// Reads one element from the front of `input`; returns it and the rest.
pub fn read(input: &[u8]) -> Result<(Tlv<'_>, &[u8]), DerError> {
    let tag = *input
        .first()
        .ok_or_else(|| DerError("unexpected end of data".into()))?;
    if tag & 0x1f == 0x1f {
        return Err(DerError(
            "multi-byte tags are not used in keys or certificates".into(),
        ));
    }
    let first = *input
        .get(1)
        .ok_or_else(|| DerError("missing length".into()))?;
    let (len, hdr) = if first < 0x80 {
        (usize::from(first), 2)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return Err(DerError(format!("unsupported length form 0x{first:02x}")));
        }
        let bytes = input
            .get(2..2 + n)
            .ok_or_else(|| DerError("truncated length".into()))?;
        let len = bytes.iter().fold(0usize, |a, b| (a << 8) | usize::from(*b));
        (len, 2 + n)
    };
    let end = hdr
        .checked_add(len)
        .ok_or_else(|| DerError("length overflow".into()))?;
    let content = input.get(hdr..end).ok_or_else(|| {
        DerError(format!(
            "element of {len} bytes runs past the end of its container"
        ))
    })?;
    Ok((
        Tlv {
            tag,
            content,
            raw: &input[..end],
        },
        &input[end..],
    ))
}

/// Reads one element and checks its tag.
pub fn expect(input: &[u8], tag: u8) -> Result<(Tlv<'_>, &[u8]), DerError> {
    let (t, rest) = read(input)?;
    if t.tag != tag {
        return Err(DerError(format!(
            "expected tag 0x{tag:02x}, found 0x{:02x}",
            t.tag
        )));
    }
    Ok((t, rest))
}

/// Every element of a constructed value, in order.
pub fn children(mut content: &[u8]) -> Result<Vec<Tlv<'_>>, DerError> {
    let mut out = Vec::new();
    while !content.is_empty() {
        let (t, rest) = read(content)?;
        out.push(t);
        content = rest;
    }
    Ok(out)
}

/// Dotted form of an OID's content bytes (for messages).
pub fn oid_string(content: &[u8]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut acc: u64 = 0;
    for (i, b) in content.iter().enumerate() {
        acc = (acc << 7) | u64::from(b & 0x7f);
        if b & 0x80 == 0 {
            if parts.is_empty() && i < content.len() {
                let (a, b2) = if acc < 40 {
                    (0, acc)
                } else if acc < 80 {
                    (1, acc - 40)
                } else {
                    (2, acc - 80)
                };
                parts.push(a.to_string());
                parts.push(b2.to_string());
            } else {
                parts.push(acc.to_string());
            }
            acc = 0;
        }
    }
    parts.join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_short_and_long_lengths_and_rejects_truncation() {
        let (t, rest) = read(&[0x04, 0x02, 0xaa, 0xbb, 0x05, 0x00]).unwrap();
        assert_eq!((t.tag, t.content), (0x04, &[0xaa, 0xbb][..]));
        assert_eq!(rest, &[0x05, 0x00]);
        let mut long = vec![0x04, 0x81, 0x80];
        long.extend(std::iter::repeat_n(7u8, 0x80));
        assert_eq!(read(&long).unwrap().0.content.len(), 128);
        assert!(read(&[0x30, 0x05, 0x01]).is_err());
        assert!(read(&[0x30, 0x85, 1, 1, 1, 1, 1]).is_err());
        assert!(read(&[]).is_err());
    }

    #[test]
    fn oid_dotted() {
        // 1.2.840.10045.2.1 (id-ecPublicKey), from RFC 5480.
        assert_eq!(
            oid_string(&[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01]),
            "1.2.840.10045.2.1"
        );
    }
}
