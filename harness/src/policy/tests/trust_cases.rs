//! The trust-policy mistakes users actually make, each with the decision IAM
//! gives and the diagnosis the engine must attach, plus snapshots of the
//! human explanations.

use serde_json::{Map, Value, json};
use time::macros::datetime;

use crate::policy::{
    Decision, DiagnosisKind, Evaluation, RequestContext, TrustPolicy, WebIdentityRequest,
    render_human, web_identity_context,
};

const EKS_ACCOUNT_PROVIDER: &str = "arn:aws:iam::210987654321:oidc-provider/oidc.eks.us-east-2.amazonaws.com/id/54F8C2D6E7A9B0C1D2E3F4A5B6C7D8E9";
const EKS_PREFIX: &str = "oidc.eks.us-east-2.amazonaws.com/id/54F8C2D6E7A9B0C1D2E3F4A5B6C7D8E9";
const GITHUB_PROVIDER: &str =
    "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com";
const GITHUB_PREFIX: &str = "token.actions.githubusercontent.com";

fn claims(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => unreachable!("test claims are a JSON object"),
    }
}

fn request(
    provider: &str,
    prefix: &str,
    claims: &Map<String, Value>,
    audience: &str,
) -> RequestContext {
    web_identity_context(&WebIdentityRequest {
        provider_arn: provider,
        key_prefix: prefix,
        claims,
        matched_audience: audience,
        role_session_name: "botocore-session-1796400000",
        source_ip: Some("203.0.113.10"),
        request_time: datetime!(2026-12-04 16:00:00 UTC),
        secure_transport: true,
        requested_region: Some("us-east-2"),
    })
}

/// Builds an EKS request for the given service account.
fn eks_request(namespace: &str, service_account: &str) -> RequestContext {
    let claims = claims(json!({
        "iss": format!("https://{EKS_PREFIX}"),
        "sub": format!("system:serviceaccount:{namespace}:{service_account}"),
        "aud": ["sts.amazonaws.com"],
    }));
    request(
        EKS_ACCOUNT_PROVIDER,
        EKS_PREFIX,
        &claims,
        "sts.amazonaws.com",
    )
}

fn github_request(sub: &str) -> RequestContext {
    let claims = claims(json!({
        "iss": "https://token.actions.githubusercontent.com",
        "sub": sub,
        "aud": "sts.amazonaws.com",
        "repository": "example-org/demo-repo",
        "repository_id": 123456789,
        "ref": "refs/heads/main",
        "actor": "octocat",
    }));
    request(GITHUB_PROVIDER, GITHUB_PREFIX, &claims, "sts.amazonaws.com")
}

/// Parses a trust policy for `provider` with the given `Condition` JSON.
fn trust(version: &str, provider: &str, condition: &str) -> TrustPolicy {
    let text = format!(
        r#"{{
  "Version": "{version}",
  "Statement": [
    {{
      "Effect": "Allow",
      "Principal": {{"Federated": "{provider}"}},
      "Action": "sts:AssumeRoleWithWebIdentity",
      "Condition": {condition}
    }}
  ]
}}"#
    );
    TrustPolicy::parse(&text).unwrap_or_else(|err| panic!("{err}: {text}"))
}

fn eks_trust(condition: &str) -> TrustPolicy {
    trust(
        "2012-10-17",
        EKS_ACCOUNT_PROVIDER,
        &condition.replace("P:", &format!("{EKS_PREFIX}:")),
    )
}

fn github_trust(version: &str, condition: &str) -> TrustPolicy {
    trust(
        version,
        GITHUB_PROVIDER,
        &condition.replace("G:", &format!("{GITHUB_PREFIX}:")),
    )
}

/// Returns the diagnosis kind of the first failed condition of the first statement.
fn failed_condition_kind(evaluation: &Evaluation) -> Option<DiagnosisKind> {
    evaluation.statements[0]
        .conditions
        .iter()
        .find(|c| !c.matched)
        .and_then(|c| c.diagnosis.as_ref())
        .map(|d| d.kind)
}

#[test]
fn sub_other_namespace_denied() {
    let policy = eks_trust(
        r#"{"StringEquals": {"P:sub": "system:serviceaccount:payments:api", "P:aud": "sts.amazonaws.com"}}"#,
    );
    let evaluation = policy.evaluate(&eks_request("billing", "api"));
    assert_eq!(evaluation.decision, Decision::ImplicitDeny);
    assert_eq!(
        failed_condition_kind(&evaluation),
        Some(DiagnosisKind::SubjectMismatch)
    );
    insta::assert_snapshot!("sub_other_namespace", render_human(&evaluation));
}

