//! Validation of a trust policy document into typed statements, with the
//! rejection IAM's `CreateRole` and `UpdateAssumeRolePolicy` give for each
//! fault.
//!
//! Checks run in document order, statement by statement, and the first fault
//! wins. IAM's own check order is only partly known (an identity policy
//! reports a missing `Version` before a wrongly cased `Effect`), so a
//! document with several faults may get a different message from IAM.

use std::collections::HashSet;

use super::document::Json;

use super::condition::Condition;
use super::document::{self, RawStatement};
use super::error::PolicyError;
use super::wildcard;
use super::{ActionMatch, Effect, Principal, Statement, Version};

/// The actions a trust policy may name; any other action, or a wildcard that
/// matches none of these, is rejected.
pub const TRUST_POLICY_ACTIONS: &[&str] = &[
    "sts:AssumeRole",
    "sts:AssumeRoleWithWebIdentity",
    "sts:AssumeRoleWithSAML",
    "sts:TagSession",
    "sts:SetSourceIdentity",
    "sts:SetContext",
];

/// ARN partitions IAM has, for `Federated` and `AWS` principal ARNs.
pub const PARTITIONS: &[&str] = &[
    "aws",
    "aws-cn",
    "aws-us-gov",
    "aws-iso",
    "aws-iso-b",
    "aws-iso-e",
    "aws-iso-f",
    "aws-eusc",
];

/// Maximum length of a domain name, in characters (RFC 1035).
const MAX_DOMAIN_CHARS: usize = 253;

/// Maximum length of one domain label, in characters (RFC 1035).
const MAX_LABEL_CHARS: usize = 63;

/// Maximum length of a SAML provider name, in characters (IAM API model).
const MAX_SAML_PROVIDER_NAME_CHARS: usize = 128;

/// Length of a canonical user ID, in hexadecimal digits.
const CANONICAL_USER_ID_CHARS: usize = 64;

/// Length of an AWS account ID, in decimal digits.
const ACCOUNT_ID_DIGITS: usize = 12;

/// The validated content of a document.
pub(crate) struct Validated {
    pub version: Version,
    pub id: Option<String>,
    pub statements: Vec<Statement>,
}

/// Parses and validates a trust policy document.
// NOTE: IAM also rejects trust policies for shared OIDC providers (GitHub,
// Google and others) that do not check the provider's required claims. The
// claims per provider and the message were not found in public sources, so
// that check is absent.
pub(crate) fn validate(text: &str) -> Result<Validated, PolicyError> {
    let raw = document::parse_raw(text)?;
    let version = parse_version(raw.version.as_ref())?;
    let id = match raw.id {
        None => None,
        Some(Json::String(id)) => Some(id),
        Some(_) => return Err(PolicyError::syntax("Id is not a string")),
    };

    let raw_statements = match raw.statement {
        None => return Err(PolicyError::syntax("the policy has no Statement element")),
        Some(Json::Array(items)) if items.is_empty() => {
            return Err(PolicyError::syntax("Statement is an empty list"));
        }
        Some(Json::Array(items)) => items,
        Some(object @ Json::Object(_)) => vec![object],
        Some(_) => return Err(PolicyError::syntax("Statement is not an object or a list")),
    };

    let mut statements = Vec::with_capacity(raw_statements.len());
    for (index, value) in raw_statements.into_iter().enumerate() {
        let raw = document::parse_statement(value)?;
        statements.push(validate_statement(index, raw, version)?);
    }
    check_unique_sids(&statements)?;
    Ok(Validated {
        version,
        id,
        statements,
    })
}

/// Rejects a document over the size quota. IAM does not count whitespace;
/// this counts every character except JSON whitespace outside strings.
// NOTE: whether IAM also ignores whitespace inside string values is not
// documented; counting it there is the stricter reading.
pub(crate) fn check_quota(text: &str, quota: usize) -> Result<(), PolicyError> {
    let size = count_without_whitespace(text);
    if size > quota {
        return Err(PolicyError::QuotaExceeded { size, quota });
    }
    Ok(())
}

