//! The decision trace: one entry per check of the AssumeRoleWithWebIdentity
//! pipeline, with the values it compared and a hint for the fix.
//!
//! The server log, the `/_harness/decisions` route, the scenario reporters
//! and the JSON output all read this one structure.

use std::sync::Arc;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::policy::Evaluation;

/// The checks of the pipeline, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Check {
    /// Parameters against the service model, and the role ARN's shape.
    Request,
    /// The token parses as a JWT and carries the required claims.
    Token,
    /// An IAM OIDC provider for `iss` exists in the role's account.
    Provider,
    /// The issuer's verification keys can be retrieved.
    Keys,
    /// The signature, algorithm and `kid` check out.
    Signature,
    /// `exp`, `nbf` and `iat` against the clock.
    Time,
    /// The token audience is in the provider's client-id list.
    Audience,
    /// The role exists and its trust policy allows the call.
    TrustPolicy,
    /// DurationSeconds against the role's MaxSessionDuration.
    Duration,
}

impl Check {
    /// The name used in logs, JSON and scenario expectations.
    pub fn name(self) -> &'static str {
        match self {
            Check::Request => "request",
            Check::Token => "token",
            Check::Provider => "provider",
            Check::Keys => "keys",
            Check::Signature => "signature",
            Check::Time => "time",
            Check::Audience => "audience",
            Check::TrustPolicy => "trust-policy",
            Check::Duration => "duration",
        }
    }

    /// Finds a check by its name.
    pub fn from_name(name: &str) -> Option<Check> {
        Check::ALL.into_iter().find(|check| check.name() == name)
    }

    /// Every check, in pipeline order.
    pub const ALL: [Check; 9] = [
        Check::Request,
        Check::Token,
        Check::Provider,
        Check::Keys,
        Check::Signature,
        Check::Time,
        Check::Audience,
        Check::TrustPolicy,
        Check::Duration,
    ];
}

/// One named value a check compared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Compared {
    /// The name is always a literal of the pipeline, so it is not copied
    /// for every request.
    pub name: &'static str,
    pub value: String,
}

/// What one check found.
#[derive(Debug, Clone, Serialize)]
pub struct TraceEntry {
    pub check: Check,
    pub passed: bool,
    /// One sentence saying what was checked and what was found.
    pub summary: String,
    pub compared: Vec<Compared>,
    /// What to change so the check passes; only on a failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

/// How the call ended.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "result", rename_all = "kebab-case")]
pub enum Outcome {
    /// Credentials were issued.
    Allowed {
        assumed_role_arn: String,
        access_key_id: String,
    },
    /// An error went back to the client.
    Error {
        code: String,
        status: u16,
        message: String,
    },
}

/// The record of one AssumeRoleWithWebIdentity call.
#[derive(Debug, Clone, Serialize)]
pub struct Decision {
    pub request_id: String,
    /// RFC 3339 time of the world's clock when the call was decided.
    pub time: String,
    pub role_arn: Option<String>,
    pub role_session_name: Option<String>,
    pub issuer: Option<String>,
    pub subject: Option<String>,
    pub outcome: Outcome,
    /// The check that decided: the failing one, or the last on success.
    pub decided_by: Check,
    pub trace: Vec<TraceEntry>,
    /// The trust-policy evaluation, when the pipeline got that far.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<Evaluation>,
    /// The token's claims as the token check read them, kept for the
    /// teaching page so it need not decode the token a second time. Left
    /// out of the JSON: the trace already shows the claims that matter.
    #[serde(skip)]
    pub claims: Option<Arc<Map<String, Value>>>,
}

impl Decision {
    /// Whether credentials were issued.
    pub fn allowed(&self) -> bool {
        matches!(self.outcome, Outcome::Allowed { .. })
    }
}
