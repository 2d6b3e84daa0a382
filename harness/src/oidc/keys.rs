//! Signing keys for emulated issuers: RSA-2048 for RS256, RS384 and RS512,
//! and ECDSA on P-256, P-384 and P-521 for ES256, ES384 and ES512.
//!
//! Keys derive from the world's seed, so an issuer has the same key (and the
//! same `kid`) on every start. Generating an RSA-2048 key costs tens of
//! milliseconds even in an optimised build, so keys are cached process-wide
//! by their derivation input; the cache holds only values that the same
//! input would produce again, so sharing it between worlds is safe.
//!
//! EC keys are made with the curve crates, which also sign with them. Their
//! RFC 6979 signatures are deterministic, so a token minted twice is the
//! same text. jsonwebtoken has no ES512 in any case.
//!
//! Every verification, and RSA signing, goes to aws-lc-rs, the backend
//! jsonwebtoken is built with. The public keys are parsed once, when the key
//! is made, whereas jsonwebtoken's own calls parse the key again for every
//! signature. aws-lc verifies ES256 about four times faster than the p256
//! crate (`cargo bench --bench request`, group `crypto`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use aws_lc_rs::signature::{self as lc, ParsedPublicKey, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rsa::pkcs1::{EncodeRsaPrivateKey, EncodeRsaPublicKey};
use rsa::pkcs8::EncodePublicKey;
use rsa::traits::PublicKeyParts;
use rsa::{PrivateKey, PublicKey};
use sha2::{Digest, Sha256};

use crate::seed;

/// Size of the RSA issuer keys, as EKS uses.
pub const RSA_KEY_BITS: usize = 2048;

/// A JWS algorithm an issuer key can sign with: the six that STS accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyAlgorithm {
    RS256,
    RS384,
    RS512,
    ES256,
    ES384,
    ES512,
}

impl KeyAlgorithm {
    /// Every algorithm, in the order documentation lists them.
    pub const ALL: [KeyAlgorithm; 6] = [
        KeyAlgorithm::RS256,
        KeyAlgorithm::RS384,
        KeyAlgorithm::RS512,
        KeyAlgorithm::ES256,
        KeyAlgorithm::ES384,
        KeyAlgorithm::ES512,
    ];

    /// The `alg` value of JWS headers and JWKs.
    pub fn name(self) -> &'static str {
        match self {
            KeyAlgorithm::RS256 => "RS256",
            KeyAlgorithm::RS384 => "RS384",
            KeyAlgorithm::RS512 => "RS512",
            KeyAlgorithm::ES256 => "ES256",
            KeyAlgorithm::ES384 => "ES384",
            KeyAlgorithm::ES512 => "ES512",
        }
    }

    /// Parses an `alg` value; names are case-sensitive, as in JWS.
    pub fn from_name(name: &str) -> Option<KeyAlgorithm> {
        KeyAlgorithm::ALL.into_iter().find(|alg| alg.name() == name)
    }

    /// The JWK `kty` of keys for this algorithm.
    pub fn key_type(self) -> &'static str {
        match self.curve() {
            None => "RSA",
            Some(_) => "EC",
        }
    }

    /// The JWK `crv` of an EC algorithm; `None` for RSA.
    pub fn curve(self) -> Option<&'static str> {
        match self {
            KeyAlgorithm::ES256 => Some("P-256"),
            KeyAlgorithm::ES384 => Some("P-384"),
            KeyAlgorithm::ES512 => Some("P-521"),
            _ => None,
        }
    }

    /// Returns the position of an RS algorithm in [`RSA_VERIFY`] and
    /// [`RSA_SIGN`], or `None` for an EC algorithm.
    fn rsa_index(self) -> Option<usize> {
        match self {
            KeyAlgorithm::RS256 => Some(0),
            KeyAlgorithm::RS384 => Some(1),
            KeyAlgorithm::RS512 => Some(2),
            _ => None,
        }
    }
}

impl std::fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The public half of a key, in its JWK members (base64url, no padding).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicJwk {
    Rsa {
        n: String,
        e: String,
    },
    Ec {
        crv: &'static str,
        x: String,
        y: String,
    },
}

