//! Hints for the mistakes people make in trust policies: what went wrong
//! with the values involved, and what to change.
//!
//! Diagnoses never change a decision. A failed condition gets at most one,
//! the most specific that fits; statement-level and policy-level findings
//! are listed separately.

use super::condition::{BaseOperator, Condition, SetQualifier};
use super::context::{
    GITHUB_ACTIONS_CLAIM_KEYS, RequestContext, RequestPrincipal, WEB_IDENTITY_ACTION,
};
use super::evaluate::action_matches;
use super::wildcard::{self, Pattern};
use super::{Diagnosis, DiagnosisKind, Effect, Principal, Statement, TrustPolicy};

/// Prefix of every EKS cluster issuer host.
const EKS_ISSUER_PREFIX: &str = "oidc.eks.";

/// Prefix of a Kubernetes service-account subject.
const SERVICE_ACCOUNT_SUBJECT_PREFIX: &str = "system:serviceaccount:";

/// Prefix of a GitHub Actions subject.
const GITHUB_SUBJECT_PREFIX: &str = "repo:";

/// Claims that IAM exposes as `<provider>:<claim>` for every OIDC provider.
const PROVIDER_CLAIMS: &[&str] = &["sub", "aud", "amr", "azp", "oaud"];

fn diagnosis(kind: DiagnosisKind, message: String, fix: String) -> Diagnosis {
    Diagnosis { kind, message, fix }
}

/// Explains why a condition did not hold, when the mistake is recognised.
pub(crate) fn condition_diagnosis(
    condition: &Condition,
    request_values: Option<&[String]>,
    request: &RequestContext,
) -> Option<Diagnosis> {
    let key = condition.key.as_str();
    let (key_prefix, claim) = key.rsplit_once(':').unwrap_or(("", key));
    let claim = claim.to_ascii_lowercase();
    let expected_key = |claim: &str| match request.provider_prefix() {
        Some(prefix) => format!("{prefix}:{claim}"),
        None => format!("<provider URL without https://>:{claim}"),
    };

    if let Some(found) = key_form_diagnosis(key, key_prefix, &claim, request) {
        return Some(found);
    }
    if condition.operator.base.is_string_equality()
        && let Some(value) = condition.values.iter().find(|v| wildcard::has_wildcard(v))
    {
        return Some(wildcard_diagnosis(condition, value));
    }
    if claim == "aud"
        && let Some(value) = condition.values.iter().find(|v| looks_like_subject(v))
    {
        return Some(diagnosis(
            DiagnosisKind::SubjectUnderAudience,
            format!(
                "{value:?} is a subject, but the condition puts it under the audience key {key}"
            ),
            format!(
                "Move {value:?} to {} and set {key} to the client ID registered on the \
                 OIDC provider, such as \"sts.amazonaws.com\"",
                expected_key("sub")
            ),
        ));
    }

    let Some(values) = request_values else {
        return Some(missing_key_diagnosis(condition, request));
    };
    // A negated operator fails because the request value is one the policy
    // excludes, which is the policy working as written.
    if condition.operator.base.is_negated() {
        return None;
    }
    if let Some(found) = case_diagnosis(condition, values) {
        return Some(found);
    }
    match claim.as_str() {
        "aud" => Some(diagnosis(
            DiagnosisKind::AudienceMismatch,
            format!(
                "the token's audience is {values:?}, but {key} must be one of {:?}",
                condition.values
            ),
            "Set the condition to the audience the token carries (the client ID registered on \
             the OIDC provider), or request the token for the audience the policy names"
                .to_string(),
        )),
        "sub" => Some(subject_diagnosis(condition, values)),
        _ => None,
    }
}

