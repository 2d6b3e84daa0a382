//! The IAM role trust-policy engine: parses and validates a trust policy the
//! way `CreateRole` and `UpdateAssumeRolePolicy` do, evaluates it against the
//! context of an `AssumeRole*` request, and explains the decision.
//!
//! Layout:
//! - [`document`]: the raw JSON layer (one-or-many values, element names).
//! - [`validate`]: raw document to [`TrustPolicy`], with IAM's rejections.
//! - [`condition`]: condition operators and their missing-key and set rules.
//! - [`values`]: typed condition values (variables, numbers, dates, CIDRs).
//! - [`wildcard`]: `*`/`?` matching without regular expressions.
//! - [`context`]: the request context and the web-identity context builder.
//! - [`evaluate`]: statement matching and the Allow/Deny decision.
//! - [`diagnose`]: hints for the mistakes people make in trust policies.
//! - [`explain`]: the human rendering of an [`Evaluation`].

pub mod condition;
pub mod context;
mod diagnose;
mod document;
mod error;
mod evaluate;
pub mod explain;
mod validate;
mod values;
mod wildcard;

#[cfg(test)]
mod tests;

use serde::{Serialize, Serializer};

pub use condition::{Condition, Operator};
pub use context::{
    ContextValue, RequestContext, RequestPrincipal, WebIdentityRequest, web_identity_context,
};
pub use error::PolicyError;
pub use explain::render_human;

/// Documented IAM limits that apply to trust policies.
pub mod limits {
    /// Default maximum size of a role trust policy, in characters, not
    /// counting whitespace. The quota can be raised to 4096 through Service
    /// Quotas.
    pub const TRUST_POLICY_MAX_CHARS: usize = 2048;

    /// Highest value the trust-policy quota can be raised to.
    pub const TRUST_POLICY_MAX_CHARS_RAISED: usize = 4096;

    /// Quota name IAM puts in the `LimitExceeded` message.
    pub const TRUST_POLICY_QUOTA_NAME: &str = "ACLSizePerRole";
}

/// A policy language version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Version {
    /// `2012-10-17`: the current version, with policy variables.
    #[serde(rename = "2012-10-17")]
    V2012_10_17,
    /// `2008-10-17`, or no `Version` element: `${...}` is literal text.
    #[serde(rename = "2008-10-17")]
    V2008_10_17,
}

/// A statement's effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Effect {
    /// The statement grants the request when it applies.
    Allow,
    /// The statement denies the request when it applies, whatever else allows it.
    Deny,
}

/// The outcome of evaluating a trust policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// An Allow statement applies and no Deny statement does.
    Allow,
    /// No statement applies.
    ImplicitDeny,
    /// A Deny statement applies.
    ExplicitDeny,
}

/// The principals one statement names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Principal {
    /// `"Principal": "*"`: everyone, federated callers included.
    Any,
    /// `"Principal": {...}`, each list OR-ed with the others.
    Named {
        /// `AWS` principals: account IDs, user, role or session ARNs, or `*`.
        aws: Vec<String>,
        /// `Federated` principals: provider ARNs or built-in provider domains.
        federated: Vec<String>,
        /// `Service` principals such as `ec2.amazonaws.com`.
        service: Vec<String>,
        /// `CanonicalUser` IDs.
        canonical_user: Vec<String>,
    },
}

/// `Action` or `NotAction`, with the patterns as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionMatch {
    /// The statement covers the listed actions.
    Action(Vec<String>),
    /// The statement covers every action except the listed ones.
    NotAction(Vec<String>),
}

/// One validated statement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Statement {
    /// The `Sid`, if any.
    pub sid: Option<String>,
    /// `Allow` or `Deny`.
    pub effect: Effect,
    /// The principals the statement covers.
    pub principal: Principal,
    /// The actions the statement covers.
    pub action: ActionMatch,
    /// Conditions, AND-ed, in document order (operator, then key).
    pub conditions: Vec<Condition>,
}

/// A parsed and validated role trust policy that keeps the text it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct TrustPolicy {
    /// Shared, so that recording a request with the policy it was decided
    /// under costs a reference count rather than a copy.
    text: std::sync::Arc<str>,
    version: Version,
    id: Option<String>,
    statements: Vec<Statement>,
}

impl TrustPolicy {
    /// Parses and validates a role trust policy the way IAM `CreateRole` and
    /// `UpdateAssumeRolePolicy` do, with the default size quota.
    pub fn parse(document: &str) -> Result<TrustPolicy, PolicyError> {
        Self::parse_with_quota(document, limits::TRUST_POLICY_MAX_CHARS)
    }

    /// Parses and validates with an account-specific size quota (IAM allows
    /// raising it up to [`limits::TRUST_POLICY_MAX_CHARS_RAISED`]).
    pub fn parse_with_quota(document: &str, quota: usize) -> Result<TrustPolicy, PolicyError> {
        let parsed = validate::validate(document)?;
        validate::check_quota(document, quota)?;
        Ok(TrustPolicy {
            text: document.into(),
            version: parsed.version,
            id: parsed.id,
            statements: parsed.statements,
        })
    }

