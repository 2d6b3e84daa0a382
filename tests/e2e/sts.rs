//! AssumeRoleWithWebIdentity failures: each gets the code, HTTP status and
//! message STS sends, and the decision trace names the check that failed.

use oidc_sts_harness::oidc::SigningKey;
use oidc_sts_harness::oidc::mint::{self, TokenRequest};
use serde_json::Value;

use crate::{CLUSTER, StsFailure, assume, harness, provider_and_role};

const ROLE: &str = "arn:aws:iam::123456789012:role/app";
const SUBJECT: &str = "system:serviceaccount:default:app";

fn failure(status: u16, code: &str, message: &str) -> StsFailure {
    StsFailure {
        status,
        code: code.to_owned(),
        message: message.to_owned(),
    }
}

fn token(harness: &oidc_sts_harness::Harness, request: TokenRequest) -> String {
    harness
        .token(CLUSTER, &request)
        .expect("the cluster mints tokens")
}

/// The claims a projected token for `default/app` would carry.
fn claims(harness: &oidc_sts_harness::Harness) -> serde_json::Map<String, Value> {
    let world = harness.state().read();
    let cluster = world
        .cluster(CLUSTER, world.default_account())
        .expect("the cluster exists");
    mint::projected_claims(
        &cluster.issuer,
        world.seed(),
        harness.state().now(),
        &TokenRequest::new("default", "app"),
    )
}

async fn decided_by(harness: &oidc_sts_harness::Harness) -> String {
    let decisions = harness.state().recent_decisions();
    decisions
        .last()
        .expect("a decision was recorded")
        .decided_by
        .name()
        .to_owned()
}

#[tokio::test]
async fn unregistered_issuer_names_the_issuer() {
    let harness = harness().await;
    let token = token(&harness, TokenRequest::new("default", "app"));
    let error = assume(&harness, ROLE, &token, "s1").await.unwrap_err();
    assert_eq!(
        error,
        failure(
            400,
            "InvalidIdentityToken",
            &format!(
                "No OpenIDConnect provider found in your account for {}",
                crate::ISSUER
            )
        )
    );
    assert_eq!(decided_by(&harness).await, "provider");
}

#[tokio::test]
async fn wrong_audience_is_incorrect_token_audience() {
    let harness = harness().await;
    provider_and_role(&harness, "app", SUBJECT).await;
    let mut request = TokenRequest::new("default", "app");
    request.audiences = vec!["sts.amazon.com".into()];
    let error = assume(&harness, ROLE, &token(&harness, request), "s1")
        .await
        .unwrap_err();
    assert_eq!(
        error,
        failure(400, "InvalidIdentityToken", "Incorrect token audience")
    );
    assert_eq!(decided_by(&harness).await, "audience");
}

#[tokio::test]
async fn subject_not_in_trust_policy_is_access_denied() {
    let harness = harness().await;
    provider_and_role(&harness, "app", SUBJECT).await;
    let token = token(&harness, TokenRequest::new("other-namespace", "app"));
    let error = assume(&harness, ROLE, &token, "s1").await.unwrap_err();
    assert_eq!(
        error,
        failure(
            403,
            "AccessDenied",
            "Not authorized to perform sts:AssumeRoleWithWebIdentity"
        )
    );
    assert_eq!(decided_by(&harness).await, "trust-policy");
}

#[tokio::test]
async fn expired_token_gives_both_times() {
    let harness = harness().await;
    provider_and_role(&harness, "app", SUBJECT).await;
    let mut request = TokenRequest::new("default", "app");
    request.lifetime_seconds = -120;
    let token = token(&harness, request);
    let error = assume(&harness, ROLE, &token, "s1").await.unwrap_err();
    assert_eq!(error.status, 400);
    assert_eq!(error.code, "ExpiredTokenException");
    let decision = harness
        .state()
        .recent_decisions()
        .pop()
        .expect("a decision");
    let now = decision
        .trace
        .last()
        .unwrap()
        .compared
        .iter()
        .find(|c| c.name == "now")
        .unwrap()
        .value
        .clone();
    let exp = now.parse::<i64>().unwrap() - 120;
    assert_eq!(
        error.message,
        format!(
            "Token expired: current date/time {now} must be before the expiration date/time {exp}"
        )
    );
}

#[tokio::test]
async fn token_signed_by_another_key_is_rejected() {
    let harness = harness().await;
    provider_and_role(&harness, "app", SUBJECT).await;
    let genuine = harness.state().read().clusters()[0]
        .issuer
        .signing_key()
        .clone();
    let forger = SigningKey::derived(99, &["forger"]);
    // The forged token claims the genuine key id, so only the signature
    // check can catch it.
    let token = mint::sign(&forger, &mint::default_header(&genuine), &claims(&harness));
    let error = assume(&harness, ROLE, &token, "s1").await.unwrap_err();
    assert_eq!(error.status, 400);
    assert_eq!(error.code, "InvalidIdentityToken");
    assert!(
        error.message.contains("signature"),
        "message was {}",
        error.message
    );
    assert_eq!(decided_by(&harness).await, "signature");
}