/// Recognises a key written with a scheme, with the provider ARN, or for a
/// provider other than the caller's.
fn key_form_diagnosis(
    key: &str,
    key_prefix: &str,
    claim: &str,
    request: &RequestContext,
) -> Option<Diagnosis> {
    let expected = request
        .provider_prefix()
        .map(|prefix| format!("{prefix}:{claim}"));
    let lower = key.to_ascii_lowercase();

    if lower.starts_with("https://") || lower.starts_with("http://") {
        let fix =
            expected.unwrap_or_else(|| key.split_once("://").map_or(key, |(_, k)| k).to_string());
        return Some(diagnosis(
            DiagnosisKind::KeyWithScheme,
            format!(
                "condition key {key} starts with a URL scheme; IAM keys never include https://"
            ),
            format!("Write the key as {fix}"),
        ));
    }
    if lower.starts_with("arn:") && lower.contains(":oidc-provider/") {
        let fix = expected.unwrap_or_else(|| {
            key.split_once(":oidc-provider/")
                .map_or(key, |(_, k)| k)
                .to_string()
        });
        return Some(diagnosis(
            DiagnosisKind::KeyWithProviderArn,
            format!(
                "condition key {key} is written with the provider ARN; IAM keys use the \
                 provider URL without https://"
            ),
            format!("Write the key as {fix}"),
        ));
    }

    let provider = request.provider_prefix()?;
    let oidc_claim = PROVIDER_CLAIMS.contains(&claim) || GITHUB_ACTIONS_CLAIM_KEYS.contains(&claim);
    let looks_like_provider = key_prefix.contains('.') || key_prefix.contains('/');
    if oidc_claim && looks_like_provider && !key_prefix.eq_ignore_ascii_case(provider) {
        return Some(diagnosis(
            DiagnosisKind::KeyForOtherProvider,
            format!(
                "condition key {key} is for the provider {key_prefix}, but the token comes \
                 from {provider}, so the request has no such key"
            ),
            format!(
                "Write the key as {provider}:{claim} (check the cluster ID and region in the \
                 issuer URL)"
            ),
        ));
    }
    None
}

fn looks_like_subject(value: &str) -> bool {
    value.starts_with(SERVICE_ACCOUNT_SUBJECT_PREFIX) || value.starts_with(GITHUB_SUBJECT_PREFIX)
}

fn wildcard_diagnosis(condition: &Condition, value: &str) -> Diagnosis {
    let like = match condition.operator.base {
        BaseOperator::StringNotEquals | BaseOperator::StringNotEqualsIgnoreCase => "StringNotLike",
        _ => "StringLike",
    };
    let qualifier = match condition.operator.qualifier {
        Some(SetQualifier::ForAnyValue) => "ForAnyValue:",
        Some(SetQualifier::ForAllValues) => "ForAllValues:",
        None => "",
    };
    let suffix = if condition.operator.if_exists {
        "IfExists"
    } else {
        ""
    };
    diagnosis(
        DiagnosisKind::WildcardUnderStringEquals,
        format!(
            "{value:?} contains a wildcard, but {} compares it as a literal character",
            condition.operator_text
        ),
        format!("Use {qualifier}{like}{suffix} for {}", condition.key),
    )
}

fn missing_key_diagnosis(condition: &Condition, request: &RequestContext) -> Diagnosis {
    let keys: Vec<&str> = request.keys().map(|(key, _)| key).collect();
    diagnosis(
        DiagnosisKind::MissingKey,
        format!(
            "the request has no key {}, and {} does not hold for a missing key",
            condition.key, condition.operator_text
        ),
        format!(
            "Check the key's spelling; this request has only these keys: {}",
            keys.join(", ")
        ),
    )
}

/// Finds a request value that would have matched had letter case been
/// ignored.
fn case_diagnosis(condition: &Condition, values: &[String]) -> Option<Diagnosis> {
    use BaseOperator::*;
    let base = condition.operator.base;
    if !matches!(base, StringEquals | StringLike | ArnEquals | ArnLike) {
        return None;
    }
    let wildcards = base.uses_wildcards();
    for policy in &condition.values {
        for actual in values {
            let folded = if wildcards {
                Pattern::parse(policy).matches_ignore_case(actual)
            } else {
                policy.to_lowercase() == actual.to_lowercase()
            };
            if folded {
                return Some(diagnosis(
                    DiagnosisKind::ValueCaseMismatch,
                    format!(
                        "{policy:?} differs from the request's {actual:?} only by letter case; \
                         {} is case-sensitive",
                        condition.operator_text
                    ),
                    format!("Write the value as {actual:?}, or use StringEqualsIgnoreCase"),
                ));
            }
        }
    }
    None
}

