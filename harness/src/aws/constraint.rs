//! Model-constraint checks and their `ValidationError` messages.
//!
//! AWS front ends check each request member against the service model
//! (required, length, pattern, range) before any business logic, and report
//! every failure in one message: `N validation error(s) detected: A; B`.
//! STS echoes the rejected value (`Value 'x' at 'roleSessionName'`); IAM does
//! not (`Value at 'url'`). Failures are listed in member-name order, as the
//! recorded IAM responses show.

use super::error::{AwsError, Service};

/// Whether messages echo the rejected value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Echo {
    /// STS style: `Value 'x' at 'member'`.
    Value,
    /// IAM style: `Value at 'member'`.
    Omit,
}

/// Collects constraint failures for one request.
#[derive(Debug)]
pub struct Violations {
    echo: Echo,
    service: Service,
    entries: Vec<(String, String)>,
}

impl Violations {
    /// Starts an empty collection for `service`.
    pub fn new(service: Service) -> Self {
        let echo = match service {
            Service::Sts => Echo::Value,
            Service::Iam => Echo::Omit,
        };
        Self {
            echo,
            service,
            entries: Vec::new(),
        }
    }

    /// Records a required member that was not sent.
    pub fn missing(&mut self, member: &str) {
        self.entries.push((
            member.to_owned(),
            format!(
                "Value null at '{member}' failed to satisfy constraint: Member must not be null"
            ),
        ));
    }

    /// Records a failed constraint on a scalar member.
    pub fn failed(&mut self, member: &str, value: &str, constraint: &str) {
        self.push(member, Some(value), constraint);
    }

    /// Records a failed constraint on a sensitive member, whose value is
    /// never echoed.
    pub fn failed_sensitive(&mut self, member: &str, constraint: &str) {
        self.push(member, None, constraint);
    }

    fn push(&mut self, member: &str, value: Option<&str>, constraint: &str) {
        let subject = match (self.echo, value) {
            (Echo::Value, Some(value)) => format!("Value '{value}' at '{member}'"),
            _ => format!("Value at '{member}'"),
        };
        self.entries.push((
            member.to_owned(),
            format!("{subject} failed to satisfy constraint: {constraint}"),
        ));
    }

    /// Checks a length range in characters (UTF-16 code units, as the
    /// model counts them).
    pub fn length(&mut self, member: &str, value: &str, min: usize, max: usize) {
        let len = value.encode_utf16().count();
        if len > max {
            self.failed(member, value, &max_length(max));
        } else if len < min {
            self.failed(member, value, &min_length(min));
        }
    }

    /// Checks the members of a list against a length range; IAM reports all
    /// bounds of the member type in one bracketed constraint, maximum first.
    pub fn member_lengths(&mut self, member: &str, values: &[String], min: usize, max: usize) {
        let bad = values.iter().any(|v| {
            let len = v.encode_utf16().count();
            len < min || len > max
        });
        if bad {
            let constraint = format!(
                "Member must satisfy constraint: [{}, {}]",
                max_length(max),
                min_length(min)
            );
            self.push(member, None, &constraint);
        }
    }

    /// Checks the number of entries in a list.
    pub fn count(&mut self, member: &str, count: usize, max: usize) {
        if count > max {
            self.push(member, None, &max_length(max));
        }
    }

    /// Whether any constraint failed.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Turns the failures into one `ValidationError`, or `Ok` when none.
    pub fn into_result(mut self) -> Result<(), AwsError> {
        if self.entries.is_empty() {
            return Ok(());
        }
        self.entries.sort_by(|a, b| a.0.cmp(&b.0));
        let count = self.entries.len();
        let noun = if count == 1 { "error" } else { "errors" };
        let details: Vec<String> = self.entries.into_iter().map(|(_, text)| text).collect();
        Err(AwsError::validation(
            self.service,
            format!("{count} validation {noun} detected: {}", details.join("; ")),
        ))
    }
}

/// The constraint text for a maximum length.
pub fn max_length(max: usize) -> String {
    format!("Member must have length less than or equal to {max}")
}

/// The constraint text for a minimum length.
pub fn min_length(min: usize) -> String {
    format!("Member must have length greater than or equal to {min}")
}

/// The constraint text for a regular-expression pattern.
pub fn pattern(pattern: &str) -> String {
    format!("Member must satisfy regular expression pattern: {pattern}")
}

/// Whether every character is in `[\w+=,.@-]`, the pattern of role names
/// and session names (`\w` in the model is ASCII word characters).
pub fn is_session_name_chars(value: &str) -> bool {
    value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sts_echoes_value() {
        let mut v = Violations::new(Service::Sts);
        v.failed("roleSessionName", "a b", &pattern(r"[\w+=,.@-]*"));
        let err = v.into_result().unwrap_err();
        assert_eq!(
            err.message,
            r"1 validation error detected: Value 'a b' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]*"
        );
    }

    #[test]
    fn iam_lists_members_alphabetically_without_values() {
        let mut v = Violations::new(Service::Iam);
        v.length("url", &"b".repeat(256), 1, 255);
        v.member_lengths("thumbprintList", &["a".repeat(41)], 40, 40);
        v.member_lengths("clientIDList", &["c".repeat(256)], 1, 255);
        let err = v.into_result().unwrap_err();
        assert_eq!(
            err.message,
            "3 validation errors detected: Value at 'clientIDList' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 255, Member must have length greater than or equal to 1]; Value at 'thumbprintList' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 40, Member must have length greater than or equal to 40]; Value at 'url' failed to satisfy constraint: Member must have length less than or equal to 255"
        );
    }
}