/// RSASSA-PKCS1-v1_5 with SHA-256, SHA-384 and SHA-512, by
/// [`KeyAlgorithm::rsa_index`]; the harness makes only 2048-bit keys.
static RSA_VERIFY: [&lc::RsaParameters; 3] = [
    &lc::RSA_PKCS1_2048_8192_SHA256,
    &lc::RSA_PKCS1_2048_8192_SHA384,
    &lc::RSA_PKCS1_2048_8192_SHA512,
];
static RSA_SIGN: [&lc::RsaSignatureEncoding; 3] = [
    &lc::RSA_PKCS1_SHA256,
    &lc::RSA_PKCS1_SHA384,
    &lc::RSA_PKCS1_SHA512,
];

enum Material {
    Rsa {
        pair: RsaKeyPair,
        /// One parsed public key per RS algorithm, by `rsa_index`.
        verifying: [ParsedPublicKey; 3],
    },
    Ec {
        signing: EcSigning,
        /// The public point, parsed for the one algorithm of its curve.
        verifying: ParsedPublicKey,
    },
}

enum EcSigning {
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
    P521(p521::ecdsa::SigningKey),
}

/// One issuer key pair with the algorithm it signs with and its JWK form.
pub struct SigningKey {
    kid: String,
    algorithm: KeyAlgorithm,
    material: Material,
    public: PublicJwk,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Returns the RS256 key derived from `seed` and `labels`, generating it
    /// on first use.
    pub fn derived(seed: u64, labels: &[&str]) -> Arc<SigningKey> {
        Self::derived_for(KeyAlgorithm::RS256, seed, labels)
    }

    /// Returns the key for `algorithm` derived from `seed` and `labels`,
    /// generating it on first use. An RS384 or RS512 key with the same labels
    /// as an RS256 key has the same RSA key pair and kid; callers that need
    /// distinct keys give distinct labels.
    pub fn derived_for(algorithm: KeyAlgorithm, seed: u64, labels: &[&str]) -> Arc<SigningKey> {
        type Cache = Mutex<HashMap<([u8; 32], KeyAlgorithm), Arc<SigningKey>>>;
        static CACHE: OnceLock<Cache> = OnceLock::new();
        let id = (seed::derive(seed, labels), algorithm);
        let cache = CACHE.get_or_init(Default::default);
        if let Some(key) = lock(cache).get(&id) {
            return key.clone();
        }
        // Generate outside the lock: two threads may race to make the same
        // key, and both results are identical, so either may win.
        let key = Arc::new(Self::generate(algorithm, seed, labels));
        lock(cache).entry(id).or_insert(key).clone()
    }

    fn generate(algorithm: KeyAlgorithm, seed: u64, labels: &[&str]) -> SigningKey {
        match algorithm {
            KeyAlgorithm::RS256 | KeyAlgorithm::RS384 | KeyAlgorithm::RS512 => {
                let mut rng = seed::rng(seed, labels);
                let private = PrivateKey::new(&mut rng, RSA_KEY_BITS)
                    .expect("RSA key generation with a 2048-bit size and an infallible RNG");
                Self::from_rsa(algorithm, &private)
            }
            KeyAlgorithm::ES256 => {
                let key = ec_scalar(seed, labels, 32, |bytes| {
                    p256::ecdsa::SigningKey::from_slice(bytes).ok()
                });
                let point = key.verifying_key().to_sec1_point(false);
                Self::from_ec(algorithm, EcSigning::P256(key), point.as_bytes())
            }
            KeyAlgorithm::ES384 => {
                let key = ec_scalar(seed, labels, 48, |bytes| {
                    p384::ecdsa::SigningKey::from_slice(bytes).ok()
                });
                let point = key.verifying_key().to_sec1_point(false);
                Self::from_ec(algorithm, EcSigning::P384(key), point.as_bytes())
            }
            KeyAlgorithm::ES512 => {
                let key = ec_scalar(seed, labels, 66, |bytes| {
                    p521::ecdsa::SigningKey::from_slice(bytes).ok()
                });
                let point = key.verifying_key().to_sec1_point(false);
                Self::from_ec(algorithm, EcSigning::P521(key), point.as_bytes())
            }
        }
    }