fn subject_diagnosis(condition: &Condition, values: &[String]) -> Diagnosis {
    let actual = values.first().cloned().unwrap_or_default();
    let message = format!(
        "the token's subject is {actual:?}, but {} {} allows only {:?}",
        condition.operator_text, condition.key, condition.values
    );
    let prefix = condition
        .values
        .iter()
        .find(|value| actual.starts_with(value.as_str()) && !wildcard::has_wildcard(value));
    let fix = match prefix {
        Some(value) if condition.operator.base.is_string_equality() => format!(
            "The subject carries more than {value:?}; list {actual:?} exactly, or use \
             StringLike with \"{value}:*\""
        ),
        _ => format!(
            "Add {actual:?} to the allowed values, or issue the token for a subject the policy \
             allows (for EKS, the namespace and service account in the value)"
        ),
    };
    diagnosis(DiagnosisKind::SubjectMismatch, message, fix)
}

/// Statement-level findings: a principal or action that does not fit the
/// request.
pub(crate) fn statement_diagnoses(
    statement: &Statement,
    request: &RequestContext,
    principal_matched: bool,
    action_matched: bool,
) -> Vec<Diagnosis> {
    let mut found = Vec::new();
    if let (false, RequestPrincipal::Federated(provider), Principal::Named { federated, .. }) =
        (principal_matched, request.principal(), &statement.principal)
    {
        let message = if federated.is_empty() {
            format!("the statement names no Federated principal, but the caller is {provider}")
        } else {
            format!(
                "the statement trusts {federated:?}, but the token's issuer is the provider \
                 {provider}"
            )
        };
        found.push(diagnosis(
            DiagnosisKind::FederatedMismatch,
            message,
            format!(
                "Set \"Principal\": {{\"Federated\": \"{provider}\"}} (same account ID, issuer \
                 host and path as the provider)"
            ),
        ));
    }
    if !action_matched {
        found.push(diagnosis(
            DiagnosisKind::ActionNotCovered,
            format!(
                "the statement does not cover the requested action {}",
                request.action()
            ),
            format!("Add {} to the statement's Action", request.action()),
        ));
    }
    found
}

/// Policy-level warnings that hold whatever the decision.
pub(crate) fn policy_warnings(policy: &TrustPolicy, request: &RequestContext) -> Vec<Diagnosis> {
    let mut warnings = Vec::new();
    for (index, statement) in policy.statements().iter().enumerate() {
        if statement.effect != Effect::Allow {
            continue;
        }
        for condition in &statement.conditions {
            if condition.operator.qualifier == Some(SetQualifier::ForAllValues) {
                warnings.push(diagnosis(
                    DiagnosisKind::ForAllValuesInAllow,
                    format!(
                        "statement {index} allows with {} on {}, which is also true when the \
                         request has no such key",
                        condition.operator_text, condition.key
                    ),
                    format!(
                        "Use ForAnyValue:, or add a Null condition requiring {} to be present",
                        condition.key
                    ),
                ));
            }
        }
        if let Some(warning) = subject_warning(index, statement, request) {
            warnings.push(warning);
        }
    }
    warnings
}

/// Warns about an Allow statement for an OIDC provider with no condition on
/// the provider's `:sub` key.
fn subject_warning(
    index: usize,
    statement: &Statement,
    request: &RequestContext,
) -> Option<Diagnosis> {
    let Principal::Named { federated, .. } = &statement.principal else {
        return None;
    };
    let host = federated
        .iter()
        .find_map(|arn| arn.split_once(":oidc-provider/").map(|(_, host)| host))?;
    if !action_matches(&statement.action, WEB_IDENTITY_ACTION) {
        return None;
    }
    let has_subject = statement
        .conditions
        .iter()
        .any(|c| c.key.to_ascii_lowercase().ends_with(":sub"));
    if has_subject {
        return None;
    }

    let audience = if host.starts_with(EKS_ISSUER_PREFIX) {
        "every service account in every namespace of the cluster"
    } else {
        "every identity this provider issues tokens for"
    };
    let prefix = request.provider_prefix().unwrap_or(host);
    Some(diagnosis(
        DiagnosisKind::NoSubjectCondition,
        format!(
            "statement {index} has no condition on {host}:sub, so {audience} can assume the role"
        ),
        format!(
            "Add \"StringEquals\": {{\"{prefix}:sub\": \"<expected subject>\"}} to the statement"
        ),
    ))
}
