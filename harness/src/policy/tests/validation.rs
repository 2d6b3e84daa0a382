//! One test per rejection IAM gives for a trust policy, with the exact wire
//! code, status and message, plus documents IAM accepts.

use super::support::{PROVIDER, allow_with};
use crate::policy::{PolicyError, TrustPolicy, limits};

fn rejection(text: &str) -> PolicyError {
    match TrustPolicy::parse(text) {
        Ok(_) => panic!("policy accepted, expected a rejection:\n{text}"),
        Err(err) => err,
    }
}

fn assert_malformed(text: &str, message: &str) {
    let err = rejection(text);
    assert_eq!(err.aws_code(), "MalformedPolicyDocument", "{text}");
    assert_eq!(err.http_status(), 400, "{text}");
    assert_eq!(err.message(), message, "{text}");
}

/// Builds a one-statement policy from statement members (JSON without braces).
fn with_statement(members: &str) -> String {
    format!(r#"{{"Version":"2012-10-17","Statement":[{{{members}}}]}}"#)
}

fn web_identity_statement(extra: &str) -> String {
    with_statement(&format!(
        r#""Effect":"Allow","Principal":{{"Federated":"{PROVIDER}"}},"Action":"sts:AssumeRoleWithWebIdentity"{extra}"#
    ))
}

const SYNTAX: &str = "Syntax errors in policy.";
const LEGACY: &str = "The policy failed legacy parsing";

#[test]
fn invalid_json_rejected() {
    assert_malformed("not valid json", "This policy contains invalid Json");
    let trailing_comma = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole",}]}"#;
    assert_malformed(trailing_comma, "This policy contains invalid Json");
    assert_malformed("", "This policy contains invalid Json");
}

#[test]
fn resource_field_prohibited() {
    let text = web_identity_statement(r#","Resource":"arn:aws:s3:::example_bucket""#);
    assert_malformed(&text, "Has prohibited field Resource");
}

#[test]
fn not_resource_field_prohibited() {
    let text = web_identity_statement(r#","NotResource":"*""#);
    assert_malformed(&text, "Has prohibited field NotResource");
}

#[test]
fn not_principal_prohibited() {
    let text = with_statement(
        r#""Effect":"Deny","NotPrincipal":{"AWS":"111122223333"},"Action":"sts:AssumeRole""#,
    );
    assert_malformed(&text, "Has prohibited field NotPrincipal");
}

#[test]
fn non_sts_action_rejected() {
    let message = "AssumeRole policy may only specify STS AssumeRole actions.";
    for action in [
        r#""sts:InvalidAction""#,
        r#""s3:GetObject""#,
        r#""sts:GetCallerIdentity""#,
        r#""sts:AssumeRoleWithWebIdendity""#,
        r#"["sts:AssumeRoleWithWebIdentity","s3:*"]"#,
        r#""iam:*""#,
    ] {
        let text = with_statement(&format!(
            r#""Effect":"Allow","Principal":{{"Federated":"{PROVIDER}"}},"Action":{action}"#
        ));
        assert_malformed(&text, message);
    }
}

#[test]
fn sts_action_wildcards_accepted() {
    for action in [
        "*",
        "sts:*",
        "sts:Assume*",
        "STS:ASSUMEROLEWITHWEBIDENTITY",
        "sts:TagSession",
        "sts:SetSourceIdentity",
        "sts:SetContext",
        "sts:AssumeRoleWithSAML",
        "sts:AssumeRole",
        "sts:?agSession",
    ] {
        let text = with_statement(&format!(
            r#""Effect":"Allow","Principal":{{"Federated":"{PROVIDER}"}},"Action":"{action}""#
        ));
        assert!(TrustPolicy::parse(&text).is_ok(), "{action}");
    }
}

#[test]
fn federated_principal_malformed() {
    let message = "Federated principals must be valid domain names or SAML metadata ARNs";
    for federated in [
        "",
        "arn:aws:iam//oidc-provider/x.example.com",
        "https://oidc.example.com",
    ] {
        let text = with_statement(&format!(
            r#""Effect":"Allow","Principal":{{"Federated":"{federated}"}},"Action":"sts:AssumeRoleWithWebIdentity""#
        ));
        assert_malformed(&text, message);
    }
}

#[test]
fn duplicate_sid_rejected() {
    let statement = format!(
        r#"{{"Sid":"Same","Effect":"Allow","Principal":{{"Federated":"{PROVIDER}"}},"Action":"sts:AssumeRoleWithWebIdentity"}}"#
    );
    let text = format!(r#"{{"Version":"2012-10-17","Statement":[{statement},{statement}]}}"#);
    assert_malformed(
        &text,
        "Statement IDs (SID) in a single policy must be unique.",
    );
}

#[test]
fn empty_sids_not_compared() {
    let statement = format!(
        r#"{{"Sid":"","Effect":"Allow","Principal":{{"Federated":"{PROVIDER}"}},"Action":"sts:AssumeRoleWithWebIdentity"}}"#
    );
    let text = format!(r#"{{"Version":"2012-10-17","Statement":[{statement},{statement}]}}"#);
    assert!(TrustPolicy::parse(&text).is_ok());
}

#[test]
fn non_alphanumeric_sid_rejected() {
    let text = web_identity_statement(r#","Sid":"allow-eks""#);
    assert_malformed(
        &text,
        "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*",
    );
}

#[test]
fn effect_wrong_case_rejected() {
    for effect in ["allow", "aLLow", "DENY"] {
        let text = with_statement(&format!(
            r#""Effect":"{effect}","Principal":"*","Action":"sts:AssumeRole""#
        ));
        assert_malformed(&text, LEGACY);
    }
}

#[test]
fn effect_invalid_rejected() {
    let text = with_statement(r#""Effect":"Permit","Principal":"*","Action":"sts:AssumeRole""#);
    assert_malformed(&text, SYNTAX);
    let missing = with_statement(r#""Principal":"*","Action":"sts:AssumeRole""#);
    assert_malformed(&missing, SYNTAX);
}

#[test]
fn version_invalid_rejected() {
    for version in [r#""2013-10-17""#, r#""""#, "2012"] {
        let text = format!(
            r#"{{"Version":{version},"Statement":{{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}}}}"#
        );
        assert_malformed(&text, SYNTAX);
    }
}

#[test]
fn structure_errors_rejected() {
    for text in [
        r#"[]"#,
        r#"{"Version":"2012-10-17"}"#,
        r#"{"Version":"2012-10-17","Statement":[]}"#,
        r#"{"Version":"2012-10-17","Statement":["afd"]}"#,
        r#"{"Version":"2012-10-17","Statement":"x"}"#,
        r#"{"Version":"2012-10-17","Id":["x"],"Statement":{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}}"#,
        r#"{"Version":"2012-10-17","Extra":1,"Statement":{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}}"#,
        r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Extra":1}}"#,
        r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","NotAction":"sts:TagSession"}}"#,
        r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":[]}}"#,
        r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":7}}"#,
        r#"{"Statement":{"Sid":["x"],"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}}"#,
        r#"{"Statement":{"Effect":"Allow","Principal":"arn:aws:iam::111122223333:root","Action":"sts:AssumeRole"}}"#,
        r#"{"Statement":{"Effect":"Allow","Principal":{},"Action":"sts:AssumeRole"}}"#,
        r#"{"Statement":{"Effect":"Allow","Principal":{"Human":"x"},"Action":"sts:AssumeRole"}}"#,
        r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Condition":[]}}"#,
        r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Condition":"x"}}"#,
        r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Condition":{"StringEquals":"x"}}}"#,
        r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Condition":{"StringEquals":{"a:b":{"c":1}}}}}"#,
        r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Condition":{"StringEquals":{"a:b":[]}}}}"#,
        r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Condition":{"StringEquals":{"a:b":null}}}}"#,
    ] {
        assert_malformed(text, SYNTAX);
    }
}

#[test]
fn unknown_operator_rejected() {
    for operator in [
        "StringEqual",
        "stringequals",
        "ForAnyValue::StringLike",
        "NullIfExists",
        "StringMatches",
        "ForEachValue:StringEquals",
    ] {
        let condition = format!(r#"{{"{operator}":{{"P:sub":"x"}}}}"#);
        assert_malformed(&allow_with(&condition), SYNTAX);
    }
    assert_malformed(&allow_with(r#"{"StringEqual":{}}"#), SYNTAX);
}

#[test]
fn condition_value_wrong_type_rejected() {
    for condition in [
        r#"{"NumericLessThan":{"test:n":"ten"}}"#,
        r#"{"NumericEquals":{"test:n":"1e3"}}"#,
        r#"{"DateLessThan":{"aws:CurrentTime":"yesterday"}}"#,
        r#"{"Bool":{"aws:SecureTransport":"yes"}}"#,
        r#"{"Null":{"P:amr":"maybe"}}"#,
        r#"{"IpAddress":{"aws:SourceIp":"999.1.1.1"}}"#,
        r#"{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/40"}}"#,
        r#"{"BinaryEquals":{"test:bin":"not base64!"}}"#,
        r#"{"NumericLessThan":{"test:n":["1","x"]}}"#,
    ] {
        assert_malformed(&allow_with(condition), LEGACY);
    }
}

#[test]
fn missing_principal_rejected() {
    let text = with_statement(r#""Effect":"Allow","Action":"sts:AssumeRole""#);
    assert_malformed(&text, "Missing required field Principal");
}

#[test]
fn missing_action_rejected() {
    let text = with_statement(&format!(
        r#""Effect":"Allow","Principal":{{"Federated":"{PROVIDER}"}}"#
    ));
    assert_malformed(&text, "Policy statement must contain actions.");
}

#[test]
fn action_without_vendor_rejected() {
    let text = with_statement(r#""Effect":"Allow","Principal":"*","Action":"AssumeRole""#);
    let message = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.";
    assert_malformed(&text, message);
    assert_malformed(&allow_with(r#"{"StringEquals":{"sub":"x"}}"#), message);
}

#[test]
fn action_with_two_colons_rejected() {
    let text = with_statement(r#""Effect":"Allow","Principal":"*","Action":"sts:sts:AssumeRole""#);
    assert_malformed(&text, "Actions/Condition can contain only one colon.");
}

#[test]
fn aws_principal_malformed_rejected() {
    let text = with_statement(
        r#""Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123:root"},"Action":"sts:AssumeRole""#,
    );
    assert_malformed(
        &text,
        r#"Invalid principal in policy: "AWS":"arn:aws:iam::123:root""#,
    );
}

#[test]
fn service_principal_malformed_rejected() {
    let text = with_statement(
        r#""Effect":"Allow","Principal":{"Service":"ec2"},"Action":"sts:AssumeRole""#,
    );
    assert_malformed(&text, r#"Invalid principal in policy: "SERVICE":"ec2""#);
}

#[test]
fn canonical_user_malformed_rejected() {
    let text = with_statement(
        r#""Effect":"Allow","Principal":{"CanonicalUser":"abc"},"Action":"sts:AssumeRole""#,
    );
    assert_malformed(
        &text,
        r#"Invalid principal in policy: "CanonicalUser":"abc""#,
    );
}

/// Pads a valid policy with a Sid-free filler condition to `chars`
/// non-whitespace characters.
fn policy_of_size(chars: usize) -> String {
    let base = allow_with(r#"{"StringEquals":{"test:pad":""}}"#);
    let filler = chars - base.len();
    allow_with(&format!(
        r#"{{"StringEquals":{{"test:pad":"{}"}}}}"#,
        "x".repeat(filler)
    ))
}

#[test]
fn size_quota_exceeded_rejected() {
    let text = policy_of_size(limits::TRUST_POLICY_MAX_CHARS + 1);
    let err = rejection(&text);
    assert_eq!(err.aws_code(), "LimitExceeded");
    assert_eq!(err.http_status(), 409);
    assert_eq!(
        err.message(),
        "Cannot exceed quota for ACLSizePerRole: 2048"
    );
}

#[test]
fn size_quota_boundary_accepted() {
    let text = policy_of_size(limits::TRUST_POLICY_MAX_CHARS);
    assert_eq!(text.len(), limits::TRUST_POLICY_MAX_CHARS);
    assert!(TrustPolicy::parse(&text).is_ok());
}

#[test]
fn size_quota_ignores_whitespace() {
    let compact = policy_of_size(limits::TRUST_POLICY_MAX_CHARS);
    let pretty = compact.replace(",\"", ",\n    \"").replace("\":", "\": ");
    assert!(pretty.len() > limits::TRUST_POLICY_MAX_CHARS);
    assert!(TrustPolicy::parse(&pretty).is_ok());
}

#[test]
fn raised_quota_accepts_larger_policy() {
    let text = policy_of_size(limits::TRUST_POLICY_MAX_CHARS + 100);
    let raised = TrustPolicy::parse_with_quota(&text, limits::TRUST_POLICY_MAX_CHARS_RAISED);
    assert!(raised.is_ok());
}

#[test]
fn accepted_forms_parse() {
    for text in [
        r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}}"#,
        r#"{"Version":"2008-10-17","Id":"x","Statement":[{"Sid":"A1","Effect":"Deny","Principal":{"AWS":["*","111122223333","arn:aws:iam::111122223333:role/x"]},"NotAction":"sts:TagSession"}]}"#,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":["accounts.google.com","cognito-identity.amazonaws.com"],"Service":"ec2.amazonaws.com"},"Action":["sts:AssumeRoleWithWebIdentity","sts:TagSession"]}]}"#,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111122223333:saml-provider/Okta"},"Action":"sts:AssumeRoleWithSAML","Condition":{"StringEquals":{"SAML:aud":"https://signin.aws.amazon.com/saml"}}}]}"#,
    ] {
        assert!(TrustPolicy::parse(text).is_ok(), "{text}");
    }
}

#[test]
fn text_returns_document_as_sent() {
    let text = "{ \"Statement\": {\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"sts:AssumeRole\"} }\n";
    assert_eq!(TrustPolicy::parse(text).unwrap().text(), text);
}