#[tokio::test]
async fn alg_none_is_rejected() {
    let harness = harness().await;
    provider_and_role(&harness, "app", SUBJECT).await;
    let mut header = serde_json::Map::new();
    header.insert("alg".into(), "none".into());
    let unsigned = format!(
        "{}.{}.",
        oidc_sts_harness::oidc::jwt::encode_segment(&header),
        oidc_sts_harness::oidc::jwt::encode_segment(&claims(&harness))
    );
    for token in [unsigned.clone(), format!("{unsigned}c2lnbmF0dXJl")] {
        let error = assume(&harness, ROLE, &token, "s1").await.unwrap_err();
        assert_eq!(error.status, 400, "{token}");
        assert_eq!(error.code, "InvalidIdentityToken", "{token}");
        assert_eq!(decided_by(&harness).await, "token");
    }
}

#[tokio::test]
async fn unknown_kid_cannot_retrieve_key() {
    let harness = harness().await;
    provider_and_role(&harness, "app", SUBJECT).await;
    let key = harness.state().read().clusters()[0]
        .issuer
        .signing_key()
        .clone();
    let mut header = mint::default_header(&key);
    header.insert("kid".into(), "rotated-out".into());
    let token = mint::sign(&key, &header, &claims(&harness));
    let error = assume(&harness, ROLE, &token, "s1").await.unwrap_err();
    assert_eq!(
        error,
        failure(
            400,
            "InvalidIdentityToken",
            "Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements"
        )
    );
}

#[tokio::test]
async fn missing_aud_claim_is_named() {
    let harness = harness().await;
    provider_and_role(&harness, "app", SUBJECT).await;
    let key = harness.state().read().clusters()[0]
        .issuer
        .signing_key()
        .clone();
    let mut claims = claims(&harness);
    claims.remove("aud");
    let token = mint::sign(&key, &mint::default_header(&key), &claims);
    let error = assume(&harness, ROLE, &token, "s1").await.unwrap_err();
    assert_eq!(
        error,
        failure(400, "InvalidIdentityToken", "Missing a required claim: aud")
    );
}

#[tokio::test]
async fn role_that_does_not_exist_is_access_denied() {
    let harness = harness().await;
    provider_and_role(&harness, "app", SUBJECT).await;
    let token = token(&harness, TokenRequest::new("default", "app"));
    let error = assume(
        &harness,
        "arn:aws:iam::123456789012:role/missing",
        &token,
        "s1",
    )
    .await
    .unwrap_err();
    assert_eq!(
        error,
        failure(
            403,
            "AccessDenied",
            "Not authorized to perform sts:AssumeRoleWithWebIdentity"
        )
    );
}

