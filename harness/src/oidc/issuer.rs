//! An emulated OIDC issuer: its URL, its keys, and the discovery document
//! and JWKS it serves.
//!
//! Both documents are rendered once when the issuer's key set is built, in
//! the exact member order and compact form EKS sends, and served as stored
//! bytes.

use std::sync::Arc;

use serde::Serialize;

use super::keys::SigningKey;

/// Path of the discovery document under the issuer URL.
pub const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";
/// Path of the JWKS under the issuer URL, as EKS names it.
pub const JWKS_PATH: &str = "/keys";

/// One issuer and its current key set.
#[derive(Debug)]
pub struct Issuer {
    url: String,
    host: String,
    path: String,
    keys: Vec<Arc<SigningKey>>,
    discovery: String,
    jwks: String,
}

#[derive(Serialize)]
struct Discovery<'a> {
    issuer: &'a str,
    jwks_uri: String,
    authorization_endpoint: &'a str,
    response_types_supported: [&'a str; 1],
    subject_types_supported: [&'a str; 1],
    claims_supported: [&'a str; 2],
    id_token_signing_alg_values_supported: [&'a str; 1],
}

#[derive(Serialize)]
struct Jwks<'a> {
    keys: Vec<Jwk<'a>>,
}

#[derive(Serialize)]
struct Jwk<'a> {
    kty: &'a str,
    kid: &'a str,
    #[serde(rename = "use")]
    usage: &'a str,
    alg: &'a str,
    n: &'a str,
    e: &'a str,
}

impl Issuer {
    /// Builds an issuer for `url` (`https://host/path`) signing with the
    /// first of `keys`; every key is published in the JWKS.
    pub fn new(url: &str, keys: Vec<Arc<SigningKey>>) -> Issuer {
        assert!(!keys.is_empty(), "an issuer needs at least one key");
        let without_scheme = url.strip_prefix("https://").unwrap_or(url);
        let (host, path) = match without_scheme.find('/') {
            Some(index) => (&without_scheme[..index], &without_scheme[index..]),
            None => (without_scheme, ""),
        };
        let discovery = serde_json::to_string(&Discovery {
            issuer: url,
            jwks_uri: format!("{url}{JWKS_PATH}"),
            authorization_endpoint: "urn:kubernetes:programmatic_authorization",
            response_types_supported: ["id_token"],
            subject_types_supported: ["public"],
            claims_supported: ["sub", "iss"],
            id_token_signing_alg_values_supported: ["RS256"],
        })
        .expect("serialising a struct of strings");
        let jwks = serde_json::to_string(&Jwks {
            keys: keys
                .iter()
                .map(|key| Jwk {
                    kty: "RSA",
                    kid: key.kid(),
                    usage: "sig",
                    alg: "RS256",
                    n: key.modulus(),
                    e: key.exponent(),
                })
                .collect(),
        })
        .expect("serialising a struct of strings");
        Issuer {
            url: url.to_owned(),
            host: host.to_owned(),
            path: path.trim_end_matches('/').to_owned(),
            keys,
            discovery,
            jwks,
        }
    }

    /// The issuer URL, exactly as it appears in the `iss` claim.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The host name the issuer is served under.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The URL path of the issuer, without a trailing slash (empty for an
    /// issuer at the root of its host).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The key new tokens are signed with.
    pub fn signing_key(&self) -> &Arc<SigningKey> {
        &self.keys[0]
    }

    /// Every key published in the JWKS.
    pub fn keys(&self) -> &[Arc<SigningKey>] {
        &self.keys
    }

    /// Finds a published key by `kid`.
    pub fn key(&self, kid: &str) -> Option<&Arc<SigningKey>> {
        self.keys.iter().find(|key| key.kid() == kid)
    }

    /// The discovery document, as served.
    pub fn discovery_json(&self) -> &str {
        &self.discovery
    }

    /// The JWKS, as served.
    pub fn jwks_json(&self) -> &str {
        &self.jwks
    }
}
