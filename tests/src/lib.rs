//! Shared helpers for the end-to-end tests: a harness on loopback, SDK
//! clients pointed at it, and raw query-protocol calls.

use aws_credential_types::Credentials;
use oidc_sts_harness::Harness;

/// Region every test client uses.
pub const REGION: &str = "us-east-1";
/// Account id used as the access key id of IAM calls in tests, so the
/// calls act in the harness's default account.
pub const DEFAULT_ACCOUNT: &str = "123456789012";

/// Static test credentials: the harness does not verify IAM signatures, so
/// any values work; the access key id picks the account.
pub fn credentials(access_key_id: &str) -> Credentials {
    Credentials::new(access_key_id, "test-secret-key", None, None, "e2e")
}

/// An IAM client that signs with `account` as its access key id.
pub fn iam_client(harness: &Harness, account: &str) -> aws_sdk_iam::Client {
    let config = aws_sdk_iam::Config::builder()
        .behavior_version(aws_sdk_iam::config::BehaviorVersion::latest())
        .region(aws_sdk_iam::config::Region::new(REGION))
        .endpoint_url(harness.endpoint())
        .credentials_provider(credentials(account))
        .build();
    aws_sdk_iam::Client::from_conf(config)
}

/// An STS client; AssumeRoleWithWebIdentity is sent unsigned whatever
/// credentials it holds.
pub fn sts_client(harness: &Harness) -> aws_sdk_sts::Client {
    let config = aws_sdk_sts::Config::builder()
        .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
        .region(aws_sdk_sts::config::Region::new(REGION))
        .endpoint_url(harness.endpoint())
        .credentials_provider(credentials("AKIAEXAMPLEEXAMPLE12"))
        .build();
    aws_sdk_sts::Client::from_conf(config)
}

/// A raw response: status, headers and body.
pub struct Raw {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

/// Posts form parameters to the harness's query endpoint.
pub async fn post_form(harness: &Harness, params: &[(&str, &str)]) -> Raw {
    let response = reqwest::Client::new()
        .post(harness.endpoint())
        .form(params)
        .send()
        .await
        .expect("the harness accepts connections on loopback");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.text().await.expect("a text body");
    Raw {
        status,
        headers,
        body,
    }
}

/// Sends a GET with `Host` set, as a client of a real issuer host would.
pub async fn get_with_host(harness: &Harness, host: &str, path: &str) -> Raw {
    let response = reqwest::Client::new()
        .get(format!("{}{path}", harness.endpoint()))
        .header(reqwest::header::HOST, host)
        .send()
        .await
        .expect("the harness accepts connections on loopback");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.text().await.expect("a text body");
    Raw {
        status,
        headers,
        body,
    }
}

/// Decodes a policy document as IAM returns it (percent-encoded).
pub fn decode_policy(encoded: &str) -> String {
    percent_encoding::percent_decode_str(encoded)
        .decode_utf8()
        .expect("IAM encodes UTF-8 documents")
        .into_owned()
}

/// The trust policy EKS documentation gives for a service account, as eksctl
/// writes it.
pub fn irsa_trust_policy(provider_arn: &str, issuer_path: &str, subject: &str) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": provider_arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {
                format!("{issuer_path}:sub"): subject,
                format!("{issuer_path}:aud"): "sts.amazonaws.com",
            }}
        }]
    })
    .to_string()
}
