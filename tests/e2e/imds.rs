//! Instance metadata (IMDSv2) of a cluster's node: the token rules, the
//! credentials document, and the node role's credentials used by the real
//! SDK.

use oidc_sts_harness::Harness;

use crate::{CLUSTER, CLUSTER_ID, CLUSTER_REGION, harness};

const TTL: &str = "x-aws-ec2-metadata-token-ttl-seconds";
const NODE_ROLE: &str = "AmazonEKSNodeRole";

async fn put_token(harness: &Harness, ttl: Option<&str>) -> reqwest::Response {
    let mut request =
        reqwest::Client::new().put(format!("{}/latest/api/token", harness.endpoint()));
    if let Some(ttl) = ttl {
        request = request.header(TTL, ttl);
    }
    request.send().await.expect("the harness answers")
}

async fn get(harness: &Harness, path: &str, token: Option<&str>) -> (u16, String) {
    let mut request = reqwest::Client::new().get(format!("{}{path}", harness.endpoint()));
    if let Some(token) = token {
        request = request.header("x-aws-ec2-metadata-token", token);
    }
    let response = request.send().await.expect("the harness answers");
    let status = response.status().as_u16();
    (status, response.text().await.expect("a text body"))
}

async fn token(harness: &Harness) -> String {
    put_token(harness, Some("300")).await.text().await.unwrap()
}

#[tokio::test]
async fn token_ttl_bounds() {
    let harness = harness().await;
    for ttl in [None, Some("0"), Some("21601"), Some("-5"), Some("abc")] {
        let status = put_token(&harness, ttl).await.status().as_u16();
        assert_eq!(status, 400, "ttl {ttl:?}");
    }
    for ttl in ["1", "21600"] {
        let response = put_token(&harness, Some(ttl)).await;
        assert_eq!(response.status().as_u16(), 200, "ttl {ttl}");
        assert_eq!(
            response.headers()[TTL].to_str().unwrap(),
            ttl,
            "the response echoes the ttl"
        );
    }
    let (status, _) = get(&harness, "/latest/api/token", None).await;
    assert_eq!(status, 405);
}

