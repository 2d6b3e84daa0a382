//! EC2 instance metadata (IMDSv2) for the node of an emulated cluster, so an
//! SDK whose credential chain falls through to instance metadata gets the
//! node role's credentials, as a pod on an EKS node does.
//!
//! The routes live under `/latest/` on the harness port, where instance
//! metadata has them, and `/_harness/imds/CLUSTER/latest/` names the
//! cluster in a world of several. Only IMDSv2 is served: every `GET` needs a
//! session token from `PUT /latest/api/token`, and a request without a valid
//! one gets 401, as on EKS managed nodes, which require IMDSv2 by default.
//!
//! Session tokens are stateless: a token carries its expiry and an HMAC
//! over it under the server's credential key. The credentials are issued
//! like STS's (`sts/credentials.rs`), for an assumed-role session of the
//! node role named after the instance id, so GetCallerIdentity names
//! `arn:aws:sts::ACCOUNT:assumed-role/NODE_ROLE/i-…`.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::seed;
use crate::state::AppState;
use crate::sts::credentials::{self, Session};
use crate::world::{Cluster, World};

/// Header of the token request that sets the token's lifetime in seconds.
pub const TTL_HEADER: &str = "x-aws-ec2-metadata-token-ttl-seconds";
/// Header that carries the session token on metadata requests.
pub const TOKEN_HEADER: &str = "x-aws-ec2-metadata-token";
/// Longest token lifetime instance metadata grants: six hours.
pub const MAX_TOKEN_TTL: i64 = 21_600;
/// How long a set of instance credentials stays valid: EC2 hands out
/// credentials that expire about six hours after issue and replaces them
/// well before that; the harness issues a new set every hour.
const CREDENTIAL_LIFETIME_SECONDS: i64 = 6 * 3600;
const CREDENTIAL_ROTATION_SECONDS: i64 = 3600;
/// Instance type the identity document reports.
const INSTANCE_TYPE: &str = "m5.large";

type HmacSha256 = Hmac<Sha256>;

/// Serves one instance-metadata request; `path` starts with `/latest/`, and
/// `cluster` names the node's cluster when the request used the
/// `/_harness/imds/CLUSTER/` prefix.
pub fn respond(
    state: &AppState,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    cluster: Option<&str>,
) -> Response {
    if path == "/latest/api/token" {
        return match *method {
            Method::PUT => issue_token(state, headers),
            _ => status_page(StatusCode::METHOD_NOT_ALLOWED),
        };
    }
    if *method != Method::GET {
        return status_page(StatusCode::METHOD_NOT_ALLOWED);
    }
    if !token_is_valid(state, headers) {
        return status_page(StatusCode::UNAUTHORIZED);
    }
    let world = state.read();
    let node = match find_cluster(&world, cluster) {
        Ok(node) => node,
        Err(message) => return text(StatusCode::NOT_FOUND, message),
    };
    let seed = world.seed();
    match path {
        "/latest/meta-data/instance-id" => text(StatusCode::OK, node.instance_id(seed)),
        "/latest/meta-data/placement/region" => text(StatusCode::OK, node.region.clone()),
        "/latest/meta-data/placement/availability-zone" => {
            text(StatusCode::OK, availability_zone(node))
        }
        "/latest/dynamic/instance-identity/document" => {
            text(StatusCode::OK, identity_document(seed, node))
        }
        "/latest/meta-data/iam/security-credentials"
        | "/latest/meta-data/iam/security-credentials/" => {
            match world
                .account(&node.account)
                .and_then(|a| a.role(&node.node_role))
            {
                Some(role) => text(StatusCode::OK, role.name.clone()),
                None => status_page(StatusCode::NOT_FOUND),
            }
        }
        p => match p.strip_prefix("/latest/meta-data/iam/security-credentials/") {
            Some(name) => match node_credentials(state, &world, node, name) {
                Some(body) => text(StatusCode::OK, body),
                None => status_page(StatusCode::NOT_FOUND),
            },
            None => status_page(StatusCode::NOT_FOUND),
        },
    }
}

/// `PUT /latest/api/token`: a token for 1 to 21600 seconds, echoing the
/// lifetime in the TTL header, which SDKs require in the response.
fn issue_token(state: &AppState, headers: &HeaderMap) -> Response {
    let ttl = headers
        .get(TTL_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok())
        .filter(|ttl| (1..=MAX_TOKEN_TTL).contains(ttl));
    let Some(ttl) = ttl else {
        return status_page(StatusCode::BAD_REQUEST);
    };
    let expires = state.now().unix_timestamp() + ttl;
    let payload = expires.to_string();
    let tag = token_mac(state.credential_key(), payload.as_bytes());
    let token = format!("{payload}.{}", URL_SAFE_NO_PAD.encode(tag));
    let mut response = text(StatusCode::OK, token);
    response
        .headers_mut()
        .insert(TTL_HEADER, HeaderValue::from(ttl));
    response
}

