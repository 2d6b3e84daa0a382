//! End-to-end tests: the real AWS SDK for Rust and raw HTTP against a
//! harness started on a loopback port.
//!
//! - `attacks`: the hostile-token corpus, forged and malformed tokens with
//!   the responses STS gives them.
//! - `flow`: the IRSA setup the EKS documentation teaches, from the "No
//!   OpenIDConnect provider found" failure to credentials.
//! - `sts`: each AssumeRoleWithWebIdentity failure with its code, status and
//!   message.
//! - `iam`: the OIDC-provider and role actions through aws-sdk-iam.
//! - `imds`: instance metadata of a node and the stored-pod route.
//! - `issuer`: discovery, JWKS and DescribeCluster.
//! - `pods`: manifests through the kube routes, the webhook's mutation, and
//!   a pod's token sent to STS.
//! - `limits`: oversized, malformed and slow requests over raw HTTP.
//! - `load`: concurrent IAM and STS clients, and the consistency after.
//! - `snapshots`: the exact bytes of documents and XML bodies.
//! - `scenarios`: every file of the scenario library passes, and its
//!   reports match their snapshots.
//! - `teach`: the teaching page, its live stream, and `run --explain`.

mod attacks;
mod caller;
mod flow;
mod iam;
mod imds;
mod issuer;
mod limits;
mod load;
mod pods;
mod remote;
mod scenarios;
mod snapshots;
mod sts;
mod teach;

use aws_sdk_sts::error::ProvideErrorMetadata;
use aws_sdk_sts::operation::assume_role_with_web_identity::AssumeRoleWithWebIdentityOutput;
use oidc_sts_harness::Harness;

/// The cluster of the documented walkthrough.
pub const CLUSTER: &str = "demo";
pub const CLUSTER_ID: &str = "C891F985BAF5A4C1C7ABBA6A00DFD39E";
pub const CLUSTER_REGION: &str = "ap-northeast-2";
pub const ISSUER: &str =
    "https://oidc.eks.ap-northeast-2.amazonaws.com/id/C891F985BAF5A4C1C7ABBA6A00DFD39E";
pub const ISSUER_PATH: &str =
    "oidc.eks.ap-northeast-2.amazonaws.com/id/C891F985BAF5A4C1C7ABBA6A00DFD39E";
pub const PROVIDER_ARN: &str = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.ap-northeast-2.amazonaws.com/id/C891F985BAF5A4C1C7ABBA6A00DFD39E";
pub const THUMBPRINT: &str = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280";

/// Starts a harness with the walkthrough's cluster.
pub async fn harness() -> Harness {
    Harness::builder()
        .cluster(&format!("{CLUSTER}@{CLUSTER_REGION}/{CLUSTER_ID}"))
        .start()
        .await
        .expect("the harness starts on a loopback port")
}

/// An STS error as a test sees it.
#[derive(Debug, PartialEq, Eq)]
pub struct StsFailure {
    pub status: u16,
    pub code: String,
    pub message: String,
}

/// Calls AssumeRoleWithWebIdentity through aws-sdk-sts.
pub async fn assume(
    harness: &Harness,
    role_arn: &str,
    token: &str,
    session_name: &str,
) -> Result<AssumeRoleWithWebIdentityOutput, StsFailure> {
    harness_e2e::sts_client(harness)
        .assume_role_with_web_identity()
        .role_arn(role_arn)
        .role_session_name(session_name)
        .web_identity_token(token)
        .send()
        .await
        .map_err(|error| StsFailure {
            status: error
                .raw_response()
                .map(|r| r.status().as_u16())
                .unwrap_or_default(),
            code: error.code().unwrap_or_default().to_owned(),
            message: error.message().unwrap_or_default().to_owned(),
        })
}

/// Creates the walkthrough's provider and a role trusting `subject`.
pub async fn provider_and_role(harness: &Harness, role: &str, subject: &str) -> String {
    let iam = harness_e2e::iam_client(harness, harness_e2e::DEFAULT_ACCOUNT);
    iam.create_open_id_connect_provider()
        .url(ISSUER)
        .client_id_list("sts.amazonaws.com")
        .thumbprint_list(THUMBPRINT)
        .send()
        .await
        .expect("provider is created");
    iam.create_role()
        .role_name(role)
        .assume_role_policy_document(harness_e2e::irsa_trust_policy(
            PROVIDER_ARN,
            ISSUER_PATH,
            subject,
        ))
        .send()
        .await
        .expect("role is created")
        .role
        .expect("CreateRole returns the role")
        .arn
}
