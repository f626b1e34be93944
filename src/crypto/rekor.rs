//! Rekor transparency-log proofs, checked offline: the signed entry timestamp (SET) over
//! the RFC 8785 form of {body, integratedTime, logID, logIndex}, the RFC 9162 Merkle
//! inclusion proof, and the checkpoint (a signed note over the tree size and root hash).

use super::pubkey::PublicKey;
use base64::Engine;
use sha2::{Digest, Sha256};

/// Verifies a SET. `body_b64` is the entry body exactly as base64 text; `log_index` is the
/// global index (formats.md 2.2: the tree-local index does not verify).
pub fn verify_set(
    rekor_key: &PublicKey,
    body_b64: &str,
    integrated_time: i64,
    log_id_hex: &str,
    log_index: i64,
    set: &[u8],
) -> Result<(), String> {
    let v = serde_json::json!({
        "body": body_b64,
        "integratedTime": integrated_time,
        "logID": log_id_hex,
        "logIndex": log_index,
    });
    let canon = serde_json_canonicalizer::to_vec(&v).map_err(|e| format!("canonical JSON: {e}"))?;
    rekor_key
        .verify(&canon, set)
        .map_err(|e| format!("SET {e}"))
}

/// RFC 9162 leaf hash: SHA-256(0x00 || entry).
pub fn leaf_hash(entry: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(entry);
    h.finalize().into()
}

fn node(l: &[u8], r: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(l);
    h.update(r);
    h.finalize().into()
}

/// RFC 9162 section 2.1.3.2: does `proof` lead from `leaf` at `index` to `root` in a tree of `size`?
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: [u8; 32],
    proof: &[Vec<u8>],
    root: &[u8],
) -> Result<(), String> {
    if index >= size {
        return Err(format!("leaf index {index} is not below tree size {size}"));
    }
    let (mut fnode, mut snode) = (index, size - 1);
    let mut r = leaf;
    for p in proof {
        if p.len() != 32 {
            return Err("proof hash is not 32 bytes".into());
        }
        if snode == 0 {
            return Err("proof is longer than the tree is deep".into());
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node(p, &r);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            r = node(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err("proof is shorter than the tree is deep".into());
    }
    if r.as_slice() != root {
        return Err("inclusion proof does not lead to the root hash".into());
    }
    Ok(())
}

/// A verified checkpoint's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub tree_size: u64,
    pub root_hash: Vec<u8>,
}

/// Verifies a signed-note checkpoint with any of `keys` (matched by the 4-byte key hint,
/// which is the start of the key's sha256 fingerprint) and returns its content.
pub fn verify_checkpoint(envelope: &str, keys: &[&PublicKey]) -> Result<Checkpoint, String> {
    let split = envelope
        .find("\n\n")
        .ok_or("checkpoint has no blank line before its signatures")?;
    let text = &envelope[..split + 1];
    let mut lines = text.lines();
    let origin = lines.next().ok_or("checkpoint without origin")?.to_string();
    let tree_size: u64 = lines
        .next()
        .and_then(|l| l.parse().ok())
        .ok_or("checkpoint tree size is not a number")?;
    let root_hash = lines
        .next()
        .and_then(|l| base64::engine::general_purpose::STANDARD.decode(l).ok())
        .ok_or("checkpoint root hash is not base64")?;
    let mut tried = 0;
    for sig_line in envelope[split + 2..].lines().filter(|l| !l.is_empty()) {
        let rest = sig_line
            .strip_prefix("\u{2014} ")
            .ok_or("checkpoint signature line does not start with an em dash")?;
        let b64 = rest.rsplit(' ').next().unwrap_or("");
        let raw = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|_| "checkpoint signature is not base64")?;
        if raw.len() < 5 {
            return Err("checkpoint signature too short".into());
        }
        let (hint, sig) = raw.split_at(4);
        for k in keys {
            let fp = hex::decode(k.fingerprint()).unwrap_or_default();
            if fp.get(..4) != Some(hint) {
                continue;
            }
            tried += 1;
            if k.verify(text.as_bytes(), sig).is_ok() {
                return Ok(Checkpoint {
                    origin,
                    tree_size,
                    root_hash,
                });
            }
        }
    }
    Err(if tried == 0 {
        "checkpoint is not signed by a trusted Rekor key".into()
    } else {
        "checkpoint signature does not verify".into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(b: &[u8]) -> [u8; 32] {
        leaf_hash(b)
    }

    /// A 3-leaf tree built by hand from RFC 9162's definition: root = N(N(a,b), c).
    #[test]
    fn inclusion_in_a_three_leaf_tree() {
        let (a, b, c) = (h(b"a"), h(b"b"), h(b"c"));
        let ab = node(&a, &b);
        let root = node(&ab, &c);
        verify_inclusion(0, 3, a, &[b.to_vec(), c.to_vec()], &root).unwrap();
        verify_inclusion(1, 3, b, &[a.to_vec(), c.to_vec()], &root).unwrap();
        verify_inclusion(2, 3, c, &[ab.to_vec()], &root).unwrap();
        // Wrong index, flipped proof byte, short proof, index out of range.
        assert!(verify_inclusion(1, 3, a, &[b.to_vec(), c.to_vec()], &root).is_err());
        let mut bad = b.to_vec();
        bad[0] ^= 1;
        assert!(verify_inclusion(0, 3, a, &[bad, c.to_vec()], &root).is_err());
        assert!(verify_inclusion(0, 3, a, &[b.to_vec()], &root).is_err());
        assert!(verify_inclusion(3, 3, a, &[], &root).is_err());
    }
}