fn count_without_whitespace(text: &str) -> usize {
    let mut count = 0;
    let mut in_string = false;
    let mut escaped = false;
    for c in text.chars() {
        if in_string {
            count += 1;
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
        } else if !matches!(c, ' ' | '\t' | '\n' | '\r') {
            count += 1;
            in_string = c == '"';
        }
    }
    count
}

/// Parses `Version`. A missing `Version` is accepted for trust policies and
/// means the legacy language, so `${...}` stays literal.
fn parse_version(value: Option<&Json>) -> Result<Version, PolicyError> {
    match value {
        None => Ok(Version::V2008_10_17),
        Some(Json::String(text)) if text == "2012-10-17" => Ok(Version::V2012_10_17),
        Some(Json::String(text)) if text == "2008-10-17" => Ok(Version::V2008_10_17),
        Some(other) => Err(PolicyError::syntax(format!(
            "unsupported Version {other:?}"
        ))),
    }
}

fn validate_statement(
    index: usize,
    raw: RawStatement,
    version: Version,
) -> Result<Statement, PolicyError> {
    let effect = parse_effect(raw.effect.as_ref())?;
    let sid = parse_sid(raw.sid.as_ref())?;

    if raw.resource.is_some() {
        return Err(PolicyError::ProhibitedField { field: "Resource" });
    }
    if raw.not_resource.is_some() {
        return Err(PolicyError::ProhibitedField {
            field: "NotResource",
        });
    }
    if raw.not_principal.is_some() {
        return Err(PolicyError::ProhibitedField {
            field: "NotPrincipal",
        });
    }

    let principal = match raw.principal.as_ref() {
        Some(value) => parse_principal(value)?,
        None => return Err(PolicyError::MissingPrincipal { index }),
    };
    let action = match (raw.action.as_ref(), raw.not_action.as_ref()) {
        (Some(_), Some(_)) => {
            return Err(PolicyError::syntax(
                "a statement has both Action and NotAction",
            ));
        }
        (Some(value), None) => ActionMatch::Action(parse_actions("Action", value)?),
        (None, Some(value)) => ActionMatch::NotAction(parse_actions("NotAction", value)?),
        (None, None) => return Err(PolicyError::MissingAction { index }),
    };
    let conditions = match raw.condition.as_ref() {
        Some(value) => parse_conditions(value, version)?,
        None => Vec::new(),
    };

    Ok(Statement {
        sid,
        effect,
        principal,
        action,
        conditions,
    })
}

fn parse_effect(value: Option<&Json>) -> Result<Effect, PolicyError> {
    let text = match value {
        Some(Json::String(text)) => text,
        Some(_) => return Err(PolicyError::syntax("Effect is not a string")),
        None => return Err(PolicyError::syntax("a statement has no Effect")),
    };
    match text.as_str() {
        "Allow" => Ok(Effect::Allow),
        "Deny" => Ok(Effect::Deny),
        other if other.eq_ignore_ascii_case("allow") || other.eq_ignore_ascii_case("deny") => {
            Err(PolicyError::EffectCase {
                effect: other.to_string(),
            })
        }
        other => Err(PolicyError::syntax(format!(
            "Effect {other:?} is not Allow or Deny"
        ))),
    }
}

fn parse_sid(value: Option<&Json>) -> Result<Option<String>, PolicyError> {
    match value {
        None => Ok(None),
        Some(Json::String(sid)) if sid.chars().all(|c| c.is_ascii_alphanumeric()) => {
            Ok(Some(sid.clone()))
        }
        Some(Json::String(sid)) => Err(PolicyError::InvalidSid { sid: sid.clone() }),
        Some(_) => Err(PolicyError::syntax("Sid is not a string")),
    }
}

/// Rejects repeated Sids. An empty Sid, which the IAM console writes into
/// generated trust policies, is not compared.
fn check_unique_sids(statements: &[Statement]) -> Result<(), PolicyError> {
    let mut seen = HashSet::new();
    for sid in statements.iter().filter_map(|s| s.sid.as_deref()) {
        if !sid.is_empty() && !seen.insert(sid) {
            return Err(PolicyError::DuplicateSid {
                sid: sid.to_string(),
            });
        }
    }
    Ok(())
}

