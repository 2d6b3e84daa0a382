//! Snapshots of what goes on the wire, with a fixed seed and a stopped
//! clock so request ids, keys, ids and times are the same on every run.

use std::sync::Arc;

use oidc_sts_harness::Harness;
use oidc_sts_harness::clock::FixedClock;
use oidc_sts_harness::oidc::mint::TokenRequest;

use crate::{CLUSTER, CLUSTER_ID, ISSUER, ISSUER_PATH, PROVIDER_ARN, THUMBPRINT};

/// 2026-12-04T12:00:00Z.
const NOW: i64 = 1_796_385_600;

async fn fixed_harness() -> Harness {
    Harness::builder()
        .seed(7)
        .clock(Arc::new(FixedClock::at_unix(NOW)))
        .cluster(&format!("{CLUSTER}@ap-northeast-2/{CLUSTER_ID}"))
        .start()
        .await
        .expect("the harness starts")
}

async fn form(harness: &Harness, params: &[(&str, &str)]) -> String {
    let raw = harness_e2e::post_form(harness, params).await;
    format!("HTTP {}\n{}", raw.status, raw.body)
}

#[tokio::test]
async fn issuer_documents() {
    let harness = fixed_harness().await;
    let host = "oidc.eks.ap-northeast-2.amazonaws.com";
    let discovery = harness_e2e::get_with_host(
        &harness,
        host,
        &format!("/id/{CLUSTER_ID}/.well-known/openid-configuration"),
    )
    .await;
    insta::assert_snapshot!("discovery", discovery.body);
    let jwks = harness_e2e::get_with_host(&harness, host, &format!("/id/{CLUSTER_ID}/keys")).await;
    insta::assert_snapshot!("jwks", jwks.body);
}

#[tokio::test]
async fn iam_and_sts_bodies() {
    let harness = fixed_harness().await;
    let create = form(
        &harness,
        &[
            ("Action", "CreateOpenIDConnectProvider"),
            ("Version", "2010-05-08"),
            ("Url", ISSUER),
            ("ClientIDList.member.1", "sts.amazonaws.com"),
            ("ThumbprintList.member.1", THUMBPRINT),
        ],
    )
    .await;
    insta::assert_snapshot!("create_provider", create);
    let get = form(
        &harness,
        &[
            ("Action", "GetOpenIDConnectProvider"),
            ("Version", "2010-05-08"),
            ("OpenIDConnectProviderArn", PROVIDER_ARN),
        ],
    )
    .await;
    insta::assert_snapshot!("get_provider", get);
    let policy = harness_e2e::irsa_trust_policy(
        PROVIDER_ARN,
        ISSUER_PATH,
        "system:serviceaccount:default:app",
    );
    let role = form(
        &harness,
        &[
            ("Action", "CreateRole"),
            ("Version", "2010-05-08"),
            ("RoleName", "app"),
            ("AssumeRolePolicyDocument", &policy),
        ],
    )
    .await;
    insta::assert_snapshot!("create_role", role);
    let get_role = form(
        &harness,
        &[
            ("Action", "GetRole"),
            ("Version", "2010-05-08"),
            ("RoleName", "app"),
        ],
    )
    .await;
    insta::assert_snapshot!("get_role", get_role);

    let token = harness
        .token(CLUSTER, &TokenRequest::new("default", "app"))
        .unwrap();
    let assume = |session: &'static str, token: String| {
        let harness = &harness;
        async move {
            form(
                harness,
                &[
                    ("Action", "AssumeRoleWithWebIdentity"),
                    ("Version", "2011-06-15"),
                    ("RoleArn", "arn:aws:iam::123456789012:role/app"),
                    ("RoleSessionName", session),
                    ("WebIdentityToken", &token),
                ],
            )
            .await
        }
    };
    insta::assert_snapshot!("assume_success", assume("app-session", token).await);
    let other = harness
        .token(CLUSTER, &TokenRequest::new("default", "other"))
        .unwrap();
    insta::assert_snapshot!("assume_access_denied", assume("app-session", other).await);
    let error = form(
        &harness,
        &[
            ("Action", "DeleteOpenIDConnectProvider"),
            ("Version", "2010-05-08"),
            (
                "OpenIDConnectProviderArn",
                "arn:aws:iam::123456789012:oidc-provider/missing.example.com",
            ),
        ],
    )
    .await;
    insta::assert_snapshot!("delete_missing_provider", error);
}

#[tokio::test]
async fn decision_trace_of_denial() {
    let harness = fixed_harness().await;
    let token = harness
        .token(CLUSTER, &TokenRequest::new("default", "app"))
        .unwrap();
    form(
        &harness,
        &[
            ("Action", "AssumeRoleWithWebIdentity"),
            ("Version", "2011-06-15"),
            ("RoleArn", "arn:aws:iam::123456789012:role/app"),
            ("RoleSessionName", "app-session"),
            ("WebIdentityToken", &token),
        ],
    )
    .await;
    let decisions = harness.state().recent_decisions();
    insta::assert_json_snapshot!("trace_no_provider", decisions.last().unwrap().as_ref());
}
