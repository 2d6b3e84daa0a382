//! An emulated OIDC issuer: its URL, its keys, and the discovery document
//! and JWKS it serves.
//!
//! Both documents are rendered once per key set, in the exact member order
//! and compact form EKS sends, and served as stored bytes. The discovery
//! document needs only the algorithms, so it is rendered when the issuer is
//! built; the keys themselves, and the JWKS, are made on the first request
//! that needs them, so a server with many clusters starts without paying for
//! RSA key generation. A rotation builds a new `Issuer`, so nothing cached
//! here can outlive the key set it was made from.

use std::sync::{Arc, OnceLock};

use serde::Serialize;

use super::keys::{KeyAlgorithm, PublicJwk, SigningKey};

/// Path of the discovery document under the issuer URL.
pub const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";
/// Path of the JWKS under the issuer URL, as EKS names it.
pub const JWKS_PATH: &str = "/keys";

/// One key of an issuer's key set: made already, or still to be derived.
#[derive(Debug, Clone)]
pub enum KeySlot {
    Ready(Arc<SigningKey>),
    /// A key that [`SigningKey::derived_for`] makes from these inputs when
    /// first needed; the inputs alone fix the key, so the order in which
    /// issuers first use their keys changes nothing.
    Derived {
        algorithm: KeyAlgorithm,
        seed: u64,
        labels: Vec<String>,
    },
}

impl KeySlot {
    fn algorithm(&self) -> KeyAlgorithm {
        match self {
            KeySlot::Ready(key) => key.algorithm(),
            KeySlot::Derived { algorithm, .. } => *algorithm,
        }
    }

    fn make(&self) -> Arc<SigningKey> {
        match self {
            KeySlot::Ready(key) => key.clone(),
            KeySlot::Derived {
                algorithm,
                seed,
                labels,
            } => {
                let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
                SigningKey::derived_for(*algorithm, *seed, &labels)
            }
        }
    }
}

/// One issuer and its current key set.
#[derive(Debug)]
pub struct Issuer {
    url: String,
    host: String,
    path: String,
    slots: Vec<KeySlot>,
    keys: OnceLock<Vec<Arc<SigningKey>>>,
    discovery: String,
    jwks: OnceLock<String>,
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
        Self::with_slots(url, keys.into_iter().map(KeySlot::Ready).collect())
    }

    /// Builds an issuer whose keys are made on first use; the first slot is
    /// the signing key.
    pub fn with_slots(url: &str, slots: Vec<KeySlot>) -> Issuer {
        assert!(!slots.is_empty(), "an issuer needs at least one key");
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
            id_token_signing_alg_values_supported: algorithms(&slots),
        })
        .expect("serialising a struct of strings");
        Issuer {
            url: url.to_owned(),
            host: host.to_owned(),
            path: path.trim_end_matches('/').to_owned(),
            slots,
            keys: OnceLock::new(),
            discovery,
            jwks: OnceLock::new(),
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
        &self.keys()[0]
    }

    /// Every key published in the JWKS, made on the first call.
    pub fn keys(&self) -> &[Arc<SigningKey>] {
        // Two threads may race here; both derive the same keys, and the
        // process-wide key cache makes the loser's work a lookup.
        self.keys
            .get_or_init(|| self.slots.iter().map(KeySlot::make).collect())
    }

    /// The algorithm of the signing key, known without making any key.
    pub fn signing_algorithm(&self) -> KeyAlgorithm {
        self.slots[0].algorithm()
    }

    /// The key set as slots, for building the next set on rotation.
    pub fn slots(&self) -> &[KeySlot] {
        &self.slots
    }

    /// Finds a published key by `kid`.
    pub fn key(&self, kid: &str) -> Option<&Arc<SigningKey>> {
        self.keys().iter().find(|key| key.kid() == kid)
    }

    /// The discovery document, as served.
    pub fn discovery_json(&self) -> &str {
        &self.discovery
    }

    /// The JWKS, as served; rendered once, on the first call.
    pub fn jwks_json(&self) -> &str {
        self.jwks.get_or_init(|| {
            serde_json::to_string(&Jwks {
                keys: self.keys().iter().map(|key| Jwk::of(key)).collect(),
            })
            .expect("serialising a struct of strings")
        })
    }

    /// Whether the keys have been made yet.
    pub fn keys_made(&self) -> bool {
        self.keys.get().is_some()
    }
}

fn algorithms(slots: &[KeySlot]) -> Vec<&'static str> {
    let mut names = Vec::new();
    for slot in slots {
        let name = slot.algorithm().name();
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
