//! Typed condition values: policy variables in string values, and the
//! number, date, Boolean and IP-network forms the other operator families
//! compare.
//!
//! The same parsers read policy values (where a failure rejects the policy)
//! and request values (where a failure only means "no match").

use std::net::IpAddr;

use serde::Serialize;
use time::{Date, Month, PrimitiveDateTime, Time, UtcOffset};

use super::Version;
use super::context::RequestContext;
use super::wildcard::Pattern;

/// One part of a string value: literal text or a `${...}` policy variable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Part {
    /// Text matched as written; `*`/`?` are wildcards under Like operators.
    Text(String),
    /// Text that never acts as a wildcard, from `${*}`, `${?}` or `${$}`.
    Literal(String),
    /// A request-context key substituted at evaluation time, with the
    /// default from `${key, 'default'}`.
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
    /// Parses `address/prefix` or a bare address.
    pub(crate) fn parse(text: &str) -> Option<IpNetwork> {
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

    /// Reports whether the address lies in the network. An IPv4 address is
    /// never in an IPv6 network, and the other way round.
    pub(crate) fn contains(&self, address: IpAddr) -> bool {
        match (self.address, address) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                high_bits(u32::from(net).into(), 32, self.prefix)
                    == high_bits(u32::from(ip).into(), 32, self.prefix)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                high_bits(net.into(), 128, self.prefix) == high_bits(ip.into(), 128, self.prefix)
            }
            _ => false,
        }
    }
}

/// Returns the top `prefix` bits of a `width`-bit address.
fn high_bits(bits: u128, width: u8, prefix: u8) -> u128 {
    if prefix == 0 {
        return 0;
    }
    bits >> (width - prefix)
}

