//! The ephemeral Ed25519 key a process signs its transfers with.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signer as _, SigningKey};

/// An Ed25519 signing key (RFC 8032), made fresh for each process and proven to belong to the
/// bot by the ZK proof. `Debug` shows only the public key.
pub struct EphemeralKey(SigningKey);

/// Why no key could be made.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the operating system's random number generator failed: {0}")]
pub struct KeyError(getrandom::Error);

impl EphemeralKey {
    /// A new key from a 32-byte seed read from the operating system's RNG.
    pub fn generate() -> Result<Self, KeyError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(KeyError)?;
        let key = Self::from_seed(&seed);
        seed.fill(0);
        Ok(key)
    }

    /// The key with this seed (deterministic; for tests and test vectors).
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        Self(SigningKey::from_bytes(seed))
    }

    /// The 32-byte public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.0.verifying_key().to_bytes()
    }

    /// The public key in base58, as the prover takes it (`ephemeral_pk`).
    pub fn public_key_base58(&self) -> String {
        bs58::encode(self.public_key()).into_string()
    }

    /// Signs `message` (pure Ed25519) and returns the 64-byte signature.
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.0.sign(message).to_bytes()
    }

    /// The transaction's `signature` field for `message`:
    /// `base58(JSON {"PubKey": base64(pub), "Sig": base64(sig)})`.
    pub fn signature_field(&self, message: &[u8]) -> String {
        encode_signature_field(&self.public_key(), &self.sign(message))
    }
}

impl fmt::Debug for EphemeralKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EphemeralKey")
            .field("public", &self.public_key_base58())
            .finish_non_exhaustive()
    }
}

/// `base58(UTF-8 JSON {"PubKey":"<base64 pub>","Sig":"<base64 sig>"})`, standard base64.
pub(crate) fn encode_signature_field(public: &[u8; 32], signature: &[u8; 64]) -> String {
    let json = format!(
        r#"{{"PubKey":"{}","Sig":"{}"}}"#,
        STANDARD.encode(public),
        STANDARD.encode(signature)
    );
    bs58::encode(json).into_string()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::EphemeralKey;

    pub(crate) const SEED: &str =
        "8e92cf392cef0388e9855e3375c608b5eb0a71f074827c3d8368fac7d73c30ee";

    pub(crate) fn unhex(hex: &str) -> Vec<u8> {
        (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
            .collect()
    }

    pub(crate) fn vector_key() -> EphemeralKey {
        let seed: [u8; 32] = unhex(SEED).try_into().expect("32 bytes");
        EphemeralKey::from_seed(&seed)
    }

    #[test]
    fn key_from_the_vector_seed() {
        let key = vector_key();
        assert_eq!(
            key.public_key().to_vec(),
            unhex("0d1dfad29c20c13dccff213f52d2f98a395a0224b5159628d2bdb077cf4026a7")
        );
        assert_eq!(
            key.public_key_base58(),
            "tCpERuK8HdBMFVShya49pgfBFVyxbzzgDp7EKKE2Nx6"
        );
    }

    #[test]
    fn debug_shows_only_the_public_key() {
        let debug = format!("{:?}", vector_key());
        assert!(debug.contains("tCpERuK8HdBMFVShya49pgfBFVyxbzzgDp7EKKE2Nx6"));
        assert!(!debug.to_lowercase().contains("8e92cf"), "{debug}");
    }

    #[test]
    fn generated_keys_differ() {
        let a = EphemeralKey::generate().expect("os rng");
        let b = EphemeralKey::generate().expect("os rng");
        assert_ne!(a.public_key(), b.public_key());
    }
}