/// Checks the session token header: issued by this server and not expired.
fn token_is_valid(state: &AppState, headers: &HeaderMap) -> bool {
    let Some((payload, tag)) = headers
        .get(TOKEN_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once('.'))
    else {
        return false;
    };
    let Ok(tag) = URL_SAFE_NO_PAD.decode(tag) else {
        return false;
    };
    let mut verifier =
        HmacSha256::new_from_slice(state.credential_key()).expect("HMAC takes keys of any length");
    verifier.update(b"imds-token");
    verifier.update(payload.as_bytes());
    if verifier.verify_slice(&tag).is_err() {
        return false;
    }
    payload
        .parse::<i64>()
        .is_ok_and(|expires| expires > state.now().unix_timestamp())
}

fn token_mac(key: &[u8; 32], payload: &[u8]) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(b"imds-token");
    mac.update(payload);
    mac.finalize().into_bytes().to_vec()
}

/// The cluster whose node answers: the named one, or the only one.
fn find_cluster<'w>(world: &'w World, name: Option<&str>) -> Result<&'w Cluster, String> {
    let names = || {
        world
            .clusters()
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match name {
        Some(name) => world
            .clusters()
            .iter()
            .find(|c| c.name == name)
            .ok_or_else(|| format!("no cluster {name:?}; the harness serves: {}\n", names())),
        None => match world.clusters() {
            [only] => Ok(only),
            [] => Err("the harness serves no cluster, so there is no node\n".to_owned()),
            // NOTE: SDKs that drop the endpoint's path (JS v3 does) always
            // land here in a world of several clusters.
            _ => Err(format!(
                "the harness serves several clusters ({}); use /_harness/imds/CLUSTER/ as the metadata endpoint\n",
                names()
            )),
        },
    }
}

/// The credentials document for the node role, when `name` is that role.
/// A set is valid for six hours and a new one starts every hour, so one
/// seed and clock always give the same keys.
fn node_credentials(state: &AppState, world: &World, node: &Cluster, name: &str) -> Option<String> {
    let account = world.account(&node.account)?;
    let role = account.role(&node.node_role)?;
    if role.name != name {
        return None;
    }
    let now = state.now().unix_timestamp();
    let issued = now - now.rem_euclid(CREDENTIAL_ROTATION_SECONDS);
    let issued_text = issued.to_string();
    let session = Session {
        access_key_id: format!(
            "ASIA{}",
            seed::id_chars(
                world.seed(),
                &["imds-access-key", &node.account, &node.name, &issued_text],
                16
            )
        ),
        partition: account.partition.clone(),
        account: account.id.clone(),
        role_name: role.name.clone(),
        role_id: role.id.clone(),
        session_name: node.instance_id(world.seed()),
        expiration: issued + CREDENTIAL_LIFETIME_SECONDS,
    };
    let issued_credentials = credentials::issue(state.credential_key(), &session);
    let fields = [
        ("Code", "Success".to_owned()),
        ("LastUpdated", timestamp(issued)),
        ("Type", "AWS-HMAC".to_owned()),
        ("AccessKeyId", issued_credentials.access_key_id),
        ("SecretAccessKey", issued_credentials.secret_access_key),
        ("Token", issued_credentials.session_token),
        ("Expiration", timestamp(session.expiration)),
    ];
    Some(pretty_object(&fields))
}

/// The instance identity document; the values the harness cannot know (the
/// image, the address) derive from the seed.
fn identity_document(seed: u64, node: &Cluster) -> String {
    let digest = seed::derive(seed, &["instance-image", &node.account, &node.name]);
    let image = format!("ami-{}", &hex::encode(digest)[..17]);
    let private_ip = format!("192.168.{}.{}", digest[0], digest[1].max(1));
    let fields = [
        ("accountId", node.account.clone()),
        ("architecture", "x86_64".to_owned()),
        ("availabilityZone", availability_zone(node)),
        ("imageId", image),
        ("instanceId", node.instance_id(seed)),
        ("instanceType", INSTANCE_TYPE.to_owned()),
        ("pendingTime", timestamp(node.created_at.unix_timestamp())),
        ("privateIp", private_ip),
        ("region", node.region.clone()),
        ("version", "2017-09-30".to_owned()),
    ];
    pretty_object(&fields)
}

fn availability_zone(node: &Cluster) -> String {
    format!("{}a", node.region)
}

/// A JSON object laid out as instance metadata sends it: one member a line,
/// with a space on each side of the colon.
fn pretty_object(fields: &[(&str, String)]) -> String {
    let members: Vec<String> = fields
        .iter()
        .map(|(name, value)| {
            format!(
                "  \"{name}\" : {}",
                serde_json::Value::String(value.clone())
            )
        })
        .collect();
    format!("{{\n{}\n}}", members.join(",\n"))
}

fn timestamp(unix: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// Instance metadata sends every document as `text/plain`, JSON included.
fn text(status: StatusCode, body: String) -> Response {
    let mut response = (status, Body::from(body)).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    response
}

/// The small HTML page instance metadata sends with an error status.
fn status_page(status: StatusCode) -> Response {
    let title = format!(
        "{} - {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("Error")
    );
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"iso-8859-1\"?>\n<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Transitional//EN\"\n\t\"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd\">\n<html xmlns=\"http://www.w3.org/1999/xhtml\" xml:lang=\"en\" lang=\"en\">\n <head>\n  <title>{title}</title>\n </head>\n <body>\n  <h1>{title}</h1>\n </body>\n</html>\n"
    );
    let mut response = (status, Body::from(body)).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
    response
}
