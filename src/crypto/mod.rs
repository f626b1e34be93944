//! Key material and signature primitives (RustCrypto): public key parsing and
//! fingerprints, cosign encrypted private keys, signing and verifying.

pub mod cert;
pub mod der;
pub mod pubkey;
pub mod rekor;

pub use pubkey::{KeyError, PublicKey};
pub mod privkey;
pub mod sct;

/// Limit `max-signature-bytes`: a signature longer than this is refused before any
/// cryptography (the largest real one, RSA-16384, is 2 KiB; ECDSA and Ed25519 far less).
pub const MAX_SIGNATURE_BYTES: usize = 12 * 1024;
/// The same limit on base64 text (4 characters per 3 bytes).
pub const MAX_SIGNATURE_TEXT: usize = MAX_SIGNATURE_BYTES / 3 * 4;
