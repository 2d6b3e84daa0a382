//! Tests of the `AssumeRoleWithWebIdentity` request context: which keys
//! exist, what they hold, and how key names compare.

use serde_json::{Map, Value, json};
use time::macros::datetime;

use crate::policy::{
    ContextValue, RequestContext, RequestPrincipal, WebIdentityRequest, web_identity_context,
};

fn build(prefix: &str, claims: Value, audience: &str) -> RequestContext {
    let Value::Object(claims) = claims else {
        unreachable!("claims are an object")
    };
    let claims: Map<String, Value> = claims;
    web_identity_context(&WebIdentityRequest {
        provider_arn: &format!("arn:aws:iam::111122223333:oidc-provider/{prefix}"),
        key_prefix: prefix,
        claims: &claims,
        matched_audience: audience,
        role_session_name: "session-1",
        source_ip: Some("203.0.113.10"),
        request_time: datetime!(2026-12-04 16:00:00.250 UTC),
        secure_transport: true,
        requested_region: Some("us-east-1"),
    })
}

fn single(context: &RequestContext, key: &str) -> Option<String> {
    match context.get(key)? {
        ContextValue::Single(value) => Some(value.clone()),
        ContextValue::Multi(_) => None,
    }
}

const EKS: &str = "oidc.eks.us-east-1.amazonaws.com/id/ABC";

#[test]
fn eks_context_has_sub_and_matched_aud() {
    let context = build(
        EKS,
        json!({"sub": "system:serviceaccount:ns:app", "aud": ["sts.amazonaws.com", "other"]}),
        "sts.amazonaws.com",
    );
    assert_eq!(
        single(&context, &format!("{EKS}:sub")).as_deref(),
        Some("system:serviceaccount:ns:app")
    );
    assert_eq!(
        single(&context, &format!("{EKS}:aud")).as_deref(),
        Some("sts.amazonaws.com")
    );
    assert!(context.get(&format!("{EKS}:amr")).is_none());
    assert!(context.get(&format!("{EKS}:azp")).is_none());
    assert_eq!(context.action(), "sts:AssumeRoleWithWebIdentity");
    assert_eq!(context.provider_prefix(), Some(EKS));
    assert_eq!(
        context.principal(),
        &RequestPrincipal::Federated(format!("arn:aws:iam::111122223333:oidc-provider/{EKS}"))
    );
}

#[test]
fn global_keys_set() {
    let context = build(EKS, json!({"sub": "s"}), "sts.amazonaws.com");
    assert_eq!(
        single(&context, "sts:RoleSessionName").as_deref(),
        Some("session-1")
    );
    assert_eq!(
        single(&context, "aws:SourceIp").as_deref(),
        Some("203.0.113.10")
    );
    assert_eq!(
        single(&context, "aws:CurrentTime").as_deref(),
        Some("2026-12-04T16:00:00Z")
    );
    assert_eq!(
        single(&context, "aws:EpochTime").as_deref(),
        Some("1796400000")
    );
    assert_eq!(
        single(&context, "aws:SecureTransport").as_deref(),
        Some("true")
    );
    assert_eq!(
        single(&context, "aws:RequestedRegion").as_deref(),
        Some("us-east-1")
    );
    assert_eq!(
        single(&context, "aws:PrincipalType").as_deref(),
        Some("WebIdentityUser")
    );
}

#[test]
fn key_lookup_case_insensitive() {
    let context = build(EKS, json!({"sub": "s"}), "sts.amazonaws.com");
    assert_eq!(
        single(&context, "AWS:SOURCEIP").as_deref(),
        Some("203.0.113.10")
    );
    assert_eq!(
        single(&context, &format!("{}:SUB", EKS.to_uppercase())).as_deref(),
        Some("s")
    );
}

#[test]
fn cognito_amr_multivalued() {
    let prefix = "cognito-identity.amazonaws.com";
    let context = build(
        prefix,
        json!({"sub": "us-east-1:abc", "amr": ["authenticated", "graph.facebook.com"]}),
        "us-east-1:pool",
    );
    let amr = context.get(&format!("{prefix}:amr")).cloned();
    let expected = ContextValue::Multi(vec!["authenticated".into(), "graph.facebook.com".into()]);
    assert_eq!(amr, Some(expected));
}

#[test]
fn google_aud_prefers_azp() {
    let prefix = "accounts.google.com";
    let context = build(
        prefix,
        json!({"sub": "1234", "aud": "client-a", "azp": "client-b"}),
        "client-a",
    );
    assert_eq!(
        single(&context, "accounts.google.com:aud").as_deref(),
        Some("client-b")
    );
    assert_eq!(
        single(&context, "accounts.google.com:oaud").as_deref(),
        Some("client-a")
    );
    assert_eq!(
        single(&context, "accounts.google.com:azp").as_deref(),
        Some("client-b")
    );
}

#[test]
fn google_aud_without_azp() {
    let context = build(
        "accounts.google.com",
        json!({"sub": "1234", "aud": "client-a"}),
        "client-a",
    );
    assert_eq!(
        single(&context, "accounts.google.com:aud").as_deref(),
        Some("client-a")
    );
}

#[test]
fn github_claim_keys_exposed() {
    let prefix = "token.actions.githubusercontent.com";
    let claims = json!({
        "sub": "repo:o/r:ref:refs/heads/main", "repository": "o/r", "repository_id": 42,
        "job_workflow_ref": "o/r/.github/workflows/ci.yml@refs/heads/main", "run_id": "7",
    });
    let context = build(prefix, claims, "sts.amazonaws.com");
    assert_eq!(
        single(&context, &format!("{prefix}:repository")).as_deref(),
        Some("o/r")
    );
    assert_eq!(
        single(&context, &format!("{prefix}:repository_id")).as_deref(),
        Some("42")
    );
    assert!(context.get(&format!("{prefix}:job_workflow_ref")).is_some());
    assert!(context.get(&format!("{prefix}:run_id")).is_none());
}

#[test]
fn github_keys_not_for_other_issuers() {
    let context = build(
        EKS,
        json!({"sub": "s", "repository": "o/r"}),
        "sts.amazonaws.com",
    );
    assert!(context.get(&format!("{EKS}:repository")).is_none());
}

#[test]
fn custom_claims_not_exposed() {
    let context = build(
        EKS,
        json!({"sub": "s", "roles": ["admin"], "email": "a@example.com"}),
        "sts.amazonaws.com",
    );
    assert!(context.get(&format!("{EKS}:roles")).is_none());
    assert!(context.get(&format!("{EKS}:email")).is_none());
}

#[test]
fn insert_replaces_and_remove_drops() {
    let mut context =
        RequestContext::federated("accounts.google.com", "sts:AssumeRoleWithWebIdentity");
    assert_eq!(context.provider_prefix(), Some("accounts.google.com"));
    context.insert("Test:Key", ContextValue::Single("a".into()));
    context.insert("test:key", ContextValue::Single("b".into()));
    assert_eq!(single(&context, "TEST:KEY").as_deref(), Some("b"));
    context.remove("TEST:key");
    assert!(context.get("test:key").is_none());
}
