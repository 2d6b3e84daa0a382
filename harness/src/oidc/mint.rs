//! Minting of projected service-account tokens, with the claims a
//! kube-apiserver puts in them.

use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use super::issuer::Issuer;
use super::jwt::encode_segment;
use super::keys::SigningKey;
use crate::seed;

/// Audience the pod identity webhook requests by default.
pub const DEFAULT_AUDIENCE: &str = "sts.amazonaws.com";
/// Token lifetime the webhook requests by default, in seconds.
pub const DEFAULT_LIFETIME_SECONDS: i64 = 86_400;

/// What a projected token is minted for.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    pub namespace: String,
    pub service_account: String,
    pub audiences: Vec<String>,
    /// Seconds from `iat` to `exp`; negative gives an already expired token.
    pub lifetime_seconds: i64,
    pub pod: Option<String>,
    /// The service account's uid, when a manifest gives one; derived from
    /// the seed otherwise.
    pub service_account_uid: Option<String>,
    /// The pod's uid, when a manifest gives one.
    pub pod_uid: Option<String>,
}

impl TokenRequest {
    /// A request with the webhook's default audience and lifetime.
    pub fn new(namespace: &str, service_account: &str) -> Self {
        Self {
            namespace: namespace.to_owned(),
            service_account: service_account.to_owned(),
            audiences: vec![DEFAULT_AUDIENCE.to_owned()],
            lifetime_seconds: DEFAULT_LIFETIME_SECONDS,
            pod: None,
            service_account_uid: None,
            pod_uid: None,
        }
    }
}

/// Builds the claims of a projected token: `aud` as an array, `nbf` equal
/// to `iat`, `sub` of the form `system:serviceaccount:<ns>:<name>`, and the
/// `kubernetes.io` object with the names and uids. Uids derive from the seed,
/// the issuer and the object names, so they are stable across runs.
pub fn projected_claims(
    issuer: &Issuer,
    world_seed: u64,
    now: OffsetDateTime,
    request: &TokenRequest,
) -> Map<String, Value> {
    let iat = now.unix_timestamp();
    let sa_uid = request.service_account_uid.clone().unwrap_or_else(|| {
        seed::uuid(
            world_seed,
            &[
                "serviceaccount",
                issuer.url(),
                &request.namespace,
                &request.service_account,
            ],
        )
    });
    let mut kubernetes = json!({
        "namespace": request.namespace,
        "serviceaccount": {"name": request.service_account, "uid": sa_uid},
    });
    if let Some(pod) = &request.pod {
        let pod_uid = request.pod_uid.clone().unwrap_or_else(|| {
            seed::uuid(world_seed, &["pod", issuer.url(), &request.namespace, pod])
        });
        kubernetes["pod"] = json!({"name": pod, "uid": pod_uid});
    }
    let claims = json!({
        "aud": request.audiences,
        "exp": iat.saturating_add(request.lifetime_seconds),
        "iat": iat,
        "iss": issuer.url(),
        "kubernetes.io": kubernetes,
        "nbf": iat,
        "sub": format!("system:serviceaccount:{}:{}", request.namespace, request.service_account),
    });
    match claims {
        Value::Object(map) => map,
        _ => unreachable!("json! of an object literal is an object"),
    }
}

/// The header kube-apiserver writes: the key's algorithm (RS256 for EKS)
/// and the key id.
pub fn default_header(key: &SigningKey) -> Map<String, Value> {
    let mut header = Map::new();
    header.insert("alg".into(), key.algorithm().name().into());
    header.insert("kid".into(), key.kid().into());
    header
}

/// Signs `claims` under `header` with the key's algorithm and returns the
/// compact token. The header is taken as given, so tests can mint tokens
/// with odd headers; the signature always uses the key's own algorithm.
pub fn sign(key: &SigningKey, header: &Map<String, Value>, claims: &Map<String, Value>) -> String {
    let signing_input = format!("{}.{}", encode_segment(header), encode_segment(claims));
    let signature = key.sign(&signing_input);
    format!("{signing_input}.{signature}")
}

/// Mints a projected token for `request`, signed by the issuer's current key.
pub fn mint(
    issuer: &Issuer,
    world_seed: u64,
    now: OffsetDateTime,
    request: &TokenRequest,
) -> String {
    let claims = projected_claims(issuer, world_seed, now, request);
    let key = issuer.signing_key();
    sign(key, &default_header(key), &claims)
}
