//! Shared fixtures of the fuzz targets: the fixed world they run against,
//! built once per process, and the one call that sends a request through
//! the real router.
//!
//! Nothing here signs inside an iteration: RSA signing costs milliseconds,
//! so the world's key is derived once and the seed corpus carries tokens
//! signed ahead of time (`make_seeds`).

use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::http::{Request, header};
use http_body_util::BodyExt;
use oidc_sts_harness::clock::FixedClock;
use oidc_sts_harness::state::{AppState, ServerOptions};
use oidc_sts_harness::world::{ClusterSpec, DEFAULT_ACCOUNT, World};
use tower::ServiceExt;

/// Seed of the fuzzing world; its cluster key is the one the seed tokens
/// are signed with.
pub const SEED: u64 = 7;
/// The cluster of the fuzzing world, as `serve --cluster` takes it.
pub const CLUSTER: &str = "demo@ap-northeast-2/C891F985BAF5A4C1C7ABBA6A00DFD39E";
/// The issuer of that cluster.
pub const ISSUER: &str =
    "https://oidc.eks.ap-northeast-2.amazonaws.com/id/C891F985BAF5A4C1C7ABBA6A00DFD39E";
/// The role the seed requests assume.
pub const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/app";
/// The fixed time of the fuzzing world, 2026-01-01T00:00:00Z, so seed
/// tokens stay valid however long a campaign runs.
pub const NOW: i64 = 1_767_225_600;

/// The fuzzing world: one cluster, its provider and a role whose trust
/// policy allows `system:serviceaccount:default:app`.
pub fn state() -> &'static Arc<AppState> {
    static STATE: OnceLock<Arc<AppState>> = OnceLock::new();
    STATE.get_or_init(|| {
        let now = time::OffsetDateTime::from_unix_timestamp(NOW).expect("a valid time");
        let mut world = World::new(SEED, DEFAULT_ACCOUNT);
        let spec = ClusterSpec::parse(CLUSTER).expect("the cluster spec parses");
        world.add_cluster(&spec, now).expect("the cluster is added");
        let state = AppState::new(
            world,
            Arc::new(FixedClock::new(now)),
            ServerOptions::default(),
        );
        let host = ISSUER.trim_start_matches("https://");
        let policy = serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": {"Federated": format!("arn:aws:iam::{DEFAULT_ACCOUNT}:oidc-provider/{host}")},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringEquals": {
                    format!("{host}:sub"): "system:serviceaccount:default:app",
                    format!("{host}:aud"): "sts.amazonaws.com",
                }}
            }]
        })
        .to_string();
        let setup = [
            vec![
                ("Action", "CreateOpenIDConnectProvider"),
                ("Version", "2010-05-08"),
                ("Url", ISSUER),
                ("ClientIDList.member.1", "sts.amazonaws.com"),
            ],
            vec![
                ("Action", "CreateRole"),
                ("Version", "2010-05-08"),
                ("RoleName", "app"),
                ("AssumeRolePolicyDocument", policy.as_str()),
            ],
        ];
        for params in setup {
            let body = form_body(&params);
            let (status, text) = send(&state, "iam.amazonaws.com", body.into_bytes());
            assert_eq!(status, 200, "fuzz world setup failed: {text}");
        }
        state
    })
}

/// Sends one POST to `/` through the router, as a client on `host` would,
/// and returns the status and body.
pub fn send(state: &Arc<AppState>, host: &str, body: Vec<u8>) -> (u16, String) {
    let request = Request::post("/")
        .header(header::HOST, host)
        .header(
            header::CONTENT_TYPE,
            "application/x-www-form-urlencoded; charset=utf-8",
        )
        .body(Body::from(body))
        .expect("a valid request");
    let app = oidc_sts_harness::server::app(state.clone());
    runtime().block_on(async move {
        let response = app
            .oneshot(request)
            .await
            .expect("the router is infallible");
        let status = response.status().as_u16();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map(|collected| collected.to_bytes())
            .unwrap_or_default();
        (status, String::from_utf8_lossy(&bytes).into_owned())
    })
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a current-thread runtime")
    })
}

/// Form-encodes name-value pairs the way SDKs do.
pub fn form_body(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

fn encode(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
