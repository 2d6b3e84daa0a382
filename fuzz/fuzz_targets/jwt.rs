//! The JWT parser and the signature check: any bytes as a web identity
//! token, split and decoded, then verified against the fuzzing world's
//! fixed RSA key and an EC key with the algorithm the header names.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use oidc_sts_harness::oidc::{KeyAlgorithm, SigningKey, jwt};

fn keys() -> &'static [std::sync::Arc<SigningKey>; 2] {
    static KEYS: OnceLock<[std::sync::Arc<SigningKey>; 2]> = OnceLock::new();
    KEYS.get_or_init(|| {
        let state = oidc_sts_harness_fuzz::state();
        let world = state.read();
        let rsa = world.clusters()[0].issuer.signing_key().clone();
        let ec =
            SigningKey::derived_for(KeyAlgorithm::ES256, oidc_sts_harness_fuzz::SEED, &["fuzz"]);
        [rsa, ec]
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(token) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(parsed) = jwt::parse(token) else {
        return;
    };
    assert!(token.starts_with(parsed.signing_input));
    assert!(token.ends_with(parsed.signature));
    let algorithm = parsed
        .header
        .get("alg")
        .and_then(|alg| alg.as_str())
        .and_then(KeyAlgorithm::from_name);
    if let Some(algorithm) = algorithm {
        for key in keys() {
            let _ = key.verify(parsed.signing_input, parsed.signature, algorithm);
        }
    }
});
