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
    DISCOVERY_PATH, Thumbprint, ThumbprintError, fetch_thumbprint, parse_resolve,
    run_thumbprint_command, thumbprint_of,
};

/// Returns the ring crypto provider used by every TLS configuration here.
///
/// Builds that link aws-lc-rs too (the AWS SDKs in the end-to-end tests do)
/// have no process-wide default provider, so rustls's implicit default
/// would panic. Passing this provider explicitly avoids that.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}
