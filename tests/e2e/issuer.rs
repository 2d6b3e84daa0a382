//! The emulated issuer's documents, served by `Host`, and DescribeCluster.

use crate::{CLUSTER, CLUSTER_ID, ISSUER, harness};

const HOST: &str = "oidc.eks.ap-northeast-2.amazonaws.com";

#[tokio::test]
async fn discovery_and_jwks_by_host() {
    let harness = harness().await;
    let discovery = harness_e2e::get_with_host(
        &harness,
        HOST,
        &format!("/id/{CLUSTER_ID}/.well-known/openid-configuration"),
    )
    .await;
    assert_eq!(discovery.status, 200);
    let document: serde_json::Value = serde_json::from_str(&discovery.body).unwrap();
    assert_eq!(document["issuer"], ISSUER);
    assert_eq!(document["jwks_uri"], format!("{ISSUER}/keys"));

    let jwks = harness_e2e::get_with_host(&harness, HOST, &format!("/id/{CLUSTER_ID}/keys")).await;
    let keys: serde_json::Value = serde_json::from_str(&jwks.body).unwrap();
    let key = &keys["keys"][0];
    assert_eq!(key["kty"], "RSA");
    assert_eq!(key["e"], "AQAB");
    let kid = harness.state().read().clusters()[0]
        .issuer
        .signing_key()
        .kid()
        .to_owned();
    assert_eq!(key["kid"], kid.as_str());

    let other = harness_e2e::get_with_host(&harness, HOST, &format!("/id/{CLUSTER_ID}")).await;
    assert_eq!(other.status, 403);
    assert_eq!(other.body, r#"{"message":"Missing Authentication Token"}"#);
}

#[tokio::test]
async fn describe_cluster_gives_issuer() {
    let harness = harness().await;
    let response = reqwest::get(format!("{}/clusters/{CLUSTER}", harness.endpoint()))
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["cluster"]["identity"]["oidc"]["issuer"], ISSUER);
    let missing = reqwest::get(format!("{}/clusters/nope", harness.endpoint()))
        .await
        .unwrap();
    assert_eq!(missing.status().as_u16(), 404);
    assert_eq!(
        missing.headers()["x-amzn-errortype"],
        "ResourceNotFoundException"
    );
    let body: serde_json::Value = missing.json().await.unwrap();
    assert_eq!(body["message"], "No cluster found for name: nope.");
}