#[tokio::test]
async fn metadata_needs_a_valid_token() {
    let harness = harness().await;
    let path = "/latest/meta-data/iam/security-credentials/";
    assert_eq!(get(&harness, path, None).await.0, 401);
    assert_eq!(get(&harness, path, Some("1.forged")).await.0, 401);
    let token = token(&harness).await;
    assert_eq!(
        get(&harness, path, Some(&token)).await,
        (200, NODE_ROLE.to_owned())
    );
    let (status, _) = get(&harness, "/latest/meta-data/no-such-item", Some(&token)).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn credentials_document_shape() {
    let harness = harness().await;
    let token = token(&harness).await;
    let path = format!("/latest/meta-data/iam/security-credentials/{NODE_ROLE}");
    let (status, body) = get(&harness, &path, Some(&token)).await;
    assert_eq!(status, 200);
    let document: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(document["Code"], "Success");
    assert_eq!(document["Type"], "AWS-HMAC");
    assert!(
        document["AccessKeyId"]
            .as_str()
            .unwrap()
            .starts_with("ASIA")
    );
    assert_eq!(document["SecretAccessKey"].as_str().unwrap().len(), 40);
    for member in ["LastUpdated", "Token", "Expiration"] {
        assert!(document[member].is_string(), "{member} in {body}");
    }
    let (status, _) = get(
        &harness,
        "/latest/meta-data/iam/security-credentials/other-role",
        Some(&token),
    )
    .await;
    assert_eq!(status, 404);
    let (status, region) = get(&harness, "/latest/meta-data/placement/region", Some(&token)).await;
    assert_eq!((status, region.as_str()), (200, CLUSTER_REGION));
}

/// The SDK's own IMDS client (token request, TTL header checks) fetches the
/// document, and aws-sdk-sts signs GetCallerIdentity with it. The SDK's
/// IMDS credentials provider itself cannot run here: it reads
/// AWS_EC2_METADATA_DISABLED from the process, which the workspace sets to
/// true for every test.
#[tokio::test]
async fn node_credentials_sign_get_caller_identity() {
    let harness = harness().await;
    let imds = aws_config::imds::Client::builder()
        .endpoint(format!("{}/", harness.endpoint()))
        .expect("a valid endpoint")
        .build();
    let role = imds
        .get("/latest/meta-data/iam/security-credentials/")
        .await
        .expect("the role name");
    let role: &str = role.as_ref();
    assert_eq!(role, NODE_ROLE);
    let document = imds
        .get(format!("/latest/meta-data/iam/security-credentials/{role}"))
        .await
        .expect("the credentials document");
    let document: serde_json::Value = serde_json::from_str(document.as_ref()).unwrap();
    let instance = imds.get("/latest/meta-data/instance-id").await.unwrap();
    let instance: &str = instance.as_ref();
    assert!(
        instance.starts_with("i-") && instance.len() == 19,
        "{instance}"
    );

    let config = aws_sdk_sts::Config::builder()
        .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
        .region(aws_sdk_sts::config::Region::new(CLUSTER_REGION))
        .endpoint_url(harness.endpoint())
        .credentials_provider(aws_credential_types::Credentials::new(
            document["AccessKeyId"].as_str().unwrap(),
            document["SecretAccessKey"].as_str().unwrap(),
            document["Token"].as_str().map(str::to_owned),
            None,
            "imds",
        ))
        .build();
    let identity = aws_sdk_sts::Client::from_conf(config)
        .get_caller_identity()
        .send()
        .await
        .expect("the node credentials sign a valid call");
    assert_eq!(
        identity.arn(),
        Some(format!("arn:aws:sts::123456789012:assumed-role/{NODE_ROLE}/{instance}").as_str())
    );
    assert_eq!(identity.account(), Some("123456789012"));

    let iam = harness_e2e::iam_client(&harness, harness_e2e::DEFAULT_ACCOUNT);
    let node_role = iam.get_role().role_name(NODE_ROLE).send().await.unwrap();
    let node_role = node_role.role.unwrap();
    assert!(
        identity
            .user_id()
            .unwrap()
            .starts_with(&format!("{}:", node_role.role_id)),
        "UserId is RoleId:session"
    );
    let policy = percent_encoding::percent_decode_str(
        node_role.assume_role_policy_document.as_deref().unwrap(),
    )
    .decode_utf8()
    .unwrap()
    .into_owned();
    assert!(
        policy.contains(r#""Service":"ec2.amazonaws.com""#),
        "{policy}"
    );
}

#[tokio::test]
async fn several_clusters_need_the_prefix() {
    let harness = Harness::builder()
        .cluster(&format!("{CLUSTER}@{CLUSTER_REGION}/{CLUSTER_ID}"))
        .cluster("other@eu-west-1")
        .start()
        .await
        .unwrap();
    let token = token(&harness).await;
    let (status, body) = get(&harness, "/latest/meta-data/instance-id", Some(&token)).await;
    assert_eq!(status, 404);
    assert!(body.contains("/_harness/imds/CLUSTER/"), "{body}");
    let (status, region) = get(
        &harness,
        "/_harness/imds/other/latest/meta-data/placement/region",
        Some(&token),
    )
    .await;
    assert_eq!((status, region.as_str()), (200, "eu-west-1"));
}

#[tokio::test]
async fn pod_route_returns_the_stored_pod() {
    let harness = harness().await;
    // Stored through the kube route, as `kube apply` does.
    let applied = reqwest::Client::new()
        .post(format!("{}/_harness/kube/apply", harness.endpoint()))
        .body(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: app-0, namespace: shop}\nspec:\n  containers: [{name: c, image: example/app:1, env: [{name: A, value: b}]}]\n",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(applied.status().as_u16(), 200);
    let url = |rest: &str| format!("{}/_harness/kube/pods/{rest}", harness.endpoint());
    let response = reqwest::get(url("shop/app-0")).await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["x-oidc-sts-harness-cluster"], CLUSTER);
    let pod: serde_json::Value = response.json().await.unwrap();
    assert_eq!(pod["spec"]["containers"][0]["env"][0]["value"], "b");

    let missing = reqwest::get(url("shop/app-1")).await.unwrap();
    assert_eq!(missing.status().as_u16(), 404);
    let message: serde_json::Value = missing.json().await.unwrap();
    assert_eq!(
        message["message"],
        "pods \"app-1\" not found in namespace shop of cluster \"demo\"; its pods: shop/app-0"
    );
    let wrong_cluster = reqwest::get(url("shop/app-0?cluster=nope")).await.unwrap();
    assert_eq!(wrong_cluster.status().as_u16(), 404);
}
