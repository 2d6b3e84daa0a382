//! Offline trust-policy evaluation for `oidc-sts-harness explain`: a trust
//! policy and a token's claims in, the decision, its trace and fixes out,
//! with no server.
//!
//! The request context is the one STS builds after the token checks pass:
//! the provider is the one whose URL is the token's `iss` in the role's
//! account, and `:aud` is the token audience equal to the client id.

use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::aws::arn::{Arn, RoleArn};
use crate::oidc::jwt;
use crate::policy::context::{WebIdentityRequest, web_identity_context};
use crate::policy::{Evaluation, TrustPolicy};
use crate::world::{DEFAULT_ACCOUNT, DEFAULT_PARTITION, DEFAULT_REGION};

/// What `explain` needs.
pub struct ExplainInput<'a> {
    /// The trust policy document.
    pub trust_policy: &'a str,
    /// The token's claims.
    pub claims: Map<String, Value>,
    /// The role being assumed; it fixes the account of the provider ARN.
    pub role_arn: Option<&'a str>,
    /// The provider client id the audience must equal.
    pub client_id: &'a str,
    /// Time for `aws:CurrentTime` and `aws:EpochTime`.
    pub now: OffsetDateTime,
}

/// The result of `explain`.
#[derive(Debug, serde::Serialize)]
pub struct Explanation {
    pub decision: &'static str,
    pub provider_arn: String,
    pub audience: Option<String>,
    /// Why STS would stop before the trust policy, if it would.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocked_before_policy: Option<String>,
    pub evaluation: Evaluation,
}

/// Reads the claims of a token without verifying it: explain evaluates a
/// policy, not a signature.
pub fn claims_of_token(token: &str) -> Result<Map<String, Value>, String> {
    jwt::parse(token.trim())
        .map(|jwt| jwt.claims)
        .map_err(|error| format!("the token is not a JWT: {error}"))
}

/// Evaluates the trust policy against the claims.
pub fn explain(input: &ExplainInput<'_>) -> Result<Explanation, String> {
    let policy = TrustPolicy::parse(input.trust_policy).map_err(|error| {
        format!(
            "IAM rejects this trust policy: {} {}",
            error.aws_code(),
            error.message()
        )
    })?;
    let (partition, account) = match input.role_arn {
        Some(text) => {
            let role = Arn::parse(text)
                .as_ref()
                .and_then(RoleArn::from_arn)
                .ok_or_else(|| {
                    format!("invalid --role-arn {text:?}: use arn:aws:iam::<account>:role/<name>")
                })?;
            (role.partition, role.account)
        }
        None => (DEFAULT_PARTITION.to_owned(), DEFAULT_ACCOUNT.to_owned()),
    };
    let iss = input
        .claims
        .get("iss")
        .and_then(Value::as_str)
        .ok_or("the claims have no iss string, so no provider can match")?;
    let prefix = iss.strip_prefix("https://").unwrap_or(iss);
    let provider_arn = format!("arn:{partition}:iam::{account}:oidc-provider/{prefix}");
    let audiences: Vec<&str> = match input.claims.get("aud") {
        Some(Value::String(one)) => vec![one.as_str()],
        Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let audience = audiences
        .iter()
        .find(|aud| **aud == input.client_id)
        .map(|aud| (*aud).to_owned());
    let blocked_before_policy = if audience.is_none() {
        Some(format!(
            "the token's audience ({}) does not include the client id {}; STS answers Incorrect token audience before it evaluates the trust policy",
            if audiences.is_empty() {
                "none".to_owned()
            } else {
                audiences.join(", ")
            },
            input.client_id
        ))
    } else {
        None
    };
    let session_name = "explain";
    let context = web_identity_context(&WebIdentityRequest {
        provider_arn: &provider_arn,
        key_prefix: prefix,
        claims: &input.claims,
        matched_audience: audience.as_deref().unwrap_or(input.client_id),
        role_session_name: session_name,
        source_ip: None,
        request_time: input.now,
        secure_transport: true,
        requested_region: Some(DEFAULT_REGION),
    });
    let evaluation = policy.evaluate(&context);
    let decision = if evaluation.allowed() && blocked_before_policy.is_none() {
        "allow"
    } else {
        "deny"
    };
    Ok(Explanation {
        decision,
        provider_arn,
        audience,
        blocked_before_policy,
        evaluation,
    })
}

/// The text form: the decision line first, then the context and the trace.
pub fn render_human(explanation: &Explanation) -> String {
    let mut out = format!("decision: {}\n", explanation.decision);
    out.push_str(&format!("provider: {}\n", explanation.provider_arn));
    if let Some(blocked) = &explanation.blocked_before_policy {
        out.push_str(&format!("before the trust policy: {blocked}\n"));
    }
    out.push_str("\ntrust policy ");
    out.push_str(&crate::policy::render_human(&explanation.evaluation));
    out
}
