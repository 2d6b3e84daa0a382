//! Condition operators: their names, the type each expects for its values,
//! and IAM's rules for missing keys, set qualifiers and `IfExists`.
//!
//! Values are parsed into their operator's type when the policy is loaded,
//! so a policy that IAM would reject never reaches evaluation. Request values
//! are parsed at evaluation time; one that does not parse never matches.

use std::net::IpAddr;

use base64::Engine as _;
use serde::Serialize;

use super::Version;
use super::context::RequestContext;
use super::error::PolicyError;
use super::values::{
    IpNetwork, Part, TypedValue, parse_bool, parse_date, parse_number, parse_parts, resolve,
};

/// Number of colon-separated parts in an ARN.
const ARN_SEGMENTS: usize = 6;

/// A condition operator without its qualifier or `IfExists` suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[allow(
    missing_docs,
    reason = "each variant is the IAM operator of the same name"
)]
pub enum BaseOperator {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Null,
}

/// Every base operator, for name lookup.
const ALL_OPERATORS: &[BaseOperator] = {
    use BaseOperator::*;
    &[
        StringEquals,
        StringNotEquals,
        StringEqualsIgnoreCase,
        StringNotEqualsIgnoreCase,
        StringLike,
        StringNotLike,
        NumericEquals,
        NumericNotEquals,
        NumericLessThan,
        NumericLessThanEquals,
        NumericGreaterThan,
        NumericGreaterThanEquals,
        DateEquals,
        DateNotEquals,
        DateLessThan,
        DateLessThanEquals,
        DateGreaterThan,
        DateGreaterThanEquals,
        Bool,
        BinaryEquals,
        IpAddress,
        NotIpAddress,
        ArnEquals,
        ArnLike,
        ArnNotEquals,
        ArnNotLike,
        Null,
    ]
};

/// The value type an operator family compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    String,
    Numeric,
    Date,
    Bool,
    Binary,
    Ip,
    Arn,
    Null,
}

impl BaseOperator {
    /// Returns the operator name as IAM spells it.
    pub fn name(self) -> String {
        format!("{self:?}")
    }

    fn family(self) -> Family {
        use BaseOperator::*;
        match self {
            StringEquals
            | StringNotEquals
            | StringEqualsIgnoreCase
            | StringNotEqualsIgnoreCase
            | StringLike
            | StringNotLike => Family::String,
            NumericEquals
            | NumericNotEquals
            | NumericLessThan
            | NumericLessThanEquals
            | NumericGreaterThan
            | NumericGreaterThanEquals => Family::Numeric,
            DateEquals
            | DateNotEquals
            | DateLessThan
            | DateLessThanEquals
            | DateGreaterThan
            | DateGreaterThanEquals => Family::Date,
            Bool => Family::Bool,
            BinaryEquals => Family::Binary,
            IpAddress | NotIpAddress => Family::Ip,
            ArnEquals | ArnLike | ArnNotEquals | ArnNotLike => Family::Arn,
            Null => Family::Null,
        }
    }

    /// Reports whether the operator is a negation (the "Not" operators). A
    /// negation is true when the key is missing and AND-s its values.
    pub fn is_negated(self) -> bool {
        use BaseOperator::*;
        matches!(
            self,
            StringNotEquals
                | StringNotEqualsIgnoreCase
                | StringNotLike
                | NumericNotEquals
                | DateNotEquals
                | NotIpAddress
                | ArnNotEquals
                | ArnNotLike
        )
    }

    /// Reports whether the operator treats `*` and `?` in policy values as
    /// wildcards.
    pub fn uses_wildcards(self) -> bool {
        use BaseOperator::*;
        matches!(
            self,
            StringLike | StringNotLike | ArnEquals | ArnLike | ArnNotEquals | ArnNotLike
        )
    }

    /// Reports whether the operator compares strings for equality, where a
    /// wildcard character is a literal.
    pub fn is_string_equality(self) -> bool {
        use BaseOperator::*;
        matches!(
            self,
            StringEquals | StringNotEquals | StringEqualsIgnoreCase | StringNotEqualsIgnoreCase
        )
    }
}

/// A set qualifier for multivalued keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum SetQualifier {
    /// `ForAnyValue:`: at least one request value must match; false when the
    /// key is missing or empty.
    ForAnyValue,
    /// `ForAllValues:`: every request value must match; true when the key is
    /// missing or empty.
    ForAllValues,
}

/// A full condition operator such as `ForAnyValue:StringLikeIfExists`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Operator {
    /// The comparison.
    pub base: BaseOperator,
    /// The `ForAnyValue:`/`ForAllValues:` prefix, if any.
    pub qualifier: Option<SetQualifier>,
    /// Whether the `IfExists` suffix is present.
    pub if_exists: bool,
}

