//! Condition operators: their names, the type each expects for its values,
//! and IAM's rules for missing keys, set qualifiers and `IfExists`.
//!
//! Values are parsed into their operator's type when the policy is loaded,
//! so a policy that IAM would reject never reaches evaluation. Request values
//! are parsed at evaluation time; one that does not parse never matches.

use std::net::IpAddr;

use base64::Engine as _;
use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime, PrimitiveDateTime};

use super::Version;
use super::context::RequestContext;
use super::error::PolicyError;
use super::wildcard::Pattern;

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
    /// The operator name as IAM spells it.
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

    /// Whether the operator is a negation ("Not" operators), which holds when
    /// the key is missing and AND-s its values.
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

    /// Whether the operator treats `*` and `?` in policy values as wildcards.
    pub fn uses_wildcards(self) -> bool {
        use BaseOperator::*;
        matches!(
            self,
            StringLike | StringNotLike | ArnEquals | ArnLike | ArnNotEquals | ArnNotLike
        )
    }

    /// Whether the operator compares strings for equality, where a wildcard
    /// character is a literal.
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

/// One part of a string value: literal text or a `${...}` policy variable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Part {
    /// Text matched as written; `*`/`?` are wildcards under Like operators.
    Text(String),
    /// Text that never acts as a wildcard, from `${*}`, `${?}` or `${$}`.
    Literal(String),
    /// A request-context key substituted at evaluation time.
    Variable {
        key: String,
        default: Option<String>,
    },
}

/// A condition value parsed into its operator's type.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum TypedValue {
    Text(Vec<Part>),
    Number(f64),
    /// Unix time in nanoseconds.
    Date(i128),
    Bool(bool),
    Binary(Vec<u8>),
    Network(IpNetwork),
}

/// An IPv4 or IPv6 network in CIDR form; a bare address is a /32 or /128.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub(crate) struct IpNetwork {
    address: IpAddr,
    prefix: u8,
}

impl IpNetwork {
    fn parse(text: &str) -> Option<IpNetwork> {
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address.parse::<IpAddr>().ok()?, Some(prefix)),
            None => (text.parse::<IpAddr>().ok()?, None),
        };
        let max = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(digits) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => {
                digits.parse::<u8>().ok().filter(|p| *p <= max)?
            }
            Some(_) => return None,
            None => max,
        };
        Some(IpNetwork { address, prefix })
    }

    fn contains(&self, address: IpAddr) -> bool {
        match (self.address, address) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                masked(u128::from(u32::from(net)), 32, self.prefix)
                    == masked(u128::from(u32::from(ip)), 32, self.prefix)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                masked(u128::from(net), 128, self.prefix)
                    == masked(u128::from(ip), 128, self.prefix)
            }
            _ => false,
        }
    }
}

fn masked(bits: u128, width: u8, prefix: u8) -> u128 {
    if prefix == 0 {
        return 0;
    }
    bits >> (width - prefix)
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

    /// Evaluates the condition; returns whether it holds and the request's
    /// values for the key (`None` when missing).
    pub(crate) fn evaluate(&self, context: &RequestContext) -> (bool, Option<Vec<String>>) {
        let request = context.get(&self.key).map(|value| value.values());
        let present = request.as_ref().is_some_and(|values| !values.is_empty());
        let op = self.operator;

        if op.base == BaseOperator::Null {
            let wants_absent = matches!(self.typed.first(), Some(TypedValue::Bool(true)));
            return (wants_absent != present, request);
        }
        if !present {
            let holds = op.if_exists
                || match op.qualifier {
                    Some(SetQualifier::ForAllValues) => true,
                    Some(SetQualifier::ForAnyValue) => false,
                    None => op.base.is_negated(),
                };
            return (holds, request);
        }

        let values = request.as_deref().unwrap_or_default();
        let positive = |value: &str| {
            self.typed
                .iter()
                .any(|p| self.matches_one(p, value, context))
        };
        let per_value = |value: &String| positive(value) != op.base.is_negated();
        let holds = match op.qualifier {
            Some(SetQualifier::ForAnyValue) => values.iter().any(per_value),
            Some(SetQualifier::ForAllValues) => values.iter().all(per_value),
            // Without a qualifier a positive operator needs one matching
            // value, and a negated one needs no value to match.
            None if op.base.is_negated() => values.iter().all(per_value),
            None => values.iter().any(per_value),
        };
        (holds, request)
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
    let Some(text) = resolve_text(parts, context) else {
        return false;
    };
    let policy: Vec<&str> = text.splitn(6, ':').collect();
    let request: Vec<&str> = value.splitn(6, ':').collect();
    if policy.len() == 6 && request.len() == 6 {
        return policy
            .iter()
            .zip(&request)
            .all(|(p, r)| Pattern::parse(p).matches(r));
    }
    resolve(parts, context, true).is_some_and(|pattern| pattern.matches(value))
}

/// Builds the comparison pattern from a value's parts, substituting policy
/// variables. `None` when a variable's key is missing and has no default.
fn resolve(parts: &[Part], context: &RequestContext, wildcards: bool) -> Option<Pattern> {
    let mut pattern = Pattern::default();
    for part in parts {
        match part {
            Part::Text(text) if wildcards => pattern.push_wild(text),
            Part::Text(text) | Part::Literal(text) => pattern.push_literal(text),
            Part::Variable { key, default } => {
                pattern.push_literal(&variable(key, default, context)?)
            }
        }
    }
    Some(pattern)
}

fn resolve_text(parts: &[Part], context: &RequestContext) -> Option<String> {
    let mut text = String::new();
    for part in parts {
        match part {
            Part::Text(value) | Part::Literal(value) => text.push_str(value),
            Part::Variable { key, default } => text.push_str(&variable(key, default, context)?),
        }
    }
    Some(text)
}

/// The substitution for `${key}`: the key's single value, else the default.
// NOTE: a multivalued key has no single substitution, so it is treated like
// a missing key; IAM's behaviour there is not documented.
fn variable(key: &str, default: &Option<String>, context: &RequestContext) -> Option<String> {
    match context.get(key).map(|value| value.values()) {
        Some(values) if values.len() == 1 => values.into_iter().next(),
        _ => default.clone(),
    }
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

/// Splits a string value into text and `${...}` variables. Variables exist
/// only in version 2012-10-17; in 2008-10-17 the value is plain text.
fn parse_parts(value: &str, version: Version) -> Vec<Part> {
    if version == Version::V2008_10_17 {
        return vec![Part::Text(value.to_string())];
    }
    let mut parts = Vec::new();
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        let Some(len) = rest[start + 2..].find('}') else {
            break;
        };
        if start > 0 {
            parts.push(Part::Text(rest[..start].to_string()));
        }
        parts.push(parse_variable(&rest[start + 2..start + 2 + len]));
        rest = &rest[start + 3 + len..];
    }
    if !rest.is_empty() || parts.is_empty() {
        parts.push(Part::Text(rest.to_string()));
    }
    parts
}

fn parse_variable(body: &str) -> Part {
    match body {
        "*" | "?" | "$" => return Part::Literal(body.to_string()),
        _ => {}
    }
    // `${key, 'default'}` supplies a value for a missing key.
    if let Some((key, default)) = body.split_once(',') {
        let default = default.trim();
        if let Some(text) = default
            .strip_prefix('\'')
            .and_then(|d| d.strip_suffix('\''))
        {
            return Part::Variable {
                key: key.trim().to_string(),
                default: Some(text.to_string()),
            };
        }
    }
    Part::Variable {
        key: body.trim().to_string(),
        default: None,
    }
}

/// Parses an IAM number: an optional sign, digits and an optional fraction.
fn parse_number(text: &str) -> Option<f64> {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let well_formed = !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit())
        && !(digits.contains('.') && fraction.is_empty());
    if !well_formed {
        return None;
    }
    text.parse::<f64>().ok().filter(|number| number.is_finite())
}

