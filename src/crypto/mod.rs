//! Key material and signature primitives (RustCrypto): public key parsing and
//! fingerprints, cosign encrypted private keys, signing and verifying.

pub mod cert;
pub mod der;
pub mod pubkey;
pub mod rekor;

pub use pubkey::{KeyError, PublicKey};
pub mod privkey;
