//! Key material and signature primitives (RustCrypto): public key parsing and
//! fingerprints, cosign encrypted private keys, signing and verifying.
pub mod privkey;
