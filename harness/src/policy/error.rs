//! Rejections of a trust policy by `CreateRole` and `UpdateAssumeRolePolicy`,
//! with the AWS error code, HTTP status and wire message of each.
//!
//! The wire messages recorded against real IAM are used verbatim. Where no
//! trust-policy recording exists, the identity-policy message for the same
//! fault is reused; `docs/trust-policies.md` lists which messages are
//! recorded, borrowed or invented.

use super::limits::TRUST_POLICY_QUOTA_NAME;

/// A reason IAM rejects a trust policy document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// The document is not valid JSON.
    #[error("the document is not valid JSON: {detail}")]
    InvalidJson {
        /// The JSON parser's description of the fault.
        detail: String,
    },
    /// The document is JSON but not shaped like a policy: unknown element,
    /// wrong JSON type, missing `Statement` or `Effect`, both `Action` and
    /// `NotAction`, or an unknown condition operator.
    #[error("syntax error in the policy: {detail}")]
    Syntax {
        /// The fault, for humans. The wire message does not carry it.
        detail: String,
    },
    /// `Effect` is `Allow` or `Deny` in the wrong case.
    #[error("Effect {effect:?} must be spelt exactly \"Allow\" or \"Deny\"")]
    EffectCase {
        /// The value as sent.
        effect: String,
    },
    /// A condition value cannot be read as its operator's type (number,
    /// date, Boolean, base64, IP address or CIDR block).
    #[error("condition {operator} on {key} has a value that is not a valid {expected}: {value:?}")]
    InvalidConditionValue {
        /// The operator as written.
        operator: String,
        /// The condition key as written.
        key: String,
        /// The offending value.
        value: String,
        /// The type the operator expects.
        expected: &'static str,
    },
    /// A trust policy may not contain `Resource`, `NotResource` or
    /// `NotPrincipal`.
    #[error("a trust policy may not contain the {field} element")]
    ProhibitedField {
        /// The element name.
        field: &'static str,
    },
    /// A statement has no `Principal`.
    #[error("statement {index} has no Principal element")]
    MissingPrincipal {
        /// Zero-based statement index.
        index: usize,
    },
    /// A statement has neither `Action` nor `NotAction`.
    #[error("statement {index} has no Action or NotAction element")]
    MissingAction {
        /// Zero-based statement index.
        index: usize,
    },
    /// An action or condition key has no `vendor:` prefix.
    #[error("{value:?} has no vendor prefix such as sts:")]
    MissingVendor {
        /// The action or key as written.
        value: String,
    },
    /// An action has more than one colon.
    #[error("action {action:?} has more than one colon")]
    ActionColons {
        /// The action as written.
        action: String,
    },
    /// An action matches none of the STS actions a trust policy may grant.
    #[error("action {action:?} is not an STS AssumeRole action")]
    NotAssumeRoleAction {
        /// The action as written.
        action: String,
    },
    /// A `Federated` principal is neither a domain name nor a well-formed
    /// OIDC or SAML provider ARN.
    #[error("Federated principal {value:?} is neither a domain name nor a provider ARN")]
    InvalidFederatedPrincipal {
        /// The principal as written.
        value: String,
    },
    /// An `AWS`, `Service` or `CanonicalUser` principal is malformed.
    #[error("{kind} principal {value:?} is malformed")]
    InvalidPrincipal {
        /// `AWS`, `SERVICE` or `CanonicalUser`, as IAM spells it in the message.
        kind: &'static str,
        /// The principal as written.
        value: String,
    },
    /// Two statements share a `Sid`.
    #[error("Sid {sid:?} is used by more than one statement")]
    DuplicateSid {
        /// The repeated Sid.
        sid: String,
    },
    /// A `Sid` contains characters other than ASCII letters and digits.
    #[error("Sid {sid:?} contains characters other than ASCII letters and digits")]
    InvalidSid {
        /// The Sid as written.
        sid: String,
    },
    /// The document exceeds the role's trust-policy size quota.
    #[error("the policy has {size} characters without whitespace, over the quota of {quota}")]
    QuotaExceeded {
        /// Characters counted, whitespace outside strings excluded.
        size: usize,
        /// The quota in force.
        quota: usize,
    },
}

impl PolicyError {
    /// Returns the AWS error code: `MalformedPolicyDocument` or `LimitExceeded`.
    pub fn aws_code(&self) -> &'static str {
        match self {
            PolicyError::QuotaExceeded { .. } => "LimitExceeded",
            _ => "MalformedPolicyDocument",
        }
    }

    /// Returns the HTTP status IAM sends: 409 for a quota, 400 otherwise.
    pub fn http_status(&self) -> u16 {
        match self {
            PolicyError::QuotaExceeded { .. } => 409,
            _ => 400,
        }
    }

    /// Returns the exact message IAM puts on the wire.
    pub fn message(&self) -> String {
        match self {
            PolicyError::InvalidJson { .. } => "This policy contains invalid Json".to_string(),
            PolicyError::Syntax { .. } => "Syntax errors in policy.".to_string(),
            PolicyError::EffectCase { .. } | PolicyError::InvalidConditionValue { .. } => {
                "The policy failed legacy parsing".to_string()
            }
            PolicyError::ProhibitedField { field } => format!("Has prohibited field {field}"),
            PolicyError::MissingPrincipal { .. } => "Missing required field Principal".to_string(),
            PolicyError::MissingAction { .. } => {
                "Policy statement must contain actions.".to_string()
            }
            PolicyError::MissingVendor { .. } => {
                "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
                    .to_string()
            }
            PolicyError::ActionColons { .. } => {
                "Actions/Condition can contain only one colon.".to_string()
            }
            PolicyError::NotAssumeRoleAction { .. } => {
                "AssumeRole policy may only specify STS AssumeRole actions.".to_string()
            }
            PolicyError::InvalidFederatedPrincipal { .. } => {
                "Federated principals must be valid domain names or SAML metadata ARNs".to_string()
            }
            PolicyError::InvalidPrincipal { kind, value } => {
                format!("Invalid principal in policy: \"{kind}\":\"{value}\"")
            }
            PolicyError::DuplicateSid { .. } => {
                "Statement IDs (SID) in a single policy must be unique.".to_string()
            }
            PolicyError::InvalidSid { .. } => "Statement IDs (SID) must be alpha-numeric. \
                 Check that your input satisfies the regular expression [0-9A-Za-z]*"
                .to_string(),
            PolicyError::QuotaExceeded { quota, .. } => {
                format!("Cannot exceed quota for {TRUST_POLICY_QUOTA_NAME}: {quota}")
            }
        }
    }

    pub(crate) fn syntax(detail: impl Into<String>) -> Self {
        PolicyError::Syntax {
            detail: detail.into(),
        }
    }
}
