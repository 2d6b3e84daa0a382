//! Tag lists of IAM resources: model constraints and the duplicate-key rule.

use crate::aws::constraint::{self, Violations};
use crate::aws::{AwsError, Params};

/// Tags one resource may carry.
pub const MAX_TAGS: usize = 50;
const MAX_KEY_LENGTH: usize = 128;
const MAX_VALUE_LENGTH: usize = 256;
const KEY_PATTERN: &str = r"[\p{L}\p{Z}\p{N}_.:/=+\-@]+";

/// Reads `Tags.member.N.Key/Value` and records their constraint failures.
pub fn read(params: &Params, violations: &mut Violations) -> Vec<(String, String)> {
    let tags = params.tags("Tags");
    violations.count("tags", tags.len(), MAX_TAGS);
    for (index, (key, value)) in tags.iter().enumerate() {
        let position = index + 1;
        let key_member = format!("tags.{position}.member.key");
        if key.encode_utf16().count() > MAX_KEY_LENGTH {
            violations.failed_sensitive(&key_member, &constraint::max_length(MAX_KEY_LENGTH));
        } else if key.is_empty() || !key.chars().all(is_key_char) {
            violations.failed_sensitive(&key_member, &constraint::pattern(KEY_PATTERN));
        }
        if value.encode_utf16().count() > MAX_VALUE_LENGTH {
            violations.failed_sensitive(
                &format!("tags.{position}.member.value"),
                &constraint::max_length(MAX_VALUE_LENGTH),
            );
        }
    }
    tags
}

fn is_key_char(c: char) -> bool {
    c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@".contains(c)
}

/// Rejects two keys that differ only in case, as IAM does.
pub fn check_unique(tags: &[(String, String)]) -> Result<(), AwsError> {
    let mut seen = std::collections::HashSet::new();
    for (key, _) in tags {
        if !seen.insert(key.to_lowercase()) {
            return Err(super::invalid_input(
                "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
            ));
        }
    }
    Ok(())
}

/// Writes a `<Tags>` list.
pub fn write(xml: &mut crate::aws::xml::XmlWriter, tags: &[(String, String)]) {
    xml.open("Tags");
    for (key, value) in tags {
        xml.open("member");
        xml.text("Key", key);
        xml.text("Value", value);
        xml.close();
    }
    xml.close();
}