fn parse_actions(element: &str, value: &Json) -> Result<Vec<String>, PolicyError> {
    let actions = document::strings(element, value)?;
    for action in &actions {
        check_action(action)?;
    }
    Ok(actions)
}

/// Checks one action pattern: it needs a vendor prefix, one colon at most,
/// and must match at least one action a trust policy may name.
fn check_action(action: &str) -> Result<(), PolicyError> {
    if action != "*" {
        let colons = action.matches(':').count();
        if colons == 0 || action.starts_with(':') {
            return Err(PolicyError::MissingVendor {
                value: action.to_string(),
            });
        }
        if colons > 1 {
            return Err(PolicyError::ActionColons {
                action: action.to_string(),
            });
        }
    }
    let grants_assume_role = TRUST_POLICY_ACTIONS
        .iter()
        .any(|known| wildcard::matches_ignore_case(action, known));
    if !grants_assume_role {
        return Err(PolicyError::NotAssumeRoleAction {
            action: action.to_string(),
        });
    }
    Ok(())
}

fn parse_principal(value: &Json) -> Result<Principal, PolicyError> {
    let object = match value {
        Json::String(text) if text == "*" => return Ok(Principal::Any),
        Json::Object(object) if !object.is_empty() => object,
        _ => {
            return Err(PolicyError::syntax(
                "Principal is not \"*\" or a non-empty object",
            ));
        }
    };

    let (mut aws, mut federated, mut service, mut canonical_user) =
        (vec![], vec![], vec![], vec![]);
    for (kind, values) in object {
        let values = document::strings(kind, values)?;
        match kind.as_str() {
            "AWS" => {
                for value in &values {
                    check_aws_principal(value)?;
                }
                aws = values;
            }
            "Federated" => {
                for value in &values {
                    check_federated_principal(value)?;
                }
                federated = values;
            }
            "Service" => {
                for value in &values {
                    if !is_domain_name(value) {
                        let value = value.clone();
                        return Err(PolicyError::InvalidPrincipal {
                            kind: "SERVICE",
                            value,
                        });
                    }
                }
                service = values;
            }
            "CanonicalUser" => {
                for value in &values {
                    let well_formed = value.len() == CANONICAL_USER_ID_CHARS
                        && value.bytes().all(|b| b.is_ascii_hexdigit());
                    if !well_formed {
                        let value = value.clone();
                        return Err(PolicyError::InvalidPrincipal {
                            kind: "CanonicalUser",
                            value,
                        });
                    }
                }
                canonical_user = values;
            }
            other => {
                return Err(PolicyError::syntax(format!(
                    "unknown principal type {other:?}"
                )));
            }
        }
    }
    Ok(Principal::Named {
        aws,
        federated,
        service,
        canonical_user,
    })
}

/// Accepts `*`, a 12-digit account ID, or an IAM or STS ARN in a known
/// partition. IAM also resolves the ARN to an existing entity; that part is
/// not emulated, so an ARN of a missing role is accepted here.
fn check_aws_principal(value: &str) -> Result<(), PolicyError> {
    if value == "*" || is_account_id(value) {
        return Ok(());
    }
    let parts: Vec<&str> = value.splitn(6, ':').collect();
    let well_formed = parts.len() == 6
        && parts[0] == "arn"
        && PARTITIONS.contains(&parts[1])
        && matches!(parts[2], "iam" | "sts")
        && parts[3].is_empty()
        && is_account_id(parts[4])
        && !parts[5].is_empty();
    if well_formed {
        return Ok(());
    }
    Err(PolicyError::InvalidPrincipal {
        kind: "AWS",
        value: value.to_string(),
    })
}

/// Accepts a domain name (built-in providers such as `accounts.google.com`)
/// or an `oidc-provider/` or `saml-provider/` ARN.
fn check_federated_principal(value: &str) -> Result<(), PolicyError> {
    if is_domain_name(value) || is_provider_arn(value) {
        return Ok(());
    }
    Err(PolicyError::InvalidFederatedPrincipal {
        value: value.to_string(),
    })
}

