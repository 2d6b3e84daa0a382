//! GetCallerIdentity with the credentials AssumeRoleWithWebIdentity issued,
//! signed by the real SDK.

use std::sync::Arc;

use aws_sdk_sts::error::ProvideErrorMetadata;
use oidc_sts_harness::Harness;
use oidc_sts_harness::clock::{Clock, FixedClock};
use oidc_sts_harness::oidc::mint::TokenRequest;

use crate::{CLUSTER, CLUSTER_ID, CLUSTER_REGION, assume, provider_and_role};

const SUBJECT: &str = "system:serviceaccount:default:app";

fn client(
    harness: &Harness,
    key: &str,
    secret: &str,
    token: Option<String>,
) -> aws_sdk_sts::Client {
    let config = aws_sdk_sts::Config::builder()
        .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
        .region(aws_sdk_sts::config::Region::new("us-east-1"))
        .endpoint_url(harness.endpoint())
        .credentials_provider(aws_credential_types::Credentials::new(
            key, secret, token, None, "test",
        ))
        .build();
    aws_sdk_sts::Client::from_conf(config)
}

#[tokio::test]
async fn caller_identity_of_assumed_role() {
    let clock = Arc::new(FixedClock::new(time::OffsetDateTime::now_utc()));
    let harness = Harness::builder()
        .cluster(&format!("{CLUSTER}@{CLUSTER_REGION}/{CLUSTER_ID}"))
        .clock(clock.clone())
        .start()
        .await
        .unwrap();
    provider_and_role(&harness, "app", SUBJECT).await;
    let token = harness
        .token(CLUSTER, &TokenRequest::new("default", "app"))
        .unwrap();
    let granted = assume(
        &harness,
        "arn:aws:iam::123456789012:role/app",
        &token,
        "caller",
    )
    .await
    .expect("the role is assumed");
    let credentials = granted.credentials.expect("credentials");
    let user = granted.assumed_role_user.expect("an assumed role user");

    let identity = client(
        &harness,
        &credentials.access_key_id,
        &credentials.secret_access_key,
        Some(credentials.session_token.clone()),
    )
    .get_caller_identity()
    .send()
    .await
    .expect("the issued credentials sign a valid call");
    assert_eq!(identity.arn(), Some(user.arn.as_str()));
    assert_eq!(identity.user_id(), Some(user.assumed_role_id.as_str()));
    assert_eq!(identity.account(), Some("123456789012"));

    let wrong_secret = client(
        &harness,
        &credentials.access_key_id,
        "not-the-secret-not-the-secret-not-the-se",
        Some(credentials.session_token.clone()),
    )
    .get_caller_identity()
    .send()
    .await
    .unwrap_err();
    assert_eq!(wrong_secret.code(), Some("SignatureDoesNotMatch"));

    let unknown = client(&harness, "ASIAUNKNOWNUNKNOWN12", "secret", None)
        .get_caller_identity()
        .send()
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Some("InvalidClientTokenId"));
    assert_eq!(
        unknown.message(),
        Some("The security token included in the request is invalid.")
    );

    clock.advance(time::Duration::seconds(3601)).unwrap();
    assert!(clock.now() > time::OffsetDateTime::now_utc());
    let expired = client(
        &harness,
        &credentials.access_key_id,
        &credentials.secret_access_key,
        Some(credentials.session_token),
    )
    .get_caller_identity()
    .send()
    .await
    .unwrap_err();
    assert_eq!(expired.code(), Some("ExpiredToken"));
}