#[test]
fn wildcard_under_string_equals_denied() {
    let policy = eks_trust(
        r#"{"StringEquals": {"P:sub": "system:serviceaccount:crossplane-system:provider-aws-*"}}"#,
    );
    let evaluation = policy.evaluate(&eks_request(
        "crossplane-system",
        "provider-aws-a1b2c3d4e5f6",
    ));
    assert_eq!(evaluation.decision, Decision::ImplicitDeny);
    assert_eq!(
        failed_condition_kind(&evaluation),
        Some(DiagnosisKind::WildcardUnderStringEquals)
    );
    insta::assert_snapshot!("wildcard_under_string_equals", render_human(&evaluation));
}

#[test]
fn wildcard_under_string_like_allowed() {
    let policy = eks_trust(
        r#"{"StringLike": {"P:sub": "system:serviceaccount:crossplane-system:provider-aws-*"}}"#,
    );
    let evaluation = policy.evaluate(&eks_request(
        "crossplane-system",
        "provider-aws-a1b2c3d4e5f6",
    ));
    assert_eq!(evaluation.decision, Decision::Allow);
    assert!(evaluation.warnings.is_empty());
}

#[test]
fn key_with_provider_arn_denied() {
    let condition = format!(
        r#"{{"StringEquals": {{"{EKS_ACCOUNT_PROVIDER}:sub": "system:serviceaccount:default:app"}}}}"#
    );
    let evaluation = eks_trust(&condition).evaluate(&eks_request("default", "app"));
    assert_eq!(evaluation.decision, Decision::ImplicitDeny);
    assert_eq!(
        failed_condition_kind(&evaluation),
        Some(DiagnosisKind::KeyWithProviderArn)
    );
    let fix = &evaluation.statements[0].conditions[0]
        .diagnosis
        .as_ref()
        .unwrap()
        .fix;
    assert!(fix.contains(&format!("{EKS_PREFIX}:sub")), "{fix}");
    insta::assert_snapshot!("key_with_provider_arn", render_human(&evaluation));
}

#[test]
fn key_with_scheme_denied() {
    let condition = format!(
        r#"{{"StringEquals": {{"https://{EKS_PREFIX}:sub": "system:serviceaccount:default:app"}}}}"#
    );
    let evaluation = eks_trust(&condition).evaluate(&eks_request("default", "app"));
    assert_eq!(evaluation.decision, Decision::ImplicitDeny);
    assert_eq!(
        failed_condition_kind(&evaluation),
        Some(DiagnosisKind::KeyWithScheme)
    );
    insta::assert_snapshot!("key_with_scheme", render_human(&evaluation));
}

#[test]
fn key_for_other_cluster_denied() {
    let condition = r#"{"StringEquals": {"oidc.eks.us-east-2.amazonaws.com/id/0000C2D6E7A9B0C1D2E3F4A5B6C7D8E9:sub": "system:serviceaccount:default:app"}}"#;
    let evaluation = eks_trust(condition).evaluate(&eks_request("default", "app"));
    assert_eq!(evaluation.decision, Decision::ImplicitDeny);
    assert_eq!(
        failed_condition_kind(&evaluation),
        Some(DiagnosisKind::KeyForOtherProvider)
    );
    insta::assert_snapshot!("key_for_other_cluster", render_human(&evaluation));
}

#[test]
fn github_audience_mismatch_denied() {
    let policy = github_trust(
        "2012-10-17",
        r#"{"StringEquals": {"G:aud": "https://github.com/example-org"}, "StringLike": {"G:sub": "repo:example-org/demo-repo:*"}}"#,
    );
    let evaluation = policy.evaluate(&github_request(
        "repo:example-org/demo-repo:ref:refs/heads/main",
    ));
    assert_eq!(evaluation.decision, Decision::ImplicitDeny);
    assert_eq!(
        failed_condition_kind(&evaluation),
        Some(DiagnosisKind::AudienceMismatch)
    );
    insta::assert_snapshot!("github_audience_mismatch", render_human(&evaluation));
}

