//! Pods through the harness routes: manifests applied with
//! `POST /_harness/kube/apply`, the webhook's mutation, a pod's token from
//! `POST /_harness/token`, and that token sent to STS by aws-sdk-sts.

use oidc_sts_harness::explain::claims_of_token;
use serde_json::{Value, json};

use crate::{CLUSTER, ISSUER_PATH, PROVIDER_ARN, assume, harness};

const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/web";

fn manifests(annotated: bool) -> String {
    let annotations = if annotated {
        format!(
            "  annotations:\n    eks.amazonaws.com/role-arn: {ROLE_ARN}\n    eks.amazonaws.com/token-expiration: \"3600\"\n"
        )
    } else {
        String::new()
    };
    format!(
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: web\n  namespace: shop\n{annotations}---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web, namespace: shop}}\nspec:\n  replicas: 1\n  selector: {{matchLabels: {{app: web}}}}\n  template:\n    metadata: {{labels: {{app: web}}}}\n    spec: {{serviceAccountName: web, containers: [{{name: app}}]}}\n"
    )
}

async fn post(endpoint: &str, path: &str, body: String) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{endpoint}{path}"))
        .body(body)
        .send()
        .await
        .expect("the harness accepts connections on loopback");
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON body"))
}

fn pod_names(harness: &oidc_sts_harness::Harness) -> Vec<String> {
    let world = harness.state().read();
    let cluster = world.cluster(CLUSTER, "123456789012").expect("the cluster");
    cluster.kube.deployment_pods("shop", "web").to_vec()
}

#[tokio::test]
async fn pod_token_assumes_role_after_restart() {
    let harness = harness().await;
    let endpoint = harness.endpoint();
    let iam = harness_e2e::iam_client(&harness, harness_e2e::DEFAULT_ACCOUNT);
    iam.create_open_id_connect_provider()
        .url(format!("https://{ISSUER_PATH}"))
        .client_id_list("sts.amazonaws.com")
        .send()
        .await
        .expect("the provider is created");
    let policy = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Federated": PROVIDER_ARN}, "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {format!("{ISSUER_PATH}:sub"): "system:serviceaccount:shop:web"}}}]});
    iam.create_role()
        .role_name("web")
        .assume_role_policy_document(policy.to_string())
        .send()
        .await
        .expect("the role is created");

    let (status, applied) = post(&endpoint, "/_harness/kube/apply", manifests(false)).await;
    assert_eq!(status, 200, "{applied}");
    assert_eq!(
        applied["lines"],
        json!(["serviceaccount/web created", "deployment.apps/web created"])
    );
    let first = pod_names(&harness);
    assert_eq!(first.len(), 1);

    // The annotation alone leaves the running pod without a token volume,
    // so the token route falls back to the default audience and lifetime.
    let (status, applied) = post(&endpoint, "/_harness/kube/apply", manifests(true)).await;
    assert_eq!(status, 200, "{applied}");
    assert_eq!(
        applied["lines"],
        json!([
            "serviceaccount/web configured",
            "deployment.apps/web unchanged"
        ])
    );
    assert_eq!(pod_names(&harness), first);

    let (status, restarted) = post(
        &endpoint,
        &format!("/_harness/kube/rollout-restart?cluster={CLUSTER}&namespace=shop&name=web"),
        String::new(),
    )
    .await;
    assert_eq!(status, 200, "{restarted}");
    assert_eq!(restarted["lines"], json!(["deployment.apps/web restarted"]));
    let second = pod_names(&harness);
    assert_eq!(second.len(), 1);
    assert_ne!(second, first);

    let request = json!({"cluster": CLUSTER, "namespace": "shop", "pod": second[0]});
    let (status, minted) = post(&endpoint, "/_harness/token", request.to_string()).await;
    assert_eq!(status, 200, "{minted}");
    let token = minted["token"].as_str().expect("a token");
    let claims = claims_of_token(token).expect("a JWT");
    assert_eq!(claims["aud"], json!(["sts.amazonaws.com"]));
    let lifetime = claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap();
    assert_eq!(lifetime, 3600, "the volume's lifetime from the annotation");
    assert_eq!(claims["kubernetes.io"]["pod"]["name"], json!(second[0]));
    assert_eq!(minted["expires_at"], claims["exp"]);

    let granted = assume(&harness, ROLE_ARN, token, "pod")
        .await
        .expect("STS grants the role");
    let user = granted.assumed_role_user.expect("an assumed-role user");
    assert_eq!(user.arn, "arn:aws:sts::123456789012:assumed-role/web/pod");
}

#[tokio::test]
async fn kube_routes_report_api_server_errors() {
    let harness = harness().await;
    let endpoint = harness.endpoint();
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec: {serviceAccountName: ghost, containers: [{name: c}]}\n";
    let (status, body) = post(&endpoint, "/_harness/kube/apply", pod.to_owned()).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["errors"][0]["reason"], "Forbidden");
    assert_eq!(
        body["message"],
        "pods \"p\" is forbidden: error looking up service account shop/ghost: serviceaccount \"ghost\" not found"
    );

    let (status, body) = post(
        &endpoint,
        "/_harness/kube/delete?kind=pod&namespace=shop&name=p",
        String::new(),
    )
    .await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["message"], "pods \"p\" not found");

    let (status, body) = post(
        &endpoint,
        "/_harness/kube/apply",
        "kind: Secret\n".to_owned(),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("unsupported kind \"Secret\""),
        "{body}"
    );

    let (status, body) = post(
        &endpoint,
        "/_harness/kube/apply?cluster=nope",
        String::new(),
    )
    .await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(
        body["message"],
        "cluster \"nope\" not found; the harness serves: demo"
    );
}