impl Operator {
    /// Parses an operator name. Names are case-sensitive.
    // NOTE: whether IAM accepts operator names in another case is not
    // documented; rejecting them fails closed.
    pub fn parse(text: &str) -> Option<Operator> {
        let (qualifier, rest) = if let Some(rest) = text.strip_prefix("ForAnyValue:") {
            (Some(SetQualifier::ForAnyValue), rest)
        } else if let Some(rest) = text.strip_prefix("ForAllValues:") {
            (Some(SetQualifier::ForAllValues), rest)
        } else {
            (None, text)
        };

        if let Some(base) = lookup(rest) {
            return Some(Operator {
                base,
                qualifier,
                if_exists: false,
            });
        }
        let base = lookup(rest.strip_suffix("IfExists")?)?;
        // `Null` tests existence itself, so it has no IfExists form.
        if base == BaseOperator::Null {
            return None;
        }
        Some(Operator {
            base,
            qualifier,
            if_exists: true,
        })
    }
}

fn lookup(name: &str) -> Option<BaseOperator> {
    ALL_OPERATORS.iter().copied().find(|op| op.name() == name)
}

/// One condition: an operator applied to one key with one or more values.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Condition {
    /// The operator as written.
    pub operator_text: String,
    /// The parsed operator.
    pub operator: Operator,
    /// The key as written; compared case-insensitively.
    pub key: String,
    /// The values as written.
    pub values: Vec<String>,
    #[serde(skip)]
    typed: Vec<TypedValue>,
}

impl Condition {
    /// Parses and type-checks one operator/key/values triple.
    pub(crate) fn parse(
        operator_text: &str,
        key: &str,
        values: Vec<String>,
        version: Version,
    ) -> Result<Condition, PolicyError> {
        let operator = Self::check_operator(operator_text)?;
        if !key.contains(':') || key.starts_with(':') {
            return Err(PolicyError::MissingVendor {
                value: key.to_string(),
            });
        }
        let typed = values
            .iter()
            .map(|value| parse_value(operator, value, version))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| PolicyError::InvalidConditionValue {
                operator: operator_text.to_string(),
                key: key.to_string(),
                value: first_bad_value(operator, &values, version),
                expected: expected_type(operator.base),
            })?;
        Ok(Condition {
            operator_text: operator_text.to_string(),
            operator,
            key: key.to_string(),
            values,
            typed,
        })
    }

    /// Parses an operator name, rejecting unknown ones as IAM does.
    pub(crate) fn check_operator(operator_text: &str) -> Result<Operator, PolicyError> {
        Operator::parse(operator_text).ok_or_else(|| {
            PolicyError::syntax(format!("unknown condition operator {operator_text:?}"))
        })
    }

    /// Evaluates the condition. Returns whether it is satisfied and the
    /// request's values for the key (`None` when missing).
    pub(crate) fn evaluate(&self, context: &RequestContext) -> (bool, Option<Vec<String>>) {
        let request = context.get(&self.key).map(|value| value.values());
        let present = request.as_ref().is_some_and(|values| !values.is_empty());
        let op = self.operator;

        if op.base == BaseOperator::Null {
            // `true` requires the key to be absent, `false` requires it to be
            // present. Listing both, like any value list, is an OR.
            let satisfied = self.typed.contains(&TypedValue::Bool(!present));
            return (satisfied, request);
        }
        if !present {
            let satisfied = op.if_exists
                || match op.qualifier {
                    Some(SetQualifier::ForAllValues) => true,
                    Some(SetQualifier::ForAnyValue) => false,
                    None => op.base.is_negated(),
                };
            return (satisfied, request);
        }

        let values = request.as_deref().unwrap_or_default();
        let positive = |value: &str| {
            self.typed
                .iter()
                .any(|p| self.matches_one(p, value, context))
        };
        let per_value = |value: &String| positive(value) != op.base.is_negated();
        let satisfied = match op.qualifier {
            Some(SetQualifier::ForAnyValue) => values.iter().any(per_value),
            Some(SetQualifier::ForAllValues) => values.iter().all(per_value),
            // Without a qualifier a positive operator needs one matching
            // value, and a negated one needs no value to match.
            None if op.base.is_negated() => values.iter().all(per_value),
            None => values.iter().any(per_value),
        };
        (satisfied, request)
    }

    /// Compares one policy value with one request value using the positive
    /// form of the operator (`StringNotLike` compares as `StringLike`).
    fn matches_one(&self, policy: &TypedValue, value: &str, context: &RequestContext) -> bool {
        use BaseOperator::*;
        let base = self.operator.base;
        match policy {
            TypedValue::Text(parts) => {
                let Some(pattern) = resolve(parts, context, base.uses_wildcards()) else {
                    return false;
                };
                match base {
                    StringEqualsIgnoreCase | StringNotEqualsIgnoreCase => {
                        pattern.matches_ignore_case(value)
                    }
                    ArnEquals | ArnLike | ArnNotEquals | ArnNotLike => {
                        arn_matches(parts, context, value)
                    }
                    _ => pattern.matches(value),
                }
            }
            TypedValue::Number(expected) => {
                let Some(actual) = parse_number(value) else {
                    return false;
                };
                match base {
                    NumericEquals | NumericNotEquals => actual == *expected,
                    NumericLessThan => actual < *expected,
                    NumericLessThanEquals => actual <= *expected,
                    NumericGreaterThan => actual > *expected,
                    NumericGreaterThanEquals => actual >= *expected,
                    _ => false,
                }
            }
            TypedValue::Date(expected) => {
                let Some(actual) = parse_date(value) else {
                    return false;
                };
                match base {
                    DateEquals | DateNotEquals => actual == *expected,
                    DateLessThan => actual < *expected,
                    DateLessThanEquals => actual <= *expected,
                    DateGreaterThan => actual > *expected,
                    DateGreaterThanEquals => actual >= *expected,
                    _ => false,
                }
            }
            TypedValue::Bool(expected) => parse_bool(value) == Some(*expected),
            TypedValue::Binary(expected) => base64::engine::general_purpose::STANDARD
                .decode(value)
                .is_ok_and(|actual| actual == *expected),
            TypedValue::Network(network) => value
                .parse::<IpAddr>()
                .is_ok_and(|address| network.contains(address)),
        }
    }
}