#[tokio::test]
async fn duration_above_role_maximum() {
    let harness = harness().await;
    provider_and_role(&harness, "app", SUBJECT).await;
    let token = token(&harness, TokenRequest::new("default", "app"));
    let error = harness_e2e::sts_client(&harness)
        .assume_role_with_web_identity()
        .role_arn(ROLE)
        .role_session_name("s1")
        .web_identity_token(&token)
        .duration_seconds(7200)
        .send()
        .await
        .unwrap_err();
    use aws_sdk_sts::error::ProvideErrorMetadata;
    assert_eq!(error.code(), Some("ValidationError"));
    assert_eq!(
        error.message(),
        Some("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
    );
}

#[tokio::test]
async fn policy_arn_lengths_as_sdks_send_them() {
    let harness = harness().await;
    provider_and_role(&harness, "app", SUBJECT).await;
    let token = token(&harness, TokenRequest::new("default", "app"));
    let send = |arns: Vec<&str>| {
        let descriptors = arns
            .into_iter()
            .map(|arn| {
                aws_sdk_sts::types::PolicyDescriptorType::builder()
                    .arn(arn)
                    .build()
            })
            .collect();
        harness_e2e::sts_client(&harness)
            .assume_role_with_web_identity()
            .role_arn(ROLE)
            .role_session_name("s1")
            .web_identity_token(&token)
            .set_policy_arns(Some(descriptors))
            .send()
    };
    use aws_sdk_sts::error::ProvideErrorMetadata;

    // The SDK sends PolicyArns.member.N.arn, so the second member is
    // checked as policyArns.2.member.arn.
    let short = send(vec!["arn:aws:iam::aws:policy/ReadOnlyAccess", "x"])
        .await
        .unwrap_err();
    assert_eq!(short.code(), Some("ValidationError"));
    assert_eq!(
        short.message(),
        Some(
            "1 validation error detected: Value 'x' at 'policyArns.2.member.arn' failed to satisfy constraint: Member must have length greater than or equal to 20"
        )
    );

    let long_arn = format!("arn:aws:iam::aws:policy/{}", "a".repeat(2048));
    let long = send(vec![&long_arn]).await.unwrap_err();
    assert_eq!(long.code(), Some("ValidationError"));
    assert!(
        long.message()
            .is_some_and(|m| m.ends_with("Member must have length less than or equal to 2048")),
        "{:?}",
        long.message()
    );

    let fitting = send(vec!["arn:aws:iam::aws:policy/ReadOnlyAccess"]).await;
    assert!(fitting.is_ok(), "{fitting:?}");
}

#[tokio::test]
async fn control_characters_in_echoed_values() {
    let harness = harness().await;
    let token = token(&harness, TokenRequest::new("default", "app"));
    // The message echoes the session name; the SDK's XML parser must still
    // read the error, so the characters XML cannot carry arrive as U+FFFD.
    let error = crate::assume(&harness, ROLE, &token, "ab\u{1}c\u{1b}d")
        .await
        .unwrap_err();
    assert_eq!(error.status, 400);
    assert_eq!(error.code, "ValidationError");
    assert_eq!(
        error.message,
        r"1 validation error detected: Value 'ab�c�d' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]*"
    );
}

#[tokio::test]
async fn parameter_errors_use_model_messages() {
    let harness = harness().await;
    let token = token(&harness, TokenRequest::new("default", "app"));
    let long_name = "s".repeat(65);
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            vec![
                ("RoleArn", ROLE),
                ("RoleSessionName", "dependabot[bot]"),
                ("WebIdentityToken", &token),
            ],
            r"1 validation error detected: Value 'dependabot[bot]' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]*",
        ),
        (
            vec![
                ("RoleArn", ROLE),
                ("RoleSessionName", &long_name),
                ("WebIdentityToken", &token),
            ],
            "1 validation error detected: Value 'sssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssss' at 'roleSessionName' failed to satisfy constraint: Member must have length less than or equal to 64",
        ),
        (
            vec![("RoleArn", ROLE), ("WebIdentityToken", &token)],
            "1 validation error detected: Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null",
        ),
        (
            vec![
                ("RoleArn", ROLE),
                ("RoleSessionName", "s1"),
                ("WebIdentityToken", &token),
                ("DurationSeconds", "86400"),
            ],
            "1 validation error detected: Value '86400' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200",
        ),
        (
            vec![
                ("RoleArn", ROLE),
                ("RoleSessionName", "s1"),
                ("WebIdentityToken", &token),
                ("DurationSeconds", "123"),
            ],
            "1 validation error detected: Value '123' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900",
        ),
        (
            vec![
                ("RoleArn", "nothing-valid-in-here"),
                ("RoleSessionName", "s1"),
                ("WebIdentityToken", &token),
            ],
            "nothing-valid-in-here is invalid",
        ),
        (
            vec![
                ("RoleArn", crate::PROVIDER_ARN),
                ("RoleSessionName", "s1"),
                ("WebIdentityToken", &token),
            ],
            "Request ARN is invalid",
        ),
    ];
    for (params, message) in cases {
        let mut form = vec![
            ("Action", "AssumeRoleWithWebIdentity"),
            ("Version", "2011-06-15"),
        ];
        form.extend(params);
        let raw = harness_e2e::post_form(&harness, &form).await;
        assert_eq!(raw.status, 400, "{message}");
        assert!(
            raw.body.contains("<Code>ValidationError</Code>"),
            "{}",
            raw.body
        );
        assert!(
            raw.body
                .contains(&format!("<Message>{}</Message>", xml_escape(message))),
            "expected {message}, got {}",
            raw.body
        );
    }
}

#[tokio::test]
async fn unknown_action_and_missing_version() {
    let harness = harness().await;
    let raw = harness_e2e::post_form(
        &harness,
        &[("Action", "AssumeRoleWithFoo"), ("Version", "2011-06-15")],
    )
    .await;
    assert_eq!(raw.status, 400);
    assert!(
        raw.body.contains("<Code>InvalidAction</Code>"),
        "{}",
        raw.body
    );
    let raw = harness_e2e::post_form(&harness, &[("Action", "AssumeRoleWithWebIdentity")]).await;
    assert_eq!(raw.status, 400);
    assert!(
        raw.body.contains("<Code>MissingParameter</Code>"),
        "{}",
        raw.body
    );
    let raw = harness_e2e::post_form(&harness, &[("Version", "2011-06-15")]).await;
    assert_eq!(raw.status, 400);
    assert!(
        raw.body.contains("<Code>MissingAction</Code>"),
        "{}",
        raw.body
    );
}

#[tokio::test]
async fn get_with_query_string_and_json_accept() {
    let harness = harness().await;
    provider_and_role(&harness, "app", SUBJECT).await;
    let token = token(&harness, TokenRequest::new("default", "app"));
    let url = format!(
        "{}/?Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn={ROLE}&RoleSessionName=envoy&WebIdentityToken={token}",
        harness.endpoint()
    );
    let response = reqwest::Client::new()
        .get(url)
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.unwrap();
    let result = &body["AssumeRoleWithWebIdentityResponse"]["AssumeRoleWithWebIdentityResult"];
    assert_eq!(
        result["AssumedRoleUser"]["Arn"],
        "arn:aws:sts::123456789012:assumed-role/app/envoy"
    );
    assert!(result["Credentials"]["Expiration"].is_i64());
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