    /// Evaluates the policy against one request.
    pub fn evaluate(&self, request: &RequestContext) -> Evaluation {
        evaluate::evaluate(self, request)
    }

    /// Returns the document as sent.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Returns the policy text as a shared string.
    pub fn shared_text(&self) -> std::sync::Arc<str> {
        self.text.clone()
    }

    /// Returns the policy language version in force.
    pub fn version(&self) -> Version {
        self.version
    }

    /// Returns the `Id` element, if any.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// Returns the statements in document order.
    pub fn statements(&self) -> &[Statement] {
        &self.statements
    }
}

/// The decision for one request, with a trace of every statement.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// `Allow`, `ImplicitDeny` or `ExplicitDeny`.
    pub decision: Decision,
    /// One trace per statement, in document order.
    pub statements: Vec<StatementTrace>,
    /// Weaknesses of the policy that do not change this decision, such as an
    /// Allow statement without a `:sub` condition.
    pub warnings: Vec<Diagnosis>,
}

impl Evaluation {
    /// Reports whether the request is allowed.
    pub fn allowed(&self) -> bool {
        self.decision == Decision::Allow
    }

    /// Returns the statement that decided: the first applying Deny for an
    /// explicit deny, the first applying Allow for an allow, and none for an
    /// implicit deny.
    pub fn deciding_statement(&self) -> Option<&StatementTrace> {
        let effect = match self.decision {
            Decision::Allow => Effect::Allow,
            Decision::ExplicitDeny => Effect::Deny,
            Decision::ImplicitDeny => return None,
        };
        self.statements
            .iter()
            .find(|trace| trace.applies && trace.effect == effect)
    }
}

impl Serialize for Evaluation {
    /// Serializes with a top-level `"decision"` of `"allow"` or `"deny"` and
    /// the finer `"reason"` (`allow`, `implicit_deny`, `explicit_deny`).
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;

        let mut state = serializer.serialize_struct("Evaluation", 5)?;
        state.serialize_field("decision", if self.allowed() { "allow" } else { "deny" })?;
        state.serialize_field("reason", &self.decision)?;
        state.serialize_field(
            "deciding_statement",
            &self.deciding_statement().map(|trace| trace.index),
        )?;
        state.serialize_field("statements", &self.statements)?;
        state.serialize_field("warnings", &self.warnings)?;
        state.end()
    }
}

/// The evaluation trace of one statement.
#[derive(Debug, Clone, Serialize)]
pub struct StatementTrace {
    /// Zero-based position in the document.
    pub index: usize,
    /// The `Sid`, if any.
    pub sid: Option<String>,
    /// The statement's effect.
    pub effect: Effect,
    /// Whether the request's principal is one the statement names.
    pub principal_matched: bool,
    /// Whether the request's action is covered by `Action`/`NotAction`.
    pub action_matched: bool,
    /// One trace per condition key, in document order.
    pub conditions: Vec<ConditionTrace>,
    /// Whether principal, action and every condition matched.
    pub applies: bool,
    /// Problems found at statement level, such as a `Federated` principal
    /// that is not the caller's provider.
    pub diagnoses: Vec<Diagnosis>,
}

/// The evaluation trace of one condition key.
#[derive(Debug, Clone, Serialize)]
pub struct ConditionTrace {
    /// The operator as written, such as `ForAnyValue:StringLike`.
    pub operator: String,
    /// The key as written in the policy.
    pub key: String,
    /// The policy values as written.
    pub policy_values: Vec<String>,
    /// The request's values for the key, `None` when the key is missing.
    pub request_values: Option<Vec<String>>,
    /// Whether the condition is satisfied.
    pub matched: bool,
    /// The likely mistake when the condition did not hold.
    pub diagnosis: Option<Diagnosis>,
}

/// A recognised mistake, with what to change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnosis {
    /// Which mistake.
    pub kind: DiagnosisKind,
    /// The fault, with the values involved.
    pub message: String,
    /// The change to make in the policy or the request.
    pub fix: String,
}

/// The mistakes the engine recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DiagnosisKind {
    /// `*` or `?` under `StringEquals`, where it is a literal character.
    WildcardUnderStringEquals,
    /// A condition key written with `https://`.
    KeyWithScheme,
    /// A condition key written with the provider ARN instead of its URL.
    KeyWithProviderArn,
    /// A condition key for another OIDC provider (wrong cluster ID or host).
    KeyForOtherProvider,
    /// A value that differs from the request's only by letter case.
    ValueCaseMismatch,
    /// A `sub`-style value under the `:aud` key.
    SubjectUnderAudience,
    /// The `:aud` condition names a different audience than the token's.
    AudienceMismatch,
    /// The `:sub` condition names a different subject than the token's.
    SubjectMismatch,
    /// The condition key is not in the request context.
    MissingKey,
    /// The `Federated` principal is not the token issuer's provider.
    FederatedMismatch,
    /// The statement does not cover the requested action.
    ActionNotCovered,
    /// `ForAllValues` in an Allow statement, which is also true when the key is
    /// missing.
    ForAllValuesInAllow,
    /// An Allow statement for an OIDC provider without a `:sub` condition.
    NoSubjectCondition,
}