#[test]
fn github_sub_without_suffix_denied() {
    let policy = github_trust(
        "2012-10-17",
        r#"{"StringEquals": {"G:aud": "sts.amazonaws.com", "G:sub": "repo:example-org/demo-repo"}}"#,
    );
    let evaluation = policy.evaluate(&github_request("repo:example-org/demo-repo:pull_request"));
    assert_eq!(evaluation.decision, Decision::ImplicitDeny);
    assert_eq!(
        failed_condition_kind(&evaluation),
        Some(DiagnosisKind::SubjectMismatch)
    );
    let sub = evaluation.statements[0]
        .conditions
        .iter()
        .find(|c| !c.matched)
        .unwrap();
    assert!(sub.diagnosis.as_ref().unwrap().fix.contains("StringLike"));
    insta::assert_snapshot!("github_sub_without_suffix", render_human(&evaluation));
}

#[test]
fn legacy_version_string_like_allowed() {
    let policy = github_trust(
        "2008-10-17",
        r#"{"StringLike": {"G:sub": "repo:example-org/demo-repo:*"}, "StringEquals": {"G:aud": "sts.amazonaws.com"}}"#,
    );
    let evaluation = policy.evaluate(&github_request(
        "repo:example-org/demo-repo:ref:refs/heads/main",
    ));
    assert_eq!(evaluation.decision, Decision::Allow);
    insta::assert_snapshot!("legacy_version_string_like", render_human(&evaluation));
}

#[test]
fn github_claim_keys_evaluated() {
    let policy = github_trust(
        "2012-10-17",
        r#"{"StringEquals": {"G:sub": "repo:example-org/demo-repo:ref:refs/heads/main", "G:repository_id": "123456789", "G:actor": "octocat"}}"#,
    );
    let evaluation = policy.evaluate(&github_request(
        "repo:example-org/demo-repo:ref:refs/heads/main",
    ));
    assert_eq!(evaluation.decision, Decision::Allow);
}

#[test]
fn subject_under_audience_denied() {
    let policy = eks_trust(r#"{"StringEquals": {"P:aud": "system:serviceaccount:default:app"}}"#);
    let evaluation = policy.evaluate(&eks_request("default", "app"));
    assert_eq!(evaluation.decision, Decision::ImplicitDeny);
    assert_eq!(
        failed_condition_kind(&evaluation),
        Some(DiagnosisKind::SubjectUnderAudience)
    );
    insta::assert_snapshot!("subject_under_audience", render_human(&evaluation));
}

#[test]
fn value_case_mismatch_denied() {
    let policy = eks_trust(r#"{"StringEquals": {"P:sub": "system:serviceaccount:Default:app"}}"#);
    let evaluation = policy.evaluate(&eks_request("default", "app"));
    assert_eq!(evaluation.decision, Decision::ImplicitDeny);
    assert_eq!(
        failed_condition_kind(&evaluation),
        Some(DiagnosisKind::ValueCaseMismatch)
    );
    insta::assert_snapshot!("value_case_mismatch", render_human(&evaluation));
}

#[test]
fn federated_other_provider_denied() {
    let other = EKS_ACCOUNT_PROVIDER.replace("210987654321", "111122223333");
    let condition = format!(
        r#"{{"StringEquals": {{"{EKS_PREFIX}:sub": "system:serviceaccount:default:app"}}}}"#
    );
    let policy = trust("2012-10-17", &other, &condition);
    let evaluation = policy.evaluate(&eks_request("default", "app"));
    assert_eq!(evaluation.decision, Decision::ImplicitDeny);
    assert!(!evaluation.statements[0].principal_matched);
    let kinds: Vec<_> = evaluation.statements[0]
        .diagnoses
        .iter()
        .map(|d| d.kind)
        .collect();
    assert_eq!(kinds, vec![DiagnosisKind::FederatedMismatch]);
    insta::assert_snapshot!("federated_other_provider", render_human(&evaluation));
}

#[test]
fn no_sub_condition_warns_when_allowed() {
    let policy = eks_trust(r#"{"StringEquals": {"P:aud": "sts.amazonaws.com"}}"#);
    let evaluation = policy.evaluate(&eks_request("anything", "anyone"));
    assert_eq!(evaluation.decision, Decision::Allow);
    let kinds: Vec<_> = evaluation.warnings.iter().map(|d| d.kind).collect();
    assert_eq!(kinds, vec![DiagnosisKind::NoSubjectCondition]);
    assert!(
        evaluation.warnings[0]
            .message
            .contains("every service account")
    );
    insta::assert_snapshot!("no_sub_condition", render_human(&evaluation));
}

#[test]
fn for_all_values_in_allow_warns() {
    let policy = eks_trust(
        r#"{"StringEquals": {"P:sub": "system:serviceaccount:default:app"}, "ForAllValues:StringEquals": {"P:amr": "authenticated"}}"#,
    );
    let evaluation = policy.evaluate(&eks_request("default", "app"));
    assert_eq!(evaluation.decision, Decision::Allow);
    let kinds: Vec<_> = evaluation.warnings.iter().map(|d| d.kind).collect();
    assert_eq!(kinds, vec![DiagnosisKind::ForAllValuesInAllow]);
    insta::assert_snapshot!("for_all_values_in_allow", render_human(&evaluation));
}

#[test]
fn missing_key_diagnosed() {
    let policy = eks_trust(
        r#"{"StringEquals": {"P:sub": "system:serviceaccount:default:app", "P:email": "a@example.com"}}"#,
    );
    let evaluation = policy.evaluate(&eks_request("default", "app"));
    assert_eq!(evaluation.decision, Decision::ImplicitDeny);
    assert_eq!(
        failed_condition_kind(&evaluation),
        Some(DiagnosisKind::MissingKey)
    );
}

#[test]
fn explicit_deny_explained() {
    let text = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"AllowApp","Effect":"Allow","Principal":{{"Federated":"{EKS_ACCOUNT_PROVIDER}"}},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{{"StringLike":{{"{EKS_PREFIX}:sub":"system:serviceaccount:default:*"}}}}}},{{"Sid":"DenyPlainHttp","Effect":"Deny","Principal":"*","Action":"*","Condition":{{"Bool":{{"aws:SecureTransport":"false"}}}}}}]}}"#
    );
    let policy = TrustPolicy::parse(&text).unwrap();
    let mut request = eks_request("default", "app");
    request.insert(
        "aws:SecureTransport",
        crate::policy::ContextValue::Single("false".into()),
    );
    let evaluation = policy.evaluate(&request);
    assert_eq!(evaluation.decision, Decision::ExplicitDeny);
    assert_eq!(
        evaluation
            .deciding_statement()
            .and_then(|t| t.sid.as_deref()),
        Some("DenyPlainHttp")
    );
    insta::assert_snapshot!("explicit_deny", render_human(&evaluation));
}

