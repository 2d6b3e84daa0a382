//! RSA signing keys for emulated issuers.
//!
//! Keys derive from the world's seed, so a cluster has the same key (and the
//! same `kid`) on every start. Generating an RSA-2048 key costs tens of
//! milliseconds even in an optimised build, so keys are cached process-wide
//! by their derivation input; the cache holds only values that the same
//! input would produce again, so sharing it between worlds is safe.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::pkcs8::EncodePublicKey;
use rsa::traits::PublicKeyParts;
use rsa::{PrivateKey, PublicKey};
use sha2::{Digest, Sha256};

use crate::seed;

/// Size of the issuer keys, as EKS uses.
pub const RSA_KEY_BITS: usize = 2048;

/// One issuer key pair with its JWK form and ready-to-use jsonwebtoken keys.
pub struct SigningKey {
    kid: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
    modulus: String,
    exponent: String,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Returns the key derived from `seed` and `labels`, generating it on
    /// first use.
    pub fn derived(seed: u64, labels: &[&str]) -> Arc<SigningKey> {
        static CACHE: OnceLock<Mutex<HashMap<[u8; 32], Arc<SigningKey>>>> = OnceLock::new();
        let id = seed::derive(seed, labels);
        let cache = CACHE.get_or_init(Default::default);
        if let Some(key) = lock(cache).get(&id) {
            return key.clone();
        }
        // Generate outside the lock: two threads may race to make the same
        // key, and both results are identical, so either may win.
        let key = Arc::new(Self::generate(seed, labels));
        lock(cache).entry(id).or_insert(key).clone()
    }

    fn generate(seed: u64, labels: &[&str]) -> SigningKey {
        let mut rng = seed::rng(seed, labels);
        let private = PrivateKey::new(&mut rng, RSA_KEY_BITS)
            .expect("RSA key generation with a 2048-bit size and an infallible RNG");
        Self::from_private(&private)
    }

    fn from_private(private: &PrivateKey) -> SigningKey {
        let public = PublicKey::from(private);
        let der = private
            .to_pkcs1_der()
            .expect("PKCS#1 encoding of a freshly generated key");
        let spki = public
            .to_public_key_der()
            .expect("SubjectPublicKeyInfo encoding of a valid public key");
        let modulus = URL_SAFE_NO_PAD.encode(public.n_bytes());
        let exponent = URL_SAFE_NO_PAD.encode(public.e_bytes());
        // EKS key ids are 40 hex digits derived from the public key; the
        // harness takes them from a SHA-256 of the SubjectPublicKeyInfo.
        let kid = hex::encode(&Sha256::digest(spki.as_bytes())[..20]);
        SigningKey {
            kid,
            encoding: EncodingKey::from_rsa_der(der.as_bytes()),
            decoding: DecodingKey::from_rsa_raw_components(&public.n_bytes(), &public.e_bytes()),
            modulus,
            exponent,
        }
    }

    /// The key id published in the JWKS and put in token headers.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The JWK `n` member (base64url of the modulus).
    pub fn modulus(&self) -> &str {
        &self.modulus
    }

    /// The JWK `e` member (base64url of the public exponent).
    pub fn exponent(&self) -> &str {
        &self.exponent
    }

    /// Signs `signing_input` (`header.claims` in base64url) with RS256 and
    /// returns the base64url signature.
    pub fn sign(&self, signing_input: &str) -> String {
        jsonwebtoken::crypto::sign(signing_input.as_bytes(), &self.encoding, Algorithm::RS256)
            .expect("RS256 signing with a valid RSA key")
    }

    /// Verifies a base64url signature over `signing_input` with `algorithm`.
    /// Any failure, including an algorithm that does not fit an RSA key,
    /// counts as an invalid signature.
    pub fn verify(&self, signing_input: &str, signature: &str, algorithm: Algorithm) -> bool {
        jsonwebtoken::crypto::verify(
            signature,
            signing_input.as_bytes(),
            &self.decoding,
            algorithm,
        )
        .unwrap_or(false)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // The cache only ever gains complete entries, so a poisoned lock still
    // guards a consistent map.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_gives_same_kid() {
        let a = SigningKey::derived(1, &["cluster", "a"]);
        let b = SigningKey::derived(1, &["cluster", "a"]);
        assert_eq!(a.kid(), b.kid());
        assert_eq!(a.kid().len(), 40);
    }

    #[test]
    fn signature_verifies_and_tampering_fails() {
        let key = SigningKey::derived(1, &["cluster", "a"]);
        let signature = key.sign("aGVhZGVy.Y2xhaW1z");
        assert!(key.verify("aGVhZGVy.Y2xhaW1z", &signature, Algorithm::RS256));
        assert!(!key.verify("aGVhZGVy.Y2xhaW1x", &signature, Algorithm::RS256));
        assert!(!key.verify("aGVhZGVy.Y2xhaW1z", &signature, Algorithm::ES256));
    }
}
