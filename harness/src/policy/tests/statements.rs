//! Decision table for principals, actions and statement precedence: whole
//! policies against a request, with the decision IAM's evaluation logic
//! gives (an applying Deny wins, then an applying Allow, else implicit deny).

use super::support::{ACCOUNT, PROVIDER, SUB, V, WEB_IDENTITY, eks_request, expand, policy};
use crate::policy::{Decision, RequestContext};

use Decision::{Allow, ExplicitDeny, ImplicitDeny};

const OTHER_PROVIDER: &str =
    "arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/XYZ";

/// Builds a statement with the EKS provider as principal and the given action and
/// condition members (`P:` expands).
fn statement(effect: &str, action: &str, condition: &str) -> String {
    let condition = if condition.is_empty() {
        String::new()
    } else {
        format!(r#","Condition":{condition}"#)
    };
    expand(&format!(
        r#"{{"Effect":"{effect}","Principal":{{"Federated":"{PROVIDER}"}},"Action":{action}{condition}}}"#
    ))
}

fn document(statements: &[String]) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
        statements.join(",")
    )
}

fn web_identity_request() -> RequestContext {
    eks_request(&[("P:sub", V::S(SUB)), ("P:aud", V::S("sts.amazonaws.com"))])
}

const ACTION: &str = r#""sts:AssumeRoleWithWebIdentity""#;
const SUB_OK: &str = r#"{"StringEquals":{"P:sub":"system:serviceaccount:ns:app"}}"#;
const SUB_BAD: &str = r#"{"StringEquals":{"P:sub":"system:serviceaccount:other:app"}}"#;

