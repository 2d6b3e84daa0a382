//! The raw JSON layer of a policy document: element names exactly as IAM
//! spells them, and the "one value or a list of values" shape that most
//! elements accept.
//!
//! Every element is kept as a [`serde_json::Value`] here so that validation
//! can tell a prohibited element from a wrongly typed one and answer with
//! IAM's message for each.

use serde::Deserialize;
use serde_json::Value;

use super::error::PolicyError;

/// The top level of a policy document.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPolicy {
    #[serde(rename = "Version")]
    pub version: Option<Value>,
    #[serde(rename = "Id")]
    pub id: Option<Value>,
    #[serde(rename = "Statement")]
    pub statement: Option<Value>,
}

/// One statement, every element optional so validation decides what is
/// missing or prohibited.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStatement {
    #[serde(rename = "Sid")]
    pub sid: Option<Value>,
    #[serde(rename = "Effect")]
    pub effect: Option<Value>,
    #[serde(rename = "Principal")]
    pub principal: Option<Value>,
    #[serde(rename = "NotPrincipal")]
    pub not_principal: Option<Value>,
    #[serde(rename = "Action")]
    pub action: Option<Value>,
    #[serde(rename = "NotAction")]
    pub not_action: Option<Value>,
    #[serde(rename = "Resource")]
    pub resource: Option<Value>,
    #[serde(rename = "NotResource")]
    pub not_resource: Option<Value>,
    #[serde(rename = "Condition")]
    pub condition: Option<Value>,
}

/// Parses the text into the raw layer: `InvalidJson` when it is not JSON,
/// `Syntax` when it is JSON of the wrong shape.
pub(crate) fn parse_raw(document: &str) -> Result<RawPolicy, PolicyError> {
    let value: Value = serde_json::from_str(document).map_err(|err| PolicyError::InvalidJson {
        detail: err.to_string(),
    })?;
    if !value.is_object() {
        return Err(PolicyError::syntax("the document is not a JSON object"));
    }
    serde_json::from_value(value).map_err(|err| PolicyError::syntax(err.to_string()))
}

/// Reads one statement object.
pub(crate) fn parse_statement(value: Value) -> Result<RawStatement, PolicyError> {
    if !value.is_object() {
        return Err(PolicyError::syntax("a statement is not a JSON object"));
    }
    serde_json::from_value(value).map_err(|err| PolicyError::syntax(err.to_string()))
}

/// Reads an element that holds one string or a non-empty list of strings.
pub(crate) fn strings(element: &str, value: &Value) -> Result<Vec<String>, PolicyError> {
    match value {
        Value::String(text) => Ok(vec![text.clone()]),
        Value::Array(items) if !items.is_empty() => items
            .iter()
            .map(|item| match item {
                Value::String(text) => Ok(text.clone()),
                _ => Err(PolicyError::syntax(format!(
                    "{element} lists a value that is not a string"
                ))),
            })
            .collect(),
        Value::Array(_) => Err(PolicyError::syntax(format!("{element} is an empty list"))),
        _ => Err(PolicyError::syntax(format!(
            "{element} is neither a string nor a list of strings"
        ))),
    }
}

/// Reads a condition value: one scalar or a non-empty list of scalars.
/// Numbers and Booleans keep their JSON spelling, because IAM compares
/// condition values as text before each operator parses them.
pub(crate) fn condition_values(value: &Value) -> Result<Vec<String>, PolicyError> {
    match value {
        Value::Array(items) if !items.is_empty() => items.iter().map(scalar_text).collect(),
        Value::Array(_) => Err(PolicyError::syntax("a condition value is an empty list")),
        other => Ok(vec![scalar_text(other)?]),
    }
}

fn scalar_text(value: &Value) -> Result<String, PolicyError> {
    match value {
        Value::String(text) => Ok(text.clone()),
        Value::Number(number) => Ok(number.to_string()),
        Value::Bool(flag) => Ok(flag.to_string()),
        _ => Err(PolicyError::syntax(
            "a condition value is not a string, number or Boolean",
        )),
    }
}
