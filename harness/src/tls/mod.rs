//! HTTPS for the emulated OIDC issuers, and IAM OIDC provider thumbprints.
//!
//! Real EKS issuers are served over HTTPS at
//! `oidc.eks.REGION.amazonaws.com`, and IAM identifies a provider's TLS
//! chain by the SHA-1 thumbprint of its top intermediate CA. This module
//! provides the pieces to reproduce that locally:
//!
//! - [`CertificateAuthority`]: a root → intermediate → leaf chain derived
//!   from the world's seed, byte-identical on every start.
//! - [`server_config`]: a rustls server configuration that issues one leaf
//!   per served host on first SNI and presents `[leaf, intermediate]`.
//! - [`serve_tls`]: serves an axum router over that configuration.
//! - [`thumbprint_of`], [`fetch_thumbprint`], [`run_thumbprint_command`]:
//!   the thumbprint as AWS documents it.
//!
//! Everything uses the ring provider, passed explicitly (see [`provider`]).

mod ca;
mod resolver;
mod serve;
mod thumbprint;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use rustls::crypto::CryptoProvider;

pub use ca::{
    CaError, CertificateAuthority, INTERMEDIATE_COMMON_NAME, ORGANIZATION, ROOT_COMMON_NAME,
};
pub use resolver::{HostCertResolver, HostPredicate, server_config};
pub use serve::serve_tls;
pub use thumbprint::{
    DISCOVERY_PATH, Thumbprint, ThumbprintError, fetch_thumbprint, fetch_thumbprint_resolving,
    parse_resolve, run_thumbprint_command, thumbprint_of,
};

/// Returns the certificate authority of `seed`, generating it on first use.
///
/// The chain is a pure function of the seed, so one per seed serves every
/// world of the process; generation takes a fraction of a second, which
/// the HTTPS listener and thumbprint pinning then pay once.
pub fn authority_for_seed(seed: u64) -> Result<Arc<CertificateAuthority>, CaError> {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static CACHE: OnceLock<Mutex<HashMap<u64, Arc<CertificateAuthority>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(ca) = cache.lock().unwrap_or_else(|p| p.into_inner()).get(&seed) {
        return Ok(ca.clone());
    }
    let ca = Arc::new(CertificateAuthority::generate(seed)?);
    let mut cache = cache.lock().unwrap_or_else(|p| p.into_inner());
    Ok(cache.entry(seed).or_insert(ca).clone())
}

/// Returns the ring crypto provider used by every TLS configuration here.
///
/// Builds that link aws-lc-rs too (the AWS SDKs in the end-to-end tests do)
/// have no process-wide default provider, so rustls's implicit default
/// would panic. Passing this provider explicitly avoids that.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}