fn principal_rows() -> Vec<(&'static str, String, RequestContext, Decision)> {
    let principal = |p: &str| {
        document(&[format!(
            r#"{{"Effect":"Allow","Principal":{p},"Action":"sts:AssumeRole*"}}"#
        )])
    };
    let aws = |arn: &str| RequestContext::aws(arn, "sts:AssumeRole");
    let role = "arn:aws:sts::111122223333:assumed-role/app/session";
    vec![
        (
            "principal_star_covers_federated",
            principal(r#""*""#),
            web_identity_request(),
            Allow,
        ),
        (
            "principal_federated_exact",
            principal(&format!(r#"{{"Federated":"{PROVIDER}"}}"#)),
            web_identity_request(),
            Allow,
        ),
        (
            "principal_federated_list_one_matches",
            principal(&format!(
                r#"{{"Federated":["{OTHER_PROVIDER}","{PROVIDER}"]}}"#
            )),
            web_identity_request(),
            Allow,
        ),
        (
            "principal_federated_other_provider",
            principal(&format!(r#"{{"Federated":"{OTHER_PROVIDER}"}}"#)),
            web_identity_request(),
            ImplicitDeny,
        ),
        (
            "principal_federated_other_case",
            principal(&format!(
                r#"{{"Federated":"{}"}}"#,
                PROVIDER.replace("ABC", "abc")
            )),
            web_identity_request(),
            ImplicitDeny,
        ),
        (
            "principal_aws_only_skips_federated",
            principal(r#"{"AWS":"111122223333"}"#),
            web_identity_request(),
            ImplicitDeny,
        ),
        (
            "principal_aws_star_skips_federated",
            principal(r#"{"AWS":"*"}"#),
            web_identity_request(),
            ImplicitDeny,
        ),
        (
            "principal_service_skips_federated",
            principal(r#"{"Service":"ec2.amazonaws.com"}"#),
            web_identity_request(),
            ImplicitDeny,
        ),
        (
            "principal_mixed_types_or",
            principal(&format!(
                r#"{{"Service":"ec2.amazonaws.com","Federated":"{PROVIDER}"}}"#
            )),
            web_identity_request(),
            Allow,
        ),
        (
            "principal_google_domain",
            principal(r#"{"Federated":"accounts.google.com"}"#),
            RequestContext::federated("accounts.google.com", WEB_IDENTITY),
            Allow,
        ),
        (
            "principal_account_id_covers_role",
            principal(&format!(r#"{{"AWS":"{ACCOUNT}"}}"#)),
            aws(role),
            Allow,
        ),
        (
            "principal_account_root_covers_role",
            principal(r#"{"AWS":"arn:aws:iam::111122223333:root"}"#),
            aws(role),
            Allow,
        ),
        (
            "principal_other_account",
            principal(r#"{"AWS":"444455556666"}"#),
            aws(role),
            ImplicitDeny,
        ),
        (
            "principal_aws_star_covers_role",
            principal(r#"{"AWS":"*"}"#),
            aws(role),
            Allow,
        ),
        (
            "principal_exact_role_arn",
            principal(&format!(r#"{{"AWS":"{role}"}}"#)),
            aws(role),
            Allow,
        ),
        (
            "principal_service_match",
            principal(r#"{"Service":"ec2.amazonaws.com"}"#),
            RequestContext::service("ec2.amazonaws.com", "sts:AssumeRole"),
            Allow,
        ),
        (
            "principal_service_other",
            principal(r#"{"Service":"lambda.amazonaws.com"}"#),
            RequestContext::service("ec2.amazonaws.com", "sts:AssumeRole"),
            ImplicitDeny,
        ),
    ]
}

fn action_rows() -> Vec<(&'static str, String, Decision)> {
    let allow = |action: &str| document(&[statement("Allow", action, "")]);
    let not_action = |action: &str| {
        document(&[expand(&format!(
            r#"{{"Effect":"Allow","Principal":{{"Federated":"{PROVIDER}"}},"NotAction":{action}}}"#
        ))])
    };
    vec![
        ("action_exact", allow(ACTION), Allow),
        ("action_star", allow(r#""*""#), Allow),
        ("action_sts_star", allow(r#""sts:*""#), Allow),
        (
            "action_case_insensitive",
            allow(r#""STS:assumerolewithwebidentity""#),
            Allow,
        ),
        ("action_prefix_wildcard", allow(r#""sts:Assume*""#), Allow),
        (
            "action_question_wildcard",
            allow(r#""sts:AssumeRoleWith?ebIdentity""#),
            Allow,
        ),
        (
            "action_assume_role_only",
            allow(r#""sts:AssumeRole""#),
            ImplicitDeny,
        ),
        (
            "action_saml_only",
            allow(r#""sts:AssumeRoleWithSAML""#),
            ImplicitDeny,
        ),
        (
            "action_list_includes",
            allow(r#"["sts:TagSession","sts:AssumeRoleWithWebIdentity"]"#),
            Allow,
        ),
        (
            "action_list_excludes",
            allow(r#"["sts:TagSession","sts:AssumeRole"]"#),
            ImplicitDeny,
        ),
        ("not_action_other", not_action(r#""sts:TagSession""#), Allow),
        ("not_action_requested", not_action(ACTION), ImplicitDeny),
        (
            "not_action_wildcard_covers",
            not_action(r#""sts:Assume*""#),
            ImplicitDeny,
        ),
    ]
}

fn precedence_rows() -> Vec<(&'static str, String, Decision)> {
    let allow = statement("Allow", ACTION, SUB_OK);
    let deny_all = statement("Deny", ACTION, "");
    vec![
        (
            "deny_overrides_allow",
            document(&[allow.clone(), deny_all.clone()]),
            ExplicitDeny,
        ),
        (
            "deny_first_still_wins",
            document(&[deny_all.clone(), allow.clone()]),
            ExplicitDeny,
        ),
        (
            "deny_only_policy",
            document(std::slice::from_ref(&deny_all)),
            ExplicitDeny,
        ),
        (
            "deny_condition_fails",
            document(&[allow.clone(), statement("Deny", ACTION, SUB_BAD)]),
            Allow,
        ),
        (
            "deny_other_action",
            document(&[allow.clone(), statement("Deny", r#""sts:TagSession""#, "")]),
            Allow,
        ),
        (
            "deny_other_principal",
            document(&[
                allow.clone(),
                expand(&format!(
                    r#"{{"Effect":"Deny","Principal":{{"Federated":"{OTHER_PROVIDER}"}},"Action":"*"}}"#
                )),
            ]),
            Allow,
        ),
        (
            "deny_star_principal",
            document(&[
                allow.clone(),
                r#"{"Effect":"Deny","Principal":"*","Action":"*"}"#.to_string(),
            ]),
            ExplicitDeny,
        ),
        (
            "deny_not_equals_missing_key",
            document(&[
                allow.clone(),
                statement("Deny", ACTION, r#"{"StringNotEquals":{"P:amr":"x"}}"#),
            ]),
            ExplicitDeny,
        ),
        (
            "deny_if_exists_missing_key",
            document(&[
                allow.clone(),
                statement("Deny", ACTION, r#"{"StringEqualsIfExists":{"P:amr":"x"}}"#),
            ]),
            ExplicitDeny,
        ),
        (
            "deny_for_all_values_missing_key",
            document(&[
                allow.clone(),
                statement(
                    "Deny",
                    ACTION,
                    r#"{"ForAllValues:StringEquals":{"P:amr":"x"}}"#,
                ),
            ]),
            ExplicitDeny,
        ),
        (
            "deny_null_true_missing_key",
            document(&[
                allow.clone(),
                statement("Deny", ACTION, r#"{"Null":{"P:amr":"true"}}"#),
            ]),
            ExplicitDeny,
        ),
        (
            "deny_for_any_value_missing_key",
            document(&[
                allow.clone(),
                statement(
                    "Deny",
                    ACTION,
                    r#"{"ForAnyValue:StringEquals":{"P:amr":"x"}}"#,
                ),
            ]),
            Allow,
        ),
        (
            "allow_condition_fails",
            document(&[statement("Allow", ACTION, SUB_BAD)]),
            ImplicitDeny,
        ),
        (
            "two_allows_one_applies",
            document(&[statement("Allow", ACTION, SUB_BAD), allow.clone()]),
            Allow,
        ),
        (
            "allow_without_conditions",
            document(&[statement("Allow", ACTION, "")]),
            Allow,
        ),
        (
            "single_statement_object",
            format!(r#"{{"Version":"2012-10-17","Statement":{allow}}}"#),
            Allow,
        ),
        (
            "version_2008",
            format!(r#"{{"Version":"2008-10-17","Statement":[{allow}]}}"#),
            Allow,
        ),
        (
            "version_missing",
            format!(r#"{{"Statement":[{allow}]}}"#),
            Allow,
        ),
    ]
}

#[test]
fn principal_forms_table() {
    for (name, text, request, expected) in principal_rows() {
        let evaluation = policy(&text).evaluate(&request);
        assert_eq!(evaluation.decision, expected, "case {name}: {text}");
    }
}

#[test]
fn action_forms_table() {
    for (name, text, expected) in action_rows() {
        let evaluation = policy(&text).evaluate(&web_identity_request());
        assert_eq!(evaluation.decision, expected, "case {name}: {text}");
    }
}

#[test]
fn statement_precedence_table() {
    for (name, text, expected) in precedence_rows() {
        let evaluation = policy(&text).evaluate(&web_identity_request());
        assert_eq!(evaluation.decision, expected, "case {name}: {text}");
    }
}

#[test]
fn deciding_statement_is_first_deny() {
    let text = document(&[
        statement("Allow", ACTION, SUB_OK),
        statement("Deny", ACTION, SUB_BAD),
        statement("Deny", ACTION, ""),
    ]);
    let evaluation = policy(&text).evaluate(&web_identity_request());
    assert_eq!(evaluation.decision, ExplicitDeny);
    assert_eq!(evaluation.deciding_statement().map(|t| t.index), Some(2));
    assert!(!evaluation.allowed());
}

#[test]
fn deciding_statement_absent_for_implicit_deny() {
    let text = document(&[statement("Allow", ACTION, SUB_BAD)]);
    let evaluation = policy(&text).evaluate(&web_identity_request());
    assert!(evaluation.deciding_statement().is_none());
    assert_eq!(evaluation.statements.len(), 1);
    assert!(!evaluation.statements[0].applies);
}

#[test]
fn trace_lists_every_condition() {
    let text = document(&[statement(
        "Allow",
        ACTION,
        r#"{"StringEquals":{"P:aud":"wrong","P:sub":"system:serviceaccount:other:app"}}"#,
    )]);
    let evaluation = policy(&text).evaluate(&web_identity_request());
    let conditions = &evaluation.statements[0].conditions;
    assert_eq!(conditions.len(), 2);
    assert!(conditions.iter().all(|c| !c.matched));
    assert!(conditions.iter().all(|c| c.request_values.is_some()));
}
