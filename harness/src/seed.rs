//! Deterministic derivation of keys, ids and secrets from the world's seed.
//!
//! Every value that differs between two worlds (RSA keys, cluster ids, role
//! ids, access key ids, request ids) comes from [`derive`] with a label that
//! names its purpose, so adding a value of one kind never shifts another.

use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;
use sha2::{Digest, Sha256};

/// Seed used when neither `--seed` nor a scenario names one.
pub const DEFAULT_SEED: u64 = 20_191_115;

/// Hashes the seed and the labels into 32 bytes.
///
/// Labels are length-prefixed, so `["ab", "c"]` and `["a", "bc"]` differ.
pub fn derive(seed: u64, labels: &[&str]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(b"oidc-sts-harness/v1");
    hasher.update(seed.to_be_bytes());
    for label in labels {
        hasher.update((label.len() as u64).to_be_bytes());
        hasher.update(label.as_bytes());
    }
    hasher.finalize().into()
}

/// Returns a ChaCha20 generator seeded from [`derive`], for key generation.
pub fn rng(seed: u64, labels: &[&str]) -> ChaCha20Rng {
    ChaCha20Rng::from_seed(derive(seed, labels))
}

/// Formats 16 derived bytes as a UUID (version 4 layout), for request ids and
/// Kubernetes uids.
pub fn uuid(seed: u64, labels: &[&str]) -> String {
    let mut bytes = derive(seed, labels);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = hex::encode(&bytes[..16]);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// Returns `len` characters of upper-case letters and digits derived from
/// the labels, the alphabet of AWS ids such as `AROA…` and `ASIA…`.
pub fn id_chars(seed: u64, labels: &[&str], len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let bytes = derive(seed, labels);
    bytes
        .iter()
        .cycle()
        .take(len)
        .map(|b| ALPHABET[(*b as usize) % ALPHABET.len()] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_length_prefixed() {
        assert_ne!(derive(1, &["ab", "c"]), derive(1, &["a", "bc"]));
    }

    #[test]
    fn uuid_has_version_four_layout() {
        let id = uuid(7, &["request", "1"]);
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
    }

    #[test]
    fn id_chars_uses_upper_case_alphabet() {
        let id = id_chars(7, &["role"], 17);
        assert_eq!(id.len(), 17);
        assert!(
            id.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        );
    }
}