/// Splits a string value into text and `${...}` variables. Variables exist
/// only in version 2012-10-17; in 2008-10-17 the value is plain text.
pub(crate) fn parse_parts(value: &str, version: Version) -> Vec<Part> {
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
    if matches!(body, "*" | "?" | "$") {
        return Part::Literal(body.to_string());
    }
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

/// Builds the comparison pattern from a value's parts, substituting policy
/// variables; substituted text never acts as a wildcard. `None` when a
/// variable's key is missing and has no default.
pub(crate) fn resolve(
    parts: &[Part],
    context: &RequestContext,
    wildcards: bool,
) -> Option<Pattern> {
    let mut pattern = Pattern::default();
    for part in parts {
        match part {
            Part::Text(text) if wildcards => pattern.push_wild(text),
            Part::Text(text) | Part::Literal(text) => pattern.push_literal(text),
            Part::Variable { key, default } => {
                pattern.push_literal(&substitution(key, default.as_deref(), context)?)
            }
        }
    }
    Some(pattern)
}

/// Looks up the substitution for `${key}`: the key's single value, else the
/// default.
// NOTE: a multivalued key has no single substitution, so it is treated like
// a missing key; IAM's behaviour there is not documented.
fn substitution(key: &str, default: Option<&str>, context: &RequestContext) -> Option<String> {
    match context.get(key).map(|value| value.values()) {
        Some(values) if values.len() == 1 => values.into_iter().next(),
        _ => default.map(str::to_string),
    }
}

/// Parses an IAM number: an optional sign, digits and an optional fraction.
pub(crate) fn parse_number(text: &str) -> Option<f64> {
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

/// Parses `true` or `false`, in any letter case.
pub(crate) fn parse_bool(text: &str) -> Option<bool> {
    if text.eq_ignore_ascii_case("true") {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// Parses a date into Unix nanoseconds: epoch seconds, or the W3C profile of
/// ISO 8601 that IAM documents (`YYYY`, `YYYY-MM`, `YYYY-MM-DD`, then
/// optionally `Thh:mm`, `:ss` and `.s…`, then `Z` or `±hh:mm`). A time
/// without an offset is taken as UTC.
pub(crate) fn parse_date(text: &str) -> Option<i128> {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) && text.len() != 4 {
        let seconds: i128 = text.parse().ok()?;
        return Some(seconds * 1_000_000_000);
    }
    let (date_text, time_text) = match text.split_once('T') {
        Some((date, time)) => (date, Some(time)),
        None => (text, None),
    };
    let date = parse_calendar_date(date_text)?;
    let Some(time_text) = time_text else {
        return Some(date.midnight().assume_utc().unix_timestamp_nanos());
    };

    let (clock, offset) = split_offset(time_text)?;
    let time = parse_clock(clock)?;
    let moment = PrimitiveDateTime::new(date, time).assume_offset(offset);
    Some(moment.unix_timestamp_nanos())
}

fn parse_calendar_date(text: &str) -> Option<Date> {
    let mut fields = text.split('-');
    let year = fixed_digits(fields.next()?, 4)?;
    let month = fields.next().map_or(Some(1), |m| fixed_digits(m, 2))?;
    let day = fields.next().map_or(Some(1), |d| fixed_digits(d, 2))?;
    if fields.next().is_some() {
        return None;
    }
    let month = Month::try_from(u8::try_from(month).ok()?).ok()?;
    Date::from_calendar_date(i32::try_from(year).ok()?, month, u8::try_from(day).ok()?).ok()
}

/// Splits `hh:mm…` from a trailing `Z` or `±hh:mm` offset.
fn split_offset(text: &str) -> Option<(&str, UtcOffset)> {
    if let Some(clock) = text.strip_suffix('Z') {
        return Some((clock, UtcOffset::UTC));
    }
    let Some(at) = text.rfind(['+', '-']) else {
        return Some((text, UtcOffset::UTC));
    };
    let (clock, offset) = text.split_at(at);
    let sign: i8 = if offset.starts_with('-') { -1 } else { 1 };
    let (hours, minutes) = offset[1..].split_once(':')?;
    let hours = i8::try_from(fixed_digits(hours, 2)?).ok()?;
    let minutes = i8::try_from(fixed_digits(minutes, 2)?).ok()?;
    let offset = UtcOffset::from_hms(sign * hours, sign * minutes, 0).ok()?;
    Some((clock, offset))
}

fn parse_clock(text: &str) -> Option<Time> {
    let mut fields = text.split(':');
    let hour = fixed_digits(fields.next()?, 2)?;
    let minute = fixed_digits(fields.next()?, 2)?;
    let (second, nanos) = match fields.next() {
        None => (0, 0),
        Some(seconds) => {
            let (whole, fraction) = seconds.split_once('.').unwrap_or((seconds, ""));
            let second = fixed_digits(whole, 2)?;
            if seconds.contains('.') && (fraction.is_empty() || fraction.len() > 9) {
                return None;
            }
            if !fraction.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let nanos = format!("{fraction:0<9}").parse::<u32>().ok()?;
            (second, nanos)
        }
    };
    if fields.next().is_some() {
        return None;
    }
    let to_u8 = |value: u32| u8::try_from(value).ok();
    Time::from_hms_nano(to_u8(hour)?, to_u8(minute)?, to_u8(second)?, nanos).ok()
}

/// Parses exactly `width` ASCII digits.
fn fixed_digits(text: &str, width: usize) -> Option<u32> {
    if text.len() != width || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_contains_v4_and_v6() {
        let v4 = IpNetwork::parse("203.0.113.0/24").unwrap();
        assert!(v4.contains("203.0.113.9".parse().unwrap()));
        assert!(!v4.contains("203.0.114.9".parse().unwrap()));
        let v6 = IpNetwork::parse("2001:db8::/32").unwrap();
        assert!(v6.contains("2001:db8:1::1".parse().unwrap()));
        assert!(!v6.contains("203.0.113.9".parse().unwrap()));
        let everything = IpNetwork::parse("0.0.0.0/0").unwrap();
        assert!(everything.contains("8.8.8.8".parse().unwrap()));
        assert!(IpNetwork::parse("10.0.0.0/33").is_none());
        assert!(IpNetwork::parse("10.0.0.0/").is_none());
        assert!(IpNetwork::parse("10.0.0.0/+8").is_none());
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
    fn date_parse_accepts_w3c_forms() {
        let epoch = parse_date("1700000000").unwrap();
        assert_eq!(parse_date("2023-11-14T22:13:20Z"), Some(epoch));
        assert_eq!(parse_date("2023-11-14T22:13:20"), Some(epoch));
        assert_eq!(parse_date("2023-11-14T23:13:20+01:00"), Some(epoch));
        assert_eq!(parse_date("2023-11-14T22:13:20.000Z"), Some(epoch));
        assert_eq!(
            parse_date("2023-11-14T22:13Z"),
            Some(epoch - 20_000_000_000)
        );
        assert_eq!(parse_date("2023-11-14"), parse_date("2023-11-14T00:00:00Z"));
        assert_eq!(parse_date("2023-11"), parse_date("2023-11-01"));
        assert_eq!(parse_date("2023"), parse_date("2023-01-01"));
    }

    #[test]
    fn date_parse_rejects_other_forms() {
        for text in [
            "14/11/2023",
            "2023-13-01",
            "2023-02-30",
            "2023-11-14T25:00Z",
            "tomorrow",
            "",
            "2023-11-14T22:13:20.Z",
        ] {
            assert!(parse_date(text).is_none(), "{text}");
        }
    }

    #[test]
    fn parts_split_variables_in_2012_only() {
        let parts = parse_parts("a-${aws:username}-${*}", Version::V2012_10_17);
        assert_eq!(parts.len(), 4);
        assert_eq!(parts[3], Part::Literal("*".to_string()));
        let legacy = parse_parts("a-${aws:username}", Version::V2008_10_17);
        assert_eq!(legacy, vec![Part::Text("a-${aws:username}".to_string())]);
    }

    #[test]
    fn variable_default_parsed() {
        let parts = parse_parts("${aws:username, 'nobody'}", Version::V2012_10_17);
        let expected = Part::Variable {
            key: "aws:username".to_string(),
            default: Some("nobody".to_string()),
        };
        assert_eq!(parts, vec![expected]);
    }

    #[test]
    fn unclosed_variable_is_text() {
        let parts = parse_parts("a${b", Version::V2012_10_17);
        assert_eq!(parts, vec![Part::Text("a${b".to_string())]);
    }
}