fn is_provider_arn(value: &str) -> bool {
    let parts: Vec<&str> = value.splitn(6, ':').collect();
    let header_ok = parts.len() == 6
        && parts[0] == "arn"
        && PARTITIONS.contains(&parts[1])
        && parts[2] == "iam"
        && parts[3].is_empty()
        && is_account_id(parts[4]);
    if !header_ok {
        return false;
    }
    if let Some(url) = parts[5].strip_prefix("oidc-provider/") {
        return is_provider_url(url);
    }
    if let Some(name) = parts[5].strip_prefix("saml-provider/") {
        return !name.is_empty()
            && name.len() <= MAX_SAML_PROVIDER_NAME_CHARS
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    }
    false
}

/// Checks the `host[:port][/path]` part of an OIDC provider ARN.
fn is_provider_url(url: &str) -> bool {
    let (authority, path) = url.split_once('/').unwrap_or((url, ""));
    let host = match authority.rsplit_once(':') {
        Some((host, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => host,
        Some(_) => return false,
        None => authority,
    };
    let host_ok = !host.is_empty() && host.split('.').all(is_label);
    let path_ok = path
        .chars()
        .all(|c| !c.is_whitespace() && !c.is_control() && c != '"');
    host_ok && path_ok
}

fn is_domain_name(value: &str) -> bool {
    value.len() <= MAX_DOMAIN_CHARS
        && value.split('.').count() >= 2
        && value.split('.').all(is_label)
}

fn is_label(label: &str) -> bool {
    !label.is_empty()
        && label.len() <= MAX_LABEL_CHARS
        && !label.starts_with('-')
        && !label.ends_with('-')
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

fn is_account_id(value: &str) -> bool {
    value.len() == ACCOUNT_ID_DIGITS && value.bytes().all(|b| b.is_ascii_digit())
}

fn parse_conditions(value: &Json, version: Version) -> Result<Vec<Condition>, PolicyError> {
    let Json::Object(operators) = value else {
        return Err(PolicyError::syntax("Condition is not an object"));
    };
    let mut conditions = Vec::new();
    for (operator, keys) in operators {
        let Json::Object(keys) = keys else {
            return Err(PolicyError::syntax(format!(
                "the keys under {operator:?} are not an object"
            )));
        };
        for (key, values) in keys {
            let values = document::condition_values(values)?;
            conditions.push(Condition::parse(operator, key, values, version)?);
        }
        // An operator with no keys is still checked, so a misspelt operator
        // is caught even when its block is empty.
        if keys.is_empty() {
            Condition::check_operator(operator)?;
        }
    }
    Ok(conditions)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quota_count_skips_whitespace_outside_strings() {
        assert_eq!(count_without_whitespace("{ \"a b\" : 1 }"), 9);
        assert_eq!(count_without_whitespace("\"a\\\" b\""), 7);
    }

    #[test]
    fn federated_forms_accepted() {
        for ok in [
            "accounts.google.com",
            "cognito-identity.amazonaws.com",
            "arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC",
            "arn:aws-cn:iam::111122223333:oidc-provider/token.actions.githubusercontent.com",
            "arn:aws:iam::111122223333:oidc-provider/issuer.example.com:8443/tenant",
            "arn:aws:iam::111122223333:saml-provider/Okta_Prod",
        ] {
            assert!(check_federated_principal(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn federated_forms_rejected() {
        for bad in [
            "",
            "*",
            "localhost",
            "arn:aws:iam//oidc-provider/x.example.com",
            "arn:aws:iam::123:oidc-provider/x.example.com",
            "arn:aws:iam::111122223333:oidc-provider/",
            "arn:aws:iam::111122223333:role/x",
            "arn:aws:iam:us-east-1:111122223333:oidc-provider/x.example.com",
            "arn:aws:sts::111122223333:oidc-provider/x.example.com",
            "arn:foo:iam::111122223333:oidc-provider/x.example.com",
            "https://oidc.eks.us-east-1.amazonaws.com/id/ABC",
        ] {
            assert!(check_federated_principal(bad).is_err(), "{bad}");
        }
    }
}
