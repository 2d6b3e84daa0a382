//! Every way AssumeRoleWithWebIdentity can fail, and the one mapping from a
//! failure to the AWS code, HTTP status and message.
//!
//! Messages that public captures of real STS responses record are sent
//! verbatim. For the failures no public source records (a bad signature, a
//! non-JWT token, an unsupported `alg`, a future `nbf` or `iat`, an `iss`
//! that is not https), STS is known to answer `InvalidIdentityToken` with
//! status 400, and the message is the harness's own; `docs/fidelity.md`
//! lists each of them as invented.

use axum::http::StatusCode;

use crate::aws::{AwsError, Service};

/// The message STS sends when it cannot get the issuer's keys, with the two
/// spaces after the comma that real responses carry.
pub const KEY_RETRIEVAL_MESSAGE: &str = "Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements";

/// A failed AssumeRoleWithWebIdentity check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StsError {
    /// A model constraint failed; the error is already in wire form.
    #[error("{0}")]
    Constraint(AwsError),
    #[error("{0} is invalid")]
    InvalidArn(String),
    #[error("Request ARN is invalid")]
    NotARoleArn,
    #[error("The policy is not in the valid JSON format.")]
    SessionPolicyNotJson,
    #[error("DurationSeconds is not an integer: {0}")]
    DurationNotInteger(String),
    #[error("malformed token: {0}")]
    MalformedToken(String),
    #[error("Missing a required claim: {0}")]
    MissingClaim(&'static str),
    #[error("claim {claim} has the wrong type: {detail}")]
    ClaimType { claim: &'static str, detail: String },
    #[error("issuer is not an https URL: {0}")]
    IssuerNotHttps(String),
    #[error("unsupported algorithm {0}")]
    UnsupportedAlgorithm(String),
    #[error("critical header extensions {0}")]
    CriticalHeader(String),
    #[error("No OpenIDConnect provider found in your account for {0}")]
    NoProvider(String),
    #[error("{KEY_RETRIEVAL_MESSAGE}")]
    KeysUnavailable,
    #[error("OpenIDConnect provider's HTTPS certificate doesn't match configured thumbprint")]
    ThumbprintMismatch,
    #[error("signature does not verify")]
    BadSignature,
    #[error("Token expired: current date/time {now} must be before the expiration date/time {exp}")]
    Expired { now: i64, exp: i64 },
    #[error("token not yet valid: nbf {nbf} is after {now}")]
    NotYetValid { now: i64, nbf: i64 },
    #[error("token issued in the future: iat {iat} is after {now}")]
    IssuedInFuture { now: i64, iat: i64 },
    #[error("Incorrect token audience")]
    IncorrectAudience,
    #[error("Not authorized to perform sts:AssumeRoleWithWebIdentity")]
    AccessDenied,
    #[error("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")]
    DurationExceedsMax,
}

impl StsError {
    /// Maps the failure to the error STS sends.
    pub fn to_aws(&self) -> AwsError {
        let invalid_token = |message: String| {
            AwsError::sender(
                Service::Sts,
                StatusCode::BAD_REQUEST,
                "InvalidIdentityToken",
                message,
            )
        };
        match self {
            StsError::Constraint(error) => error.clone(),
            StsError::InvalidArn(_) | StsError::NotARoleArn | StsError::DurationExceedsMax => {
                AwsError::validation(Service::Sts, self.to_string())
            }
            StsError::DurationNotInteger(value) => AwsError::validation(
                Service::Sts,
                format!(
                    "1 validation error detected: Value '{value}' at 'durationSeconds' failed to satisfy constraint: Member must be an integer"
                ),
            ),
            StsError::MalformedToken(detail) => invalid_token(format!(
                "The web identity token is not a valid JWT: {detail}"
            )),
            StsError::MissingClaim(_)
            | StsError::NoProvider(_)
            | StsError::IncorrectAudience
            | StsError::ThumbprintMismatch => {
                invalid_token(self.to_string())
            }
            StsError::KeysUnavailable => invalid_token(KEY_RETRIEVAL_MESSAGE.to_owned()),
            StsError::ClaimType { claim, detail } => {
                invalid_token(format!("Invalid claim {claim} in the web identity token: {detail}"))
            }
            StsError::IssuerNotHttps(iss) => invalid_token(format!(
                "The issuer of the web identity token must be an https URL, not {iss}"
            )),
            StsError::CriticalHeader(crit) => invalid_token(format!(
                "The web identity token header lists critical extensions that STS does not support: {crit}"
            )),
            StsError::UnsupportedAlgorithm(alg) => invalid_token(format!(
                "The web identity token is signed with an unsupported algorithm: {alg}"
            )),
            StsError::BadSignature => invalid_token(
                "The signature of the web identity token does not verify against the keys of its issuer".to_owned(),
            ),
            StsError::NotYetValid { now, nbf } => invalid_token(format!(
                "The web identity token is not valid yet: current date/time {now} is before the not-before date/time {nbf}"
            )),
            StsError::IssuedInFuture { now, iat } => invalid_token(format!(
                "The web identity token was issued in the future: current date/time {now} is before the issued-at date/time {iat}"
            )),
            StsError::SessionPolicyNotJson => AwsError::sender(
                Service::Sts,
                StatusCode::BAD_REQUEST,
                "MalformedPolicyDocument",
                self.to_string(),
            ),
            StsError::Expired { .. } => AwsError::sender(
                Service::Sts,
                StatusCode::BAD_REQUEST,
                "ExpiredTokenException",
                self.to_string(),
            ),
            StsError::AccessDenied => AwsError::sender(
                Service::Sts,
                StatusCode::FORBIDDEN,
                "AccessDenied",
                self.to_string(),
            ),
        }
    }
}
