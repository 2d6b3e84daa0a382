//! The raw JSON layer of a policy document: element names exactly as IAM
//! spells them, object members in document order, and the "one value or a
//! list of values" shape that most elements accept.
//!
//! Elements are kept as untyped [`Json`] here so that validation can tell a
//! prohibited element from a wrongly typed one and return IAM's message
//! for each. [`serde_json::Value`] is not used because its objects are
//! sorted by key, which would put conditions out of document order in
//! evaluation traces.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Number;

use super::error::PolicyError;

/// A JSON value whose objects keep their members in document order. A
/// repeated member name keeps only its last value, as `serde_json` does.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Json {
    Null,
    Bool(bool),
    Number(Number),
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }

    fn visit_bool<E>(self, value: bool) -> Result<Json, E> {
        Ok(Json::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Json, E> {
        Ok(Json::Number(value.into()))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Json, E> {
        Ok(Json::Number(value.into()))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Json, E> {
        Number::from_f64(value)
            .map(Json::Number)
            .ok_or_else(|| E::custom("number out of range"))
    }

    fn visit_str<E>(self, value: &str) -> Result<Json, E> {
        Ok(Json::String(value.to_string()))
    }

    fn visit_string<E>(self, value: String) -> Result<Json, E> {
        Ok(Json::String(value))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut members: Vec<(String, Json)> = Vec::new();
        while let Some((name, value)) = map.next_entry::<String, Json>()? {
            members.retain(|(existing, _)| *existing != name);
            members.push((name, value));
        }
        Ok(Json::Object(members))
    }
}

/// The top level of a policy document.
#[derive(Debug, Default)]
pub(crate) struct RawPolicy {
    pub version: Option<Json>,
    pub id: Option<Json>,
    pub statement: Option<Json>,
}

/// One statement, every element optional so validation decides what is
/// missing or prohibited.
#[derive(Debug, Default)]
pub(crate) struct RawStatement {
    pub sid: Option<Json>,
    pub effect: Option<Json>,
    pub principal: Option<Json>,
    pub not_principal: Option<Json>,
    pub action: Option<Json>,
    pub not_action: Option<Json>,
    pub resource: Option<Json>,
    pub not_resource: Option<Json>,
    pub condition: Option<Json>,
}

/// Parses the text into the raw layer: `InvalidJson` when it is not JSON,
/// `Syntax` when it is JSON of the wrong shape.
pub(crate) fn parse_raw(document: &str) -> Result<RawPolicy, PolicyError> {
    let value: Json = serde_json::from_str(document).map_err(|err| PolicyError::InvalidJson {
        detail: err.to_string(),
    })?;
    let Json::Object(members) = value else {
        return Err(PolicyError::syntax("the document is not a JSON object"));
    };

    let mut raw = RawPolicy::default();
    for (name, value) in members {
        let slot = match name.as_str() {
            "Version" => &mut raw.version,
            "Id" => &mut raw.id,
            "Statement" => &mut raw.statement,
            other => return Err(PolicyError::syntax(format!("unknown element {other:?}"))),
        };
        *slot = Some(value);
    }
    Ok(raw)
}

/// Reads one statement object.
pub(crate) fn parse_statement(value: Json) -> Result<RawStatement, PolicyError> {
    let Json::Object(members) = value else {
        return Err(PolicyError::syntax("a statement is not a JSON object"));
    };

    let mut raw = RawStatement::default();
    for (name, value) in members {
        let slot = match name.as_str() {
            "Sid" => &mut raw.sid,
            "Effect" => &mut raw.effect,
            "Principal" => &mut raw.principal,
            "NotPrincipal" => &mut raw.not_principal,
            "Action" => &mut raw.action,
            "NotAction" => &mut raw.not_action,
            "Resource" => &mut raw.resource,
            "NotResource" => &mut raw.not_resource,
            "Condition" => &mut raw.condition,
            other => {
                return Err(PolicyError::syntax(format!(
                    "unknown statement element {other:?}"
                )));
            }
        };
        *slot = Some(value);
    }
    Ok(raw)
}

/// Reads an element that contains one string or a non-empty list of strings.
pub(crate) fn strings(element: &str, value: &Json) -> Result<Vec<String>, PolicyError> {
    match value {
        Json::String(text) => Ok(vec![text.clone()]),
        Json::Array(items) if !items.is_empty() => items
            .iter()
            .map(|item| match item {
                Json::String(text) => Ok(text.clone()),
                _ => Err(PolicyError::syntax(format!(
                    "{element} lists a value that is not a string"
                ))),
            })
            .collect(),
        Json::Array(_) => Err(PolicyError::syntax(format!("{element} is an empty list"))),
        _ => Err(PolicyError::syntax(format!(
            "{element} is neither a string nor a list of strings"
        ))),
    }
}

/// Reads a condition value: one scalar or a non-empty list of scalars.
/// Numbers and Booleans keep their JSON spelling, because IAM compares
/// condition values as text before each operator parses them.
pub(crate) fn condition_values(value: &Json) -> Result<Vec<String>, PolicyError> {
    match value {
        Json::Array(items) if !items.is_empty() => items.iter().map(scalar_text).collect(),
        Json::Array(_) => Err(PolicyError::syntax("a condition value is an empty list")),
        other => Ok(vec![scalar_text(other)?]),
    }
}

fn scalar_text(value: &Json) -> Result<String, PolicyError> {
    match value {
        Json::String(text) => Ok(text.clone()),
        Json::Number(number) => Ok(number.to_string()),
        Json::Bool(flag) => Ok(flag.to_string()),
        _ => Err(PolicyError::syntax(
            "a condition value is not a string, number or Boolean",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_keeps_document_order() {
        let value: Json = serde_json::from_str(r#"{"b":1,"a":2,"c":3}"#).unwrap();
        let Json::Object(members) = value else {
            panic!("not an object")
        };
        let names: Vec<&str> = members.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(names, ["b", "a", "c"]);
    }

    #[test]
    fn repeated_member_keeps_last_value() {
        let value: Json = serde_json::from_str(r#"{"a":1,"b":2,"a":3}"#).unwrap();
        let expected = Json::Object(vec![
            ("b".to_string(), Json::Number(2.into())),
            ("a".to_string(), Json::Number(3.into())),
        ]);
        assert_eq!(value, expected);
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let text = "[".repeat(10_000);
        assert!(serde_json::from_str::<Json>(&text).is_err());
    }
}
