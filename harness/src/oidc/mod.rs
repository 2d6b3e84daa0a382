//! The OIDC side: issuer signing keys, the discovery document and JWKS an
//! EKS issuer serves, minting of projected service-account tokens, and JWT
//! parsing and signature checks for STS.

pub mod github;
pub mod issuer;
pub mod jwt;
pub mod keys;
pub mod mint;
pub mod remote;

pub use issuer::Issuer;
pub use keys::{KeyAlgorithm, PublicJwk, SigningKey};