#[test]
fn excluded_subject_not_diagnosed() {
    let policy =
        eks_trust(r#"{"StringNotEquals": {"P:sub": "system:serviceaccount:default:app"}}"#);
    let evaluation = policy.evaluate(&eks_request("default", "app"));
    assert_eq!(evaluation.decision, Decision::ImplicitDeny);
    assert_eq!(failed_condition_kind(&evaluation), None);
}

#[test]
fn action_not_covered_diagnosed() {
    let policy = eks_trust(r#"{"StringEquals": {"P:sub": "system:serviceaccount:default:app"}}"#);
    let web_identity = eks_request("default", "app");
    let mut request = RequestContext::federated(EKS_ACCOUNT_PROVIDER, "sts:AssumeRole");
    for (key, value) in web_identity.keys() {
        request.insert(key, value.clone());
    }
    let evaluation = policy.evaluate(&request);
    assert_eq!(evaluation.decision, Decision::ImplicitDeny);
    let kinds: Vec<_> = evaluation.statements[0]
        .diagnoses
        .iter()
        .map(|d| d.kind)
        .collect();
    assert_eq!(kinds, vec![DiagnosisKind::ActionNotCovered]);
}

#[test]
fn json_form_has_allow_or_deny() {
    let policy = eks_trust(r#"{"StringEquals": {"P:sub": "system:serviceaccount:payments:api"}}"#);
    let denied = policy.evaluate(&eks_request("billing", "api"));
    let allowed = policy.evaluate(&eks_request("payments", "api"));
    let denied_json = serde_json::to_value(&denied).unwrap();
    let allowed_json = serde_json::to_value(&allowed).unwrap();
    assert_eq!(denied_json["decision"], "deny");
    assert_eq!(denied_json["reason"], "implicit_deny");
    assert_eq!(allowed_json["decision"], "allow");
    assert_eq!(allowed_json["deciding_statement"], 0);
    insta::assert_json_snapshot!("json_sub_other_namespace", denied);
}
