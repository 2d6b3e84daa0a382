//! TEMPORARY stand-in with the trust-policy engine's API, replaced by the real module on merge.
#![allow(missing_docs, dead_code)]
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
pub struct TrustPolicy {
    text: String,
    value: serde_json::Value,
}
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("This policy contains invalid Json")]
    InvalidJson,
}
impl PolicyError {
    pub fn aws_code(&self) -> &'static str {
        "MalformedPolicyDocument"
    }
    pub fn http_status(&self) -> u16 {
        400
    }
    pub fn message(&self) -> String {
        self.to_string()
    }
}
#[derive(Debug, Clone)]
pub enum ContextValue {
    Single(String),
    Multi(Vec<String>),
}
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub federated: String,
    pub action: String,
    pub keys: BTreeMap<String, ContextValue>,
}
impl RequestContext {
    pub fn federated(provider: &str, action: &str) -> Self {
        Self {
            federated: provider.into(),
            action: action.into(),
            keys: BTreeMap::new(),
        }
    }
    pub fn insert(&mut self, key: &str, value: ContextValue) {
        self.keys.insert(key.to_lowercase(), value);
    }
}
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Decision {
    Allow,
    ImplicitDeny,
    ExplicitDeny,
}
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Effect {
    Allow,
    Deny,
}
#[derive(Debug, Clone, Serialize)]
pub struct Diagnosis {
    pub message: String,
    pub fix: String,
}
#[derive(Debug, Clone, Serialize)]
pub struct ConditionTrace {
    pub operator: String,
    pub key: String,
    pub policy_values: Vec<String>,
    pub request_values: Option<Vec<String>>,
    pub matched: bool,
    pub diagnosis: Option<Diagnosis>,
}
#[derive(Debug, Clone, Serialize)]
pub struct StatementTrace {
    pub index: usize,
    pub sid: Option<String>,
    pub effect: Effect,
    pub principal_matched: bool,
    pub action_matched: bool,
    pub conditions: Vec<ConditionTrace>,
    pub applies: bool,
}
#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    pub decision: Decision,
    pub statements: Vec<StatementTrace>,
    pub warnings: Vec<Diagnosis>,
}
impl Evaluation {
    pub fn allowed(&self) -> bool {
        self.decision == Decision::Allow
    }
    pub fn deciding_statement(&self) -> Option<&StatementTrace> {
        self.statements.iter().find(|s| s.applies)
    }
}
impl TrustPolicy {
    pub fn parse(document: &str) -> Result<TrustPolicy, PolicyError> {
        let value = serde_json::from_str(document).map_err(|_| PolicyError::InvalidJson)?;
        Ok(TrustPolicy {
            text: document.into(),
            value,
        })
    }
    pub fn evaluate(&self, _request: &RequestContext) -> Evaluation {
        Evaluation {
            decision: Decision::Allow,
            statements: vec![],
            warnings: vec![],
        }
    }
    pub fn text(&self) -> &str {
        &self.text
    }
}
pub mod context {
    use super::*;
    #[allow(clippy::too_many_arguments)]
    pub fn web_identity_context(
        provider_arn: &str,
        prefix: &str,
        claims: &serde_json::Map<String, serde_json::Value>,
        audience: &str,
        session_name: &str,
        source_ip: &str,
        now: time::OffsetDateTime,
        secure: bool,
        region: &str,
    ) -> RequestContext {
        let _ = (claims, session_name, source_ip, now, secure, region);
        let mut c = RequestContext::federated(provider_arn, "sts:AssumeRoleWithWebIdentity");
        c.insert(
            &format!("{prefix}:aud"),
            ContextValue::Single(audience.into()),
        );
        c
    }
}
