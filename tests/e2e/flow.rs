//! The IRSA setup as the EKS documentation teaches it, driven by real
//! clients: a program using the SDK's default credential chain (run as a
//! child process with the pod's environment) and aws-sdk-iam for the fix.

use std::process::Command;

use oidc_sts_harness::oidc::mint::TokenRequest;

use crate::{CLUSTER, ISSUER, ISSUER_PATH, PROVIDER_ARN, THUMBPRINT, harness};

/// Runs the probe with a pod's web identity environment.
fn probe(endpoint: &str, role_arn: &str, token_file: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_web-identity-probe"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_REGION", "ap-northeast-2")
        .env("AWS_ROLE_ARN", role_arn)
        .env("AWS_ROLE_SESSION_NAME", "walkthrough")
        .env("AWS_WEB_IDENTITY_TOKEN_FILE", token_file)
        .env("AWS_ENDPOINT_URL_STS", endpoint)
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_CONFIG_FILE", "/nonexistent/aws-config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/aws-credentials",
        )
        .output()
        .expect("the probe binary runs")
}

#[tokio::test]
async fn documented_setup_fails_then_succeeds() {
    let harness = harness().await;
    let iam = harness_e2e::iam_client(&harness, harness_e2e::DEFAULT_ACCOUNT);
    let subject = "system:serviceaccount:default:my-app";

    // The role exists, but trusts only EC2, and no provider is registered.
    let initial_policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    let role_arn = iam
        .create_role()
        .role_name("my-app")
        .assume_role_policy_document(initial_policy)
        .send()
        .await
        .expect("role is created")
        .role
        .expect("CreateRole returns the role")
        .arn;
    let token = harness
        .token(CLUSTER, &TokenRequest::new("default", "my-app"))
        .expect("the cluster mints tokens");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, &token).expect("the token file is written");

    let endpoint = harness.endpoint();
    let failed = tokio::task::spawn_blocking({
        let (endpoint, role_arn, token_file) =
            (endpoint.clone(), role_arn.clone(), token_file.clone());
        move || probe(&endpoint, &role_arn, &token_file)
    })
    .await
    .expect("the probe task finishes");
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(
        !failed.status.success(),
        "the probe got credentials without a provider"
    );
    assert!(
        stderr.contains(&format!(
            "No OpenIDConnect provider found in your account for {ISSUER}"
        )),
        "probe error was: {stderr}"
    );

    // The fix, as the documentation gives it.
    iam.create_open_id_connect_provider()
        .url(ISSUER)
        .client_id_list("sts.amazonaws.com")
        .thumbprint_list(THUMBPRINT)
        .send()
        .await
        .expect("provider is created");
    let listed = iam
        .list_open_id_connect_providers()
        .send()
        .await
        .expect("providers are listed");
    let arns: Vec<&str> = listed
        .open_id_connect_provider_list()
        .iter()
        .filter_map(|p| p.arn())
        .collect();
    assert_eq!(arns, [PROVIDER_ARN]);

    let role = iam
        .get_role()
        .role_name("my-app")
        .send()
        .await
        .expect("role is read");
    let document = role
        .role
        .expect("GetRole returns the role")
        .assume_role_policy_document
        .unwrap_or_default();
    let mut policy: serde_json::Value =
        serde_json::from_str(&harness_e2e::decode_policy(&document))
            .expect("the stored policy is JSON");
    assert_eq!(
        policy,
        serde_json::from_str::<serde_json::Value>(initial_policy).unwrap()
    );
    policy["Statement"]
        .as_array_mut()
        .expect("a statement list")
        .push(serde_json::json!({
            "Effect": "Allow",
            "Principal": {"Federated": PROVIDER_ARN},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {
                format!("{ISSUER_PATH}:sub"): subject,
                format!("{ISSUER_PATH}:aud"): "sts.amazonaws.com",
            }}
        }));
    iam.update_assume_role_policy()
        .role_name("my-app")
        .policy_document(policy.to_string())
        .send()
        .await
        .expect("the trust policy is updated");

    let succeeded = tokio::task::spawn_blocking(move || probe(&endpoint, &role_arn, &token_file))
        .await
        .expect("the probe task finishes");
    let stdout = String::from_utf8_lossy(&succeeded.stdout);
    assert!(
        succeeded.status.success(),
        "probe failed: {}",
        String::from_utf8_lossy(&succeeded.stderr)
    );
    assert!(
        stdout.trim().starts_with("ASIA"),
        "access key id was {stdout}"
    );

    let granted = crate::assume(
        &harness,
        "arn:aws:iam::123456789012:role/my-app",
        &token,
        "walkthrough",
    )
    .await
    .expect("the role is assumed");
    let user = granted.assumed_role_user.expect("an assumed role user");
    assert_eq!(
        user.arn,
        "arn:aws:sts::123456789012:assumed-role/my-app/walkthrough"
    );
    assert!(user.assumed_role_id.starts_with("AROA"));
    assert!(user.assumed_role_id.ends_with(":walkthrough"));
    assert_eq!(
        granted.subject_from_web_identity_token.as_deref(),
        Some(subject)
    );
    assert_eq!(granted.audience.as_deref(), Some("sts.amazonaws.com"));
    assert_eq!(granted.provider.as_deref(), Some(PROVIDER_ARN));
}