/// Parses an ISO 8601 date or date-time, or epoch seconds, into Unix
/// nanoseconds. A date-time without an offset is taken as UTC.
pub(crate) fn parse_date(text: &str) -> Option<i128> {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        let seconds: i128 = text.parse().ok()?;
        return Some(seconds * 1_000_000_000);
    }
    if let Ok(time) = OffsetDateTime::parse(text, &Rfc3339) {
        return Some(time.unix_timestamp_nanos());
    }
    let local = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    if let Ok(time) = PrimitiveDateTime::parse(text, local) {
        return Some(time.assume_utc().unix_timestamp_nanos());
    }
    let day = format_description!("[year]-[month]-[day]");
    Date::parse(text, day)
        .ok()
        .map(|date| date.midnight().assume_utc().unix_timestamp_nanos())
}

fn parse_bool(text: &str) -> Option<bool> {
    if text.eq_ignore_ascii_case("true") {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
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

    #[test]
    fn network_contains_v4_and_v6() {
        let v4 = IpNetwork::parse("203.0.113.0/24").unwrap();
        assert!(v4.contains("203.0.113.9".parse().unwrap()));
        assert!(!v4.contains("203.0.114.9".parse().unwrap()));
        let v6 = IpNetwork::parse("2001:db8::/32").unwrap();
        assert!(v6.contains("2001:db8:1::1".parse().unwrap()));
        assert!(!v6.contains("203.0.113.9".parse().unwrap()));
        assert!(
            IpNetwork::parse("0.0.0.0/0")
                .unwrap()
                .contains("8.8.8.8".parse().unwrap())
        );
        assert!(IpNetwork::parse("10.0.0.0/33").is_none());
        assert!(IpNetwork::parse("10.0.0.0/").is_none());
    }

    #[test]
    fn number_parse_rejects_non_decimal() {
        assert_eq!(parse_number("42"), Some(42.0));
        assert_eq!(parse_number("-1.5"), Some(-1.5));
        assert_eq!(parse_number("1e3"), None);
        assert_eq!(parse_number("NaN"), None);
        assert_eq!(parse_number("1."), None);
        assert_eq!(parse_number(""), None);
    }

    #[test]
    fn date_parse_accepts_iso_and_epoch() {
        let epoch = parse_date("1700000000").unwrap();
        assert_eq!(parse_date("2023-11-14T22:13:20Z"), Some(epoch));
        assert_eq!(parse_date("2023-11-14T22:13:20"), Some(epoch));
        assert!(parse_date("2023-11-14").is_some());
        assert!(parse_date("14/11/2023").is_none());
    }

    #[test]
    fn parts_split_variables_in_2012_only() {
        let parts = parse_parts("a-${aws:username}-${*}", Version::V2012_10_17);
        assert_eq!(parts.len(), 4);
        let legacy = parse_parts("a-${aws:username}", Version::V2008_10_17);
        assert_eq!(legacy, vec![Part::Text("a-${aws:username}".to_string())]);
    }
}