    fn from_rsa(algorithm: KeyAlgorithm, private: &PrivateKey) -> SigningKey {
        let public = PublicKey::from(private);
        let der = private
            .to_pkcs1_der()
            .expect("PKCS#1 encoding of a freshly generated key");
        let spki = public
            .to_public_key_der()
            .expect("SubjectPublicKeyInfo encoding of a valid public key");
        let pkcs1 = public
            .to_pkcs1_der()
            .expect("PKCS#1 encoding of a valid public key");
        let pair = RsaKeyPair::from_der(der.as_bytes())
            .expect("aws-lc-rs accepts a 2048-bit key the rsa crate generated");
        let verifying = RSA_VERIFY.map(|parameters| {
            ParsedPublicKey::new(parameters, pkcs1.as_bytes())
                .expect("aws-lc-rs accepts the PKCS#1 public key it was made from")
        });
        // EKS key ids are 40 hex digits derived from the public key; the
        // harness takes them from a SHA-256 of the SubjectPublicKeyInfo.
        let kid = hex::encode(&Sha256::digest(spki.as_bytes())[..20]);
        SigningKey {
            kid,
            algorithm,
            material: Material::Rsa { pair, verifying },
            public: PublicJwk::Rsa {
                n: URL_SAFE_NO_PAD.encode(public.n_bytes()),
                e: URL_SAFE_NO_PAD.encode(public.e_bytes()),
            },
        }
    }

    /// `sec1` is the uncompressed point: 0x04, then x and y of equal length.
    fn from_ec(algorithm: KeyAlgorithm, signing: EcSigning, sec1: &[u8]) -> SigningKey {
        // The fixed `r || s` form, as JWS signatures carry it (RFC 7518,
        // section 3.4).
        let parameters = match algorithm {
            KeyAlgorithm::ES256 => &lc::ECDSA_P256_SHA256_FIXED,
            KeyAlgorithm::ES384 => &lc::ECDSA_P384_SHA384_FIXED,
            _ => &lc::ECDSA_P521_SHA512_FIXED,
        };
        let verifying = ParsedPublicKey::new(parameters, sec1)
            .expect("aws-lc-rs accepts the point of a key the curve crate made");
        let coordinates = &sec1[1..];
        let (x, y) = coordinates.split_at(coordinates.len() / 2);
        // Like RSA key ids, 40 hex digits of a SHA-256 over the public key;
        // the algorithm is hashed in too, so no EC kid can equal an RSA one.
        let mut hasher = Sha256::new();
        hasher.update(algorithm.name().as_bytes());
        hasher.update(sec1);
        let kid = hex::encode(&hasher.finalize()[..20]);
        SigningKey {
            kid,
            algorithm,
            material: Material::Ec { signing, verifying },
            public: PublicJwk::Ec {
                crv: algorithm.curve().expect("an EC algorithm has a curve"),
                x: URL_SAFE_NO_PAD.encode(x),
                y: URL_SAFE_NO_PAD.encode(y),
            },
        }
    }

    /// The key id published in the JWKS and put in token headers.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The algorithm this key signs with and the JWKS names for it.
    pub fn algorithm(&self) -> KeyAlgorithm {
        self.algorithm
    }

    /// The public key in its JWK members.
    pub fn public_jwk(&self) -> &PublicJwk {
        &self.public
    }

    /// Signs `signing_input` (`header.claims` in base64url) with the key's
    /// algorithm and returns the base64url signature. EC signatures are the
    /// fixed-length `r || s` form JWS uses (RFC 7518, section 3.4), and
    /// deterministic (RFC 6979), so a token minted twice is the same text.
    pub fn sign(&self, signing_input: &str) -> String {
        use p256::ecdsa::signature::Signer;
        let message = signing_input.as_bytes();
        let raw = match &self.material {
            Material::Rsa { pair, .. } => {
                let index = self
                    .algorithm
                    .rsa_index()
                    .expect("an RSA key has an RS algorithm");
                let mut signature = vec![0; pair.public_modulus_len()];
                // PKCS#1 v1.5 padding is deterministic; the generator only
                // feeds aws-lc's blinding, so the signature does not vary.
                pair.sign(
                    RSA_SIGN[index],
                    &aws_lc_rs::rand::SystemRandom::new(),
                    message,
                    &mut signature,
                )
                .expect("RSA signing with a valid key and a buffer of the modulus size");
                signature
            }
            Material::Ec { signing, .. } => match signing {
                EcSigning::P256(key) => {
                    let signature: p256::ecdsa::Signature = key.sign(message);
                    signature.to_bytes().to_vec()
                }
                EcSigning::P384(key) => {
                    let signature: p384::ecdsa::Signature = key.sign(message);
                    signature.to_bytes().to_vec()
                }
                EcSigning::P521(key) => {
                    let signature: p521::ecdsa::Signature = key.sign(message);
                    signature.to_bytes().to_vec()
                }
            },
        };
        URL_SAFE_NO_PAD.encode(raw)
    }

