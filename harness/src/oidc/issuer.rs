//! An emulated OIDC issuer: its URL, its keys, and the discovery document
//! and JWKS it serves.
//!
//! Both documents are rendered once when the issuer's key set is built, in
//! the exact member order and compact form EKS sends, and served as stored
//! bytes.

use std::sync::Arc;

use serde::Serialize;

use super::keys::{PublicJwk, SigningKey};

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
    id_token_signing_alg_values_supported: Vec<&'a str>,
}

#[derive(Serialize)]
struct Jwks<'a> {
    keys: Vec<Jwk<'a>>,
}

/// A JWK in the member order EKS sends for RSA keys; EC keys follow the
/// same order with `crv`, `x` and `y` in place of `n` and `e`.
#[derive(Serialize)]
#[serde(untagged)]
enum Jwk<'a> {
    Rsa {
        kty: &'a str,
        kid: &'a str,
        #[serde(rename = "use")]
        usage: &'a str,
        alg: &'a str,
        n: &'a str,
        e: &'a str,
    },
    Ec {
        kty: &'a str,
        kid: &'a str,
        #[serde(rename = "use")]
        usage: &'a str,
        alg: &'a str,
        crv: &'a str,
        x: &'a str,
        y: &'a str,
    },
}

impl<'a> Jwk<'a> {
    fn of(key: &'a SigningKey) -> Jwk<'a> {
        let alg = key.algorithm();
        match key.public_jwk() {
            PublicJwk::Rsa { n, e } => Jwk::Rsa {
                kty: alg.key_type(),
                kid: key.kid(),
                usage: "sig",
                alg: alg.name(),
                n,
                e,
            },
            PublicJwk::Ec { crv, x, y } => Jwk::Ec {
                kty: alg.key_type(),
                kid: key.kid(),
                usage: "sig",
                alg: alg.name(),
                crv,
                x,
                y,
            },
        }
    }
}

impl Issuer {
    /// Builds an issuer for `url` (`https://host/path`) signing with the
    /// first of `keys`; every key is published in the JWKS, and the
    /// discovery document lists each key's algorithm once, signing key first.
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
            id_token_signing_alg_values_supported: algorithms(&keys),
        })
        .expect("serialising a struct of strings");
        let jwks = serde_json::to_string(&Jwks {
            keys: keys.iter().map(|key| Jwk::of(key)).collect(),
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

fn algorithms(keys: &[Arc<SigningKey>]) -> Vec<&'static str> {
    let mut names = Vec::new();
    for key in keys {
        let name = key.algorithm().name();
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oidc::KeyAlgorithm;

    #[test]
    fn jwks_members_follow_the_key_type() {
        let rsa = SigningKey::derived(3, &["issuer-test", "rsa"]);
        let ec = SigningKey::derived_for(KeyAlgorithm::ES384, 3, &["issuer-test", "ec"]);
        let issuer = Issuer::new("https://issuer.example/x", vec![ec.clone(), rsa.clone()]);
        let jwks: serde_json::Value = serde_json::from_str(issuer.jwks_json()).unwrap();
        // serde_json's map sorts members, so the order is read off the text.
        let text = issuer.jwks_json();
        let ec_end = text.find("},{").unwrap();
        let order = |part: &str, members: &[&str]| {
            let positions: Vec<usize> = members
                .iter()
                .map(|m| part.find(&format!("\"{m}\":")).unwrap())
                .collect();
            assert!(positions.is_sorted(), "{part}");
        };
        order(
            &text[..ec_end],
            &["kty", "kid", "use", "alg", "crv", "x", "y"],
        );
        order(&text[ec_end..], &["kty", "kid", "use", "alg", "n", "e"]);
        assert!(!text[ec_end..].contains("\"crv\""));
        assert_eq!(jwks["keys"][0]["kty"], "EC");
        assert_eq!(jwks["keys"][0]["crv"], "P-384");
        assert_eq!(jwks["keys"][0]["alg"], "ES384");
        assert_eq!(jwks["keys"][0]["kid"], ec.kid());
        assert_eq!(jwks["keys"][1]["alg"], "RS256");
        assert!(!issuer.jwks_json().contains(' '), "compact JSON");
        assert!(
            issuer
                .discovery_json()
                .contains(r#""id_token_signing_alg_values_supported":["ES384","RS256"]"#)
        );
        assert_eq!(issuer.signing_key().kid(), ec.kid());
    }
}