/// Matches an ARN value segment by segment: the six colon-separated parts
/// are compared separately, each with wildcards. A value with fewer parts is
/// compared as a whole string.
fn arn_matches(parts: &[Part], context: &RequestContext, value: &str) -> bool {
    let Some(pattern) = resolve(parts, context, true) else {
        return false;
    };
    let policy = pattern.split_segments(':', ARN_SEGMENTS);
    let request: Vec<&str> = value.splitn(ARN_SEGMENTS, ':').collect();
    if policy.len() == ARN_SEGMENTS && request.len() == ARN_SEGMENTS {
        return policy.iter().zip(&request).all(|(p, r)| p.matches(r));
    }
    pattern.matches(value)
}

fn parse_value(operator: Operator, value: &str, version: Version) -> Option<TypedValue> {
    match operator.base.family() {
        Family::String | Family::Arn => Some(TypedValue::Text(parse_parts(value, version))),
        Family::Numeric => parse_number(value).map(TypedValue::Number),
        Family::Date => parse_date(value).map(TypedValue::Date),
        Family::Bool | Family::Null => parse_bool(value).map(TypedValue::Bool),
        Family::Binary => base64::engine::general_purpose::STANDARD
            .decode(value)
            .ok()
            .map(TypedValue::Binary),
        Family::Ip => IpNetwork::parse(value).map(TypedValue::Network),
    }
}

fn first_bad_value(operator: Operator, values: &[String], version: Version) -> String {
    values
        .iter()
        .find(|value| parse_value(operator, value, version).is_none())
        .cloned()
        .unwrap_or_default()
}

fn expected_type(base: BaseOperator) -> &'static str {
    match base.family() {
        Family::Numeric => "number",
        Family::Date => "date (ISO 8601 or epoch seconds)",
        Family::Bool | Family::Null => "Boolean (true or false)",
        Family::Binary => "base64 value",
        Family::Ip => "IP address or CIDR block",
        Family::String | Family::Arn => "string",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operator_parse_accepts_qualifier_and_suffix() {
        let op = Operator::parse("ForAnyValue:StringLikeIfExists").unwrap();
        assert_eq!(op.base, BaseOperator::StringLike);
        assert_eq!(op.qualifier, Some(SetQualifier::ForAnyValue));
        assert!(op.if_exists);
    }

    #[test]
    fn operator_parse_rejects_unknown_names() {
        assert!(Operator::parse("StringEqual").is_none());
        assert!(Operator::parse("stringequals").is_none());
        assert!(Operator::parse("ForAnyValue::StringLike").is_none());
        assert!(Operator::parse("NullIfExists").is_none());
        assert!(Operator::parse("ForSomeValues:StringLike").is_none());
    }
}