    /// Verifies a base64url signature over `signing_input` with `algorithm`.
    ///
    /// An RSA key verifies only RS256, RS384 and RS512, and an EC key only
    /// the one algorithm of its curve, whatever the token's header claims;
    /// any other pairing, and any malformed signature, counts as invalid.
    pub fn verify(&self, signing_input: &str, signature: &str, algorithm: KeyAlgorithm) -> bool {
        let verifying = match &self.material {
            Material::Rsa { verifying, .. } => match algorithm.rsa_index() {
                Some(index) => &verifying[index],
                None => return false,
            },
            // An EC key's algorithm is the one of its curve.
            Material::Ec { verifying, .. } if algorithm == self.algorithm => verifying,
            Material::Ec { .. } => return false,
        };
        URL_SAFE_NO_PAD
            .decode(signature)
            .is_ok_and(|raw| verifying.verify_sig(signing_input.as_bytes(), &raw).is_ok())
    }
}

/// Derives an EC private scalar of `len` bytes from the seed and labels.
///
/// The bytes come from [`seed::derive`] with a block counter, enough blocks
/// to fill `len`. For P-521 the top byte keeps only its lowest bit, since the
/// curve order is a 521-bit number. A value that is zero or not below the
/// curve order is rejected by `make`, and the next attempt number is tried,
/// so the result stays deterministic.
fn ec_scalar<K>(seed: u64, labels: &[&str], len: usize, make: impl Fn(&[u8]) -> Option<K>) -> K {
    for attempt in 0u32.. {
        let attempt = attempt.to_string();
        let mut bytes = Vec::with_capacity(len + 32);
        for block in 0u32.. {
            if bytes.len() >= len {
                break;
            }
            let block = block.to_string();
            let mut input: Vec<&str> = labels.to_vec();
            input.extend(["ec-scalar", &attempt, &block]);
            bytes.extend_from_slice(&seed::derive(seed, &input));
        }
        bytes.truncate(len);
        if len == 66 {
            bytes[0] &= 0x01;
        }
        if let Some(key) = make(&bytes) {
            return key;
        }
    }
    unreachable!("an unbounded search finds a valid scalar")
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

    const INPUT: &str = "aGVhZGVy.Y2xhaW1z";
    const TAMPERED: &str = "aGVhZGVy.Y2xhaW1x";

    #[test]
    fn same_seed_gives_same_kid() {
        let a = SigningKey::derived(1, &["cluster", "a"]);
        let b = SigningKey::derived(1, &["cluster", "a"]);
        assert_eq!(a.kid(), b.kid());
        assert_eq!(a.kid().len(), 40);
    }

    #[test]
    fn every_algorithm_signs_and_verifies() {
        for algorithm in KeyAlgorithm::ALL {
            let key = SigningKey::derived_for(algorithm, 1, &["alg-test", algorithm.name()]);
            assert_eq!(key.algorithm(), algorithm);
            let signature = key.sign(INPUT);
            assert!(key.verify(INPUT, &signature, algorithm), "{algorithm}");
            assert!(!key.verify(TAMPERED, &signature, algorithm), "{algorithm}");
        }
    }

    #[test]
    fn ec_signatures_are_raw_fixed_length() {
        for (algorithm, len) in [
            (KeyAlgorithm::ES256, 64),
            (KeyAlgorithm::ES384, 96),
            (KeyAlgorithm::ES512, 132),
        ] {
            let key = SigningKey::derived_for(algorithm, 1, &["alg-test", algorithm.name()]);
            let raw = URL_SAFE_NO_PAD.decode(key.sign(INPUT)).unwrap();
            assert_eq!(raw.len(), len, "{algorithm}");
        }
    }

    #[test]
    fn ec_signatures_in_another_form_fail() {
        let key = SigningKey::derived_for(KeyAlgorithm::ES256, 1, &["alg-test", "ES256"]);
        let raw = URL_SAFE_NO_PAD.decode(key.sign(INPUT)).unwrap();
        let verifies =
            |bytes: &[u8]| key.verify(INPUT, &URL_SAFE_NO_PAD.encode(bytes), KeyAlgorithm::ES256);
        assert!(verifies(&raw));
        assert!(!verifies(&raw[..63]), "truncated");
        assert!(!verifies(&[raw.as_slice(), &[0]].concat()), "padded");
        let der = p256::ecdsa::Signature::from_slice(&raw).unwrap().to_der();
        assert!(!verifies(der.as_bytes()), "DER-encoded");
        assert!(!verifies(&[0; 64]), "zero r and s");
    }

    #[test]
    fn ec_keys_are_deterministic_and_distinct() {
        for algorithm in [
            KeyAlgorithm::ES256,
            KeyAlgorithm::ES384,
            KeyAlgorithm::ES512,
        ] {
            let a = SigningKey::generate(algorithm, 7, &["slot", "0"]);
            let b = SigningKey::generate(algorithm, 7, &["slot", "0"]);
            let c = SigningKey::generate(algorithm, 7, &["slot", "1"]);
            assert_eq!(a.kid(), b.kid());
            assert_eq!(a.public_jwk(), b.public_jwk());
            assert_eq!(a.sign(INPUT), b.sign(INPUT), "RFC 6979 signatures repeat");
            assert_ne!(a.kid(), c.kid());
            assert_eq!(a.kid().len(), 40);
        }
    }

    #[test]
    fn jwk_members_fit_the_curve() {
        for (algorithm, crv, len) in [
            (KeyAlgorithm::ES256, "P-256", 32),
            (KeyAlgorithm::ES384, "P-384", 48),
            (KeyAlgorithm::ES512, "P-521", 66),
        ] {
            let key = SigningKey::derived_for(algorithm, 1, &["alg-test", algorithm.name()]);
            let PublicJwk::Ec { crv: got, x, y } = key.public_jwk() else {
                panic!("{algorithm} key has an RSA JWK");
            };
            assert_eq!(*got, crv);
            assert_eq!(URL_SAFE_NO_PAD.decode(x).unwrap().len(), len);
            assert_eq!(URL_SAFE_NO_PAD.decode(y).unwrap().len(), len);
        }
        let rsa = SigningKey::derived(1, &["cluster", "a"]);
        assert!(matches!(rsa.public_jwk(), PublicJwk::Rsa { e, .. } if e == "AQAB"));
    }

    #[test]
    fn keys_verify_only_their_own_algorithm_family() {
        let rsa = SigningKey::derived(1, &["cluster", "a"]);
        let rsa_signature = rsa.sign(INPUT);
        for algorithm in [
            KeyAlgorithm::ES256,
            KeyAlgorithm::ES384,
            KeyAlgorithm::ES512,
        ] {
            assert!(!rsa.verify(INPUT, &rsa_signature, algorithm), "{algorithm}");
        }
        let es256 = SigningKey::derived_for(KeyAlgorithm::ES256, 1, &["alg-test", "ES256"]);
        let es_signature = es256.sign(INPUT);
        for algorithm in KeyAlgorithm::ALL {
            if algorithm != KeyAlgorithm::ES256 {
                assert!(
                    !es256.verify(INPUT, &es_signature, algorithm),
                    "{algorithm}"
                );
            }
        }
        // An ES256 signature checked against an RSA key fails too.
        assert!(!rsa.verify(INPUT, &es_signature, KeyAlgorithm::RS256));
        assert!(!rsa.verify(INPUT, &es_signature, KeyAlgorithm::ES256));
    }

    #[test]
    fn algorithm_names_round_trip() {
        for algorithm in KeyAlgorithm::ALL {
            assert_eq!(KeyAlgorithm::from_name(algorithm.name()), Some(algorithm));
        }
        assert_eq!(KeyAlgorithm::from_name("HS256"), None);
        assert_eq!(KeyAlgorithm::from_name("es256"), None);
    }
}
